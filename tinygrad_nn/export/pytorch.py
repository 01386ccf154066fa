"""Move models and optimizer state to PyTorch and back (torch is imported only here).

    torch_model = to_torch(model)                 # a torch.nn.Sequential, same state_dict keys
    model = from_torch(torch_model)               # and back
    torch_opt = optimizer_to_torch(opt, model, torch_model)   # training continues identically

Layers map one to one, by position, so state_dict names agree (``0.weight``,
``1.running_mean``, ...): Linear, ReLU, Sigmoid, Tanh, Identity, LeakyReLU, Softmax,
LogSoftmax, Flatten, Dropout, Dropout2d, BatchNorm1d and BatchNorm2d (running statistics
included), Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Sequential / MLP (a
``torch.nn.Sequential``; an MLP comes back as a Sequential) and Maxout (a small torch module,
``TorchMaxout``, defined here). Anything else raises TypeError naming the layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn
from ..optim import OPTIMIZERS, Optimizer

_STATELESS = ("ReLU", "Sigmoid", "Tanh", "Identity")
_SUPPORTED = ("Linear", "Maxout", "BatchNorm1d", "BatchNorm2d", "Conv1d", "Conv2d", "MaxPool2d",
              "AvgPool2d", "AdaptiveAvgPool2d", "Dropout", "Dropout2d", "LeakyReLU", "Softmax",
              "LogSoftmax", "Flatten", *_STATELESS)


def _torch() -> Any:
    try:
        import torch
    except ModuleNotFoundError as e:  # pragma: no cover - torch is optional
        raise ModuleNotFoundError("tinygrad_nn.export's PyTorch functions need torch: "
                                  "pip install torch") from e
    return torch


def _maxout_class() -> type:
    """``TorchMaxout``: Maxout as a torch module (``weight``/``bias`` named as ours)."""
    torch = _torch()
    global _TorchMaxout
    if _TorchMaxout is None:
        class TorchMaxout(torch.nn.Module):
            """out_features units, each the max of ``pieces`` affine maps (rows j*pieces ...
            (j+1)*pieces - 1 of ``weight`` are unit j's)."""

            def __init__(self, in_features: int, out_features: int, pieces: int,
                         dtype: Any = None) -> None:
                super().__init__()
                self.in_features, self.out_features, self.pieces = (in_features, out_features,
                                                                    pieces)
                rows = out_features * pieces
                self.weight = torch.nn.Parameter(torch.empty(rows, in_features, dtype=dtype))
                self.bias = torch.nn.Parameter(torch.empty(rows, dtype=dtype))

            def forward(self, x: Any) -> Any:
                z = torch.nn.functional.linear(x, self.weight, self.bias)
                return z.unflatten(-1, (self.out_features, self.pieces)).amax(dim=-1)

        _TorchMaxout = TorchMaxout
    return _TorchMaxout


_TorchMaxout: type | None = None


def to_torch(model: nn.Module) -> Any:
    """A ``torch.nn.Module`` computing what ``model`` computes (same dtype, same values,
    same train/eval mode, same ``state_dict`` keys). The arrays are copied."""
    torch = _torch()
    converted = _to_torch(torch, model, "model")
    converted.train(model.training)
    return converted


def _to_torch(torch: Any, layer: nn.Module, where: str) -> Any:
    name = type(layer).__name__
    tnn = torch.nn
    if isinstance(layer, nn.Sequential):  # MLP included
        return tnn.Sequential(*[_to_torch(torch, child, f"{where}[{i}]")
                                for i, child in enumerate(layer)])
    if name in _STATELESS:
        out = getattr(tnn, name)()
    elif name == "LeakyReLU":
        out = tnn.LeakyReLU(layer.negative_slope)
    elif name in ("Softmax", "LogSoftmax"):
        out = getattr(tnn, name)(dim=layer.axis)
    elif name == "Flatten":
        out = tnn.Flatten(layer.start_axis, layer.end_axis)
    elif name == "Dropout":
        out = tnn.Dropout(layer.p)
    elif name == "Linear":
        out = tnn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                         dtype=_dtype(torch, layer.weight.data))
    elif name == "Maxout":
        out = _maxout_class()(layer.in_features, layer.out_features, layer.pieces,
                              dtype=_dtype(torch, layer.weight.data))
    elif name in ("BatchNorm1d", "BatchNorm2d"):
        some = next(iter(layer.state_dict().values()), None)
        out = getattr(tnn, name)(layer.num_features, eps=layer.eps, momentum=layer.momentum,
                                 affine=layer.affine,
                                 track_running_stats=layer.track_running_stats,
                                 dtype=None if some is None else _dtype(torch, some))
    elif name in ("Conv1d", "Conv2d"):
        out = getattr(tnn, name)(layer.in_channels, layer.out_channels, layer.kernel_size,
                                 stride=layer.stride, padding=layer.padding,
                                 dilation=layer.dilation, groups=layer.groups,
                                 bias=layer.bias is not None,
                                 dtype=_dtype(torch, layer.weight.data))
    elif name == "MaxPool2d":
        out = tnn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    elif name == "AvgPool2d":
        out = tnn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding,
                            count_include_pad=layer.count_include_pad,
                            divisor_override=layer.divisor_override)
    elif name == "AdaptiveAvgPool2d":
        out = tnn.AdaptiveAvgPool2d(layer.output_size)
    elif name == "Dropout2d":
        out = tnn.Dropout2d(layer.p)
    else:
        raise TypeError(f"to_torch: layer {where} ({name}) is not supported; supported: "
                        f"Sequential, MLP, {', '.join(_SUPPORTED)}")
    state = {k: torch.from_numpy(np.array(v)) for k, v in layer.state_dict().items()}
    out.load_state_dict(state, strict=True)
    out.train(layer.training)
    return out


def _dtype(torch: Any, array: np.ndarray) -> Any:
    return torch.from_numpy(np.zeros(0, array.dtype)).dtype


def from_torch(module: Any) -> nn.Module:
    """The tinygrad_nn model of a torch module built from the supported layers (the reverse
    of ``to_torch``; a ``torch.nn.Sequential`` becomes a ``Sequential``)."""
    torch = _torch()
    converted = _from_torch(torch, module, "module")
    converted.train(module.training)
    return converted


def _from_torch(torch: Any, layer: Any, where: str) -> nn.Module:
    tnn = torch.nn
    name = type(layer).__name__
    if isinstance(layer, tnn.Sequential):
        return nn.Sequential(*[_from_torch(torch, child, f"{where}[{i}]")
                               for i, child in enumerate(layer)])
    if type(layer) in (tnn.ReLU, tnn.Sigmoid, tnn.Tanh, tnn.Identity):
        out: nn.Module = getattr(nn, name)()
    elif type(layer) is tnn.LeakyReLU:
        out = nn.LeakyReLU(layer.negative_slope)
    elif type(layer) in (tnn.Softmax, tnn.LogSoftmax):
        out = getattr(nn, name)(axis=layer.dim)
    elif type(layer) is tnn.Flatten:
        out = nn.Flatten(layer.start_dim, layer.end_dim)
    elif type(layer) is tnn.Dropout:
        out = nn.Dropout(layer.p)
    elif type(layer) is tnn.Linear:
        out = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None,
                        dtype=_numpy_dtype(layer.weight))
    elif type(layer) is _maxout_class():
        out = nn.Maxout(layer.in_features, layer.out_features, layer.pieces,
                        dtype=_numpy_dtype(layer.weight))
    elif type(layer) in (tnn.BatchNorm1d, tnn.BatchNorm2d):
        tensors = list(layer.state_dict().values())
        out = getattr(nn, name)(layer.num_features, eps=layer.eps, momentum=layer.momentum,
                                affine=layer.affine,
                                track_running_stats=layer.track_running_stats,
                                dtype=_numpy_dtype(tensors[0]) if tensors else None)
    elif type(layer) in (tnn.Conv1d, tnn.Conv2d) and layer.padding_mode == "zeros":
        one = type(layer) is tnn.Conv1d  # our Conv1d takes ints, torch keeps 1-tuples
        unpack = (lambda v: v[0] if isinstance(v, tuple) else v) if one else (lambda v: v)
        out = getattr(nn, name)(layer.in_channels, layer.out_channels,
                                unpack(layer.kernel_size), stride=unpack(layer.stride),
                                padding=unpack(layer.padding), dilation=unpack(layer.dilation),
                                groups=layer.groups, bias=layer.bias is not None,
                                dtype=_numpy_dtype(layer.weight))
    elif type(layer) is tnn.MaxPool2d and not layer.ceil_mode and not layer.return_indices:
        out = nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    elif type(layer) is tnn.AvgPool2d and not layer.ceil_mode:
        out = nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding,
                           count_include_pad=layer.count_include_pad,
                           divisor_override=layer.divisor_override)
    elif type(layer) is tnn.AdaptiveAvgPool2d:
        out = nn.AdaptiveAvgPool2d(layer.output_size)
    elif type(layer) is tnn.Dropout2d:
        out = nn.Dropout2d(layer.p)
    else:
        raise TypeError(f"from_torch: layer {where} ({name}) is not supported; supported: "
                        f"Sequential, {', '.join(_SUPPORTED)} (Maxout: to_torch's TorchMaxout; "
                        "pools without ceil_mode, convolutions with zero padding)")
    out.load_state_dict({k: v.detach().cpu().numpy() for k, v in layer.state_dict().items()})
    out.train(layer.training)
    return out


def _numpy_dtype(tensor: Any) -> np.dtype:
    return tensor.detach().cpu().numpy().dtype


def optimizer_to_torch(optimizer: Optimizer, model: nn.Module, torch_model: Any) -> Any:
    """A ``torch.optim`` optimizer over ``torch_model``'s parameters with ``optimizer``'s
    class, groups, options and state (momentum buffers, Adam moments, step counts), so that
    training continues in PyTorch as it would have here. Parameters are matched by name:
    ``torch_model`` is ``to_torch(model)`` (or has the same ``named_parameters``)."""
    torch = _torch()
    cls_name = type(optimizer).__name__
    supported = [known.__name__ for known in OPTIMIZERS.values()]
    cls = getattr(torch.optim, cls_name, None)
    if cls is None or cls_name not in supported:
        raise TypeError(f"optimizer_to_torch: {cls_name} is not supported; supported: "
                        f"{', '.join(supported)}")
    names = {id(p): name for name, p in model.named_parameters()}
    torch_params = dict(torch_model.named_parameters())
    ours = optimizer.state_dict()
    groups = []
    for g, group in enumerate(optimizer.param_groups):
        params = []
        for p in group["params"]:
            name = names.get(id(p))
            if name is None:
                raise ValueError(f"optimizer_to_torch: a parameter of group {g} is not in "
                                 "the model")
            if name not in torch_params:
                raise ValueError(f"optimizer_to_torch: torch_model has no parameter {name!r}")
            params.append(torch_params[name])
        options = {k: (tuple(v) if isinstance(v, list) else v) for k, v in group.items()
                   if k != "params"}
        groups.append({**options, "params": params})
    probe = cls([torch.zeros(1, requires_grad=True)], lr=0.1)
    unknown = sorted(k for g in groups for k in g if k not in probe.defaults
                     and k not in ("params", "initial_lr"))
    if unknown:
        raise ValueError(f"optimizer_to_torch: torch.optim.{cls_name} has no option "
                         f"{unknown[0]!r}")
    torch_opt = cls(groups, lr=groups[0]["lr"])
    state = {}
    for index, entry in ours["state"].items():
        state[index] = {k: (torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray)
                            else torch.tensor(float(v))) for k, v in entry.items()}
    saved = torch_opt.state_dict()
    torch_opt.load_state_dict({"state": state, "param_groups": saved["param_groups"]})
    return torch_opt
