#!/usr/bin/env bash
# End-to-end sparse speed, as the sparse-kernel issue asks: dense and magnitude-pruned ONNX files
# (ResNet-50 with 80/90/95% of its conv weights pruned, MiniLM with 90% of its encoder Linear
# weights pruned) on our engine, interleaved with their dense model, and the same files on ONNX
# Runtime and DeepSparse 1.8, at 1 and 2 threads. Also the per-layer kernel table.
#   REPS (default 5), THREADS (default "1 2"), SKIP_KERNELS=1 to skip the per-layer table.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
scripts/bootstrap_deepsparse.sh
scripts/prepare_fixtures.sh >/dev/null
scripts/prune_fixtures.sh >/dev/null
swift build -c release -Xswiftc -enable-testing --product spdy >&2
spdy="$root/.build/release/spdy"
export SPDY_PYTHON="$root/.venv/bin/python"
reps="${REPS:-5}"
for threads in ${THREADS:-1 2}; do
    for batch in 1 16; do
        r=$reps; [ "$batch" -gt 1 ] && r=$(( reps > 2 ? reps / 2 : 1 ))
        for s in 80 90 95; do
            "$spdy" bench .cache/fixtures/resnet50.onnx ".cache/pruned/resnet50_$s.onnx" --batch "$batch" \
                --threads "$threads" --repetitions "$r" --compare onnxruntime --compare deepsparse
        done
    done
    "$spdy" bench .cache/fixtures/minilm.onnx .cache/pruned/minilm_90.onnx --batch 8 --seq-len 128 \
        --threads "$threads" --repetitions "$reps" --compare onnxruntime --compare deepsparse
done
if [ -z "${SKIP_KERNELS:-}" ]; then
    "$spdy" bench kernels --threads 2 --sparsities 0.5,0.8,0.9,0.95,0.99
fi
