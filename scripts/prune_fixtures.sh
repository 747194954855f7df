#!/usr/bin/env bash
# Magnitude-pruned copies of the reference fixtures, for sparse-runtime comparisons
# (docs/deepsparse.md), into .cache/pruned/ (gitignored), idempotently:
#   resnet50_80 resnet50_90 resnet50_95   ResNet-50, every Conv layer at 80/90/95 % sparsity
#   minilm_90                             MiniLM-L6, the 36 encoder Linear layers (MatMul with a
#                                         constant weight) at 90 % (the export has no pooler)
# Each NAME.onnx comes with NAME.json (prune_onnx.py's summary). A target is rebuilt only when its
# outputs are missing or its stamp is stale (hash of prune_onnx.py, the recipe and the source
# model). Needs .cache/fixtures (scripts/prepare_fixtures.sh) and .venv (scripts/bootstrap.sh).
#
# usage: scripts/prune_fixtures.sh [--force] [--list] [TARGET...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

fixtures="${SPDY_FIXTURES_DIR:-.cache/fixtures}"
out="${SPDY_PRUNED_DIR:-.cache/pruned}"
py="$root/.venv/bin/python"
tool="scripts/python/prune_onnx.py"

# target → "source model|prune_onnx.py options"
declare -A recipe=(
    [resnet50_80]="resnet50|--sparsity 0.80 --kind conv"
    [resnet50_90]="resnet50|--sparsity 0.90 --kind conv"
    [resnet50_95]="resnet50|--sparsity 0.95 --kind conv"
    [minilm_90]="minilm|--sparsity 0.90 --kind linear --include-regex ^/encoder/layer\\.[0-9]+/"
)
order=(resnet50_80 resnet50_90 resnet50_95 minilm_90)

source scripts/lib/targets.sh
parse_targets prune_fixtures '2,13p' "$@"

[ -x "$py" ] || scripts/bootstrap.sh
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1

mkdir -p "$out/.stamps"
exec 9>"$out/.lock"
flock 9

built=0
for target in "${selected[@]}"; do
    spec="${recipe[$target]}"
    source="$fixtures/${spec%%|*}.onnx"
    options="${spec#*|}"
    if [ ! -f "$source" ]; then
        echo "prune_fixtures: $source is missing: run scripts/prepare_fixtures.sh ${spec%%|*}" >&2
        exit 1
    fi
    want="$({ echo "$target|$options"; cat "$tool"; sha256sum <"$source"; } | sha256sum | cut -c1-64)"
    if [ $force -eq 0 ] && [ -f "$out/$target.onnx" ] && [ -f "$out/$target.json" ] \
        && [ "$(cat "$out/.stamps/$target" 2>/dev/null)" = "$want" ]; then
        continue
    fi
    echo "prune_fixtures: building $target …" >&2
    rm -f "$out/.stamps/$target"
    set -f  # options are split into words, never globbed (the regex has brackets)
    # shellcheck disable=SC2086
    if ! "$py" "$tool" "$source" "$out/$target.onnx" $options >"$out/$target.json.partial" 2>"$out/.stamps/$target.log"; then
        cat "$out/.stamps/$target.log" "$out/$target.json.partial" >&2
        echo "prune_fixtures: $target FAILED (log above, also in $out/.stamps/$target.log)" >&2
        exit 1
    fi
    set +f
    mv "$out/$target.json.partial" "$out/$target.json"
    echo "$want" >"$out/.stamps/$target"
    tail -1 "$out/.stamps/$target.log" >&2
    built=$((built + 1))
done
[ $built -gt 0 ] || echo "prune_fixtures: pruned models up to date ($out)" >&2
