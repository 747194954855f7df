#!/usr/bin/env python3
"""Per-layer timing tables on an external engine (ONNX Runtime or DeepSparse 1.8); prints JSON.

Called by `spdy time MODEL --engine onnxruntime|deepsparse`:

  time_layers.py --engine E --model M.onnx --spec SPEC.json --inputs DIR --threads T
                 --warmup W --repetitions R --sparsities 0,0.4,...

SPEC.json lists the prunable layers as our engine found them: [{"layer": weight name,
"node": node name, "input_shape": [...]}]. For every layer and sparsity a one-node ONNX model is
built (the layer's own node and attributes, its input at the deployment shape, its weight
magnitude-pruned to the sparsity: the smallest round(s * count) magnitudes set to zero, its bias)
and timed on the engine with the given threads: warm-up runs, then R timed runs. The whole dense
model is timed on the inputs in DIR (one NAME.npy per model input) for the table's base time.

Output: one JSON line {"engine", "version", "threads", "base_ms": [...],
"layers": {layer: [[ms, ...] per sparsity]}} or {"error": "..."} with exit status 2.
DeepSparse runs in .venv-deepsparse (this script re-executes itself there, as deepsparse_bench.py);
it compiles every one-node model, which takes seconds each: time few levels or small models.
"""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEEPSPARSE_PYTHON = os.path.join(ROOT, ".venv-deepsparse", "bin", "python")
os.environ.setdefault("NM_DISABLE_ANALYTICS", "1")


def fail(message):
    print(json.dumps({"error": message}))
    return 2


def one_node_model(model, node, input_shape, weight_values, onnx, helper, numpy_helper):
    """The layer's node alone: input x of input_shape, its weight (given values), its other
    constant inputs, output y."""
    inits = {t.name: t for t in model.graph.initializer}
    inputs = list(node.input)
    new_inits = []
    renamed = ["x"]
    for i, name in enumerate(inputs[1:], start=1):
        if name == "":
            renamed.append("")
            continue
        if name not in inits:
            raise ValueError(f"node '{node.name}': input '{name}' is not an initializer")
        tensor = numpy_helper.to_array(inits[name])
        if i == 1:
            tensor = weight_values.reshape(tensor.shape).astype(tensor.dtype)
        new_name = f"c{i}"
        new_inits.append(numpy_helper.from_array(tensor, new_name))
        renamed.append(new_name)
    copy = helper.make_node(node.op_type, renamed, ["y"], name=node.name, domain=node.domain)
    copy.attribute.extend(node.attribute)
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, input_shape)
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)
    graph = helper.make_graph([copy], "layer", [x], [y], new_inits)
    opset = [o for o in model.opset_import if o.domain in ("", "ai.onnx")]
    out = helper.make_model(graph, opset_imports=opset or [helper.make_opsetid("", 17)])
    out.ir_version = model.ir_version
    return onnx.shape_inference.infer_shapes(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--engine", required=True, choices=["onnxruntime", "deepsparse"])
    p.add_argument("--model", required=True)
    p.add_argument("--spec", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--sparsities", required=True)
    a = p.parse_args()

    if a.engine == "deepsparse":
        try:
            import deepsparse  # noqa: F401
        except ImportError:
            # Compare the environments, not the interpreters: both venvs' `python` resolve to the
            # same base interpreter binary.
            venv = os.path.dirname(os.path.dirname(DEEPSPARSE_PYTHON))
            if os.path.exists(DEEPSPARSE_PYTHON) and os.path.realpath(sys.prefix) != os.path.realpath(venv):
                os.execv(DEEPSPARSE_PYTHON, [DEEPSPARSE_PYTHON] + sys.argv)
            return fail("deepsparse is not installed: run scripts/bootstrap_deepsparse.sh")
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    sparsities = [float(s) for s in a.sparsities.split(",")]
    with open(a.spec) as f:
        spec = json.load(f)
    model = onnx.load(a.model)
    nodes = {n.name: n for n in model.graph.node}
    inits = {t.name: t for t in model.graph.initializer}
    feeds = {}
    for name in os.listdir(a.inputs):
        if name.endswith(".npy"):
            feeds[name[:-4]] = np.load(os.path.join(a.inputs, name))
    batch = next(iter(feeds.values())).shape[0] if feeds else 1

    if a.engine == "onnxruntime":
        import onnxruntime as ort
        version = ort.__version__

        def session(path_or_bytes):
            options = ort.SessionOptions()
            options.intra_op_num_threads = a.threads
            options.inter_op_num_threads = 1
            s = ort.InferenceSession(path_or_bytes, options, providers=["CPUExecutionProvider"])
            names = [i.name for i in s.get_inputs()]
            return lambda data: s.run(None, {n: data[n] for n in names})
    else:
        import deepsparse
        version = deepsparse.__version__

        def session(path_or_bytes):
            path = path_or_bytes
            if isinstance(path_or_bytes, bytes):
                handle = tempfile.NamedTemporaryFile(suffix=".onnx", delete=False)
                handle.write(path_or_bytes)
                handle.close()
                path = handle.name
            engine = deepsparse.Engine(model=path, batch_size=batch, num_cores=a.threads)
            names = [i.name for i in onnx.load(path).graph.input if i.name not in {t.name for t in onnx.load(path).graph.initializer}]
            return lambda data: engine.run([data[n] for n in names])

    def measure(run, data):
        for _ in range(a.warmup):
            run(data)
        samples = []
        for _ in range(a.repetitions):
            start = time.perf_counter()
            run(data)
            samples.append((time.perf_counter() - start) * 1000)
        return samples

    base = measure(session(a.model), feeds)
    rng = np.random.default_rng(0)
    layers = {}
    for entry in spec:
        node = nodes.get(entry["node"])
        if node is None:
            return fail(f"{a.model}: no node '{entry['node']}' (layer '{entry['layer']}')")
        if entry["layer"] not in inits:
            return fail(f"{a.model}: layer '{entry['layer']}' has no initializer weight")
        weight = numpy_helper.to_array(inits[entry["layer"]]).astype(np.float32).ravel()
        order = np.argsort(np.abs(weight), kind="stable")
        x = rng.standard_normal(entry["input_shape"]).astype(np.float32)
        per_level = []
        for s in sparsities:
            values = weight.copy()
            values[order[: int(round(s * values.size))]] = 0
            single = one_node_model(model, node, entry["input_shape"], values, onnx, helper, numpy_helper)
            per_level.append(measure(session(single.SerializeToString()), {"x": x}))
        layers[entry["layer"]] = per_level
        print(f"timed {entry['layer']}", file=sys.stderr, flush=True)
    print(json.dumps({"engine": a.engine, "version": version, "threads": a.threads, "base_ms": base, "layers": layers}))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # a clear message instead of a traceback for the caller
        sys.exit(fail(f"{type(error).__name__}: {error}"))
