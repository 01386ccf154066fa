"""Convolutional layers: Conv2d, Conv1d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm2d,
Dropout2d, with PyTorch's arguments, parameter names and shapes (NCHW).

    >>> import tinygrad_nn as tg
    >>> from tinygrad_nn import nn
    >>> net = nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(),
    ...                     nn.Linear(20 * 12 * 12, 10))
    >>> net(tg.zeros(10, 1, 28, 28)).shape
    (10, 10)

The computations are tinygrad_nn.convolution's functions (the gradients are in ops.py); every
layer describes itself with ``spec()`` for ``nn.build``. Conv weights default to float32 (the
library's default dtype) and PyTorch's initialization, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
weight and bias, fan_in = in_channels/groups * kh * kw.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from .. import convolution as conv_fn
from ..convolution import int_pair, padding_word
from ..tensor import Tensor, as_generator, default_rng, get_default_dtype
from ..validation import BadArgumentValue, check_bool, check_number, check_positive_int
from . import init as nn_init
from .init import Generator
from .layers import BatchNorm1d, Dropout
from .module import Module, Parameter

IntPair = int | Sequence[int]

__all__ = ["Conv2d", "Conv1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d",
           "Dropout2d"]


# the layers' error for a value that is not an int or a pair is a ValueError, the functions' a
# TypeError (each pinned by tests): one helper, two error types
_pair = partial(int_pair, error=BadArgumentValue)


def _plain(pair: tuple[int, int]) -> int | list[int]:
    """The spec form: an int when both sides agree, else a list (JSON has no tuples)."""
    return pair[0] if pair[0] == pair[1] else list(pair)


class _ConvNd(Module):
    """The parameters and checks Conv1d and Conv2d share."""

    def __init__(self, layer: str, in_channels: int, out_channels: int,
                 kernel_size: tuple[int, ...], groups: int, bias: bool,
                 init: str | nn_init.Scheme, dtype: Any, generator: Generator):
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels", layer)
        self.out_channels = check_positive_int(out_channels, "out_channels", layer)
        self.groups = check_positive_int(groups, "groups", layer)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{layer}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must both be divisible by groups ({groups})")
        if min(kernel_size) < 1:
            raise BadArgumentValue(f"{layer}: kernel_size must be positive, got {kernel_size}",
                                   "kernel_size")
        check_bool(bias, "bias", layer)
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        scheme = nn_init.get_scheme(init)
        self.init = init if isinstance(init, str) else None
        shape = (out_channels, in_channels // groups) + tuple(kernel_size)
        self.weight = Parameter(np.empty(shape, dtype))
        self.bias = Parameter(np.empty(out_channels, dtype)) if bias else None
        scheme(self.weight, self.bias, as_generator(generator))


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation) over (N, C, H, W) inputs, as torch.nn.Conv2d:
    weight (out_channels, in_channels/groups, kh, kw), bias (out_channels,). ``padding`` may be
    an int, a pair, "valid" or "same"; only zero padding."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair,
                 stride: IntPair = 1, padding: IntPair | str = 0, dilation: IntPair = 1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 init: str | nn_init.Scheme = "pytorch", dtype: Any = None,
                 generator: Generator = None):
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode {padding_mode!r} is not "
                                      "implemented (only 'zeros')")
        self.kernel_size = _pair("Conv2d", "kernel_size", kernel_size)
        self.stride = _pair("Conv2d", "stride", stride, 1)
        self.padding: tuple[int, int] | str = (padding_word("Conv2d", padding)
                                               if isinstance(padding, str)
                                               else _pair("Conv2d", "padding", padding, 0))
        self.dilation = _pair("Conv2d", "dilation", dilation, 1)
        super().__init__("Conv2d", in_channels, out_channels, self.kernel_size, groups, bias,
                         init, dtype, generator)

    def forward(self, x: Tensor) -> Tensor:
        return conv_fn.conv2d(x, self.weight, self.bias, self.stride, self.padding,
                              self.dilation, self.groups)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "type": "Conv2d", "in": self.in_channels, "out": self.out_channels,
            "kernel_size": _plain(self.kernel_size), "stride": _plain(self.stride),
            "padding": (self.padding if isinstance(self.padding, str)
                        else _plain(self.padding)),
            "dilation": _plain(self.dilation), "groups": self.groups,
            "bias": self.bias is not None}
        if self.init is not None:
            spec["init"] = self.init
        return spec


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) inputs, as torch.nn.Conv1d: weight (out_channels,
    in_channels/groups, k)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int | str = 0, dilation: int = 1, groups: int = 1, bias: bool = True,
                 init: str | nn_init.Scheme = "pytorch", dtype: Any = None,
                 generator: Generator = None):
        for name, value in (("kernel_size", kernel_size), ("stride", stride),
                            ("dilation", dilation)):
            check_positive_int(value, name, "Conv1d")
        if isinstance(padding, str):
            padding_word("Conv1d", padding)
        else:
            check_number(padding, "padding", "Conv1d", low=0, integer=True)
        self.kernel_size, self.stride, self.dilation = int(kernel_size), int(stride), dilation
        self.padding = padding
        super().__init__("Conv1d", in_channels, out_channels, (self.kernel_size,), groups, bias,
                         init, dtype, generator)

    def forward(self, x: Tensor) -> Tensor:
        return conv_fn.conv1d(x, self.weight, self.bias, self.stride, self.padding,
                              self.dilation, self.groups)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"groups={self.groups}, bias={self.bias is not None}")

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "type": "Conv1d", "in": self.in_channels, "out": self.out_channels,
            "kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding,
            "dilation": self.dilation, "groups": self.groups, "bias": self.bias is not None}
        if self.init is not None:
            spec["init"] = self.init
        return spec


class MaxPool2d(Module):
    """Max over windows, as torch.nn.MaxPool2d (stride defaults to kernel_size; floor mode).
    On ties the gradient goes to the first maximum in the window, as in PyTorch."""

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None,
                 padding: IntPair = 0, dilation: IntPair = 1, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = _pair("MaxPool2d", "kernel_size", kernel_size, 1)
        self.stride = (self.kernel_size if stride is None
                       else _pair("MaxPool2d", "stride", stride, 1))
        self.padding = _pair("MaxPool2d", "padding", padding, 0)
        self.dilation = _pair("MaxPool2d", "dilation", dilation, 1)
        if ceil_mode:
            raise NotImplementedError("MaxPool2d: ceil_mode=True is not implemented")

    def forward(self, x: Tensor) -> Tensor:
        return conv_fn.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}")

    def spec(self) -> dict[str, Any]:
        return {"type": "MaxPool2d", "kernel_size": _plain(self.kernel_size),
                "stride": _plain(self.stride), "padding": _plain(self.padding),
                "dilation": _plain(self.dilation)}


class AvgPool2d(Module):
    """Mean over windows, as torch.nn.AvgPool2d (stride defaults to kernel_size; floor mode)."""

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None,
                 padding: IntPair = 0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__()
        self.kernel_size = _pair("AvgPool2d", "kernel_size", kernel_size, 1)
        self.stride = (self.kernel_size if stride is None
                       else _pair("AvgPool2d", "stride", stride, 1))
        self.padding = _pair("AvgPool2d", "padding", padding, 0)
        self.count_include_pad = check_bool(count_include_pad, "count_include_pad", "AvgPool2d")
        if divisor_override is not None:
            check_positive_int(divisor_override, "divisor_override", "AvgPool2d")
        self.divisor_override = divisor_override
        if ceil_mode:
            raise NotImplementedError("AvgPool2d: ceil_mode=True is not implemented")

    def forward(self, x: Tensor) -> Tensor:
        return conv_fn.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                                  count_include_pad=self.count_include_pad,
                                  divisor_override=self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def spec(self) -> dict[str, Any]:
        return {"type": "AvgPool2d", "kernel_size": _plain(self.kernel_size),
                "stride": _plain(self.stride), "padding": _plain(self.padding),
                "count_include_pad": self.count_include_pad,
                "divisor_override": self.divisor_override}


class AdaptiveAvgPool2d(Module):
    """Average over PyTorch's adaptive windows to a fixed output size (1 = global average)."""

    def __init__(self, output_size: IntPair):
        super().__init__()
        self.output_size = _pair("AdaptiveAvgPool2d", "output_size", output_size, 1)

    def forward(self, x: Tensor) -> Tensor:
        return conv_fn.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def spec(self) -> dict[str, Any]:
        return {"type": "AdaptiveAvgPool2d", "output_size": _plain(self.output_size)}


class BatchNorm2d(BatchNorm1d):
    """Batch normalization per channel over (N, H, W) of an (N, C, H, W) input: BatchNorm1d's
    rules (biased variance to normalize, unbiased for running_var, momentum weighting the NEW
    batch) with statistics over N*H*W values per channel. CS231n's spatial batchnorm is the
    same computation (transpose to (N*H*W, C), vanilla batchnorm, transpose back)."""

    def _axes_and_shape(self, x: Tensor) -> tuple[tuple[int, ...], tuple[int, ...]]:
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2d: expected input of shape (N, {self.num_features}, "
                             f"H, W), got {x.shape} {x.dtype}")
        return (0, 2, 3), (self.num_features, 1, 1)

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "type": "BatchNorm2d"}


class Dropout2d(Dropout):
    """Channel dropout, as torch.nn.Dropout2d: in training each (example, channel) feature
    map of an (N, C, H, W) input is zeroed with probability ``p`` and the kept ones scaled by
    1/(1 - p); the identity in eval mode."""

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (3, 4):
            raise ValueError(f"Dropout2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                             f"got {x.shape}")
        if not self.training or self.p == 0.0:
            return x
        rng = default_rng(self.generator)
        keep = rng.random(x.shape[:-2] + (1, 1)) >= self.p  # one draw per feature map
        if self.p == 1.0:
            return x * 0.0
        return x * Tensor.from_numpy((keep / (1.0 - self.p)).astype(x.dtype))

    def spec(self) -> dict[str, Any]:
        return {"type": "Dropout2d", "p": self.p}
