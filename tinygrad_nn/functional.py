"""Operations composed from the primitives in ops.py: no gradient code of their own.

Their gradients come from the chain rule through the primitives; tests check each one against
central differences and PyTorch like any primitive.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

import numpy as np

from . import ops
from .tensor import ArrayLike, Tensor, _axes, _dim_args


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


def mean(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool | None = None, *,
         axis: int | Sequence[int] | None = None, keepdims: bool | None = None) -> Tensor:
    """sum / count over the axes (``dim``/``keepdim`` or ``axis``/``keepdims``)."""
    axis, keepdims = _dim_args("mean", dim, keepdim, axis, keepdims)
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


def logsumexp(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool | None = None,
              *, axis: int | Sequence[int] | None = None, keepdims: bool | None = None
              ) -> Tensor:
    """log(sum(exp(x))), shifted by the (constant) maximum so exp never overflows."""
    axis, keepdims = _dim_args("logsumexp", dim, keepdim, axis, keepdims)
    axes = _axes(axis, x.ndim, "logsumexp")
    shift = np.max(x.data, axis=axes, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)  # all -inf: log(0) = -inf, not nan
    summed = (x - shift).exp().sum(axis=axes, keepdims=True)
    result = summed.log() + shift
    if keepdims:
        return result
    return result.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))


def softmax(x: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    return x.softmax(dim, axis=axis)


def log_softmax(x: Tensor, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    return x.log_softmax(dim, axis=axis)


# ============================================================================================
# joining, products
# ============================================================================================


def cat(tensors: Sequence[Tensor], dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing axis (torch.cat / numpy.concatenate)."""
    axis = _dim_args("cat", dim, None, axis, None)[0] or 0
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


def stack(tensors: Sequence[Tensor], dim: int | None = None, *, axis: int | None = None
          ) -> Tensor:
    """Join tensors of the same shape along a new axis."""
    axis = _dim_args("stack", dim, None, axis, None)[0] or 0
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




# ============================================================================================
# elementwise, composed (PyTorch's names; module level as tg.sin, tg.exp, ...)
# ============================================================================================


def exp(x: Tensor) -> Tensor:
    return x.exp()


def log(x: Tensor) -> Tensor:
    return x.log()


def sqrt(x: Tensor) -> Tensor:
    return x.sqrt()


def abs(x: Tensor) -> Tensor:  # noqa: A001 (PyTorch's name)
    return x.abs()


def sin(x: Tensor) -> Tensor:
    return ops.Sin.apply(x)


def cos(x: Tensor) -> Tensor:
    return ops.Cos.apply(x)


def tan(x: Tensor) -> Tensor:
    """sin / cos."""
    return x.sin() / x.cos()


def sinh(x: Tensor) -> Tensor:
    """(e^x - e^-x) / 2."""
    return (x.exp() - (-x).exp()) * 0.5


def cosh(x: Tensor) -> Tensor:
    """(e^x + e^-x) / 2."""
    return (x.exp() + (-x).exp()) * 0.5


def log1p(x: Tensor) -> Tensor:
    return ops.Log1p.apply(x)


def expm1(x: Tensor) -> Tensor:
    return ops.Expm1.apply(x)


def log2(x: Tensor) -> Tensor:
    return x.log() * (1.0 / np.log(2.0))


def log10(x: Tensor) -> Tensor:
    return x.log() * (1.0 / np.log(10.0))


def erf(x: Tensor) -> Tensor:
    return ops.Erf.apply(x)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1; the gradient is 0 everywhere (PyTorch)."""
    return ops.Step.apply(x, fn=np.sign)


def floor(x: Tensor) -> Tensor:
    return ops.Step.apply(x, fn=np.floor)


def ceil(x: Tensor) -> Tensor:
    return ops.Step.apply(x, fn=np.ceil)


def round(x: Tensor) -> Tensor:  # noqa: A001 (PyTorch's name)
    """Half to even, as torch.round and numpy.round."""
    return ops.Step.apply(x, fn=np.round)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (torch's rule)."""
    scaled = x * beta
    # the clip keeps exp finite in the branch where() discards: inf there would make nan grads
    soft = scaled.clip(max=threshold).exp().log1p() * (1.0 / beta)
    return where(scaled.data > threshold, x, soft)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha (e^x - 1)."""
    return where(x.data > 0, x, x.clip(max=0.0).expm1() * alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x) with erf (approximate='none'), or PyTorch's tanh approximation ('tanh')."""
    if approximate == "none":
        return x * 0.5 * (1.0 + (x * (1.0 / np.sqrt(2.0))).erf())
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * np.sqrt(2.0 / np.pi)
        return x * 0.5 * (1.0 + inner.tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x: Tensor) -> Tensor:
    """x sigmoid(x) (swish)."""
    return x * x.sigmoid()


def mish(x: Tensor) -> Tensor:
    """x tanh(softplus(x))."""
    return x * softplus(x).tanh()


def logaddexp(x: Tensor, y: ArrayLike) -> Tensor:
    """log(e^x + e^y), shifted by the (constant) larger input so exp never overflows."""
    y_t = x._lift(y)
    shift = np.maximum(x.data, y_t.data)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    return ((x - shift).exp() + (y_t - shift).exp()).log() + shift


# ============================================================================================
# reductions, composed
# ============================================================================================


def prod(x: Tensor, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Product along ``axis`` (all elements when None), by pairwise multiplication: exact with
    zeros, and differentiable to any order."""
    if axis is None:
        result = prod(x.reshape(-1), 0)
        return result.reshape((1,) * x.ndim) if keepdims else result
    a = _axes(axis, x.ndim, "prod")[0]
    part = x.swapaxes(a, 0) if a else x
    if part.shape[0] == 0:
        part = Tensor._make(np.ones((1,) + part.shape[1:], x.dtype), None)
    while part.shape[0] > 1:
        half = part.shape[0] // 2
        paired = part[:half] * part[half:2 * half]
        part = cat([paired, part[2 * half:]]) if part.shape[0] % 2 else paired
    result = part.swapaxes(a, 0) if a else part
    return result if keepdims else result.squeeze(a)


def norm(x: Tensor, p: float | str = "fro", dim: int | Sequence[int] | None = None,
         keepdim: bool = False) -> Tensor:
    """Vector norm over ``dim`` (all elements when None), as torch.linalg.vector_norm: p = 1, 2
    ('fro'), inf, -inf or any other positive number. The gradient at 0 is 0, as PyTorch's."""
    axes = _axes(dim, x.ndim, "norm")
    if p == "fro":
        p = 2
    if isinstance(p, str) or p <= 0:
        raise ValueError(f"norm: p must be a positive number, inf, -inf or 'fro', got {p!r}")
    magnitude = x.abs()
    if p == np.inf:
        return magnitude.amax(axis=axes, keepdims=keepdim)
    if p == -np.inf:
        return magnitude.amin(axis=axes, keepdims=keepdim)
    if p == 1:
        return magnitude.sum(axis=axes, keepdims=keepdim)
    total = (magnitude**p).sum(axis=axes, keepdims=keepdim)
    # where() at 0: the root's derivative is infinite there, PyTorch defines the gradient as 0
    safe = where(total.data > 0, total, 1.0)
    return where(total.data > 0, safe ** (1.0 / p), 0.0)


def trace(x: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix."""
    if x.ndim != 2:
        raise ValueError(f"trace: expected a matrix, got shape {x.shape}")
    return diagonal(x).sum()


# ============================================================================================
# movement, composed
# ============================================================================================


def flip(x: Tensor, dims: int | Sequence[int]) -> Tensor:
    """Reverse the order of elements along ``dims``."""
    axes = _axes(dims, x.ndim, "flip")
    return x[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim))]


def roll(x: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None
         ) -> Tensor:
    """Shift elements along ``dims`` cyclically (over the flattened tensor when dims is None)."""
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            raise TypeError("roll: without dims, shifts must be one int")
        return roll(x.reshape(-1), shifts, 0).reshape(x.shape)
    shift_list = [shifts] if isinstance(shifts, (int, np.integer)) else list(shifts)
    dim_list = [dims] if isinstance(dims, (int, np.integer)) else list(dims)
    if len(shift_list) != len(dim_list):
        raise ValueError(f"roll: {len(shift_list)} shifts for {len(dim_list)} dims")
    for shift, dim in zip(shift_list, dim_list):
        a = _axes(dim, x.ndim, "roll")[0]
        n = x.shape[a]
        k = int(shift) % n if n else 0
        if k:
            lead = (slice(None),) * a
            x = cat([x[lead + (slice(n - k, None),)], x[lead + (slice(0, n - k),)]], axis=a)
    return x


def repeat(x: Tensor, *sizes: int | Sequence[int]) -> Tensor:
    """Tile ``x`` ``sizes[i]`` times along axis i, as torch.Tensor.repeat (numpy.tile)."""
    reps = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
        else tuple(int(s) for s in sizes)  # type: ignore[arg-type]
    if len(reps) < x.ndim:
        raise ValueError(f"repeat: {len(reps)} sizes for a tensor with {x.ndim} dims; give at "
                         f"least one per dim (x.tile pads with 1s)")
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    spread = x.reshape(tuple(d for s in shape for d in (1, s)))
    big = spread.expand(tuple(d for r, s in zip(reps, shape) for d in (r, s)))
    return big.reshape(tuple(r * s for r, s in zip(reps, shape)))


def tile(x: Tensor, reps: Sequence[int]) -> Tensor:
    """numpy.tile / torch.tile: like repeat, with missing leading reps taken as 1."""
    reps = tuple(reps) if isinstance(reps, (tuple, list)) else (int(reps),)
    reps = (1,) * (x.ndim - len(reps)) + reps
    return repeat(x, reps)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """torch.nn.functional.pad: ``pad`` = (left, right) for the last dim, then the one before...
    Modes 'constant' (with ``value``) and 'reflect'; negative padding crops."""
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: needs pairs (left, right) for at most {x.ndim} dims, got {pad}")
    if mode not in ("constant", "reflect"):
        raise ValueError(f"pad: mode must be 'constant' or 'reflect', got {mode!r}")
    for k in range(len(pad) // 2):
        a = x.ndim - 1 - k
        left, right = int(pad[2 * k]), int(pad[2 * k + 1])
        lead = (slice(None),) * a
        n = x.shape[a]
        x = x[lead + (slice(max(-left, 0), n - max(-right, 0)),)]  # negative padding crops
        left, right, n = max(left, 0), max(right, 0), x.shape[a]
        if mode == "reflect":
            if left >= n or right >= n:
                raise ValueError(f"pad: reflect padding ({left}, {right}) must be smaller than "
                                 f"the dim it pads (size {n})")
            parts = [flip(x[lead + (slice(1, left + 1),)], a), x,
                     flip(x[lead + (slice(n - 1 - right, n - 1),)], a)]
        else:
            parts = [_filled(x, a, left, value), x, _filled(x, a, right, value)]
        x = cat([p for p in parts if p.shape[a]], axis=a)
    return x


def _filled(x: Tensor, axis: int, width: int, value: float) -> Tensor:
    """A constant block shaped like ``x`` but ``width`` long along ``axis`` (pad's sides)."""
    shape = x.shape[:axis] + (width,) + x.shape[axis + 1:]
    return Tensor._make(np.full(shape, value, dtype=x.dtype), None)


def _split_sizes(n: int, size_or_sizes: int | Sequence[int], op: str) -> list[int]:
    if isinstance(size_or_sizes, (int, np.integer)):
        if size_or_sizes <= 0:
            raise ValueError(f"{op}: split size must be positive, got {size_or_sizes}")
        step = int(size_or_sizes)
        return [min(step, n - i) for i in range(0, n, step)] or [0]
    sizes = [int(s) for s in size_or_sizes]
    if sum(sizes) != n:
        raise ValueError(f"{op}: sizes {sizes} sum to {sum(sizes)}, not the dim's size {n}")
    return sizes


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
          ) -> tuple[Tensor, ...]:
    """torch.split: pieces of ``split_size`` along ``dim`` (the last smaller), or given sizes.
    (numpy.split's int means the number of pieces: that is ``chunk``.)"""
    a = _axes(dim, x.ndim, "split")[0]
    pieces, start = [], 0
    for size in _split_sizes(x.shape[a], split_size_or_sections, "split"):
        pieces.append(x[(slice(None),) * a + (slice(start, start + size),)])
        start += size
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """torch.chunk: at most ``chunks`` pieces of ceil(n / chunks) along ``dim``."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[_axes(dim, x.ndim, "chunk")[0]]
    return split(x, max(-(-n // chunks), 1), dim)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """Zero above the ``diagonal``-th diagonal of the last two axes."""
    rows, cols = x.shape[-2:]
    return where(np.tri(rows, cols, diagonal, dtype=bool), x, 0.0)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """Zero below the ``diagonal``-th diagonal of the last two axes."""
    rows, cols = x.shape[-2:]
    return where(~np.tri(rows, cols, diagonal - 1, dtype=bool), x, 0.0)


def _diagonal_index(rows: int, cols: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(max(0, -offset), min(rows, cols - offset)) if rows else np.arange(0)
    return i, i + offset


def diagonal(x: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The ``offset``-th diagonal of the (dim1, dim2) planes, as a new last axis (torch)."""
    a, b = _axes(dim1, x.ndim, "diagonal")[0], _axes(dim2, x.ndim, "diagonal")[0]
    if a == b:
        raise ValueError(f"diagonal: dim1 and dim2 are the same axis ({a})")
    rest = [i for i in range(x.ndim) if i not in (a, b)]
    moved = x.permute(*rest, a, b)
    rows, cols = _diagonal_index(x.shape[a], x.shape[b], offset)
    return moved[(Ellipsis, rows, cols)]


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """torch.diag: a vector becomes a square matrix with it on a diagonal; a matrix gives its
    diagonal."""
    if x.ndim == 2:
        return x.diagonal(diagonal)
    if x.ndim != 1:
        raise ValueError(f"diag: expected a vector or a matrix, got shape {x.shape}")
    n = x.shape[0] + builtins.abs(diagonal)
    rows, cols = _diagonal_index(n, n, diagonal)
    return ops.IndexAdd.apply(x, index=(rows, cols), shape=(n, n))


def gather(x: Tensor, dim: int, index: ArrayLike) -> Tensor:
    """out[i][j] = x[index[i][j]][j] for dim=0 (torch.gather); the gradient scatters back."""
    idx = np.asarray(index.data if isinstance(index, Tensor) else index)
    if idx.dtype.kind not in "iu" or idx.ndim != x.ndim:
        raise ValueError(f"gather: index must be an integer array with {x.ndim} dims like the "
                         f"input, got dtype {idx.dtype} and shape {idx.shape}")
    a = _axes(dim, x.ndim, "gather")[0]
    grid = list(np.indices(idx.shape, sparse=True))
    grid[a] = idx
    return x[tuple(grid)]


def index_select(x: Tensor, dim: int, index: ArrayLike) -> Tensor:
    """The entries ``index`` (a 1-D integer array) along ``dim``."""
    idx = np.asarray(index.data if isinstance(index, Tensor) else index)
    if idx.ndim != 1 or idx.dtype.kind not in "iu":
        raise ValueError(f"index_select: index must be a 1-D integer array, got dtype "
                         f"{idx.dtype} and shape {idx.shape}")
    a = _axes(dim, x.ndim, "index_select")[0]
    return x[(slice(None),) * a + (idx,)]


def masked_fill(x: Tensor, mask: ArrayLike, value: float) -> Tensor:
    """``value`` where ``mask`` is True, else x (the filled places get no gradient)."""
    m = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: the mask must be bool, got {m.dtype}")
    return where(m, x._lift(value), x)


# ============================================================================================
# products, composed
# ============================================================================================


def einsum(spec: str, *operands: Tensor) -> Tensor:
    """Einstein summation (numpy.einsum / torch.einsum), with ``...`` and implicit outputs."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    xs = [_as_tensor(o) for o in operands]
    return ops.Einsum.apply(*xs, spec=_explicit_spec(spec.replace(" ", ""), xs))


def _explicit_spec(spec: str, xs: Sequence[Tensor]) -> str:
    """Spell out ``...`` with letters and add the implicit output (NumPy's rule)."""
    lhs, arrow, rhs = spec.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(xs):
        raise ValueError(f"einsum: {spec!r} names {len(subs)} operands, got {len(xs)}")
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec]
    width = max([x.ndim - len(s.replace("...", "")) for s, x in zip(subs, xs) if "..." in s],
                default=0)
    dots = "".join(spare[:width])
    out_subs = [s.replace("...", dots[width - (x.ndim - len(s.replace("...", ""))):])
                for s, x in zip(subs, xs)]
    if not arrow:
        letters = "".join(out_subs)
        rhs = dots + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                    and c not in dots))
    else:
        rhs = rhs.replace("...", dots)
    return ",".join(out_subs) + "->" + rhs


def outer(x: Tensor, y: Tensor) -> Tensor:
    """x_i y_j for vectors x and y."""
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError(f"outer: expected two vectors, got shapes {x.shape} and {y.shape}")
    return x.reshape(-1, 1) * y.reshape(1, -1)

