#!/usr/bin/env python3
"""DeepSparse 1.8 next to ONNX Runtime on dense and magnitude-pruned models; prints a Markdown table.

For each case (model file, input set, thread count) runs ort_bench.py (with --ort-python) and
deepsparse_bench.py (with --deepsparse-python) one after the other on the same inputs, reports
the median latency of each, the speed-up of DeepSparse over ONNX Runtime, and the largest
absolute difference between their outputs. Also writes every JSON result to --json.

Inputs are made here, deterministically (seed 0): ResNet-50 gets N(0,1) images [B,3,224,224];
MiniLM gets 8 x 128 token ids with padded tails (attention_mask 0) and zero token types.

Used by scripts/bench_deepsparse.sh, which prepares the venvs and the pruned models.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def write_inputs(kind: str, batch: int, directory: str) -> None:
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(0)
    if kind == "image":
        np.save(os.path.join(directory, "input.npy"), rng.standard_normal((batch, 3, 224, 224)).astype(np.float32))
        return
    seq = 128
    ids = rng.integers(1000, 30000, size=(batch, seq)).astype(np.int64)
    mask = np.ones((batch, seq), np.int64)
    for i in range(batch):  # lengths 128, 116, 104, ...: some padding, as in a real batch
        length = max(seq - 12 * i, 2)
        ids[i, 0], ids[i, length - 1] = 101, 102
        ids[i, length:], mask[i, length:] = 0, 0
    np.save(os.path.join(directory, "input_ids.npy"), ids)
    np.save(os.path.join(directory, "attention_mask.npy"), mask)
    np.save(os.path.join(directory, "token_type_ids.npy"), np.zeros((batch, seq), np.int64))


def cpu_jiffies():
    """(all CPU time, idle CPU time) since boot, in seconds, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    return sum(v[:8]) / hz, (v[3] + v[4]) / hz


def run(python: str, script: str, model: str, inputs: str, threads: int, warmup: int, reps: int, outputs: str) -> dict:
    """Runs one bench script; adds "other_cores": the CPU (in cores) that processes other than
    this run used meanwhile, to flag runs disturbed by other work on the machine."""
    cmd = [python, os.path.join(HERE, script), "--model", model, "--inputs", inputs, "--threads", str(threads),
           "--warmup", str(warmup), "--repetitions", str(reps), "--outputs", outputs]
    total0, idle0 = cpu_jiffies()
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.monotonic() - wall0
    total1, idle1 = cpu_jiffies()
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours = (child1.ru_utime - child0.ru_utime) + (child1.ru_stime - child0.ru_stime)
    lines = p.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        result = {"error": f"{script} printed no result (exit {p.returncode}): {p.stderr[-600:]}"}
    used = (total1 - total0) - (idle1 - idle0)
    result["other_cores"] = max(0.0, (used - ours) / wall)
    return result


def max_abs_diff(a: str, b: str):
    """(largest |a - b| over all outputs, largest |a|) for the NAME.npy files of two folders."""
    worst, scale = 0.0, 0.0
    for name in sorted(os.listdir(a)):
        x, y = np.load(os.path.join(a, name)), np.load(os.path.join(b, name))
        if x.shape != y.shape:
            return float("inf"), float(np.abs(x).max())
        worst = max(worst, float(np.abs(x.astype(np.float64) - y.astype(np.float64)).max()))
        scale = max(scale, float(np.abs(x).max()))
    return worst, scale


def busy_cores(seconds: float = 1.0) -> float:
    """Cores' worth of CPU time used by anything over `seconds` (from /proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return (os.cpu_count() or 1) * (1 - (i1 - i0) / max(t1 - t0, 1))


def wait_quiet(limit: float, threshold: float = 0.25) -> float:
    """Waits up to `limit` seconds for the machine to go idle (other work below `threshold`
    cores); returns the last reading."""
    deadline = time.monotonic() + limit
    while True:
        busy = busy_cores()
        if busy < threshold or time.monotonic() >= deadline:
            return busy
        time.sleep(4)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", action="append", required=True, metavar="LABEL=MODEL:KIND:BATCH",
                   help="e.g. 'ResNet-50 90%%=.cache/pruned/resnet50_90.onnx:image:16'; KIND image or text")
    p.add_argument("--threads", type=int, action="append", help="thread counts (default 1 and 2)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repetitions", type=int, default=10)
    p.add_argument("--large-batch-repetitions", type=int, help="repetitions when batch > 8 (default: --repetitions)")
    p.add_argument("--ort-python", required=True)
    p.add_argument("--deepsparse-python", required=True)
    p.add_argument("--json", help="write all results here")
    p.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                   help="before each engine run, wait up to SECONDS for other processes to leave the CPU")
    a = p.parse_args()
    threads = a.threads or [1, 2]

    rows, results = [], []
    with tempfile.TemporaryDirectory(prefix="spdy-sparse-bench-") as work:
        for t in threads:
            for spec in a.case:
                label, rest = spec.split("=", 1)
                model, kind, batch = rest.rsplit(":", 2)
                batch = int(batch)
                inputs = os.path.join(work, f"in-{kind}-{batch}")
                if not os.path.isdir(inputs):
                    write_inputs(kind, batch, inputs)
                reps = a.large_batch_repetitions if batch > 8 and a.large_batch_repetitions else a.repetitions
                out_ort, out_ds = os.path.join(work, "ort"), os.path.join(work, "ds")
                for d in (out_ort, out_ds):
                    subprocess.run(["rm", "-rf", d], check=True)
                busy_before = []
                busy_before.append(wait_quiet(a.wait_quiet) if a.wait_quiet else busy_cores())
                ort = run(a.ort_python, "ort_bench.py", model, inputs, t, a.warmup, reps, out_ort)
                busy_before.append(wait_quiet(a.wait_quiet) if a.wait_quiet else busy_cores())
                ds = run(a.deepsparse_python, "deepsparse_bench.py", model, inputs, t, a.warmup, reps, out_ds)
                diff, scale = (max_abs_diff(out_ort, out_ds) if "error" not in ort and "error" not in ds
                               else (None, None))
                shape = f"{batch}×128" if kind == "text" else str(batch)
                entry = {"label": label, "model": model, "batch": shape, "threads": t, "onnxruntime": ort,
                         "deepsparse": ds, "max_abs_diff": diff, "output_scale": scale,
                         "busy_cores_before": busy_before}
                results.append(entry)
                ort_ms = float(np.median(ort["samples_ms"])) if "samples_ms" in ort else None
                ds_ms = float(np.median(ds["samples_ms"])) if "samples_ms" in ds else None
                row = (f"| {label} | {shape} | {t} | {fmt(ort_ms)} | {fmt(ds_ms)} | "
                       f"{f'{ort_ms / ds_ms:.2f}×' if ort_ms and ds_ms else ort.get('error', ds.get('error'))} | "
                       f"{'n/a' if diff is None else f'{diff:.2g} ({scale:.2g})'} | {ds.get('fraction_of_supported_ops', '')} | "
                       f"{max(busy_before + [ort['other_cores'], ds['other_cores']]):.2f} |")
                print(row, file=sys.stderr, flush=True)
                rows.append(row)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    print("| model | batch | threads | onnxruntime ms | deepsparse ms | speed-up | max abs diff (output scale) | DS supported ops | other load (cores) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


def fmt(ms):
    return "—" if ms is None else (f"{ms:.0f}" if ms >= 1000 else f"{ms:.1f}")


if __name__ == "__main__":
    sys.exit(main())
