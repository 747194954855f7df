#!/usr/bin/env bash
# DeepSparse 1.8 next to ONNX Runtime, dense and magnitude-pruned (docs/deepsparse.md):
# ResNet-50 at batch 1 and 16 (dense, 80/90/95 % Conv sparsity), MiniLM-L6 at batch 8 x 128
# (dense, 90 % encoder Linear sparsity), each at 1 and 2 threads, both engines on the same inputs.
# Prints a Markdown table (median ms, speed-up = onnxruntime / deepsparse, max |output difference|);
# all samples go to .cache/pruned/bench_deepsparse.json. Python only (no Swift build).
# REPS (default 10) repetitions per case, REPS_LARGE (default 5) for batch 16; before each run it
# waits up to WAIT_QUIET (default 300) s for other processes to leave the CPU, and the table
# reports how many cores other work used (a figure above ~0.2 means a disturbed measurement).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
scripts/bootstrap_deepsparse.sh
scripts/prepare_fixtures.sh resnet50 minilm >/dev/null
scripts/prune_fixtures.sh
f=.cache/fixtures p=.cache/pruned
cases=()
for b in 1 16; do
    cases+=("ResNet-50 dense=$f/resnet50.onnx:image:$b")
    for s in 80 90 95; do cases+=("ResNet-50 $s %=$p/resnet50_$s.onnx:image:$b"); done
done
cases+=("MiniLM-L6 dense=$f/minilm.onnx:text:8" "MiniLM-L6 90 %=$p/minilm_90.onnx:text:8")
args=()
for c in "${cases[@]}"; do args+=(--case "$c"); done
exec .venv/bin/python scripts/python/sparse_runtime_bench.py "${args[@]}" --wait-quiet "${WAIT_QUIET:-300}" \
    --repetitions "${REPS:-10}" --large-batch-repetitions "${REPS_LARGE:-5}" --warmup 2 \
    --ort-python .venv/bin/python --deepsparse-python .venv-deepsparse/bin/python \
    --json .cache/pruned/bench_deepsparse.json
