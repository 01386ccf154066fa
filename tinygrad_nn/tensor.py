"""Tensor: an ndarray that remembers how it was made, so gradients can flow back through it.

Each method is one line that calls a primitive in ops.py, except the composed ops (under their
own banner), which are written with other methods and need no gradient code of their own; the
engine (recording, backward) is autograd.py. Semantics follow PyTorch (names, dtypes, gradient
conventions) with NumPy's argument names (``axis``, ``keepdims``) and broadcasting.
"""

from __future__ import annotations

import builtins
import numbers
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Union

import numpy as np

if TYPE_CHECKING:
    from .autograd import Function

Scalar = Union[int, float, bool]  # noqa: UP007
ArrayLike = Union["Tensor", np.ndarray, Scalar, Sequence[Any]]  # noqa: UP007 (forward ref)
Shape = tuple[int, ...]

_default_dtype = np.dtype(np.float32)
_rng = np.random.default_rng()


def set_default_dtype(dtype: Any) -> None:
    """The dtype that Python floats and float lists become (float32 unless changed), as torch."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    return _default_dtype


def manual_seed(seed: int) -> None:
    """Seed the generator behind randn/rand and the initializers, for reproducible runs."""
    global _rng
    _rng = np.random.default_rng(seed)


def default_rng() -> np.random.Generator:
    """The library's random generator (seeded by ``manual_seed``)."""
    return _rng


def _dtype_arg(dtype: Any, op: str) -> np.dtype:
    """``dtype`` as a NumPy dtype of numbers, or a TypeError naming the op."""
    try:
        result = np.dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{op}: {dtype!r} is not a dtype ({e})") from None
    if result.kind not in "biuf":
        raise TypeError(f"{op}: dtype must be bool, int or float, got {result}")
    return result


def cast_checked(array: np.ndarray, dtype: np.dtype, op: str) -> np.ndarray:
    """``array.astype(dtype)``, refusing values the new dtype cannot hold (NumPy would wrap 300
    to 44 in uint8 and turn nan into the int64 minimum without a word; PyTorch refuses at
    construction). Float -> int truncates toward zero, as torch's ``.long()``."""
    if dtype.kind in "iu" and array.dtype.kind in "iuf" and array.size:
        info = np.iinfo(dtype)
        with np.errstate(invalid="ignore"):
            if array.dtype.kind == "f":  # float(info.max) + 1 is 2**bits exactly
                fits = (array >= info.min) & (array.astype(np.float64) < float(info.max) + 1)
            else:
                fits = (array >= info.min) & (array <= info.max)
        if not fits.all():
            bad = array[~fits]
            raise ValueError(f"{op}: values {bad[:5].tolist()} cannot be represented as {dtype} "
                             f"(range [{info.min}, {info.max}]; shape {array.shape}, "
                             f"{array.dtype})")
    return array.astype(dtype)


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Copy ``data`` into a fresh ndarray; Python floats take the default dtype, as in PyTorch."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        array = np.array(data)
    except ValueError as e:  # ragged lists
        raise ValueError(f"Tensor: cannot make a tensor from this {type(data).__name__}: "
                         f"{e}") from e
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"Tensor: cannot make a tensor from {type(data).__name__} data of dtype "
            f"{array.dtype}; expected numbers (bool, int or float)"
        )
    if dtype is not None:
        return cast_checked(array, _dtype_arg(dtype, "Tensor"), "Tensor")
    if array.dtype.kind == "f" and not isinstance(data, (np.ndarray, np.generic)):
        return array.astype(_default_dtype)  # NumPy data keeps its dtype
    return array


class Tensor:
    """A multi-dimensional array with reverse-mode automatic differentiation.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    Tensor([2., 4., 6.])
    """

    __slots__ = ("data", "grad", "_requires_grad", "_ctx", "_retains_grad", "__weakref__")

    data: np.ndarray
    grad: Tensor | None
    _requires_grad: bool
    _ctx: Function | None

    def __init__(self, data: ArrayLike, dtype: Any = None, requires_grad: bool = False):
        self.data = _to_array(data, dtype)
        self.grad = None
        self._requires_grad = False
        self._ctx = None
        self._retains_grad = False
        if requires_grad is not False:
            self.requires_grad_(requires_grad)

    @classmethod
    def _make(cls, data: np.ndarray, ctx: Function | None) -> Tensor:
        """Wrap an op's output without copying or checks (the engine's hot path)."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t._requires_grad = ctx is not None
        t._ctx = ctx
        t._retains_grad = False
        return t

    @staticmethod
    def from_numpy(array: np.ndarray) -> Tensor:
        """A tensor sharing memory with ``array`` (``Tensor(array)`` copies, as torch.tensor)."""
        if not isinstance(array, np.ndarray):
            raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
        return Tensor._make(array, None)

    # ----------------------------------------------------------------------------------------
    # properties and conversions
    # ----------------------------------------------------------------------------------------

    @property
    def shape(self) -> Shape:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor (assigning checks as ``requires_grad_`` does)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user created (gradients accumulate into their ``.grad``)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Function | None:
        """The op that produced this tensor, or None for leaves."""
        return self._ctx

    def size(self, axis: int | None = None) -> Shape | int:
        """The shape, or one of its entries (as torch.Tensor.size)."""
        return self.shape if axis is None else self.shape[_axis(axis, self.ndim, "size")]

    def numel(self) -> int:
        return self.data.size

    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self) -> Scalar:
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert, not shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor._make(self.data, None)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        requires_grad = check_bool(requires_grad, "requires_grad", "requires_grad_")
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(
                f"only floating-point tensors can require gradients; this one is {self.dtype} "
                f"with shape {self.shape} (convert it with .float() or .double())"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor; use .detach()")
        self._requires_grad = requires_grad
        return self

    def retain_grad(self) -> Tensor:
        """Keep this intermediate tensor's gradient in ``.grad`` after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        self._retains_grad = True
        return self

    def backward(
        self, gradient: ArrayLike | None = None, retain_graph: bool | None = None,
        create_graph: bool = False,
    ) -> None:
        """Accumulate the gradient of this tensor into ``.grad`` of every leaf it depends on."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def astype(self, dtype: Any) -> Tensor:
        """This tensor in another dtype; values the dtype cannot hold (nan or 300 as uint8) are
        an error, not wrapped."""
        dtype = _dtype_arg(dtype, "astype")
        if dtype == self.dtype:
            return self
        cast_checked(self.data[:0], dtype, "astype")  # the dtype pair alone: cheap
        if dtype.kind in "iu":
            cast_checked(self.data, dtype, "astype")
        return ops.Cast.apply(self, dtype=dtype)

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = []
        if self.dtype != _default_dtype and self.dtype.kind == "f" or self.dtype.kind == "b":
            extras.append(f"dtype={self.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{type(self._ctx).__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "Tensor(" + ", ".join([body, *extras]) + ")"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> builtins.float:
        numpy_dispatch.to_array(self)  # under check's tracing(), refuses to cut the graph
        return float(self.item())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return numpy_dispatch.to_array(self, dtype)

    # NumPy's dispatch (NEP 13, NEP 18): np.exp(t), ndarray * t, np.sum(t, axis=0), np.dot(x, w)
    # record the Tensor ops; the tables are in numpy_dispatch.py.
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return numpy_dispatch.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return numpy_dispatch.array_function(func, args, kwargs)

    __hash__ = object.__hash__  # identity, as torch; == is elementwise

    # ----------------------------------------------------------------------------------------
    # elementwise
    # ----------------------------------------------------------------------------------------

    def _lift(self, other: ArrayLike) -> Tensor:
        """Another operand as a Tensor. Python scalars adopt this tensor's float dtype (they are
        "weak", as in PyTorch and NumPy 2), so ``x32 * 2.0`` stays float32."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float)):
            dtype = self.dtype if self.dtype.kind == "f" else np.result_type(self.dtype, other)
            return Tensor._make(np.asarray(other, dtype=dtype), None)
        return Tensor(other)

    def __add__(self, other: ArrayLike) -> Tensor:
        return ops.Add.apply(self, self._lift(other))

    def __radd__(self, other: ArrayLike) -> Tensor:
        return ops.Add.apply(self._lift(other), self)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return ops.Sub.apply(self, self._lift(other))

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return ops.Sub.apply(self._lift(other), self)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return ops.Mul.apply(self, self._lift(other))

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return ops.Mul.apply(self._lift(other), self)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return ops.Div.apply(self, self._lift(other))

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return ops.Div.apply(self._lift(other), self)

    def __pow__(self, other: ArrayLike) -> Tensor:
        if isinstance(other, (int, float)) and self.dtype.kind == "f":
            return ops.PowScalar.apply(self, exponent=other)
        return ops.Pow.apply(self, self._lift(other))

    def __rpow__(self, other: ArrayLike) -> Tensor:
        return ops.Pow.apply(self._lift(other), self)

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return ops.Matmul.apply(self, self._lift(other))

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return ops.Matmul.apply(self._lift(other), self)

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def matmul(self, other: ArrayLike) -> Tensor:
        return self @ other

    def dot(self, other: ArrayLike) -> Tensor:
        """ndarray.dot: matmul for 1-D and 2-D operands, a product with a scalar."""
        return numpy_dispatch.dot(self, other)

    def copy(self) -> Tensor:
        """ndarray.copy: the same values, still in the graph (torch.Tensor.clone)."""
        return numpy_dispatch.copy(self)

    def exp(self) -> Tensor:
        return ops.Exp.apply(self)

    def log(self) -> Tensor:
        return ops.Log.apply(self)

    def sqrt(self) -> Tensor:
        return ops.Sqrt.apply(self)

    def abs(self) -> Tensor:
        return ops.Abs.apply(self)

    def tanh(self) -> Tensor:
        return ops.Tanh.apply(self)

    def sigmoid(self) -> Tensor:
        return ops.Sigmoid.apply(self)

    def relu(self) -> Tensor:
        return ops.Relu.apply(self)

    def maximum(self, other: ArrayLike) -> Tensor:
        return ops.Maximum.apply(self, self._lift(other))

    def minimum(self, other: ArrayLike) -> Tensor:
        return ops.Minimum.apply(self, self._lift(other))

    def clip(
        self, min: builtins.float | None = None, max: builtins.float | None = None
    ) -> Tensor:
        # NOTE: builtins.float: inside the class body, `float` is the Tensor.float method
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        for name, bound in (("min", min), ("max", max)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, numbers.Real)
                                      or bound != bound):
                raise TypeError(f"clip: {name} must be a number (not nan) or None, got "
                                f"{type(bound).__name__} {bound!r}")
        return ops.Clip.apply(self, lo=min, hi=max)

    clamp = clip

    # comparisons give tensors that do not require grad, as in PyTorch
    def __lt__(self, other: ArrayLike) -> Tensor:
        return _compare(np.less, self, other, "<")

    def __le__(self, other: ArrayLike) -> Tensor:
        return _compare(np.less_equal, self, other, "<=")

    def __gt__(self, other: ArrayLike) -> Tensor:
        return _compare(np.greater, self, other, ">")

    def __ge__(self, other: ArrayLike) -> Tensor:
        return _compare(np.greater_equal, self, other, ">=")

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return _compare(np.equal, self, other, "==")

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return _compare(np.not_equal, self, other, "!=")

    # ----------------------------------------------------------------------------------------
    # reductions
    # ----------------------------------------------------------------------------------------

    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        axes = None if axis is None else _axes(axis, self.ndim, "sum")
        return ops.Sum.apply(self, axis=axes, keepdims=keepdims)

    def max(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """Largest values (values only, as numpy.max / torch.amax); ties share the gradient."""
        if self.data.size == 0:
            raise ValueError(f"max: cannot reduce an empty tensor of shape {self.shape}")
        return ops.Max.apply(self, axis=_axes(axis, self.ndim, "max"), keepdims=keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        return ops.Softmax.apply(self, axis=_axis(axis, self.ndim, "softmax"))

    def log_softmax(self, axis: int = -1) -> Tensor:
        return ops.LogSoftmax.apply(self, axis=_axis(axis, self.ndim, "log_softmax"))

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return _arg_reduce(self, np.argmax, axis, keepdims, "argmax")

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        return _arg_reduce(self, np.argmin, axis, keepdims, "argmin")

    def any(self) -> bool:
        return bool(self.data.any())

    def all(self) -> bool:
        return bool(self.data.all())

    # ----------------------------------------------------------------------------------------
    # movement
    # ----------------------------------------------------------------------------------------

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        target = _reshape_target(self.shape, _shape_arg(shape, "reshape", -1))
        return ops.Reshape.apply(self, shape=target)

    view = reshape

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        raw = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        order = tuple(_axis(a, self.ndim, "permute") for a in raw)
        if sorted(order) != list(range(self.ndim)):
            raise ValueError(f"permute: {tuple(raw)} is not a permutation of the axes of "
                             f"{self.shape}")
        return ops.Permute.apply(self, axes=order)

    def transpose(self, *axes: int) -> Tensor:
        """``transpose()`` reverses the axes; ``transpose(a, b)`` swaps two (torch); more
        arguments are a permutation (numpy)."""
        if not axes:
            return self.T
        if len(axes) == 2:
            return self.swapaxes(*axes)
        return self.permute(*axes)

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        order = list(range(self.ndim))
        a, b = _axis(axis0, self.ndim, "swapaxes"), _axis(axis1, self.ndim, "swapaxes")
        order[a], order[b] = order[b], order[a]
        return ops.Permute.apply(self, axes=tuple(order))

    @property
    def T(self) -> Tensor:
        """The axes reversed (NumPy's ``.T``)."""
        return ops.Permute.apply(self, axes=tuple(range(self.ndim - 1, -1, -1)))

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        """Broadcast to ``shape`` without copying; -1 keeps a size (torch.Tensor.expand)."""
        target = _shape_arg(shape, "expand", -1)
        lead = len(target) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: cannot expand shape {self.shape} to fewer dims {target}")
        full = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(target))
        return ops.Expand.apply(self, shape=full)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.Getitem.apply(self, index=_normalize_index(index, self.shape))

    def __setitem__(self, index: Any, value: ArrayLike) -> None:
        """``t[index] = value``, recorded (CS231n's ``dx[np.arange(N), y] -= 1`` on Tensors)."""
        numpy_dispatch.setitem(self, index, value)

    # ----------------------------------------------------------------------------------------
    # composed ops: written with the methods above, no gradient code of their own
    # ----------------------------------------------------------------------------------------

    def leaky_relu(self, negative_slope: builtins.float = 0.01) -> Tensor:
        """x where x > 0, else negative_slope * x; the slope at 0 is negative_slope (PyTorch)."""
        return where(self.data > 0, self, self * negative_slope)

    def min(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return -((-self).max(axis=axis, keepdims=keepdims))

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """sum / count over the axes."""
        axes = _axes(axis, self.ndim, "mean")
        count = int(np.prod([self.shape[a] for a in axes]))
        if count == 0:
            raise ValueError(f"mean: cannot average over an empty axis of shape {self.shape}")
        return self.sum(axis=axes, keepdims=keepdims) * (1.0 / count)

    def var(
        self, axis: int | Sequence[int] | None = None, keepdims: bool = False, ddof: int = 0
    ) -> Tensor:
        """Mean of squared deviations, divided by (count - ddof): NumPy's default ``ddof=0`` is
        the biased estimate batchnorm normalizes with; ddof=1 is PyTorch's default."""
        axes = _axes(axis, self.ndim, "var")
        count = int(np.prod([self.shape[a] for a in axes]))
        if count - ddof <= 0:
            raise ValueError(f"var: {count} elements and ddof={ddof} leave no degrees of freedom")
        deviation = self - self.mean(axis=axes, keepdims=True)
        return (deviation * deviation).sum(axis=axes, keepdims=keepdims) * (1.0 / (count - ddof))

    def std(
        self, axis: int | Sequence[int] | None = None, keepdims: bool = False, ddof: int = 0
    ) -> Tensor:
        """sqrt(var). Where the variance is 0 (a constant, or one element with ddof=0) the
        gradient is 0, as in PyTorch, not the nan of sqrt'(0) = inf times a zero deviation."""
        v = self.var(axis, keepdims, ddof)
        flat = v.data == 0
        if not flat.any():
            return v.sqrt()
        return where(flat, 0.0, where(flat, 1.0, v).sqrt())

    def logsumexp(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(x))), shifted by the (constant) maximum so exp never overflows."""
        axes = _axes(axis, self.ndim, "logsumexp")
        shift = np.max(self.data, axis=axes, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0.0)  # all -inf: log(0) = -inf, not nan
        result = (self - shift).exp().sum(axis=axes, keepdims=True).log() + shift
        if keepdims:
            return result
        return result.reshape(tuple(s for i, s in enumerate(self.shape) if i not in axes))

    def squeeze(self, axis: int | Sequence[int] | None = None) -> Tensor:
        """Drop size-1 axes (all, or those named; a named axis of another size is kept, as in
        torch)."""
        candidates = _axes(axis, self.ndim, "squeeze")
        return self.reshape(tuple(s for i, s in enumerate(self.shape)
                                  if not (i in candidates and s == 1)))

    def unsqueeze(self, axis: int) -> Tensor:
        position = _axis(axis, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:position] + (1,) + self.shape[position:])

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        start = _axis(start_axis, self.ndim, "flatten")
        end = _axis(end_axis, self.ndim, "flatten")
        if start > end:
            raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis} "
                             f"for shape {self.shape}")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1:])


# --------------------------------------------------------------------------------------------
# functions of several tensors (torch.where, torch.cat, ...)
# --------------------------------------------------------------------------------------------


def _as_tensor(x: ArrayLike) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def where(condition: ArrayLike, x: ArrayLike, y: ArrayLike) -> Tensor:
    """Elements of x where condition holds, else of y. The condition gets no gradient."""
    cond = np.asarray(_values(condition), dtype=bool)
    if isinstance(x, Tensor):
        y = x._lift(y)
    elif isinstance(y, Tensor):
        x = y._lift(x)
    else:
        x, y = _as_tensor(x), _as_tensor(y)
    return ops.Where.apply(x, y, cond=cond)


def maximum(x: ArrayLike, y: ArrayLike) -> Tensor:
    return x.maximum(y) if isinstance(x, Tensor) else _as_tensor(y).maximum(x)


def minimum(x: ArrayLike, y: ArrayLike) -> Tensor:
    return x.minimum(y) if isinstance(x, Tensor) else _as_tensor(y).minimum(x)


def cat(tensors: Sequence[ArrayLike], axis: int = 0) -> Tensor:
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
    return ops.Cat.apply(*parts, axis=_axis(axis, ndim, "cat"))


def stack(tensors: Sequence[ArrayLike], axis: int = 0) -> Tensor:
    """Join tensors of the same shape along a new axis."""
    if len(tensors) == 0:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    parts = [_as_tensor(t) for t in tensors]
    shapes = {t.shape for t in parts}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    position = _axis(axis, parts[0].ndim + 1, "stack")
    return cat([t.unsqueeze(position) for t in parts], axis=position)


# --------------------------------------------------------------------------------------------
# argument normalization (errors name the op and what is allowed)
# --------------------------------------------------------------------------------------------


def _values(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


MAX_NUMEL = 2**40  # no tensor has more elements: a typo'd size fails here, not in the allocator


def _shape_arg(shape: tuple[Any, ...], op: str = "shape", lowest: int = 0) -> Shape:
    """The one size/shape validator: accept f(2, 3) and f((2, 3)); every size an int (not a
    float, bool or string: ``randn(2.5)`` must not silently mean 2) of at least ``lowest``
    (-1 where a size may be inferred), and at most MAX_NUMEL elements in all."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"{op}: sizes must be ints, got {type(s).__name__} {s!r} in "
                            f"{tuple(shape)!r}")
        if s < lowest:
            raise ValueError(f"{op}: sizes must be >= {lowest}, got {s} in {tuple(shape)!r}")
    result = tuple(int(s) for s in shape)
    total = 1
    for s in result:
        total *= max(s, 1)
    if total > MAX_NUMEL:
        raise ValueError(f"{op}: shape {result} has {total} elements, more than the limit of "
                         f"{MAX_NUMEL} (MAX_NUMEL)")
    return result


def _reshape_target(current: Shape, shape: Shape) -> Shape:
    """The target of ``reshape``: at most one -1, and the same number of elements."""
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: only one size may be -1, got {shape}")
    known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
    size = int(np.prod(current, dtype=np.int64))
    if (-1 in shape and (known == 0 or size % known)) or (-1 not in shape and known != size):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {current} ({size} elements) "
                         f"into shape {shape}")
    return shape


def _axis(axis: Any, ndim: int, op: str) -> int:
    """The one axis normalizer: a single axis, as a non-negative int (a tuple, a float or an
    out-of-range axis is an error naming the op; NumPy's rule that a 0-d tensor has axis 0/-1)."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op}: axis must be an int, got {type(axis).__name__} {axis!r}")
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dims")
    return int(axis) % max(ndim, 1)


def _axes(axis: int | Sequence[int] | None, ndim: int, op: str) -> tuple[int, ...]:
    """Normalize an axis argument (one axis, a tuple/list of them, or None = all) to a sorted
    tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and 0 <= axis < ndim:  # the common case, without the checks below
        return (axis,)
    if isinstance(axis, (tuple, list)):
        normalized = [_axis(a, ndim, op) for a in axis]
    else:
        normalized = [_axis(axis, ndim, op)]
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(normalized))


def _arg_reduce(t: Tensor, fn: Any, axis: Any, keepdims: bool, op: str) -> Tensor:
    if t.data.size == 0:
        raise ValueError(f"{op}: cannot reduce an empty tensor of shape {t.shape}")
    keepdims = check_bool(keepdims, "keepdims", op)
    if axis is None:
        result = fn(t.data, keepdims=keepdims)
    else:
        result = fn(t.data, axis=_axis(axis, t.ndim, op), keepdims=keepdims)
    return Tensor._make(np.asarray(result), None)


def _compare(fn: Any, t: Tensor, other: Any, symbol: str) -> Tensor:
    """A comparison (no gradient); operands that are not numbers or do not broadcast are an
    error naming the comparison, the shapes and dtypes (not NumPy's raw message)."""
    values = _values(other)
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        if symbol in ("==", "!="):
            return NotImplemented  # Python then compares identities, as for any object
        raise TypeError(f"comparison {symbol}: cannot compare a tensor {t.shape} {t.dtype} with "
                        f"{type(other).__name__} {other!r}")
    try:
        return Tensor._make(np.asarray(fn(t.data, values)), None)
    except ValueError as e:
        raise ValueError(f"comparison {symbol}: shapes {t.shape} and {array.shape} do not "
                         f"broadcast ({t.dtype}, {array.dtype})") from e


_INDEX_HELP = (
    "supported: int, slice, None, Ellipsis, and lists, ndarrays or Tensors of ints or bools "
    "(or a tuple of these)"
)


def _check_masks(items: tuple[Any, ...], shape: Shape) -> None:
    """A boolean mask must match the shape of the axes it indexes (NumPy and PyTorch raise;
    turned into integer indices unchecked, a short mask would silently select a prefix)."""
    arrays = [np.asarray(i.data if isinstance(i, Tensor) else i)
              if isinstance(i, (Tensor, np.ndarray, list)) else i for i in items]
    if not any(isinstance(a, np.ndarray) and a.dtype.kind == "b" for a in arrays):
        return

    def width(a: Any) -> int:  # how many axes an index item consumes
        if a is None or a is Ellipsis:
            return 0
        return a.ndim if isinstance(a, np.ndarray) and a.dtype.kind == "b" else 1

    explicit = sum(width(a) for a in arrays)
    axis = 0
    for a in arrays:
        if a is Ellipsis:
            axis += max(len(shape) - explicit, 0)
            continue
        if isinstance(a, np.ndarray) and a.dtype.kind == "b":
            covered = shape[axis:axis + a.ndim]
            if covered != a.shape:
                raise IndexError(f"getitem: boolean mask of shape {a.shape} does not match the "
                                 f"indexed axes {axis}..{axis + a.ndim - 1} of shape {covered} "
                                 f"(tensor shape {shape})")
        axis += width(a)


def _normalize_index(index: Any, shape: Shape) -> tuple[Any, ...]:
    """Turn an index into a tuple of ints, slices, None, Ellipsis and integer ndarrays.

    Boolean masks become integer arrays (``np.nonzero``), so the backward scatter can
    accumulate with ``np.add.at``.
    """
    items = index if isinstance(index, tuple) else (index,)
    _check_masks(items, shape)
    result: list[Any] = []
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        if isinstance(item, list):
            item = np.asarray(item)
            if item.size == 0:
                item = item.astype(np.intp)
        if isinstance(item, np.ndarray):
            if item.dtype.kind == "b":
                result.extend(np.nonzero(item))
            elif item.dtype.kind in "iu":
                result.append(item)
            else:
                raise TypeError(f"getitem: index arrays must be ints or bools, got {item.dtype}; "
                                + _INDEX_HELP)
        elif isinstance(item, (numbers.Integral, slice)) or item is None or item is Ellipsis:
            if isinstance(item, bool):
                raise TypeError("getitem: a Python bool is not a valid index; " + _INDEX_HELP)
            result.append(item)
        else:
            raise TypeError(f"getitem: unsupported index type {type(item).__name__}; "
                            + _INDEX_HELP)
    return tuple(result)


# --------------------------------------------------------------------------------------------
# constructors
# --------------------------------------------------------------------------------------------


def tensor(data: ArrayLike, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Same as ``Tensor(data, dtype, requires_grad)`` (as torch.tensor)."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def _float_dtype(dtype: Any, op: str = "Tensor") -> np.dtype:
    return _default_dtype if dtype is None else _dtype_arg(dtype, op)


def zeros(*shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    data = np.zeros(_shape_arg(shape, "zeros"), _float_dtype(dtype, "zeros"))
    return Tensor._make(data, None).requires_grad_(requires_grad)


def ones(*shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    data = np.ones(_shape_arg(shape, "ones"), _float_dtype(dtype, "ones"))
    return Tensor._make(data, None).requires_grad_(requires_grad)


def full(
    shape: Sequence[int], fill_value: float, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    size = _shape_arg(shape if isinstance(shape, (tuple, list)) else (shape,), "full")
    fill = _to_array(fill_value)
    fill = cast_checked(fill, _float_dtype(dtype, "full"), "full")
    return Tensor._make(np.full(size, fill), None).requires_grad_(requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    n, m = _shape_arg((n, n if m is None else m), "eye")
    return Tensor._make(np.eye(n, m, dtype=_float_dtype(dtype, "eye")),
                        None).requires_grad_(requires_grad)


def randn(
    *shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Standard normal samples from ``generator`` or the library's seeded one."""
    rng = _rng if generator is None else generator
    data = rng.standard_normal(_shape_arg(shape, "randn")).astype(_float_dtype(dtype, "randn"))
    return Tensor._make(data, None).requires_grad_(requires_grad)


def rand(
    *shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Uniform samples in [0, 1)."""
    rng = _rng if generator is None else generator
    data = rng.random(_shape_arg(shape, "rand")).astype(_float_dtype(dtype, "rand"))
    return Tensor._make(data, None).requires_grad_(requires_grad)


def arange(
    start: float, stop: float | None = None, step: float = 1, dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Like torch.arange: int64 for integer arguments, the default float dtype otherwise."""
    if stop is None:
        start, stop = 0, start
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"arange: {name} must be a number, got {type(value).__name__} "
                            f"{value!r}")
        if not np.isfinite(value):
            raise ValueError(f"arange: {name} must be finite, got {value}")
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    _shape_arg((max(int(np.ceil((stop - start) / step)), 0),), "arange")
    data = np.arange(start, stop, step)
    if dtype is not None or data.dtype.kind == "f":
        data = data.astype(_float_dtype(dtype, "arange"))
    return Tensor._make(data, None).requires_grad_(requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def rand_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


# The modules below need the Tensor class defined above (see docs/design.md, "import order").
from . import autograd, numpy_dispatch, ops  # noqa: E402
from .validation import check_bool  # noqa: E402
