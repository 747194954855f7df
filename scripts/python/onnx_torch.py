"""Runs an ONNX graph with PyTorch operators, so autograd gives reference gradients for it.

onnx2torch is not available; this interpreter covers the operators of the models the project
trains (the demo ResNet, EfficientNet-Lite0, MiniLM): every float initializer becomes a leaf
tensor that can require gradients, every node one torch call. Callers check its forward outputs
against ONNX Runtime before trusting its gradients (scripts/fixtures/export_training_reference.py
does).

    graph = TorchGraph(onnx.load(path))
    params = graph.parameters(requires_grad=True)        # name -> leaf tensor
    values = graph.run({"input": x}, params, keep={...})  # name -> tensor (outputs + kept)
"""

from __future__ import annotations

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

_DTYPES = {1: torch.float32, 6: torch.int32, 7: torch.int64, 9: torch.bool, 11: torch.float64}


def _attrs(node) -> dict:
    values = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in values.items()}


def _ints(t) -> list[int]:
    return [int(v) for v in t.reshape(-1).tolist()]


class TorchGraph:
    """An ONNX model evaluated with torch; BatchNorm in inference mode unless `train_bn`."""

    def __init__(self, model, train_bn: bool = False):
        self.model = model
        self.graph = model.graph
        self.opset = next(i.version for i in model.opset_import if i.domain in ("", "ai.onnx"))
        self.initializers = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.train_bn = train_bn
        self.updated_statistics: dict[str, torch.Tensor] = {}

    def parameters(self, requires_grad: bool = True, dtype=torch.float32) -> dict[str, torch.Tensor]:
        """Every float initializer as a leaf tensor of `dtype`; integer ones as plain tensors.
        (Constants inside the graph stay float32; torch promotes mixed operations.)"""
        result = {}
        for name, array in self.initializers.items():
            t = torch.from_numpy(np.array(array))
            if t.is_floating_point():
                t = t.to(dtype).requires_grad_(requires_grad)
            result[name] = t
        return result

    def run(self, feeds: dict[str, np.ndarray | torch.Tensor], params: dict[str, torch.Tensor],
            keep: set[str] = frozenset()) -> dict[str, torch.Tensor]:
        env: dict[str, torch.Tensor] = dict(params)
        for k, v in feeds.items():
            env[k] = v if isinstance(v, torch.Tensor) else torch.from_numpy(np.array(v))
        self.updated_statistics = {}
        for node in self.graph.node:
            ins = [env[n] if n else None for n in node.input]
            outs = self._evaluate(node, ins)
            for name, value in zip(node.output, outs):
                if name:
                    env[name] = value
        wanted = {o.name for o in self.graph.output} | set(keep)
        return {k: env[k] for k in wanted}

    # One torch expression per operator.
    def _evaluate(self, node, x: list) -> list:
        op, a = node.op_type, _attrs(node)
        if op == "Identity":
            return [x[0]]
        if op == "Constant":
            return [torch.from_numpy(np.array(numpy_helper.to_array(a["value"])))]
        if op == "Conv":
            w, b = x[1], x[2] if len(x) > 2 else None
            pads = list(a.get("pads", [0, 0, 0, 0]))
            data = x[0]
            if pads[0] != pads[2] or pads[1] != pads[3]:
                data = F.pad(data, (pads[1], pads[3], pads[0], pads[2]))
                padding = (0, 0)
            else:
                padding = (pads[0], pads[1])
            return [F.conv2d(data, w, b, stride=tuple(a.get("strides", [1, 1])), padding=padding,
                             dilation=tuple(a.get("dilations", [1, 1])), groups=a.get("group", 1))]
        if op == "BatchNormalization":
            eps, momentum = a.get("epsilon", 1e-5), a.get("momentum", 0.9)
            mean, var = x[3].detach().clone(), x[4].detach().clone()
            y = F.batch_norm(x[0], mean, var, x[1], x[2], training=self.train_bn, momentum=1 - momentum, eps=eps)
            if self.train_bn:
                self.updated_statistics[node.input[3]] = mean
                self.updated_statistics[node.input[4]] = var
            return [y]
        if op == "Relu":
            return [F.relu(x[0])]
        if op == "Clip":
            lo = x[1] if len(x) > 1 and x[1] is not None else a.get("min")
            hi = x[2] if len(x) > 2 and x[2] is not None else a.get("max")
            lo = float(lo) if lo is not None else None
            hi = float(hi) if hi is not None else None
            return [torch.clamp(x[0], lo, hi)]
        if op in ("Sigmoid", "Tanh", "Erf", "Sqrt", "Exp", "Neg", "Log", "Abs"):
            return [getattr(torch, op.lower())(x[0])]
        if op == "Add":
            return [x[0] + x[1]]
        if op == "Sub":
            return [x[0] - x[1]]
        if op == "Mul":
            return [x[0] * x[1]]
        if op == "Div":
            if not x[0].is_floating_point():
                return [torch.div(x[0], x[1], rounding_mode="trunc")]
            return [x[0] / x[1]]
        if op == "Pow":
            return [torch.pow(x[0], x[1])]
        if op == "MatMul":
            return [torch.matmul(x[0], x[1])]
        if op == "Gemm":
            A = x[0].t() if a.get("transA", 0) else x[0]
            B = x[1].t() if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * x[2]
            return [y]
        if op == "GlobalAveragePool":
            return [x[0].mean(dim=tuple(range(2, x[0].dim())), keepdim=True)]
        if op == "Flatten":
            axis = a.get("axis", 1)
            axis = axis + x[0].dim() if axis < 0 else axis
            lead = int(np.prod(x[0].shape[:axis])) if axis > 0 else 1
            return [x[0].reshape(lead, -1)]
        if op == "Reshape":
            shape = _ints(x[1])
            shape = [x[0].shape[i] if d == 0 and not a.get("allowzero", 0) else d for i, d in enumerate(shape)]
            return [x[0].reshape(shape)]
        if op == "Transpose":
            perm = a.get("perm", list(reversed(range(x[0].dim()))))
            return [x[0].permute(*perm)]
        if op == "Softmax":
            return [F.softmax(x[0], dim=a.get("axis", -1))]
        if op == "ReduceMean":
            axes = a.get("axes") if self.opset < 18 else (_ints(x[1]) if len(x) > 1 and x[1] is not None else None)
            dims = tuple(axes) if axes else tuple(range(x[0].dim()))
            return [x[0].mean(dim=dims, keepdim=bool(a.get("keepdims", 1)))]
        if op == "Shape":
            return [torch.tensor(list(x[0].shape), dtype=torch.int64)]
        if op == "Gather":
            axis = a.get("axis", 0)
            data, idx = x[0], x[1].long()
            axis = axis + data.dim() if axis < 0 else axis
            idx = torch.where(idx < 0, idx + data.shape[axis], idx)
            out = data.index_select(axis, idx.reshape(-1))
            return [out.reshape(tuple(data.shape[:axis]) + tuple(idx.shape) + tuple(data.shape[axis + 1:]))]
        if op == "Unsqueeze":
            axes = a.get("axes") if self.opset < 13 else _ints(x[1])
            y = x[0]
            rank = y.dim() + len(axes)
            for ax in sorted(ax + rank if ax < 0 else ax for ax in axes):
                y = y.unsqueeze(ax)
            return [y]
        if op == "Squeeze":
            axes = a.get("axes") if self.opset < 13 else (_ints(x[1]) if len(x) > 1 and x[1] is not None else None)
            y = x[0]
            if axes is None:
                return [y.squeeze()]
            for ax in sorted((ax + y.dim() if ax < 0 else ax for ax in axes), reverse=True):
                y = y.squeeze(ax)
            return [y]
        if op == "Concat":
            return [torch.cat([t for t in x if t is not None], dim=a["axis"])]
        if op == "Slice":
            starts, ends = _ints(x[1]), _ints(x[2])
            axes = _ints(x[3]) if len(x) > 3 and x[3] is not None else list(range(len(starts)))
            steps = _ints(x[4]) if len(x) > 4 and x[4] is not None else [1] * len(starts)
            y = x[0]
            for s, e, ax, st in zip(starts, ends, axes, steps):
                d = y.shape[ax]
                s, e = (s + d if s < 0 else s), (e + d if e < 0 else e)
                if st > 0:
                    s, e = max(0, min(d, s)), max(0, min(d, e))
                else:
                    s, e = max(0, min(d - 1, s)), max(-1, min(d - 1, e))
                y = y.index_select(ax, torch.tensor(list(range(s, e, st)), dtype=torch.int64))
            return [y]
        if op == "Cast":
            return [x[0].to(_DTYPES[a["to"]])]
        if op == "ConstantOfShape":
            value = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
            t = torch.from_numpy(np.array(value)).reshape(-1)
            return [t.expand(*_ints(x[0])).clone() if _ints(x[0]) else t.reshape(()).clone()]
        if op == "Pad":
            if a.get("mode", "constant") != "constant":
                raise NotImplementedError("non-constant Pad")
            pads = _ints(x[1]) if self.opset >= 11 else list(a["pads"])
            r = x[0].dim()
            value = float(x[2]) if len(x) > 2 and x[2] is not None else float(a.get("value", 0.0))
            torch_pads = []
            for d in reversed(range(r)):
                torch_pads += [pads[d], pads[d + r]]
            return [F.pad(x[0], tuple(torch_pads), value=value)]
        if op == "Range":
            return [torch.arange(x[0].item(), x[1].item(), x[2].item(), dtype=x[0].dtype)]
        if op == "GreaterOrEqual":
            return [x[0] >= x[1]]
        if op == "Equal":
            return [x[0] == x[1]]
        if op == "And":
            return [torch.logical_and(x[0], x[1])]
        if op == "Where":
            return [torch.where(x[0], x[1], x[2])]
        if op == "Expand":
            shape = torch.broadcast_shapes(tuple(x[0].shape), tuple(_ints(x[1])))
            return [torch.broadcast_to(x[0], shape)]
        raise NotImplementedError(f"operator {op} (node {node.name})")
