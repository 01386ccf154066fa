"""Export a model to ONNX, built node by node with the ``onnx`` package (no torch needed).

    to_onnx(model, "model.onnx", input_shape=(None, 784))   # None: any batch size

The graph computes the model in eval mode (inference: Dropout is the identity, BatchNorm1d
uses its running statistics), in the model's float dtype, with opset ``OPSET``. Layers: Linear
(Gemm), Maxout (Gemm, Reshape, ReduceMax), BatchNorm1d (BatchNormalization), Dropout (left
out), ReLU, Sigmoid, Tanh, Identity, LeakyReLU, Softmax, LogSoftmax, Flatten and Sequential /
MLP (LeakyReLU as Where/Greater/Mul, keeping its slope in the model's dtype), and for
convolutional networks Conv1d/Conv2d (Conv), BatchNorm2d, MaxPool2d (MaxPool), AvgPool2d
(AveragePool) and AdaptiveAvgPool2d(1) (GlobalAveragePool), Dropout2d (left out). Anything
else raises TypeError naming the layer.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..tensor import Tensor

OPSET = 17
IR_VERSION = 8  # what current onnxruntime releases read


class _Graph:
    """Nodes and initializers, with fresh names."""

    def __init__(self, helper: Any, numpy_helper: Any) -> None:
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, hint: str, array: np.ndarray) -> str:
        name = self.name(hint)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op: str, inputs: Sequence[str], hint: str, **attributes: Any) -> str:
        out = self.name(hint)
        self.nodes.append(self.helper.make_node(op, list(inputs), [out], name=out, **attributes))
        return out


def to_onnx(model: nn.Module, path: str | os.PathLike[str], input_shape: Sequence[int | None]
            ) -> Any:
    """Write ``model`` to ``path`` as an ONNX model with input "input" of ``input_shape``
    ((batch, features), or (batch, channels, length) / (batch, channels, height, width) for
    convolutions; the batch may be None: any size) and output "output"; returns the checked
    ``onnx.ModelProto``."""
    import onnx
    from onnx import helper, numpy_helper

    shape = list(input_shape)
    if not (2 <= len(shape) <= 4 and (shape[0] is None or _positive(shape[0]))
            and all(_positive(s) for s in shape[1:])):
        raise ValueError(f"to_onnx: input_shape must be (batch, features...) with positive "
                         f"ints (the batch may be None), got {tuple(input_shape)}")
    floats = [a.dtype for a in model.state_dict().values() if a.dtype.kind == "f"]
    dtype = floats[0] if floats else np.dtype(np.float32)
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    graph = _Graph(helper, numpy_helper)
    out = _layer(graph, model, "input", "model", dtype)
    output = graph.node("Identity", [out], "output")
    batch = "batch" if shape[0] is None else shape[0]
    out_shape = [batch, *_output_shape(model, shape[1:], dtype)]
    onnx_graph = helper.make_graph(
        graph.nodes, f"tinygrad_nn_{type(model).__name__}",
        [helper.make_tensor_value_info("input", elem, [batch, *shape[1:]])],
        [helper.make_tensor_value_info(output, elem, out_shape)], graph.initializers)
    onnx_model = helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)],
                                   producer_name="tinygrad_nn")
    onnx_model.ir_version = IR_VERSION
    try:
        onnx.checker.check_model(onnx_model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        # e.g. a Linear (Gemm, 2-D only) given a sample of more than one axis
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]  # the rest follows it
        raise ValueError(f"to_onnx: input_shape {tuple(input_shape)}: the ONNX graph of "
                         f"{type(model).__name__} does not check: {first}") from e
    onnx.save(onnx_model, os.fspath(path))
    return onnx_model


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _output_shape(model: nn.Module, sample: list[int], dtype: np.dtype) -> list[int]:
    """The output's shape after the batch axis, from one eval-mode pass on a zero sample."""
    training = model.training
    try:
        with no_grad():
            return list(model.eval()(Tensor(np.zeros((1, *sample), dtype))).shape[1:])
    finally:
        model.train(training)


def _layer(graph: _Graph, layer: nn.Module, x: str, where: str, dtype: np.dtype) -> str:
    name = type(layer).__name__
    if isinstance(layer, nn.Sequential):
        for i, child in enumerate(layer):
            x = _layer(graph, child, x, f"{where}[{i}]", dtype)
        return x
    if name in ("Dropout", "Dropout2d", "Identity"):
        return x  # the identity at inference
    if name in ("ReLU", "Sigmoid", "Tanh"):
        return graph.node({"ReLU": "Relu"}.get(name, name), [x], name.lower())
    if name == "LeakyReLU":
        # NOTE: not LeakyRelu, whose alpha is a float32 attribute (0.2 would become
        # 0.20000000298): where(x > 0, x, slope * x) keeps the slope in the model's dtype.
        slope = graph.node("Mul", [x, graph.constant("slope", np.array(layer.negative_slope,
                                                                        dtype))], "sloped")
        positive = graph.node("Greater", [x, graph.constant("zero", np.zeros((), dtype))],
                              "positive")
        return graph.node("Where", [positive, x, slope], "leaky_relu")
    if name in ("Softmax", "LogSoftmax"):
        return graph.node(name, [x], name.lower(), axis=int(layer.axis))
    if name == "Flatten" and (layer.start_axis, layer.end_axis) == (1, -1):
        return graph.node("Flatten", [x], "flatten", axis=1)
    if name in ("Linear", "Maxout"):
        state = layer.state_dict()
        inputs = [x, graph.constant("weight", state["weight"])]
        if "bias" in state:
            inputs.append(graph.constant("bias", state["bias"]))
        z = graph.node("Gemm", inputs, "gemm", transB=1)
        if name == "Linear":
            return z
        pieces = graph.constant("shape", np.array([0, layer.out_features, layer.pieces]))
        z = graph.node("Reshape", [z, pieces], "pieces")
        return graph.node("ReduceMax", [z], "maxout", axes=[-1], keepdims=0)
    if name in ("Conv1d", "Conv2d"):
        return _conv(graph, layer, x)
    if name == "MaxPool2d":
        return graph.node("MaxPool", [x], "maxpool", kernel_shape=list(layer.kernel_size),
                          strides=list(layer.stride), pads=list(layer.padding) * 2,
                          dilations=list(layer.dilation))
    if name == "AvgPool2d" and layer.divisor_override is None:
        return graph.node("AveragePool", [x], "avgpool", kernel_shape=list(layer.kernel_size),
                          strides=list(layer.stride), pads=list(layer.padding) * 2,
                          count_include_pad=int(layer.count_include_pad))
    if name == "AdaptiveAvgPool2d" and tuple(layer.output_size) == (1, 1):
        return graph.node("GlobalAveragePool", [x], "global_avgpool")
    if name == "BatchNorm2d":
        name = "BatchNorm1d"  # the same node: BatchNormalization normalizes axis 1
    if name == "BatchNorm1d" and layer.track_running_stats:
        n = layer.num_features
        state = layer.state_dict()
        scale = state["weight"] if layer.affine else np.ones(n, dtype)
        shift = state["bias"] if layer.affine else np.zeros(n, dtype)
        inputs = [x, graph.constant("scale", scale), graph.constant("shift", shift),
                  graph.constant("mean", state["running_mean"]),
                  graph.constant("var", state["running_var"])]
        return graph.node("BatchNormalization", inputs, "batchnorm", epsilon=float(layer.eps))
    detail = {"BatchNorm1d": " without running statistics (eval uses batch statistics)",
              "Flatten": " other than Flatten(1, -1)",
              "AvgPool2d": " with divisor_override",
              "AdaptiveAvgPool2d": " to a size other than 1"}.get(name, "")
    raise TypeError(f"to_onnx: layer {where} ({type(layer).__name__}{detail}) is not "
                    "supported; supported: Sequential, MLP, Linear, Maxout, BatchNorm1d/2d, "
                    "Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d(1), Dropout, "
                    "Dropout2d, ReLU, Sigmoid, Tanh, Identity, LeakyReLU, Softmax, LogSoftmax, "
                    "Flatten")


def _conv(graph: _Graph, layer: nn.Module, x: str) -> str:
    """Conv1d/Conv2d as an ONNX Conv: "same" pads the extra row/column at the end, as PyTorch
    (SAME_UPPER), "valid" pads nothing."""
    def listed(value: Any) -> list[int]:
        return list(value) if isinstance(value, tuple) else [int(value)]

    kernel = listed(layer.kernel_size)
    attributes: dict[str, Any] = {"kernel_shape": kernel, "strides": listed(layer.stride),
                                  "dilations": listed(layer.dilation) * (len(kernel) // len(
                                      listed(layer.dilation))), "group": layer.groups}
    if layer.padding == "same":
        attributes["auto_pad"] = "SAME_UPPER"
    elif layer.padding == "valid":
        attributes["pads"] = [0] * 2 * len(kernel)
    else:
        pads = listed(layer.padding) * (len(kernel) // len(listed(layer.padding)))
        attributes["pads"] = pads * 2
    state = layer.state_dict()
    inputs = [x, graph.constant("weight", state["weight"])]
    if "bias" in state:
        inputs.append(graph.constant("bias", state["bias"]))
    return graph.node("Conv", inputs, "conv", **attributes)
