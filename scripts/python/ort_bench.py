#!/usr/bin/env python3
"""Times an ONNX model on ONNX Runtime (CPU) on given inputs; prints JSON.

Called by `spdy bench --compare onnxruntime` so both engines run the same model on the same
inputs with the same thread count. Inputs: one .npy per model input in --inputs DIR, named
after the input. Output: {"engine": "onnxruntime", "version": ..., "samples_ms": [...]}.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--inputs", required=True, help="directory with NAME.npy per model input")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repetitions", type=int, default=10)
    p.add_argument("--outputs", help="directory to write NAME.npy per output (optional)")
    p.add_argument("--no-optimizations", action="store_true", help="disable graph optimisations (reference mode)")
    a = p.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = a.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if a.no_optimizations:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        session = ort.InferenceSession(a.model, options, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - report any load failure as JSON for the caller
        print(json.dumps({"error": f"onnxruntime cannot load {a.model}: {e}"}))
        return 2
    feeds = {}
    for i in session.get_inputs():
        path = os.path.join(a.inputs, i.name + ".npy")
        if not os.path.exists(path):
            print(json.dumps({"error": f"missing input file {path}"}))
            return 2
        feeds[i.name] = np.load(path)
    for _ in range(a.warmup):
        session.run(None, feeds)
    samples = []
    for _ in range(a.repetitions):
        start = time.perf_counter()
        outs = session.run(None, feeds)
        samples.append((time.perf_counter() - start) * 1e3)
    if a.outputs:
        os.makedirs(a.outputs, exist_ok=True)
        for o, v in zip(session.get_outputs(), outs):
            np.save(os.path.join(a.outputs, o.name + ".npy"), v)
    print(json.dumps({"engine": "onnxruntime", "version": ort.__version__, "threads": a.threads,
                      "samples_ms": samples}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
