#!/usr/bin/env bash
# Installs DeepSparse 1.8.0 (Neural Magic's sparsity-aware CPU runtime; 1.9 is an end-of-life
# stub) into its own venv, .venv-deepsparse, next to .venv, idempotently. It has a venv of its own
# because deepsparse 1.8 needs onnx<1.15 and numpy<2 while .venv has current ones, and its wheels
# exist only for CPython 3.8-3.11 on x86_64/aarch64 Linux.
#   - Python: $DEEPSPARSE_PYTHON if set, else the first of python3.11 python3.10 python3.9
#     python3.8 python3 on PATH that is 3.8-3.11; on Debian 12 that is the system python3
#     (python3-venv is installed when its venv module lacks ensurepip). Debian 13 ships only
#     Python 3.13: there, set DEEPSPARSE_PYTHON to a 3.8-3.11 interpreter (e.g. pyenv's).
#   - Packages: scripts/requirements-deepsparse.txt (every version pinned, resolved and tested
#     together on Python 3.11).
# Safe to run repeatedly; does nothing when the venv matches the requirements file.
# Used by scripts/python/deepsparse_bench.py (which re-executes itself with this venv's python).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
    echo "bootstrap_deepsparse: installing Debian packages: $*" >&2
    export DEBIAN_FRONTEND=noninteractive
    sudo_if_needed apt-get update -qq
    sudo_if_needed apt-get install -y -qq "$@" >/dev/null
}

venv="$root/.venv-deepsparse"
requirements="$root/scripts/requirements-deepsparse.txt"
stamp="$venv/.requirements-installed"

# Prints the 3.x minor version of interpreter $1, or nothing when it does not run.
minor_of() { "$1" -c 'import sys; print(sys.version_info[1] if sys.version_info[0] == 3 else "")' 2>/dev/null || true; }
supported() { local m; m="$(minor_of "$1")"; [ -n "$m" ] && [ "$m" -ge 8 ] && [ "$m" -le 11 ]; }

if [ -f "$stamp" ] && cmp -s "$requirements" "$stamp" && [ -x "$venv/bin/python" ] && supported "$venv/bin/python"; then
    exit 0
fi

case "$(uname -m)" in
    x86_64|aarch64) ;;
    *) echo "bootstrap_deepsparse: deepsparse has no wheels for $(uname -m) (x86_64 and aarch64 Linux only)" >&2; exit 1 ;;
esac

python=""
if [ -n "${DEEPSPARSE_PYTHON:-}" ]; then
    supported "$DEEPSPARSE_PYTHON" || { echo "bootstrap_deepsparse: DEEPSPARSE_PYTHON=$DEEPSPARSE_PYTHON is not a working Python 3.8-3.11" >&2; exit 1; }
    python="$DEEPSPARSE_PYTHON"
else
    for candidate in python3.11 python3.10 python3.9 python3.8 python3 /usr/bin/python3; do
        if command -v "$candidate" >/dev/null 2>&1 && supported "$candidate"; then python="$candidate"; break; fi
    done
fi
if [ -z "$python" ] && command -v apt-cache >/dev/null 2>&1; then
    # A Debian release whose default Python is newer may still package an older one.
    for v in 3.11 3.10 3.9; do
        if apt-cache policy "python$v-venv" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
            apt_install "python$v" "python$v-venv"
            python="python$v"
            break
        fi
    done
fi
if [ -z "$python" ]; then
    cat >&2 <<'EOF'
bootstrap_deepsparse: no Python 3.8-3.11 found; deepsparse 1.8.0 publishes wheels only for
CPython 3.8-3.11 (Requires-Python >=3.8,<3.12). Install one (e.g. `pyenv install 3.11`) and run
again with DEEPSPARSE_PYTHON=/path/to/python3.11. (uv's managed Pythons are downloaded from
GitHub, not from PyPI, so `uv python install` does not work where only PyPI is reachable.)
EOF
    exit 1
fi

# Debian's python3.X needs its -venv package for ensurepip.
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    case "$(command -v "$python")" in
        /usr/bin/*) apt_install "python3.$(minor_of "$python")-venv" ;;
        *) echo "bootstrap_deepsparse: $python has no venv/ensurepip module" >&2; exit 1 ;;
    esac
fi

echo "bootstrap_deepsparse: preparing .venv-deepsparse with $("$python" --version 2>&1) ($(command -v "$python"))" >&2
if [ -x "$venv/bin/python" ] && ! supported "$venv/bin/python"; then
    rm -rf "$venv"
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
# Smoke test: the native library loads on this CPU (it needs AVX2 or better on x86_64).
NM_DISABLE_ANALYTICS=1 "$venv/bin/python" -c 'import deepsparse, onnx, numpy' >&2
cp "$requirements" "$stamp"
echo "bootstrap_deepsparse: .venv-deepsparse ready" >&2
