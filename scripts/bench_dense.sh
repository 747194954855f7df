#!/usr/bin/env bash
# Dense speed next to ONNX Runtime, as issue 2 asks: ResNet-50 at batch 1 and 16, MiniLM at
# batch 8 x 128 tokens, each at 1 and 2 threads, both engines in one run on the same inputs.
# Prints spdy bench's table per case; the ratio line is onnxruntime latency / ours (>1: we win).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
scripts/prepare_fixtures.sh >/dev/null
swift build -c release -Xswiftc -enable-testing --product spdy >&2
spdy="$root/.build/release/spdy"
export SPDY_PYTHON="$root/.venv/bin/python"
reps="${REPS:-10}"
for threads in 1 2; do
    "$spdy" bench .cache/fixtures/resnet50.onnx --batch 1 --threads "$threads" --repetitions "$reps" --compare onnxruntime
    "$spdy" bench .cache/fixtures/resnet50.onnx --batch 16 --threads "$threads" --repetitions "$((reps / 2 > 0 ? reps / 2 : 1))" --compare onnxruntime
    "$spdy" bench .cache/fixtures/minilm.onnx --batch 8 --seq-len 128 --threads "$threads" --repetitions "$reps" --compare onnxruntime
done
