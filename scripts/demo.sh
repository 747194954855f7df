#!/usr/bin/env bash
# The main job on a shipped model (until the SPDY pipeline lands: inspect it, run it on our
# engine against ONNX Runtime, and print its dense speed). Installs what is missing first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
swift build -c release -Xswiftc -enable-testing --product spdy >&2
spdy="$root/.build/release/spdy"
model="$root/models/demo/mnist_resnet.onnx"
export SPDY_PYTHON="$root/.venv/bin/python"

echo "== inspect: layers, shapes, FLOPs, the prunable set, and the engine's kernels"
"$spdy" inspect "$model" --batch 64 --plan

echo
echo "== run: the engine's outputs against ONNX Runtime on held-out digits"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$SPDY_PYTHON" scripts/python/demo_inputs.py --out "$work"
"$spdy" run "$model" --input input="$work/input.npy" -o "$work/spdy"
"$SPDY_PYTHON" scripts/python/compare_outputs.py --model "$model" --inputs "$work" --ours "$work/spdy" --labels "$work/labels.npy"

echo
echo "== bench: dense latency at batch 64, 1 and 2 threads, next to ONNX Runtime"
for threads in 1 2; do
    "$spdy" bench "$model" --batch 64 --threads "$threads" --compare onnxruntime
done
