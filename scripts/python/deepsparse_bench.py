#!/usr/bin/env python3
"""Times an ONNX model on DeepSparse 1.8 (CPU) on given inputs; prints JSON.

Same command line and output as ort_bench.py, so both engines run the same model on the same
inputs with the same thread count:

  deepsparse_bench.py --model M --inputs DIR --threads T --warmup W --repetitions R [--outputs DIR]

Inputs: one NAME.npy per model input in --inputs DIR; the batch size is their first dimension
(all inputs must agree). Output: one JSON line on stdout,
{"engine": "deepsparse", "version": ..., "threads": ..., "samples_ms": [...], ...} or
{"error": "..."} with exit status 2. With --outputs, writes NAME.npy per model output (names
from the ONNX graph).

DeepSparse compiles for fixed input shapes. When the model declares an input with a symbolic or
different dimension (e.g. a dynamic batch or sequence length), a copy of the model with the
inputs' actual shapes is written to a temporary folder and compiled instead (transparently; the
JSON says "static_shapes_rewritten": true).

DeepSparse lives in its own venv (.venv-deepsparse, made by scripts/bootstrap_deepsparse.sh:
deepsparse 1.8 needs onnx<1.15 and numpy<2). When this script is started by an interpreter
without deepsparse (e.g. the main .venv) it re-executes itself with .venv-deepsparse/bin/python.
"""
import argparse
import contextlib
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEEPSPARSE_VENV = os.path.join(ROOT, ".venv-deepsparse")
DEEPSPARSE_PYTHON = os.path.join(DEEPSPARSE_VENV, "bin", "python")

# No usage reports to the vendor (and no network: this machine reaches only package registries).
os.environ.setdefault("NM_DISABLE_ANALYTICS", "1")


def fail(message: str) -> int:
    print(json.dumps({"error": message}), flush=True)
    return 2


@contextlib.contextmanager
def stdout_to_stderr():
    """DeepSparse's native library prints a banner on file descriptor 1; callers read the JSON
    line from stdout, so send everything written there meanwhile to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def import_deepsparse():
    try:
        with stdout_to_stderr():
            import deepsparse  # noqa: F401
        return deepsparse, None
    except ImportError as e:
        return None, e


def static_copy(model_path: str, feeds: dict, workdir: str):
    """Returns (path to compile, output names, rewritten?). Writes a copy with static input shapes
    when a declared input shape is symbolic or differs from the array fed to it."""
    import onnx

    model = onnx.load(model_path, load_external_data=False)
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer):
        # Keep the original next to its data files; DeepSparse resolves them itself.
        return model_path, [o.name for o in model.graph.output], False
    initializers = {t.name for t in model.graph.initializer}
    rewritten = False
    for value in model.graph.input:
        if value.name in initializers:
            continue
        array = feeds[value.name]
        shape = value.type.tensor_type.shape
        dims = list(shape.dim)
        declared = [d.dim_value if d.HasField("dim_value") else None for d in dims]
        if declared == list(array.shape):
            continue
        rewritten = True
        shape.ClearField("dim")
        for n in array.shape:
            shape.dim.add().dim_value = int(n)
    outputs = [o.name for o in model.graph.output]
    if not rewritten:
        return model_path, outputs, False
    # Symbolic output shapes would otherwise keep the old names; let DeepSparse infer them.
    for value in model.graph.output:
        value.type.tensor_type.ClearField("shape")
    del model.graph.value_info[:]
    path = os.path.join(workdir, "static.onnx")
    onnx.save(model, path)
    return path, outputs, True


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--inputs", required=True, help="directory with NAME.npy per model input")
    p.add_argument("--threads", type=int, default=1, help="DeepSparse num_cores")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repetitions", type=int, default=10)
    p.add_argument("--outputs", help="directory to write NAME.npy per output (optional)")
    a = p.parse_args()

    deepsparse, error = import_deepsparse()
    if deepsparse is None:
        # (Compare venvs, not interpreters: both venvs may link to the same python binary.)
        if os.path.exists(DEEPSPARSE_PYTHON) and os.path.realpath(sys.prefix) != os.path.realpath(DEEPSPARSE_VENV) \
                and not os.environ.get("SPDY_DEEPSPARSE_REEXEC"):
            os.environ["SPDY_DEEPSPARSE_REEXEC"] = "1"
            os.execv(DEEPSPARSE_PYTHON, [DEEPSPARSE_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
        return fail(f"deepsparse is not importable by {sys.executable} ({error}); "
                    "run scripts/bootstrap_deepsparse.sh, which makes .venv-deepsparse")
    import numpy as np
    import onnx

    if not os.path.exists(a.model):
        return fail(f"no model file {a.model}")
    try:
        graph = onnx.load(a.model, load_external_data=False).graph
    except Exception as e:  # noqa: BLE001 - report any load failure as JSON for the caller
        return fail(f"onnx cannot load {a.model}: {e}")
    initializers = {t.name for t in graph.initializer}
    input_names = [i.name for i in graph.input if i.name not in initializers]
    del graph

    feeds = {}
    for name in input_names:
        path = os.path.join(a.inputs, name + ".npy")
        if not os.path.exists(path):
            return fail(f"missing input file {path}")
        feeds[name] = np.ascontiguousarray(np.load(path))
    batches = {v.shape[0] if v.ndim else None for v in feeds.values()}
    if len(batches) != 1 or None in batches:
        return fail(f"inputs disagree on the batch size (first dimension): "
                    f"{ {k: list(v.shape) for k, v in feeds.items()} }")
    batch = int(batches.pop())

    with tempfile.TemporaryDirectory(prefix="spdy-deepsparse-") as workdir:
        try:
            path, output_names, rewritten = static_copy(a.model, feeds, workdir)
        except Exception as e:  # noqa: BLE001
            return fail(f"cannot write a static-shape copy of {a.model}: {e}")
        try:
            with stdout_to_stderr():
                engine = deepsparse.compile_model(path, batch_size=batch, num_cores=a.threads)
        except Exception as e:  # noqa: BLE001
            return fail(f"deepsparse cannot compile {a.model} (batch {batch}, {a.threads} cores): {e}")

        inputs = [feeds[n] for n in input_names]
        try:
            with stdout_to_stderr():
                outs = engine.run(inputs)  # validates the inputs once
                for _ in range(max(a.warmup - 1, 0)):
                    engine.run(inputs, val_inp=False)
                samples = []
                for _ in range(a.repetitions):
                    start = time.perf_counter()
                    outs = engine.run(inputs, val_inp=False)
                    samples.append((time.perf_counter() - start) * 1e3)
        except Exception as e:  # noqa: BLE001
            return fail(f"deepsparse failed running {a.model}: {e}")

        if len(outs) != len(output_names):
            return fail(f"deepsparse returned {len(outs)} outputs, the model declares {len(output_names)}")
        if a.outputs:
            os.makedirs(a.outputs, exist_ok=True)
            for name, value in zip(output_names, outs):
                np.save(os.path.join(a.outputs, name + ".npy"), value)
        supported = getattr(engine, "fraction_of_supported_ops", None)
        print(json.dumps({"engine": "deepsparse", "version": deepsparse.__version__, "threads": a.threads,
                          "batch": batch, "static_shapes_rewritten": rewritten,
                          "fraction_of_supported_ops": supported, "samples_ms": samples}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
