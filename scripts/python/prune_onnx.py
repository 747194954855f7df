#!/usr/bin/env python3
"""Magnitude-prunes the prunable weights of an ONNX model; writes a new ONNX file.

  prune_onnx.py INPUT.onnx OUTPUT.onnx --sparsity 0.9 [--exclude NAME ...] [--include-regex REGEX]
                [--kind conv|linear|all]

Prunable layers:
  conv    Conv whose weight (input 1) is an initializer;
  linear  MatMul whose input 1 is a rank-2 initializer, and Gemm whose input B (input 1) is a
          rank-2 initializer (transB only changes the layout: B is [in, out] when transB=0 and
          [out, in] when transB=1; both are reported as out x in).
An initializer that is also a graph input (overridable, so not constant) is not prunable.

Each selected layer is pruned on its own (layer-wise uniform) to --sparsity: exactly
floor(s * numel + 0.5) of its weights become zero, the smallest by absolute value, ties broken by
the lower flat (row-major) index first, so the result is deterministic. Weights that are already
zero count as pruned. Biases are left alone.

A layer is named after its node (the weight initializer's name when the node has none); --exclude
takes node or initializer names, --include-regex is searched (re.search) in both. A weight shared
by several prunable nodes is one layer, named after its first node.

Prints a per-layer table (name, kind, shape, sparsity) on stderr and a JSON summary on stdout; on
error, {"error": "..."} on stdout and exit status 2. Models with external data are refused.
"""
import argparse
import json
import math
import os
import re
import sys

import numpy as np
import onnx
from onnx import numpy_helper


class PruneError(Exception):
    pass


def prunable_layers(model: onnx.ModelProto):
    """[(layer name, kind, initializer name, [node names], out x in shape)] in graph order."""
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    graph_inputs = {i.name for i in graph.input}
    layers = {}
    for node in graph.node:
        if node.op_type not in ("Conv", "MatMul", "Gemm") or len(node.input) < 2:
            continue
        weight = node.input[1]
        tensor = initializers.get(weight)
        if tensor is None or weight in graph_inputs:
            continue
        dims = list(tensor.dims)
        if node.op_type == "Conv":
            kind, out_in = "conv", dims[:2]
        else:
            if len(dims) != 2:
                continue
            kind = "linear"
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            out_in = dims if node.op_type == "Gemm" and trans_b else dims[::-1]
        if weight in layers:
            layers[weight]["nodes"].append(node.name)
            continue
        layers[weight] = {"name": node.name or weight, "kind": kind, "op": node.op_type, "weight": weight,
                          "nodes": [node.name], "shape": dims, "out_in": out_in}
    return list(layers.values())


def prune_array(w: np.ndarray, sparsity: float) -> np.ndarray:
    n = w.size
    k = int(math.floor(sparsity * n + 0.5))
    flat = w.reshape(-1).copy()
    if k > 0:
        # Stable sort of |w|: equal magnitudes keep index order, so the lower index goes first.
        order = np.argsort(np.abs(flat), kind="stable")
        flat[order[:k]] = 0
    return flat.reshape(w.shape)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 2)[2])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--sparsity", type=float, required=True, help="fraction of each layer's weights set to zero")
    p.add_argument("--exclude", action="append", default=[], metavar="NAME",
                   help="node or weight name of a layer to leave dense (repeatable)")
    p.add_argument("--include-regex", metavar="REGEX", help="prune only layers whose node or weight name matches")
    p.add_argument("--kind", choices=("conv", "linear", "all"), default="all")
    a = p.parse_args()
    try:
        summary = run(a)
    except PruneError as e:
        print(f"prune_onnx: {e}", file=sys.stderr)
        print(json.dumps({"error": str(e)}))
        return 2
    print(json.dumps(summary))
    return 0


def run(a) -> dict:
    if not 0.0 <= a.sparsity <= 1.0:
        raise PruneError(f"--sparsity must be within [0, 1], got {a.sparsity}")
    try:
        regex = re.compile(a.include_regex) if a.include_regex else None
    except re.error as e:
        raise PruneError(f"bad --include-regex: {e}") from e
    try:
        model = onnx.load(a.input, load_external_data=False)
    except Exception as e:  # noqa: BLE001
        raise PruneError(f"cannot load {a.input}: {e}") from e
    external = [t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    if external:
        raise PruneError(f"{a.input} keeps {len(external)} initializers in external data (e.g. {external[0]}); "
                         "not supported: convert it to a single file first")

    layers = prunable_layers(model)
    candidates = [l for l in layers if a.kind in ("all", l["kind"])]
    known = {n for l in layers for n in l["nodes"] + [l["weight"]]}
    for name in a.exclude:
        if name not in known:
            print(f"prune_onnx: warning: --exclude {name} names no prunable layer", file=sys.stderr)
    excluded = set(a.exclude)

    def selected(layer) -> bool:
        names = layer["nodes"] + [layer["weight"]]
        if excluded.intersection(names):
            return False
        return regex is None or any(regex.search(n) for n in names if n)

    chosen = [l for l in candidates if selected(l)]
    if not chosen:
        raise PruneError(f"no layer selected out of {len(layers)} prunable ones (kind {a.kind}, "
                         f"include-regex {a.include_regex!r}, {len(excluded)} excluded)")

    initializers = {t.name: t for t in model.graph.initializer}
    rows = []
    for layer in chosen:
        tensor = initializers[layer["weight"]]
        w = numpy_helper.to_array(tensor)
        if not np.issubdtype(w.dtype, np.floating):
            raise PruneError(f"{layer['name']}: weight {layer['weight']} is {w.dtype}, not floating point")
        pruned = prune_array(w, a.sparsity)
        tensor.CopyFrom(numpy_helper.from_array(pruned, tensor.name))
        zeros = int(np.count_nonzero(pruned == 0))
        rows.append({"name": layer["name"], "weight": layer["weight"], "op": layer["op"], "kind": layer["kind"],
                     "shape": layer["shape"], "out_in": layer["out_in"], "numel": int(w.size),
                     "zeros_before": int(np.count_nonzero(w == 0)), "zeros": zeros,
                     "sparsity": zeros / w.size})

    width = max(len(r["name"]) for r in rows)
    print(f"{'layer':<{width}}  {'op':<6} {'shape':<20} {'numel':>9}  sparsity", file=sys.stderr)
    for r in rows:
        shape = "x".join(map(str, r["shape"]))
        print(f"{r['name']:<{width}}  {r['op']:<6} {shape:<20} {r['numel']:>9}  {r['sparsity']:.4f}", file=sys.stderr)
    pruned_numel = sum(r["numel"] for r in rows)
    pruned_zeros = sum(r["zeros"] for r in rows)
    prunable_numel = sum(int(np.prod(l["shape"])) for l in layers)
    total_numel = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    print(f"{len(rows)} of {len(layers)} prunable layers pruned to {a.sparsity}: {pruned_zeros}/{pruned_numel} "
          f"weights zero ({pruned_zeros / pruned_numel:.4f}); {pruned_zeros / total_numel:.4f} of all "
          f"{total_numel} initializer values", file=sys.stderr)

    os.makedirs(os.path.dirname(os.path.abspath(a.output)), exist_ok=True)
    partial = a.output + ".partial"
    try:
        onnx.save(model, partial)
        os.replace(partial, a.output)
    except Exception as e:  # noqa: BLE001
        raise PruneError(f"cannot write {a.output}: {e}") from e
    return {"input": a.input, "output": a.output, "target_sparsity": a.sparsity, "kind": a.kind,
            "include_regex": a.include_regex, "exclude": a.exclude,
            "layers_pruned": len(rows), "layers_prunable": len(layers),
            "weights_pruned": pruned_numel, "zeros": pruned_zeros, "sparsity": pruned_zeros / pruned_numel,
            "prunable_weights": prunable_numel, "initializer_values": total_numel, "layers": rows}


if __name__ == "__main__":
    sys.exit(main())
