"""The PyTorch side of train-bench (Benchmarks/TrainBench): training steps on an ONNX model.

usage: train_bench_torch.py --model M --batch B --threads T [--batchnorm batch|frozen]

Builds the model with onnx_torch.TorchGraph, trains the same parameters as SPDYTraining
(every float initializer except BatchNorm running statistics) with torch.optim.Adam on a fixed
random batch and cross-entropy. Protocol on stdin/stdout: prints "ready ..." after warm-up,
then answers each "run K" with the seconds K steps took; "quit" ends.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402

from onnx_torch import TorchGraph  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batchnorm", choices=["batch", "frozen"], default="batch")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)

    model = onnx.load(a.model)
    graph = TorchGraph(model, train_bn=a.batchnorm == "batch")
    params = graph.parameters(requires_grad=True)
    statistics = {n.input[i] for n in model.graph.node if n.op_type == "BatchNormalization" for i in (3, 4)}
    trainable = [t for name, t in params.items() if t.requires_grad and name not in statistics]
    for name in statistics:
        params[name].requires_grad_(False)
    optimizer = torch.optim.Adam(trainable, lr=1e-5)

    info = model.graph.input[0]
    shape = [a.batch] + [d.dim_value or 1 for d in info.type.tensor_type.shape.dim][1:]
    x = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, size=shape).astype(np.float32))
    output = model.graph.output[0].name
    labels = None

    def step():
        nonlocal labels
        logits = graph.run({info.name: x}, params)[output]
        if labels is None:
            labels = torch.arange(a.batch) % logits.shape[1]
        loss = torch.nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    print(f"ready torch {torch.__version__}, {torch.get_num_threads()} threads, {sum(t.numel() for t in trainable)} trainable parameters",
          flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        steps = int(command[1])
        start = time.perf_counter()
        for _ in range(steps):
            step()
        print(f"{time.perf_counter() - start:.6f}", flush=True)


if __name__ == "__main__":
    main()
