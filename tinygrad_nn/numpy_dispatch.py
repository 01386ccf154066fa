"""NumPy's dispatch protocols for Tensor: plain NumPy code, called with Tensors, records a graph.

NumPy hands any call that involves a Tensor back to us: ufuncs (``np.exp(t)``, ``ndarray * t``,
``np.maximum(0, t)``) through ``Tensor.__array_ufunc__`` (NEP 13) and functions (``np.sum(t,
axis=0)``, ``np.dot(x, w)``, ``np.concatenate``) through ``Tensor.__array_function__`` (NEP 18).
Each NumPy callable maps to one Tensor operation in the tables ``UFUNCS`` and ``FUNCTIONS``
below, so a learner's layer written for ndarrays runs unchanged on Tensors and autodiff sees
every step.

Three more rules, each so that no gradient is ever silently wrong:

- Non-differentiable queries (comparisons, ``np.isnan``, ``np.argmax``, ``np.allclose``,
  ``np.shape``, ...) compute on the arrays; their results carry no gradient, as in PyTorch.
- A callable not in the tables raises a TypeError naming it and the supported ones when a
  Tensor operand requires grad; on tensors that record nothing it runs on the arrays (there is
  no gradient to lose) and returns what NumPy returns.
- An ndarray ``out=`` computes on the arrays and writes in place, recording nothing: that is
  micrograd's update ``p.data += -lr * p.grad``.

``t[index] = value`` (``setitem``) is recorded too, as PyTorch records in-place writes: CS231n's
``margins[np.arange(N), y] = 0`` and ``dx[np.arange(N), y] -= 1`` run on Tensors.

``tracing()`` is the strict mode ``tinygrad_nn.check`` runs a learner's forward in: converting a
Tensor that requires grad to an ndarray (``np.asarray(t)``, ``out[i] = t`` into an ndarray)
raises instead of silently cutting the graph.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import autograd, ops
from .autograd import Function, is_grad_enabled
from .tensor import Tensor, cat, einsum, lift, normalize_index, stack, where, wrap


class NotDifferentiableError(TypeError):
    """A NumPy callable the engine cannot differentiate was called on a Tensor that needs grad."""


# --------------------------------------------------------------------------------------------
# operands
# --------------------------------------------------------------------------------------------


def _lift(values: Sequence[Any]) -> list[Tensor]:
    """Every operand as a Tensor; Python scalars adopt the first Tensor's dtype (weak scalars)."""
    first = next(v for v in values if isinstance(v, Tensor))
    return [lift(first, v) for v in values]


def _tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def _arrays(value: Any) -> Any:
    """Tensors replaced by their arrays, inside lists, tuples and dicts too."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_arrays(v) for v in value)
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    return value


def _tensors(value: Any) -> Iterator[Tensor]:
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v)


def _needs_grad(*values: Any) -> bool:
    return is_grad_enabled() and any(t.requires_grad for t in _tensors(values))


def _name(f: Any) -> str:
    if isinstance(f, np.ufunc):
        return f"np.{f.__name__}"
    module = getattr(f, "__module__", None) or "numpy"
    return module.replace("numpy", "np", 1) + "." + f.__name__


# --------------------------------------------------------------------------------------------
# ufuncs (NEP 13)
# --------------------------------------------------------------------------------------------


def _constant(ufunc: np.ufunc) -> Callable[..., Tensor]:
    """A ufunc whose result carries no gradient (comparisons, masks, rounding: zero a.e.)."""

    def run(*operands: Any) -> Tensor:
        return Tensor.from_numpy(np.asarray(ufunc(*_arrays(operands))))

    return run


def _binary(op: Callable[[Tensor, Tensor], Tensor]) -> Callable[[Any, Any], Tensor]:
    def run(a: Any, b: Any) -> Tensor:
        x, y = _lift([a, b])
        return op(x, y)

    return run


_LN2 = float(np.log(2.0))

UFUNCS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: _binary(lambda x, y: x + y),
    np.subtract: _binary(lambda x, y: x - y),
    np.multiply: _binary(lambda x, y: x * y),
    np.true_divide: _binary(lambda x, y: x / y),
    np.power: lambda x, y: _tensor(x) ** y if isinstance(y, (int, float)) else _binary(
        lambda a, b: a ** b)(x, y),
    np.matmul: _binary(lambda x, y: x @ y),
    np.maximum: _binary(lambda x, y: x.maximum(y)),
    np.minimum: _binary(lambda x, y: x.minimum(y)),
    np.negative: lambda x: -x,
    np.positive: lambda x: x,
    np.logaddexp: _binary(lambda x, y: x.logaddexp(y)),
    np.exp: lambda x: x.exp(),
    np.exp2: lambda x: (x * _LN2).exp(),
    np.expm1: lambda x: x.expm1(),
    np.log: lambda x: x.log(),
    np.log2: lambda x: x.log2(),
    np.log10: lambda x: x.log10(),
    np.log1p: lambda x: x.log1p(),
    np.sqrt: lambda x: x.sqrt(),
    np.square: lambda x: x.square(),
    np.reciprocal: lambda x: 1.0 / x,
    np.absolute: lambda x: x.abs(),
    np.fabs: lambda x: x.abs(),
    np.tanh: lambda x: x.tanh(),
    np.sin: lambda x: x.sin(),
    np.cos: lambda x: x.cos(),
    np.tan: lambda x: x.tan(),
    np.sinh: lambda x: x.sinh(),
    np.cosh: lambda x: x.cosh(),
}
CONSTANTS = (np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
             np.logical_and, np.logical_or, np.logical_xor, np.logical_not, np.isnan, np.isinf,
             np.isfinite, np.sign, np.floor, np.ceil, np.trunc, np.rint, np.signbit)
UFUNCS.update({u: _constant(u) for u in CONSTANTS})


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
    """``Tensor.__array_ufunc__``: the Tensor op for ``ufunc``, or in place into ndarray ``out``."""
    out = kwargs.get("out")
    if out is not None:
        if any(isinstance(o, Tensor) for o in out):
            raise TypeError(f"{_name(ufunc)}: out= cannot be a Tensor (a Tensor is never written "
                            "in place); write into its .data, or assign the result")
        # NOTE: micrograd's `p.data += -lr * p.grad`: NumPy computes on the arrays, records
        # nothing, and returns the ndarray it wrote into.
        return getattr(ufunc, method)(*_arrays(inputs), **_arrays(kwargs))
    op = UFUNCS.get(ufunc)
    if method != "__call__" or op is None or kwargs:
        what = _name(ufunc) if method == "__call__" else f"{_name(ufunc)}.{method}"
        if kwargs and op is not None and method == "__call__":
            what += f"(..., {', '.join(k + '=' for k in kwargs)})"
        return _unsupported(what, getattr(ufunc, method), inputs, kwargs)
    return op(*inputs)


# --------------------------------------------------------------------------------------------
# functions (NEP 18), with NumPy's signatures
# --------------------------------------------------------------------------------------------


def _sum(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _tensor(a).sum(axis=axis, keepdims=keepdims)


def _mean(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _tensor(a).mean(axis=axis, keepdims=keepdims)


def _var(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    return _tensor(a).var(axis=axis, keepdims=keepdims, ddof=ddof)


def _std(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    return _tensor(a).std(axis=axis, keepdims=keepdims, ddof=ddof)


def _max(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _tensor(a).max(axis=axis, keepdims=keepdims)


def _min(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _tensor(a).min(axis=axis, keepdims=keepdims)


def dot(a: Any, b: Any) -> Tensor:
    """np.dot: a product for scalars, matmul for 1-D and 2-D operands (and N-D @ 1-D/2-D)."""
    x, y = _lift([a, b])
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    if y.ndim > 2:
        raise NotDifferentiableError(
            f"np.dot: shapes {x.shape} and {y.shape}: a second operand with more than 2 dims "
            "sums over its second-to-last axis, which tinygrad_nn does not differentiate; use "
            "np.matmul (batched) or reshape to 2-D first")
    return x @ y


def _outer(a: Any, b: Any) -> Tensor:
    x, y = _lift([a, b])
    return x.reshape(-1, 1) * y.reshape(1, -1)


def _reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None,
             copy: Any = None) -> Tensor:
    if order != "C":
        raise NotDifferentiableError(f"np.reshape: order={order!r}; only order='C' is supported")
    return _tensor(a).reshape(newshape if shape is None else shape)


def _ravel(a: Any, order: str = "C") -> Tensor:
    return _reshape(a, -1, order)


def _transpose(a: Any, axes: Any = None) -> Tensor:
    return _tensor(a).T if axes is None else _tensor(a).permute(*axes)


def _swapaxes(a: Any, axis1: int, axis2: int) -> Tensor:
    return _tensor(a).swapaxes(axis1, axis2)


def _moveaxis(a: Any, source: Any, destination: Any) -> Tensor:
    x = _tensor(a)
    order = [i for i in range(x.ndim) if i not in np.atleast_1d(source) % max(x.ndim, 1)]
    for src, dst in sorted(zip(np.atleast_1d(source) % x.ndim,
                               np.atleast_1d(destination) % x.ndim), key=lambda p: p[1]):
        order.insert(int(dst), int(src))
    return x.permute(*order)


def _squeeze(a: Any, axis: Any = None) -> Tensor:
    return _tensor(a).squeeze(axis)


def _expand_dims(a: Any, axis: Any) -> Tensor:
    x = _tensor(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    ndim = x.ndim + len(axes)
    for position in sorted(a % ndim for a in axes):
        x = x.unsqueeze(position)
    return x


def _broadcast_to(array: Any, shape: Any) -> Tensor:
    return _tensor(array).expand(shape)


def _concatenate(arrays: Sequence[Any], axis: int | None = 0) -> Tensor:
    tensors = _lift(list(arrays))
    if axis is None:
        return cat([t.reshape(-1) for t in tensors], axis=0)
    return cat(tensors, axis=axis)


def _stack(arrays: Sequence[Any], axis: int = 0) -> Tensor:
    return stack(_lift(list(arrays)), axis=axis)


def _vstack(tup: Sequence[Any]) -> Tensor:
    return _concatenate([t.reshape(1, -1) if np.ndim(t) == 1 else t for t in _lift(list(tup))])


def _hstack(tup: Sequence[Any]) -> Tensor:
    tensors = _lift(list(tup))
    return _concatenate(tensors, axis=0 if tensors[0].ndim == 1 else 1)


def _where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        return np.nonzero(_arrays(condition))
    return where(_arrays(condition), x, y)


def _clip(a: Any, a_min: Any = None, a_max: Any = None, *, min: Any = None,
          max: Any = None) -> Tensor:
    lo = a_min if min is None else min
    hi = a_max if max is None else max
    x = _tensor(a)
    if all(v is None or isinstance(v, (int, float)) for v in (lo, hi)):
        return x.clip(lo, hi)
    if lo is not None:
        x = x.maximum(lo)
    return x if hi is None else x.minimum(hi)


def _prod(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return _tensor(a).prod(axis=axis, keepdims=keepdims)


def _cumsum(a: Any, axis: int | None = None) -> Tensor:
    x = _tensor(a)
    return x.reshape(-1).cumsum(axis=0) if axis is None else x.cumsum(axis=axis)


def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:
    """np.linalg.norm for vector norms (and the Frobenius norm, the 2-norm of all entries)."""
    t = _tensor(x)
    matrix = (axis is None and t.ndim == 2) or (isinstance(axis, tuple) and len(axis) == 2)
    if matrix and ord not in (None, "fro"):
        raise NotDifferentiableError(f"np.linalg.norm: ord={ord!r} of a matrix (a matrix norm) is "
                                     "not supported on Tensors; vector norms and 'fro' are")
    p = 2 if ord in (None, "fro") else ord
    if axis is None and keepdims:
        return t.norm(p).reshape((1,) * t.ndim)
    return t.norm(p, dim=axis, keepdim=keepdims)


def _einsum(subscripts: str, *operands: Any) -> Tensor:
    return einsum(subscripts, *_lift(list(operands)))


def _tril(m: Any, k: int = 0) -> Tensor:
    return _tensor(m).tril(k)


def _triu(m: Any, k: int = 0) -> Tensor:
    return _tensor(m).triu(k)


def _diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    return _tensor(a).diagonal(offset, axis1, axis2)


def _diag(v: Any, k: int = 0) -> Tensor:
    return _tensor(v).diag(k)


def _trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    return _tensor(a).diagonal(offset, axis1, axis2).sum(axis=-1)


def _flip(m: Any, axis: Any = None) -> Tensor:
    x = _tensor(m)
    return x.flip(tuple(range(x.ndim)) if axis is None else axis)


def _roll(a: Any, shift: Any, axis: Any = None) -> Tensor:
    return _tensor(a).roll(shift, axis)


def _split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """np.split: n equal sections, or the indices where to cut."""
    x = _tensor(ary)
    length = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if length % indices_or_sections:
            raise ValueError(f"np.split: {length} entries along axis {axis} do not divide into "
                             f"{indices_or_sections} equal sections")
        return list(x.split(length // indices_or_sections, axis))
    cuts = [0, *(min(int(i), length) for i in indices_or_sections), length]
    return list(x.split([b - a for a, b in zip(cuts, cuts[1:])], axis))


def _pad(array: Any, pad_width: Any, mode: str = "constant", *,
         constant_values: Any = 0) -> Tensor:
    """np.pad with a constant: the input between blocks of the constant, axis by axis."""
    x = _tensor(array)
    if mode != "constant" or np.ndim(constant_values) != 0:
        raise NotDifferentiableError(
            f"np.pad: mode={mode!r}, constant_values={constant_values!r}; Tensors support "
            "mode='constant' with one constant (e.g. zero padding)")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (x.ndim, 2))
    for axis, (before, after) in enumerate(widths.tolist()):
        parts = []
        for width in (before, after):
            shape = x.shape[:axis] + (width,) + x.shape[axis + 1:]
            parts.append(Tensor.from_numpy(np.full(shape, constant_values, dtype=x.dtype)))
        if before or after:
            x = cat([parts[0], x, parts[1]], axis=axis)
    return x


def copy(a: Any) -> Tensor:
    """A Tensor with the same values (in the graph: a copy's gradient is the original's)."""
    return _tensor(a).reshape(np.shape(_arrays(a)))


def _constant_like(fill: float) -> Callable[..., Tensor]:
    def like(a: Any, dtype: Any = None, shape: Any = None) -> Tensor:
        array = np.full_like(_arrays(a), fill, dtype=dtype, shape=shape)
        return Tensor.from_numpy(array)

    return like


def _full_like(a: Any, fill_value: Any, dtype: Any = None, shape: Any = None) -> Tensor:
    return Tensor.from_numpy(np.full_like(_arrays(a), _arrays(fill_value), dtype,
                                          shape=shape))


FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: _sum, np.mean: _mean, np.var: _var, np.std: _std,
    np.max: _max, np.amax: _max, np.min: _min, np.amin: _min,
    np.dot: dot, np.outer: _outer,
    np.reshape: _reshape, np.ravel: _ravel, np.transpose: _transpose, np.swapaxes: _swapaxes,
    np.moveaxis: _moveaxis, np.squeeze: _squeeze, np.expand_dims: _expand_dims,
    np.broadcast_to: _broadcast_to, np.concatenate: _concatenate, np.stack: _stack,
    np.vstack: _vstack, np.hstack: _hstack, np.where: _where, np.clip: _clip, np.copy: copy,
    np.pad: _pad, np.prod: _prod, np.cumsum: _cumsum, np.linalg.norm: _norm,
    np.einsum: _einsum, np.tril: _tril, np.triu: _triu, np.diagonal: _diagonal, np.diag: _diag,
    np.trace: _trace, np.flip: _flip, np.roll: _roll, np.split: _split,
    np.zeros_like: _constant_like(0.0), np.ones_like: _constant_like(1.0),
    np.empty_like: _constant_like(0.0), np.full_like: _full_like,
}

# no gradient by nature: computed on the arrays, NumPy's result returned as is
QUERIES = frozenset({
    np.shape, np.ndim, np.size, np.allclose, np.isclose, np.array_equal, np.array_equiv,
    np.argmax, np.argmin, np.argsort, np.nonzero, np.count_nonzero, np.any, np.all,
    np.result_type, np.iscomplexobj, np.isrealobj, np.round, np.around, np.unique,
})


def array_function(func: Callable[..., Any], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    """``Tensor.__array_function__``: the Tensor op for ``func``, with NumPy's signature."""
    impl = FUNCTIONS.get(func)
    if impl is None:
        if func in QUERIES:
            return func(*_arrays(args), **_arrays(kwargs))
        return _unsupported(_name(func), func, args, kwargs)
    try:
        inspect.signature(impl).bind(*args, **kwargs)
    except TypeError as e:
        given = ", ".join(kwargs)
        if not _needs_grad(args, kwargs):
            return func(*_arrays(args), **_arrays(kwargs))
        raise NotDifferentiableError(
            f"{_name(func)}: these arguments are not supported on Tensors ({e}; keywords "
            f"given: {given or 'none'}); supported: {_name(func)}{_signature(impl)}") from None
    return impl(*args, **kwargs)


def _signature(impl: Callable[..., Any]) -> str:
    """``(a, axis=None, keepdims=False)``: the arguments, without type hints."""
    parameters = inspect.signature(impl).parameters.values()
    return "(" + ", ".join(str(p.replace(annotation=p.empty)) for p in parameters) + ")"


def supported() -> list[str]:
    """The NumPy ufuncs and functions that Tensors differentiate, by name."""
    differentiable = [u for u in UFUNCS if u not in CONSTANTS] + list(FUNCTIONS)
    return sorted({_name(f) for f in differentiable})


def _unsupported(what: str, call: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Any:
    if not _needs_grad(args, kwargs):
        return call(*_arrays(args), **_arrays(kwargs))
    raise NotDifferentiableError(
        f"{what} is not differentiable by tinygrad_nn, so it cannot be called on a Tensor that "
        f"requires grad; supported: {', '.join(supported())} (and the ndarray-style methods "
        "x.dot, x.sum, x.mean, x.max, x.reshape, x.T, ...)")


# --------------------------------------------------------------------------------------------
# in-place writes: t[index] = value
# --------------------------------------------------------------------------------------------


def setitem(t: Tensor, index: Any, value: Any) -> None:
    """``Tensor.__setitem__``: ``t`` becomes where(written, value, old t), a recorded op.

    The ops that used ``t`` before the write keep using its old value (they are pointed at a
    Tensor holding it), so ``dx[i] -= 1`` differentiates like ``dx = dx - onehot(i)``. As in
    PyTorch, a leaf that requires grad cannot be written (its .grad would lose its meaning).
    """
    if t.is_leaf and t.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"setitem: a leaf Tensor of shape {t.shape} that requires grad cannot be written in "
            "place (as in PyTorch); write into a copy: y = x.copy(); y[...] = ...")
    idx = normalize_index(index, t.shape)
    target = t.data[idx].shape
    if isinstance(value, Tensor):
        v = value if value.dtype == t.dtype else value.astype(t.dtype)
    else:  # a constant takes the target's dtype, as NumPy's assignment casts it
        v = Tensor.from_numpy(np.asarray(_arrays(value), dtype=t.dtype))
    if v.shape != target:
        try:
            v = v.expand(target)
        except ValueError as e:
            raise ValueError(f"setitem: a value of shape {v.shape} cannot be written into "
                             f"t[index] of shape {target}") from e
    count = np.zeros(t.shape, dtype=np.int64)
    np.add.at(count, idx, 1)
    if count.max(initial=0) > 1:
        raise ValueError("setitem: the index names some elements more than once; NumPy keeps "
                         "the last write, which has no gradient: write each element once")
    old = wrap(t.data, t._ctx)
    old.requires_grad = t.requires_grad
    autograd.moved(old)  # the engine's tape: t's old op now outputs `old`
    _repoint_consumers(t, old)
    new = ops.Where.apply(old, ops.IndexAdd.apply(v, index=idx, shape=t.shape), cond=count == 0)
    t.data, t._ctx, t.requires_grad, t.grad = new.data, new._ctx, new.requires_grad, None
    autograd.moved(t)


def _repoint_consumers(t: Tensor, old: Tensor) -> None:
    """Ops recorded with ``t`` as an input now take ``old`` (``t`` is about to change).

    NOTE: the engine keeps no list of an op's consumers (it would cost every op a write), so
    they are found through the garbage collector's referrers: an op holds its inputs in its
    ``parents`` tuple. That scans the heap, which is fine for the few in-place writes a learner's
    function makes; nothing else in the library writes Tensors in place.
    """
    holders = [h for h in gc.get_referrers(t) if type(h) is tuple]
    if not holders:
        return
    for fn in gc.get_referrers(*holders):
        if isinstance(fn, Function) and any(fn.parents is h for h in holders):
            fn.parents = tuple(old if p is t else p for p in fn.parents)


# --------------------------------------------------------------------------------------------
# strict mode for check: a Tensor that needs grad may not silently become an ndarray
# --------------------------------------------------------------------------------------------

_strict = False


@contextlib.contextmanager
def tracing() -> Iterator[None]:
    """Inside, ``np.asarray(t)`` (and anything else that converts) on a Tensor that requires grad
    raises instead of dropping the graph. ``tinygrad_nn.check`` runs forwards this way."""
    global _strict
    previous, _strict = _strict, True
    try:
        yield
    finally:
        _strict = previous


def to_array(t: Tensor, dtype: Any = None) -> np.ndarray:
    """``Tensor.__array__``: the data (copied only to change dtype)."""
    if _strict and t.requires_grad and is_grad_enabled():
        raise NotDifferentiableError(
            f"a Tensor of shape {t.shape} that requires grad was converted to an ndarray (e.g. "
            "np.asarray(t), np.array(t), or `out[i] = t` into an ndarray made by np.zeros), "
            "which cuts it from the graph; build the result with Tensor operations instead "
            "(np.stack, np.concatenate, np.zeros_like(x) + ...)")
    return t.data if dtype is None else t.data.astype(dtype)
