"""Convolution and pooling as functions, with PyTorch's names, arguments and checks.

    >>> import tinygrad_nn as tg
    >>> from tinygrad_nn.convolution import conv2d, max_pool2d
    >>> x = tg.randn(10, 1, 28, 28)                        # Nielsen's mini-batch of MNIST images
    >>> w = tg.randn(20, 1, 5, 5, requires_grad=True)     # 20 5x5 filters
    >>> max_pool2d(conv2d(x, w), 2).shape
    (10, 20, 12, 12)

The differentiable primitives are in ops.py (Conv2d with its two adjoints, Unfold/Fold,
MaxPool2d); everything else here is composed from them: conv1d is conv2d on a height-1 image,
avg_pool2d is conv2d with a constant kernel over every channel at once, adaptive_avg_pool2d is
two averaging matrices. Inputs are NCHW (or CHW, unbatched, as PyTorch accepts); only zero
padding and ``ceil_mode=False`` are implemented (anything else is a clear error).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from . import ops
from .ops import ConvGeometry
from .tensor import Tensor, wrap
from .validation import BadArgument, BadArgumentType, BadArgumentValue

IntPair = int | Sequence[int]

__all__ = ["conv2d", "conv1d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "unfold",
           "fold"]


def int_pair(op: str, name: str, value: IntPair, minimum: int | None = None,
             error: type[BadArgument] = BadArgumentType) -> tuple[int, int]:
    """An int or a pair of ints (each >= ``minimum`` when one is given, else a ValueError) as a
    (height, width) pair; anything else raises ``error`` (the functions here raise a TypeError,
    the layers of nn.conv a ValueError, as they always have)."""
    pair = ((value, value) if isinstance(value, (int, np.integer))
            else tuple(value) if isinstance(value, Iterable) else ())  # None, 1.5: refused below
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                 for v in pair):
        raise error(f"{op}: {name} must be an int or a pair of ints, got {value!r}", name)
    if minimum is not None and min(pair) < minimum:
        raise BadArgumentValue(f"{op}: {name} must be >= {minimum}, got {value!r}", name)
    return int(pair[0]), int(pair[1])


def padding_word(op: str, padding: str) -> str:
    """``padding`` if it is one of the words conv2d takes ('valid', 'same'), else a ValueError."""
    if padding not in ("valid", "same"):
        raise BadArgumentValue(f"{op}: padding must be 'valid', 'same' or ints, got "
                               f"{padding!r}", "padding")
    return padding


def _batched(op: str, x: Tensor, what: str = "input") -> tuple[Tensor, bool]:
    """(an NCHW tensor, whether a batch axis was added to a CHW input)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type(x).__name__}")
    if x.ndim == 3:
        return x.reshape((1,) + x.shape), True
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) {what}, got "
                         f"shape {x.shape}")
    return x, False


def _geometry(op: str, x: Tensor, kernel: tuple[int, int], stride: IntPair, padding: IntPair,
              dilation: IntPair, groups: int = 1) -> ConvGeometry:
    geo = ConvGeometry(int_pair(op, "stride", stride, 1), int_pair(op, "padding", padding, 0),
                       int_pair(op, "dilation", dilation, 1), groups, x.shape[2:4])
    oh, ow = geo.out_hw(kernel)
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{op}: the output would be empty ({oh}x{ow}): input {x.shape}, kernel {kernel}, "
            f"stride {geo.stride}, padding {geo.padding}, dilation {geo.dilation}")
    return geo


def _same_padding(op: str, kernel: tuple[int, int], dilation: IntPair,
                  stride: IntPair) -> tuple[int, int]:
    if int_pair(op, "stride", stride, 1) != (1, 1):
        raise ValueError(f"{op}: padding='same' needs stride 1, got {stride!r}")
    dh, dw = int_pair(op, "dilation", dilation, 1)
    totals = (dh * (kernel[0] - 1), dw * (kernel[1] - 1))
    if totals[0] % 2 or totals[1] % 2:
        raise ValueError(f"{op}: padding='same' with an even effective kernel {kernel} needs "
                         "uneven padding, which is not implemented; pad the input explicitly")
    return totals[0] // 2, totals[1] // 2


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair | str = 0, dilation: IntPair = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation (torch.nn.functional.conv2d): input (N, C, H, W), weight
    (O, C/groups, kh, kw), bias (O,); output (N, O, H', W') with
    H' = (H + 2 padding - dilation (kh - 1) - 1) // stride + 1. ``padding`` may be "valid" or
    "same" (stride 1). The gradients are in ops.Conv2d's docstring."""
    op = "conv2d"
    x, added = _batched(op, input)
    if not isinstance(weight, Tensor) or weight.ndim != 4:
        raise ValueError(f"{op}: weight must be a 4-D Tensor (out_channels, in_channels/groups, "
                         f"kh, kw), got {getattr(weight, 'shape', type(weight).__name__)}")
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    o, c_per_group, kh, kw = weight.shape
    if x.shape[1] != c_per_group * groups:
        raise ValueError(
            f"{op}: input {x.shape} has {x.shape[1]} channels but weight {weight.shape} with "
            f"groups={groups} expects {c_per_group * groups}")
    if o % groups:
        raise ValueError(f"{op}: out_channels {o} (weight {weight.shape}) is not divisible by "
                         f"groups={groups}")
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (o,)):
        raise ValueError(f"{op}: bias must be a Tensor of shape ({o},), got "
                         f"{getattr(bias, 'shape', type(bias).__name__)}")
    if isinstance(padding, str):
        padding = (0 if padding_word(op, padding) == "valid"
                   else _same_padding(op, (kh, kw), dilation, stride))
    geo = _geometry(op, x, (kh, kw), stride, padding, dilation, int(groups))
    parents = (x, weight) if bias is None else (x, weight, bias)
    out = ops.Conv2d.apply(*parents, geometry=geo)
    return out.reshape(out.shape[1:]) if added else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1,
           padding: int | str = 0, dilation: int = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation (torch.nn.functional.conv1d): input (N, C, L), weight
    (O, C/groups, k); computed as conv2d on (N, C, 1, L) images with (O, C/groups, 1, k)
    kernels, so it shares conv2d's gradients."""
    op = "conv1d"
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected a 2-D (C, L) or 3-D (N, C, L) input Tensor, got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    if not isinstance(weight, Tensor) or weight.ndim != 3:
        raise ValueError(f"{op}: weight must be a 3-D Tensor (out_channels, in_channels/groups, "
                         f"k), got {getattr(weight, 'shape', type(weight).__name__)}")
    for name, value in (("stride", stride), ("dilation", dilation)) + (
            () if isinstance(padding, str) else (("padding", padding),)):
        if not isinstance(value, (int, np.integer)):
            raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    x = input.reshape(input.shape[:-1] + (1, input.shape[-1]))
    w = weight.reshape(weight.shape[:2] + (1, weight.shape[2]))
    pad = padding if isinstance(padding, str) else (0, padding)
    out = conv2d(x, w, bias, (1, stride), pad, (1, dilation), groups)
    return out.reshape(out.shape[:-2] + (out.shape[-1],))


def _pool_args(op: str, x: Tensor, kernel_size: IntPair, stride: IntPair | None,
               padding: IntPair, dilation: IntPair, ceil_mode: bool
               ) -> tuple[tuple[int, int], ConvGeometry]:
    kernel = int_pair(op, "kernel_size", kernel_size, 1)
    if ceil_mode:
        raise NotImplementedError(f"{op}: ceil_mode=True is not implemented (floor only)")
    geo = _geometry(op, x, kernel, kernel if stride is None or stride == [] else stride,
                    padding, dilation)
    dil = geo.dilation
    for p, k, d in zip(geo.padding, kernel, dil):
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(f"{op}: padding {geo.padding} should be at most half of the "
                             f"effective kernel size {kernel} (dilation {dil}), as in PyTorch")
    return kernel, geo


def max_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None,
               padding: IntPair = 0, dilation: IntPair = 1, ceil_mode: bool = False) -> Tensor:
    """Max over each window (torch.nn.functional.max_pool2d); stride defaults to kernel_size,
    padding counts as -inf. The gradient goes to one maximum per window: the first on ties."""
    op = "max_pool2d"
    x, added = _batched(op, input)
    kernel, geo = _pool_args(op, x, kernel_size, stride, padding, dilation, ceil_mode)
    out = ops.MaxPool2d.apply(x, kernel=kernel, geometry=geo)
    return out.reshape(out.shape[1:]) if added else out


def avg_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None,
               padding: IntPair = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over each window (torch.nn.functional.avg_pool2d).

    Composed: every channel is treated as its own 1-channel image, convolved with one constant
    kernel 1/(kh*kw) (one GEMM for all channels), so the gradient is conv2d's. With
    ``count_include_pad=False`` each window is divided by its number of real (unpadded) pixels."""
    op = "avg_pool2d"
    x, added = _batched(op, input)
    kernel, geo = _pool_args(op, x, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (not isinstance(divisor_override, int)
                                         or divisor_override <= 0):
        raise ValueError(f"{op}: divisor_override must be a positive int, got "
                         f"{divisor_override!r}")
    n, c, h, w = x.shape
    ones = wrap(np.ones((1, 1) + kernel, dtype=x.dtype))
    images = x.reshape(n * c, 1, h, w)
    summed = ops.Conv2d.apply(images, ones, geometry=geo)
    if divisor_override is not None:
        out = summed * (1.0 / divisor_override)
    elif count_include_pad or geo.padding == (0, 0):
        out = summed * (1.0 / (kernel[0] * kernel[1]))
    else:
        counts = ops.conv_kernel(np.ones((1, 1, h, w), dtype=x.dtype), ones.data, geo)
        out = summed * wrap(1.0 / counts)
    out = out.reshape((n, c) + out.shape[2:])
    return out.reshape(out.shape[1:]) if added else out


def _averaging_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size): row i averages PyTorch's adaptive window [floor(i size/out), ceil((i+1)
    size/out))."""
    matrix = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, stop = (i * size) // out, -((-(i + 1) * size) // out)
        matrix[i, start:stop] = 1.0 / (stop - start)
    return matrix


def adaptive_avg_pool2d(input: Tensor, output_size: IntPair | Sequence[int | None]) -> Tensor:
    """Average over PyTorch's adaptive windows so the output is ``output_size`` (None keeps that
    side). A window average is separable, so this is P_h @ x @ P_w^T with two constant
    averaging matrices (two matmuls, their gradients the transposed matrices)."""
    op = "adaptive_avg_pool2d"
    x, added = _batched(op, input)
    sizes = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != 2:
        raise ValueError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    oh, ow = (x.shape[2 + i] if s is None else s for i, s in enumerate(sizes))
    if not all(isinstance(s, (int, np.integer)) and s >= 1 for s in (oh, ow)):
        raise ValueError(f"{op}: output_size must be positive ints, got {output_size!r}")
    h, w = x.shape[2:]
    out = x
    if oh != h:
        out = wrap(_averaging_matrix(h, oh, x.dtype)) @ out
    if ow != w:
        out = out @ wrap(_averaging_matrix(w, ow, x.dtype).T)
    return out.reshape(out.shape[1:]) if added else out


def unfold(input: Tensor, kernel_size: IntPair, dilation: IntPair = 1, padding: IntPair = 0,
           stride: IntPair = 1) -> Tensor:
    """im2col (torch.nn.functional.unfold): (N, C, H, W) -> (N, C*kh*kw, L), each column one
    window, L the number of windows; channel-major rows (c, then p, then q)."""
    op = "unfold"
    if not isinstance(input, Tensor) or input.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D (N, C, H, W) input Tensor, got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    kernel = int_pair(op, "kernel_size", kernel_size, 1)
    geo = _geometry(op, input, kernel, stride, padding, dilation)
    return ops.Unfold.apply(input, kernel=kernel, geometry=geo)


def fold(input: Tensor, output_size: IntPair, kernel_size: IntPair, dilation: IntPair = 1,
         padding: IntPair = 0, stride: IntPair = 1) -> Tensor:
    """col2im (torch.nn.functional.fold), the adjoint of ``unfold``: (N, C*kh*kw, L) ->
    (N, C, H, W) with ``output_size`` (H, W); overlapping windows are summed."""
    op = "fold"
    if not isinstance(input, Tensor) or input.ndim != 3:
        raise ValueError(f"{op}: expected a 3-D (N, C*kh*kw, L) input Tensor, got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    kernel = int_pair(op, "kernel_size", kernel_size, 1)
    size = int_pair(op, "output_size", output_size, 1)
    n, rows, length = input.shape
    if rows % (kernel[0] * kernel[1]):
        raise ValueError(f"{op}: input {input.shape}: dimension 1 ({rows}) is not divisible "
                         f"by the kernel's {kernel[0]}*{kernel[1]} elements")
    geo = ConvGeometry(int_pair(op, "stride", stride, 1), int_pair(op, "padding", padding, 0),
                       int_pair(op, "dilation", dilation, 1), 1, size)
    oh, ow = geo.out_hw(kernel)
    if oh < 1 or ow < 1 or oh * ow != length:
        raise ValueError(
            f"{op}: input {input.shape} has {length} blocks but output_size {size}, kernel "
            f"{kernel}, stride {geo.stride}, padding {geo.padding}, dilation {geo.dilation} "
            f"give {max(oh, 0)}x{max(ow, 0)} = {max(oh, 0) * max(ow, 0)}")
    return ops.Fold.apply(input, kernel=kernel, geometry=geo)
