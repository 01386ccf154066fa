"""Operations composed from the primitives in ops.py: no gradient code of their own.

Their gradients come from the chain rule through the primitives; tests check each one against
central differences and PyTorch like any primitive.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import ops
from .tensor import ArrayLike, Tensor, _axes


def _as_tensor(x: ArrayLike) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


# ============================================================================================
# elementwise
# ============================================================================================


def relu(x: Tensor) -> Tensor:
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x; the slope at 0 is negative_slope (PyTorch)."""
    return where(x.data > 0, x, x * negative_slope)


def where(condition: ArrayLike, x: ArrayLike, y: ArrayLike) -> Tensor:
    """Elements of x where condition holds, else of y. The condition gets no gradient."""
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    if isinstance(x, Tensor):
        x_t, y_t = x, x._lift(y)
    elif isinstance(y, Tensor):
        x_t, y_t = y._lift(x), y
    else:
        x_t, y_t = _as_tensor(x), _as_tensor(y)
    return ops.Where.apply(x_t, y_t, cond=cond)


def maximum(x: ArrayLike, y: ArrayLike) -> Tensor:
    return x.maximum(y) if isinstance(x, Tensor) else _as_tensor(y).maximum(x)


def minimum(x: ArrayLike, y: ArrayLike) -> Tensor:
    return x.minimum(y) if isinstance(x, Tensor) else _as_tensor(y).minimum(x)


def clip(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    return x.clip(min, max)


# ============================================================================================
# reductions
# ============================================================================================


def mean(x: Tensor, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
    """sum / count over the axes."""
    axes = _axes(axis, x.ndim, "mean")
    count = int(np.prod([x.shape[a] for a in axes]))
    if count == 0:
        raise ValueError(f"mean: cannot average over an empty axis of shape {x.shape}")
    return x.sum(axis=axes, keepdims=keepdims) * (1.0 / count)


def var(
    x: Tensor, axis: int | Sequence[int] | None = None, keepdims: bool = False, ddof: int = 0
) -> Tensor:
    """mean of squared deviations, divided by (count - ddof): ddof=0 is NumPy's default and the
    biased estimate batchnorm normalizes with; ddof=1 is PyTorch's default."""
    axes = _axes(axis, x.ndim, "var")
    count = int(np.prod([x.shape[a] for a in axes]))
    if count - ddof <= 0:
        raise ValueError(f"var: {count} elements and ddof={ddof} leave no degrees of freedom")
    deviation = x - x.mean(axis=axes, keepdims=True)
    return (deviation * deviation).sum(axis=axes, keepdims=keepdims) * (1.0 / (count - ddof))


def std(
    x: Tensor, axis: int | Sequence[int] | None = None, keepdims: bool = False, ddof: int = 0
) -> Tensor:
    """sqrt(var). Where the variance is 0 (a constant, or one element with ddof=0) the gradient
    is 0, as in PyTorch, not the nan that sqrt'(0) = inf times a zero deviation would give."""
    v = var(x, axis, keepdims, ddof)
    flat = v.data == 0
    if not flat.any():
        return v.sqrt()
    return where(flat, 0.0, where(flat, 1.0, v).sqrt())


def logsumexp(
    x: Tensor, axis: int | Sequence[int] | None = None, keepdims: bool = False
) -> Tensor:
    """log(sum(exp(x))), shifted by the (constant) maximum so exp never overflows."""
    axes = _axes(axis, x.ndim, "logsumexp")
    shift = np.max(x.data, axis=axes, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)  # all -inf: log(0) = -inf, not nan
    summed = (x - shift).exp().sum(axis=axes, keepdims=True)
    result = summed.log() + shift
    if keepdims:
        return result
    return result.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    return x.log_softmax(axis)


# ============================================================================================
# joining, products
# ============================================================================================


def cat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (torch.cat / numpy.concatenate)."""
    if len(tensors) == 0:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    parts = [_as_tensor(t) for t in tensors]
    ndim = parts[0].ndim
    if ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated")
    for i, t in enumerate(parts):
        if t.ndim != ndim:
            raise ValueError(f"cat: tensor {i} has shape {t.shape} but tensor 0 has "
                             f"{parts[0].shape}; all need the same number of dims")
    return ops.Cat.apply(*parts, axis=_axes(axis, ndim, "cat")[0])


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of the same shape along a new axis."""
    if len(tensors) == 0:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    parts = [_as_tensor(t) for t in tensors]
    shapes = {t.shape for t in parts}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    position = _axes(axis, parts[0].ndim + 1, "stack")[0]
    return cat([t.unsqueeze(position) for t in parts], axis=position)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, one fused op; weight has shape (out_features, in_features)."""
    if bias is None:
        return ops.Linear.apply(_as_tensor(x), weight)
    return ops.Linear.apply(_as_tensor(x), weight, bias)


def sum_squared_error(x: Tensor, y: ArrayLike, scale: float = 1.0) -> Tensor:
    """scale * sum((x - y)**2) as one fused op (the base of MSE and Nielsen's quadratic cost)."""
    target = x._lift(y)
    return ops.SquaredErrorSum.apply(x, target, scale=scale)


def sum_squared_error_composed(x: Tensor, y: ArrayLike, scale: float = 1.0) -> Tensor:
    """The same as ``sum_squared_error`` from primitives; the reference the fused op is tested
    against."""
    return ((x - y) ** 2).sum() * scale


def matmul(x: ArrayLike, y: ArrayLike) -> Tensor:
    return _as_tensor(x) @ y


