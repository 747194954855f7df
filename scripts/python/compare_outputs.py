#!/usr/bin/env python3
"""Compares swift-spdy's outputs (one NAME.npy per output in --ours) with ONNX Runtime's on the
same inputs; with --labels, prints the top-1 accuracy of both. Exits 1 when they disagree
beyond 1e-4 of the output's scale."""
import argparse
import os
import sys

import numpy as np
import onnxruntime as ort


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--ours", required=True)
    p.add_argument("--labels")
    a = p.parse_args()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(a.model, options, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.load(os.path.join(a.inputs, i.name + ".npy")) for i in session.get_inputs()}
    reference = session.run(None, feeds)
    ok = True
    for output, want in zip(session.get_outputs(), reference):
        got = np.load(os.path.join(a.ours, output.name + ".npy"))
        scale = max(float(np.abs(want).max()), 1e-6)
        diff = float(np.abs(got - want).max())
        verdict = "ok" if diff <= 1e-4 * scale else "MISMATCH"
        ok &= verdict == "ok"
        print(f"{output.name}: shape {list(got.shape)}, max |swift-spdy − onnxruntime| = {diff:.3g} "
              f"(scale {scale:.3g}, tolerance {1e-4 * scale:.3g}) {verdict}")
        if a.labels and got.ndim == 2:
            labels = np.load(a.labels)
            ours = float((got.argmax(1) == labels).mean())
            theirs = float((want.argmax(1) == labels).mean())
            print(f"top-1 accuracy on {len(labels)} held-out digits: swift-spdy {ours:.1%}, onnxruntime {theirs:.1%}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
