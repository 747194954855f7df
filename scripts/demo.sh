#!/usr/bin/env bash
# The main job on a shipped model: the whole SPDY pipeline on the demo ResNet (MNIST digits) at
# 1.25×, 1.5× and 1.75× on our engine (batch 64, 2 threads): timing table, reconstruction database,
# search, uniform and global-magnitude baselines from the same database, pruned ONNX files,
# measured speedups and held-out accuracy, and a report (.spdy-demo/report.md).
# Installs what is missing first. Extra arguments go to `spdy demo` (e.g. --speedups 2).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/bootstrap.sh
scripts/prepare_fixtures.sh mnist_resnet
swift build -c release -Xswiftc -enable-testing --product spdy >&2
exec "$root/.build/release/spdy" demo --data "$root/.cache/fixtures/mnist" --output "$root/.spdy-demo" "$@"
