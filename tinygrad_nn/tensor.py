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
from typing import TYPE_CHECKING, Any, NamedTuple, Union

import numpy as np

from .dtypes import DTYPE_NAMES, check_dtype

if TYPE_CHECKING:
    from .autograd import Function

Scalar = Union[int, float, bool]  # noqa: UP007
ArrayLike = Union["Tensor", np.ndarray, Scalar, Sequence[Any]]  # noqa: UP007 (forward ref)
Shape = tuple[int, ...]
Axis = Union[int, Sequence[int], None]  # noqa: UP007

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


def default_rng(generator: Any = None) -> np.random.Generator:
    """The generator to draw from: the library's (seeded by ``manual_seed``, looked up at this
    call), or ``generator`` when one is given (an int seeds a new one, see ``as_generator``)."""
    return as_generator(generator) or _rng


def as_generator(generator: Any) -> np.random.Generator | None:
    """A ``generator=`` argument: an int seeds a new NumPy Generator, a Generator is used as
    is, and None stays None, meaning the library's generator (``default_rng()``), looked up
    when drawing so that ``manual_seed`` after construction still applies."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, builtins.bool):
        return np.random.default_rng(builtins.int(generator))
    raise TypeError(f"generator must be None, an int seed or a numpy.random.Generator, got "
                    f"{type(generator).__name__} (a torch.Generator cannot drive NumPy: pass "
                    "its seed, e.g. generator=0)")


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


def wrap(data: np.ndarray, grad_fn: Function | None = None) -> Tensor:
    """A Tensor holding ``data`` itself, no copy and no checks: how the engine wraps the arrays
    its ops compute (``grad_fn``: the op that made it, when recorded). Users call
    ``Tensor.from_numpy``, which checks its argument."""
    t = object.__new__(Tensor)
    t.data = data
    t.grad = None
    t._requires_grad = grad_fn is not None
    t._ctx = grad_fn
    t._retains_grad = False
    if grad_fn is None and autograd._tracer is not None:  # tg.compile: where a leaf comes from
        autograd._tracer.created(t, data)
    return t


def lift(like: Tensor, other: ArrayLike) -> Tensor:
    """``other``, an operand of an op on ``like``, as a Tensor. Python scalars adopt ``like``'s
    float dtype (they are "weak", as in PyTorch and NumPy 2), so ``x32 * 2.0`` stays float32."""
    if isinstance(other, Tensor):
        return other
    if isinstance(other, (int, float)):
        dtype = like.dtype if like.dtype.kind == "f" else np.result_type(like.dtype, other)
        return wrap(np.asarray(other, dtype=dtype))
    return Tensor(other)


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Copy ``data`` into a fresh ndarray; Python floats take the default dtype, as in PyTorch."""
    if isinstance(data, ValuesIndices):
        raise TypeError("max(dim)/min(dim) return (values, indices), as in PyTorch: use "
                        "result.values (or x.amax(dim) / x.max(axis=dim) for the values alone)")
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
        return cast_checked(array, check_dtype(dtype, "Tensor"), "Tensor")
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

    __slots__ = ("data", "grad", "_requires_grad", "_ctx", "_retains_grad", "_bumps",
                 "__weakref__")

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
        if autograd._tracer is not None:
            autograd._tracer.created(self, data)

    @staticmethod
    def from_numpy(array: np.ndarray) -> Tensor:
        """A tensor sharing memory with ``array`` (``Tensor(array)`` copies, as torch.tensor)."""
        if not isinstance(array, np.ndarray):
            raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
        return wrap(array)

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
        if autograd._tracer is not None:
            autograd._tracer.data_dependent(self, ".item()")
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert, not shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        if autograd._tracer is not None:
            autograd._tracer.data_dependent(self, ".tolist()")
        return self.data.tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph; it shares this tensor's version counter, so an
        in-place change through it is seen by backward (as in PyTorch)."""
        out = wrap(self.data)
        versions = getattr(self, "_bumps", None)
        if versions is None:
            versions = self._bumps = autograd.Versions()
        out._bumps = versions
        return out

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
        dtype = check_dtype(dtype, "astype")
        if dtype == self.dtype:
            return self
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
        if autograd._tracer is not None:
            autograd._tracer.data_dependent(self, "bool(tensor)")
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> builtins.float:
        if autograd._tracer is not None:
            autograd._tracer.data_dependent(self, "float(tensor)")
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

    def __add__(self, other: ArrayLike) -> Tensor:
        return ops.Add.apply(self, lift(self, other))

    def __radd__(self, other: ArrayLike) -> Tensor:
        return ops.Add.apply(lift(self, other), self)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return ops.Sub.apply(self, lift(self, other))

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return ops.Sub.apply(lift(self, other), self)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return ops.Mul.apply(self, lift(self, other))

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return ops.Mul.apply(lift(self, other), self)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return ops.Div.apply(self, lift(self, other))

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return ops.Div.apply(lift(self, other), self)

    def __pow__(self, other: ArrayLike) -> Tensor:
        if isinstance(other, (int, float)) and self.dtype.kind == "f":
            return ops.PowScalar.apply(self, exponent=other)
        return ops.Pow.apply(self, lift(self, other))

    def __rpow__(self, other: ArrayLike) -> Tensor:
        return ops.Pow.apply(lift(self, other), self)

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return ops.Matmul.apply(self, lift(self, other))

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return ops.Matmul.apply(lift(self, other), self)

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

    def sin(self) -> Tensor:
        return ops.Sin.apply(self)

    def cos(self) -> Tensor:
        return ops.Cos.apply(self)

    def log1p(self) -> Tensor:
        return ops.Log1p.apply(self)

    def expm1(self) -> Tensor:
        return ops.Expm1.apply(self)

    def erf(self) -> Tensor:
        return ops.Erf.apply(self)

    def sign(self) -> Tensor:
        """-1, 0 or 1; the gradient is 0 everywhere (PyTorch)."""
        return ops.Step.apply(self, fn=np.sign)

    def floor(self) -> Tensor:
        return ops.Step.apply(self, fn=np.floor)

    def ceil(self) -> Tensor:
        return ops.Step.apply(self, fn=np.ceil)

    def round(self) -> Tensor:
        """Half to even, as torch.round and numpy.round."""
        return ops.Step.apply(self, fn=np.round)

    def maximum(self, other: ArrayLike) -> Tensor:
        return ops.Maximum.apply(self, lift(self, other))

    def minimum(self, other: ArrayLike) -> Tensor:
        return ops.Minimum.apply(self, lift(self, other))

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

    def sum(self, dim: Axis = None, keepdim: bool | None = None, *, axis: Axis = None,
            keepdims: bool | None = None) -> Tensor:
        """Sum over ``dim`` (PyTorch) or ``axis`` (NumPy); all axes when neither is given."""
        if axis is None and keepdims is None:  # the common call, without the checks below
            axis, keep = dim, keepdim is True
        else:
            axis, keep = _dim_args("sum", dim, keepdim, axis, keepdims)
        axes = None if axis is None else _axes(axis, self.ndim, "sum")
        return ops.Sum.apply(self, axis=axes, keepdims=keep)

    def amax(self, dim: Axis = None, keepdim: bool | None = None, *, axis: Axis = None,
             keepdims: bool | None = None) -> Tensor:
        """Largest values (as torch.amax / numpy.max); ties share the gradient evenly."""
        axis, keep = _dim_args("amax", dim, keepdim, axis, keepdims)
        if self.data.size == 0:
            raise ValueError(f"max: cannot reduce an empty tensor of shape {self.shape}")
        return ops.Max.apply(self, axis=_axes(axis, self.ndim, "max"), keepdims=keep)

    def max(self, dim: Any = None, keepdim: bool | None = None, *, axis: Axis = None,
            keepdims: bool | None = None) -> Any:
        """``max()``: the largest value. ``max(dim)``: ``(values, indices)`` as torch.max,
        the gradient going to the index returned. ``max(axis=...)``: values only (NumPy).
        ``max(other_tensor)``: elementwise maximum (torch.max(a, b))."""
        return self._extreme("max", dim, keepdim, axis, keepdims)

    def _extreme(self, op: str, dim: Any, keepdim: bool | None, axis: Axis,
                 keepdims: bool | None) -> Any:
        if isinstance(dim, (Tensor, np.ndarray)):
            return self.maximum(dim) if op == "max" else self.minimum(dim)
        if dim is None:  # NumPy's spelling, or the whole tensor: values only
            if keepdim is not None:
                raise TypeError(f"{op}: keepdim= needs dim= (torch.{op}(x, dim, keepdim)); "
                                f"with axis= write keepdims=")
            reduce = self.amax if op == "max" else self.amin
            return reduce(axis=axis, keepdims=keepdims)
        if axis is not None:
            raise TypeError(f"{op}: pass dim= (PyTorch) or axis= (NumPy), not both")
        if keepdims is not None:  # x.max(1, keepdims=True): NumPy's call, NumPy's values
            if keepdim is not None:
                raise TypeError(f"{op}: pass keepdim= (PyTorch) or keepdims= (NumPy), not both")
            return (self.amax if op == "max" else self.amin)(axis=dim, keepdims=keepdims)
        if not isinstance(dim, numbers.Integral):
            raise TypeError(f"{op}: dim must be one int (torch.{op}(x, dim) returns values and "
                            f"indices); to reduce over several axes write x.a{op}(dim={dim!r})")
        d = _axes(dim, self.ndim, op)[0]
        if self.data.size == 0:
            raise ValueError(f"{op}: cannot reduce an empty tensor of shape {self.shape}")
        pick = self.data.argmax if op == "max" else self.data.argmin
        indices = np.expand_dims(pick(axis=d), d)
        values = self.gather(d, indices)
        if not keepdim:
            values, indices = values.squeeze(d), indices.squeeze(d)
        return ValuesIndices(values, wrap(indices))

    def cumsum(self, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        """Running sums along an axis (torch.cumsum needs ``dim``)."""
        axis, _ = _dim_args("cumsum", dim, None, axis, None)
        if axis is None:
            raise TypeError("cumsum: give the axis: x.cumsum(dim=0) (or x.flatten().cumsum(0))")
        return ops.Cumsum.apply(self, axis=_axes(axis, self.ndim, "cumsum")[0])

    def softmax(self, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        axis, _ = _dim_args("softmax", dim, None, axis, None)
        axis = -1 if axis is None else axis
        return ops.Softmax.apply(self, axis=_axis(axis, self.ndim, "softmax"))

    def log_softmax(self, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        axis, _ = _dim_args("log_softmax", dim, None, axis, None)
        axis = -1 if axis is None else axis
        return ops.LogSoftmax.apply(self, axis=_axis(axis, self.ndim, "log_softmax"))

    def argmax(self, dim: int | None = None, keepdim: bool | None = None, *,
               axis: int | None = None, keepdims: bool | None = None) -> Tensor:
        axis, keep = _dim_args("argmax", dim, keepdim, axis, keepdims)
        return _arg_reduce(self, np.argmax, axis, keep, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool | None = None, *,
               axis: int | None = None, keepdims: bool | None = None) -> Tensor:
        axis, keep = _dim_args("argmin", dim, keepdim, axis, keepdims)
        return _arg_reduce(self, np.argmin, axis, keep, "argmin")

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
        return ops.Getitem.apply(self, index=normalize_index(index, self.shape))

    def __setitem__(self, index: Any, value: ArrayLike) -> None:
        """``t[index] = value``, recorded (CS231n's ``dx[np.arange(N), y] -= 1`` on Tensors)."""
        numpy_dispatch.setitem(self, index, value)

    # ----------------------------------------------------------------------------------------
    # composed ops: written with the methods above, no gradient code of their own
    # ----------------------------------------------------------------------------------------

    def leaky_relu(self, negative_slope: builtins.float = 0.01) -> Tensor:
        """x where x > 0, else negative_slope * x; the slope at 0 is negative_slope (PyTorch)."""
        # NOTE: the mask through autograd.derived, so tg.compile recomputes it on every call
        return where(autograd.derived(_positive, self), self, self * negative_slope)

    def amin(self, dim: Axis = None, keepdim: bool | None = None, *, axis: Axis = None,
             keepdims: bool | None = None) -> Tensor:
        """Smallest values (as torch.amin / numpy.min)."""
        axis, keep = _dim_args("amin", dim, keepdim, axis, keepdims)
        return -((-self).amax(axis=axis, keepdims=keep))

    def min(self, dim: Any = None, keepdim: bool | None = None, *, axis: Axis = None,
            keepdims: bool | None = None) -> Any:
        """As ``max``, for the smallest values (torch.min / numpy.min)."""
        return self._extreme("min", dim, keepdim, axis, keepdims)

    def mean(self, dim: Axis = None, keepdim: bool | None = None, *, axis: Axis = None,
             keepdims: bool | None = None) -> Tensor:
        """sum / count over the axes."""
        axis, keep = _dim_args("mean", dim, keepdim, axis, keepdims)
        axes = _axes(axis, self.ndim, "mean")
        count = int(np.prod([self.shape[a] for a in axes]))
        if count == 0:
            raise ValueError(f"mean: cannot average over an empty axis of shape {self.shape}")
        return self.sum(axis=axes, keepdims=keep) * (1.0 / count)

    def var(self, dim: Axis = None, keepdim: bool | None = None, *, axis: Axis = None,
            keepdims: bool | None = None, correction: int | None = None,
            unbiased: bool | None = None, ddof: int | None = None) -> Tensor:
        """Mean of squared deviations, divided by (count - ddof). PyTorch's spelling (``dim``,
        or no axis argument) divides by n - 1 as torch.var does; NumPy's (``axis=``) by n as
        numpy.var does (the biased estimate batchnorm normalizes with). ``correction``/
        ``unbiased`` (PyTorch) or ``ddof`` (NumPy) choose explicitly."""
        axis, keep, ddof = _var_args("var", dim, keepdim, axis, keepdims, correction, unbiased,
                                     ddof)
        axes = _axes(axis, self.ndim, "var")
        count = int(np.prod([self.shape[a] for a in axes]))
        if count - ddof <= 0:
            raise ValueError(f"var: {count} elements and ddof={ddof} leave no degrees of freedom")
        deviation = self - self.mean(axis=axes, keepdims=True)
        return (deviation * deviation).sum(axis=axes, keepdims=keep) * (1.0 / (count - ddof))

    def std(self, dim: Axis = None, keepdim: bool | None = None, *, axis: Axis = None,
            keepdims: bool | None = None, correction: int | None = None,
            unbiased: bool | None = None, ddof: int | None = None) -> Tensor:
        """sqrt(var), with var's conventions. Where the variance is 0 (a constant, or one element
        with ddof=0) the gradient is 0, as in PyTorch, not the nan of sqrt'(0) = inf times a zero
        deviation."""
        axis, keep, ddof = _var_args("std", dim, keepdim, axis, keepdims, correction, unbiased,
                                     ddof)
        v = self.var(axis=axis, keepdims=keep, ddof=ddof)
        flat = v.data == 0
        if not flat.any():
            return v.sqrt()
        return where(flat, 0.0, where(flat, 1.0, v).sqrt())

    def logsumexp(self, dim: Axis = None, keepdim: bool | None = None, *, axis: Axis = None,
                  keepdims: bool | None = None) -> Tensor:
        """log(sum(exp(x))), shifted by the (constant) maximum so exp never overflows."""
        axis, keep = _dim_args("logsumexp", dim, keepdim, axis, keepdims)
        axes = _axes(axis, self.ndim, "logsumexp")
        shift = np.max(self.data, axis=axes, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0.0)  # all -inf: log(0) = -inf, not nan
        result = (self - shift).exp().sum(axis=axes, keepdims=True).log() + shift
        if keep:
            return result
        return result.reshape(tuple(s for i, s in enumerate(self.shape) if i not in axes))

    def prod(self, dim: int | None = None, keepdim: bool | None = None, *,
             axis: int | None = None, keepdims: bool | None = None) -> Tensor:
        """Product along one axis (all elements when None), by pairwise multiplication: exact
        with zeros, and differentiable to any order."""
        axis, keep = _dim_args("prod", dim, keepdim, axis, keepdims)
        if axis is None:
            result = self.reshape(-1).prod(0)
            return result.reshape((1,) * self.ndim) if keep else result
        a = _axes(axis, self.ndim, "prod")[0]
        part = self.swapaxes(a, 0) if a else self
        if part.shape[0] == 0:
            part = wrap(np.ones((1,) + part.shape[1:], self.dtype))
        while part.shape[0] > 1:
            half = part.shape[0] // 2
            paired = part[:half] * part[half:2 * half]
            part = cat([paired, part[2 * half:]]) if part.shape[0] % 2 else paired
        result = part.swapaxes(a, 0) if a else part
        return result if keep else result.squeeze(a)

    def norm(self, p: Any = "fro", dim: Axis = None, keepdim: bool = False) -> Tensor:
        """Vector norm over ``dim`` (all elements when None), as torch.linalg.vector_norm:
        p = 1, 2 ('fro'), inf, -inf or any other positive number. The gradient at 0 is 0, as
        PyTorch's."""
        axes = _axes(dim, self.ndim, "norm")
        if p == "fro":
            p = 2
        if isinstance(p, str) or p <= 0:
            raise ValueError(f"norm: p must be a positive number, inf, -inf or 'fro', got {p!r}")
        magnitude = self.abs()
        if p == np.inf:
            return magnitude.amax(axis=axes, keepdims=keepdim)
        if p == -np.inf:
            return magnitude.amin(axis=axes, keepdims=keepdim)
        if p == 1:
            return magnitude.sum(axis=axes, keepdims=keepdim)
        total = (magnitude**p).sum(axis=axes, keepdims=keepdim)
        # the root's derivative is infinite at 0: PyTorch defines the gradient there as 0
        safe = where(total.data > 0, total, 1.0)
        return where(total.data > 0, safe ** (1.0 / p), 0.0)

    def squeeze(self, dim: Axis = None, *, axis: Axis = None) -> Tensor:
        """Drop size-1 axes (all, or those named; a named axis of another size is kept, as in
        torch)."""
        axis = _dim_args("squeeze", dim, None, axis, None)[0]
        candidates = _axes(axis, self.ndim, "squeeze")
        return self.reshape(tuple(s for i, s in enumerate(self.shape)
                                  if not (i in candidates and s == 1)))

    def unsqueeze(self, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        axis = _dim_args("unsqueeze", dim, None, axis, None)[0]
        if axis is None:
            raise TypeError("unsqueeze: give the position of the new axis, e.g. x.unsqueeze(0)")
        position = _axis(axis, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:position] + (1,) + self.shape[position:])

    def flatten(self, start_dim: int | None = None, end_dim: int | None = None, *,
                start_axis: int | None = None, end_axis: int | None = None) -> Tensor:
        """Merge axes start..end into one (torch's ``start_dim``/``end_dim``, or
        ``start_axis``/``end_axis``)."""
        start_axis = _dim_args("flatten", start_dim, None, start_axis, None)[0]
        end_axis = _dim_args("flatten", end_dim, None, end_axis, None)[0]
        start_axis = 0 if start_axis is None else start_axis
        end_axis = -1 if end_axis is None else end_axis
        if self.ndim == 0:
            return self.reshape(1)
        start = _axis(start_axis, self.ndim, "flatten")
        end = _axis(end_axis, self.ndim, "flatten")
        if start > end:
            raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis} "
                             f"for shape {self.shape}")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1:])

    # elementwise, composed (PyTorch's names)

    def tan(self) -> Tensor:
        """sin / cos."""
        return self.sin() / self.cos()

    def sinh(self) -> Tensor:
        """(e^x - e^-x) / 2."""
        return (self.exp() - (-self).exp()) * 0.5

    def cosh(self) -> Tensor:
        """(e^x + e^-x) / 2."""
        return (self.exp() + (-self).exp()) * 0.5

    def log2(self) -> Tensor:
        return self.log() * (1.0 / np.log(2.0))

    def log10(self) -> Tensor:
        return self.log() * (1.0 / np.log(10.0))

    def square(self) -> Tensor:
        return self * self

    def pow(self, exponent: ArrayLike) -> Tensor:
        return self**exponent

    def add(self, other: ArrayLike, alpha: builtins.float = 1.0) -> Tensor:
        return self + (other if alpha == 1 else lift(self, other) * alpha)

    def sub(self, other: ArrayLike, alpha: builtins.float = 1.0) -> Tensor:
        return self - (other if alpha == 1 else lift(self, other) * alpha)

    def mul(self, other: ArrayLike) -> Tensor:
        return self * other

    def div(self, other: ArrayLike) -> Tensor:
        return self / other

    def logaddexp(self, other: ArrayLike) -> Tensor:
        """log(e^x + e^y), shifted by the (constant) larger input so exp never overflows."""
        y = lift(self, other)
        shift = np.maximum(self.data, y.data)
        shift = np.where(np.isfinite(shift), shift, 0.0)
        return ((self - shift).exp() + (y - shift).exp()).log() + shift

    def masked_fill(self, mask: ArrayLike, value: builtins.float) -> Tensor:
        """``value`` where ``mask`` is True, else x (the filled places get no gradient)."""
        m = np.asarray(_values(mask))
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill: the mask must be bool, got {m.dtype}")
        return where(m, lift(self, value), self)

    # movement, composed

    def t(self) -> Tensor:
        """Transpose a matrix (vectors and scalars are returned as they are), as torch.t."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dims, got shape {self.shape}; "
                             "use x.transpose(a, b) or x.mT")
        return self.T

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (batched matrix transpose)."""
        return self.swapaxes(-2, -1)

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def flip(self, *dims: int | Sequence[int]) -> Tensor:
        """Reverse the order of elements along ``dims``."""
        flat = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        axes = _axes(tuple(flat), self.ndim, "flip")
        return self[tuple(slice(None, None, -1) if i in axes else slice(None)
                          for i in range(self.ndim))]

    def roll(self, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None
             ) -> Tensor:
        """Shift elements along ``dims`` cyclically (over the flattened tensor when None)."""
        if dims is None:
            if not isinstance(shifts, numbers.Integral):
                raise TypeError("roll: without dims, shifts must be one int")
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shift_list = [shifts] if isinstance(shifts, numbers.Integral) else list(shifts)
        dim_list = [dims] if isinstance(dims, numbers.Integral) else list(dims)
        if len(shift_list) != len(dim_list):
            raise ValueError(f"roll: {len(shift_list)} shifts for {len(dim_list)} dims")
        x = self
        for shift, dim in zip(shift_list, dim_list):
            a = _axes(dim, x.ndim, "roll")[0]
            n = x.shape[a]
            k = int(shift) % n if n else 0
            if k:
                lead = (slice(None),) * a
                x = cat([x[lead + (slice(n - k, None),)], x[lead + (slice(0, n - k),)]], axis=a)
        return x

    def repeat(self, *sizes: int | Sequence[int]) -> Tensor:
        """Tile ``sizes[i]`` times along axis i, as torch.Tensor.repeat (numpy.tile)."""
        reps = _shape_arg(sizes, "repeat")
        if len(reps) < self.ndim:
            raise ValueError(f"repeat: {len(reps)} sizes for a tensor with {self.ndim} dims; "
                             "give at least one per dim (x.tile pads with 1s)")
        shape = (1,) * (len(reps) - self.ndim) + self.shape
        spread = self.reshape(tuple(d for s in shape for d in (1, s)))
        big = spread.expand(tuple(d for r, s in zip(reps, shape) for d in (r, s)))
        return big.reshape(tuple(r * s for r, s in zip(reps, shape)))

    def tile(self, *reps: int | Sequence[int]) -> Tensor:
        """numpy.tile / torch.tile: like repeat, with missing leading reps taken as 1."""
        counts = _shape_arg(reps, "tile")
        return self.repeat((1,) * (self.ndim - len(counts)) + counts)

    def split(self, split_size: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """torch.split: pieces of ``split_size`` along ``dim`` (the last smaller), or the given
        sizes. (numpy.split's int is the number of pieces: that is ``chunk``.)"""
        a = _axes(dim, self.ndim, "split")[0]
        n = self.shape[a]
        if isinstance(split_size, numbers.Integral):
            if split_size <= 0:
                raise ValueError(f"split: split size must be positive, got {split_size}")
            sizes = [min(int(split_size), n - i) for i in range(0, n, int(split_size))] or [0]
        else:
            sizes = [int(s) for s in split_size]
            if sum(sizes) != n:
                raise ValueError(f"split: sizes {sizes} sum to {sum(sizes)}, not the dim's "
                                 f"size {n}")
        pieces, start = [], 0
        for size in sizes:
            pieces.append(self[(slice(None),) * a + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """torch.chunk: at most ``chunks`` pieces of ceil(n / chunks) along ``dim``."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        n = self.shape[_axes(dim, self.ndim, "chunk")[0]]
        return self.split(max(-(-n // chunks), 1), dim)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """``length`` entries from ``start`` along ``dim`` (a view in torch, a slice here)."""
        a = _axes(dim, self.ndim, "narrow")[0]
        if start < 0:
            start += self.shape[a]
        if not 0 <= start <= start + length <= self.shape[a]:
            raise ValueError(f"narrow: start {start} + length {length} exceeds dim {a} of "
                             f"size {self.shape[a]}")
        return self[(slice(None),) * a + (slice(start, start + length),)]

    def tril(self, diagonal: int = 0) -> Tensor:
        """Zero above the ``diagonal``-th diagonal of the last two axes."""
        rows, cols = self.shape[-2:]
        return where(np.tri(rows, cols, diagonal, dtype=np.bool_), self, 0.0)

    def triu(self, diagonal: int = 0) -> Tensor:
        """Zero below the ``diagonal``-th diagonal of the last two axes."""
        rows, cols = self.shape[-2:]
        return where(~np.tri(rows, cols, diagonal - 1, dtype=np.bool_), self, 0.0)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The ``offset``-th diagonal of the (dim1, dim2) planes, as a new last axis (torch)."""
        a, b = _axes(dim1, self.ndim, "diagonal")[0], _axes(dim2, self.ndim, "diagonal")[0]
        if a == b:
            raise ValueError(f"diagonal: dim1 and dim2 are the same axis ({a})")
        rest = [i for i in range(self.ndim) if i not in (a, b)]
        rows, cols = _diagonal_index(self.shape[a], self.shape[b], offset)
        return self.permute(*rest, a, b)[(Ellipsis, rows, cols)]

    def diag(self, diagonal: int = 0) -> Tensor:
        """torch.diag: a vector becomes a square matrix with it on a diagonal; a matrix gives
        its diagonal."""
        if self.ndim == 2:
            return self.diagonal(diagonal)
        if self.ndim != 1:
            raise ValueError(f"diag: expected a vector or a matrix, got shape {self.shape}")
        n = self.shape[0] + builtins.abs(diagonal)
        rows, cols = _diagonal_index(n, n, diagonal)
        return ops.IndexAdd.apply(self, index=(rows, cols), shape=(n, n))

    def trace(self) -> Tensor:
        """The sum of the main diagonal of a matrix."""
        if self.ndim != 2:
            raise ValueError(f"trace: expected a matrix, got shape {self.shape}")
        return self.diagonal().sum()

    def gather(self, dim: int, index: ArrayLike) -> Tensor:
        """out[i][j] = x[index[i][j]][j] for dim=0 (torch.gather); the gradient scatters back."""
        idx = np.asarray(_values(index))
        if idx.dtype.kind not in "iu" or idx.ndim != self.ndim:
            raise ValueError(f"gather: index must be an integer array with {self.ndim} dims like "
                             f"the input, got dtype {idx.dtype} and shape {idx.shape}")
        grid = list(np.indices(idx.shape, sparse=True))
        grid[_axes(dim, self.ndim, "gather")[0]] = idx
        return self[tuple(grid)]

    def index_select(self, dim: int, index: ArrayLike) -> Tensor:
        """The entries ``index`` (a 1-D integer array) along ``dim``."""
        idx = np.asarray(_values(index))
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValueError(f"index_select: index must be a 1-D integer array, got dtype "
                             f"{idx.dtype} and shape {idx.shape}")
        return self[(slice(None),) * _axes(dim, self.ndim, "index_select")[0] + (idx,)]

    # products, composed

    def mm(self, other: Tensor) -> Tensor:
        if self.ndim != 2 or other.ndim != 2:
            raise ValueError(f"mm: expects two matrices, got shapes {self.shape} and "
                             f"{other.shape}; use matmul (@) for other ranks")
        return self @ other

    def mv(self, vector: Tensor) -> Tensor:
        if self.ndim != 2 or vector.ndim != 1:
            raise ValueError(f"mv: expects a matrix and a vector, got shapes {self.shape} and "
                             f"{vector.shape}")
        return self @ vector

    def outer(self, other: Tensor) -> Tensor:
        """x_i y_j for vectors x and y."""
        if self.ndim != 1 or other.ndim != 1:
            raise ValueError(f"outer: expected two vectors, got shapes {self.shape} and "
                             f"{other.shape}")
        return self.reshape(-1, 1) * other.reshape(1, -1)

    # ----------------------------------------------------------------------------------------
    # conversions and constructors PyTorch users type
    # ----------------------------------------------------------------------------------------

    def clone(self) -> Tensor:
        """A copy that stays in the graph (gradients flow back to this tensor)."""
        return self.copy()

    def contiguous(self) -> Tensor:
        return self

    def type_as(self, other: Tensor) -> Tensor:
        return self.astype(other.dtype)

    def long(self) -> Tensor:
        return self.astype(np.int64)

    def int(self) -> Tensor:
        return self.astype(np.int32)

    def bool(self) -> Tensor:
        return self.astype(np.bool_)

    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Tensor:
        """``to(dtype)``, ``to(other_tensor)`` or ``to("cpu")`` as torch.Tensor.to; every other
        device is an error (this library runs on NumPy, on the CPU)."""
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str) and a not in DTYPE_NAMES:
                device = a
            else:
                dtype = a
        check_device(device, "to")
        return self if dtype is None else self.astype(dtype)

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        check_device("cuda", "cuda")
        return self

    @property
    def device(self) -> str:
        return "cpu"

    def new_zeros(self, *size: int | Sequence[int], dtype: Any = None) -> Tensor:
        return zeros(_shape_arg(size), dtype=dtype or self.dtype)

    def new_ones(self, *size: int | Sequence[int], dtype: Any = None) -> Tensor:
        return ones(_shape_arg(size), dtype=dtype or self.dtype)

    def new_full(self, size: Sequence[int], fill_value: builtins.float, dtype: Any = None
                 ) -> Tensor:
        return full(size, fill_value, dtype=dtype or self.dtype)

    def new_tensor(self, data: ArrayLike, dtype: Any = None) -> Tensor:
        return Tensor(data, dtype=dtype or self.dtype)

    def register_hook(self, hook: Any) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient (torch.Tensor.register_hook). Returns a handle with ``remove()``."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does "
                               "not require grad")
        return autograd.register_hook(self, hook)

    # ----------------------------------------------------------------------------------------
    # in place (PyTorch's trailing underscore): every one bumps the version counter
    # ----------------------------------------------------------------------------------------

    @property
    def _version(self) -> builtins.int:
        """How many times this tensor was modified in place (as torch's ``_version``)."""
        versions = getattr(self, "_bumps", None)
        return 0 if versions is None else versions.count

    def _inplace(self, op: str, compute: Any) -> Tensor:
        return autograd.inplace(self, op, compute)

    def zero_(self) -> Tensor:
        return self._inplace("zero_", lambda x: wrap(np.zeros_like(x.data)))

    def fill_(self, value: builtins.float) -> Tensor:
        return self._inplace("fill_", lambda x: wrap(np.full_like(x.data, value)))

    def copy_(self, src: ArrayLike) -> Tensor:
        source = lift(self, src)
        return self._inplace("copy_", lambda x: source.expand(x.shape))

    def add_(self, other: ArrayLike, alpha: builtins.float = 1.0) -> Tensor:
        return self._inplace("add_", lambda x: x + (other if alpha == 1 else lift(x, other) *
                                                    alpha))

    def sub_(self, other: ArrayLike, alpha: builtins.float = 1.0) -> Tensor:
        return self._inplace("sub_", lambda x: x - (other if alpha == 1 else lift(x, other) *
                                                    alpha))

    def mul_(self, other: ArrayLike) -> Tensor:
        return self._inplace("mul_", lambda x: x * other)

    def div_(self, other: ArrayLike) -> Tensor:
        return self._inplace("div_", lambda x: x / other)

    def clamp_(self, min: builtins.float | None = None, max: builtins.float | None = None
               ) -> Tensor:
        return self._inplace("clamp_", lambda x: x.clip(min, max))

    def masked_fill_(self, mask: ArrayLike, value: builtins.float) -> Tensor:
        return self._inplace("masked_fill_", lambda x: x.masked_fill(mask, value))



# --------------------------------------------------------------------------------------------
# functions of several tensors (torch.where, torch.cat, ...)
# --------------------------------------------------------------------------------------------


def _as_tensor(x: ArrayLike) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _positive(a: np.ndarray) -> np.ndarray:
    return a > 0


def where(condition: ArrayLike, x: ArrayLike, y: ArrayLike) -> Tensor:
    """Elements of x where condition holds, else of y. The condition gets no gradient."""
    cond = np.asarray(_values(condition), dtype=bool)
    if isinstance(x, Tensor):
        y = lift(x, y)
    elif isinstance(y, Tensor):
        x = lift(y, x)
    else:
        x, y = _as_tensor(x), _as_tensor(y)
    return ops.Where.apply(x, y, cond=cond)


def maximum(x: ArrayLike, y: ArrayLike) -> Tensor:
    return x.maximum(y) if isinstance(x, Tensor) else _as_tensor(y).maximum(x)


def minimum(x: ArrayLike, y: ArrayLike) -> Tensor:
    return x.minimum(y) if isinstance(x, Tensor) else _as_tensor(y).minimum(x)


def cat(tensors: Sequence[ArrayLike], dim: int | None = None, *, axis: int | None = None
        ) -> Tensor:
    """Join tensors along an existing axis (torch.cat / numpy.concatenate)."""
    axis = _dim_args("cat", dim, None, axis, None)[0]
    axis = 0 if axis is None else axis
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


def stack(tensors: Sequence[ArrayLike], dim: int | None = None, *, axis: int | None = None
          ) -> Tensor:
    """Join tensors of the same shape along a new axis."""
    axis = _dim_args("stack", dim, None, axis, None)[0]
    axis = 0 if axis is None else axis
    if len(tensors) == 0:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    parts = [_as_tensor(t) for t in tensors]
    shapes = {t.shape for t in parts}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors need the same shape, got {sorted(shapes)}")
    position = _axis(axis, parts[0].ndim + 1, "stack")
    return cat([t.unsqueeze(position) for t in parts], axis=position)


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


def _dim_args(op: str, dim: Any, keepdim: bool | None, axis: Any,
              keepdims: bool | None) -> tuple[Any, bool]:
    """PyTorch's ``dim``/``keepdim`` or NumPy's ``axis``/``keepdims``: one spelling, not both."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: pass dim= (PyTorch) or axis= (NumPy), not both")
        axis = dim
    if keepdim is not None:
        if keepdims is not None:
            raise TypeError(f"{op}: pass keepdim= (PyTorch) or keepdims= (NumPy), not both")
        keepdims = keepdim
    if keepdims is None:
        return axis, False
    return axis, check_bool(keepdims, "keepdim" if keepdim is not None else "keepdims", op)


def _var_args(op: str, dim: Any, keepdim: bool | None, axis: Any, keepdims: bool | None,
              correction: int | None, unbiased: bool | None, ddof: int | None
              ) -> tuple[Any, bool, int]:
    """(axis, keepdims, ddof) for var/std: PyTorch's default correction is 1, NumPy's ddof 0."""
    given = [name for name, v in (("correction", correction), ("unbiased", unbiased),
                                  ("ddof", ddof)) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{op}: pass one of correction=, unbiased= or ddof=, not {given}")
    numpy_spelling = axis is not None or keepdims is not None
    axis, keep = _dim_args(op, dim, keepdim, axis, keepdims)
    if correction is not None:
        return axis, keep, int(correction)
    if unbiased is not None:
        return axis, keep, int(bool(unbiased))
    if ddof is not None:
        return axis, keep, int(ddof)
    return axis, keep, 0 if numpy_spelling else 1


class ValuesIndices(NamedTuple):
    """What ``max(dim)``/``min(dim)`` return, as torch.return_types.max: values and indices."""

    values: Tensor
    indices: Tensor


def _diagonal_index(rows: int, cols: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the ``offset``-th diagonal of a rows x cols matrix."""
    i = np.arange(max(0, -offset), min(rows, cols - offset)) if rows else np.arange(0)
    return i, i + offset


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
    return wrap(np.asarray(result))


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
        return wrap(np.asarray(fn(t.data, values)))
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


def normalize_index(index: Any, shape: Shape) -> tuple[Any, ...]:
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
    return _default_dtype if dtype is None else check_dtype(dtype, op)


def zeros(*shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    data = np.zeros(_shape_arg(shape, "zeros"), _float_dtype(dtype, "zeros"))
    return wrap(data).requires_grad_(requires_grad)


def ones(*shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False) -> Tensor:
    data = np.ones(_shape_arg(shape, "ones"), _float_dtype(dtype, "ones"))
    return wrap(data).requires_grad_(requires_grad)


def full(
    shape: Sequence[int], fill_value: float, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    size = _shape_arg(shape if isinstance(shape, (tuple, list)) else (shape,), "full")
    fill = _to_array(fill_value)
    fill = cast_checked(fill, _float_dtype(dtype, "full"), "full")
    return wrap(np.full(size, fill)).requires_grad_(requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    n, m = _shape_arg((n, n if m is None else m), "eye")
    return wrap(np.eye(n, m, dtype=_float_dtype(dtype, "eye"))).requires_grad_(requires_grad)


def randn(
    *shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False,
    generator: Any = None,
) -> Tensor:
    """Standard normal samples from ``generator`` (a seed or a NumPy Generator) or the
    library's seeded one."""
    rng = default_rng(generator)
    data = rng.standard_normal(_shape_arg(shape, "randn")).astype(_float_dtype(dtype, "randn"))
    return wrap(data).requires_grad_(requires_grad)


def rand(
    *shape: int | Sequence[int], dtype: Any = None, requires_grad: bool = False,
    generator: Any = None,
) -> Tensor:
    """Uniform samples in [0, 1)."""
    rng = default_rng(generator)
    data = rng.random(_shape_arg(shape, "rand")).astype(_float_dtype(dtype, "rand"))
    return wrap(data).requires_grad_(requires_grad)


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
    return wrap(data).requires_grad_(requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False,
               generator: Any = None) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad,
                 generator=generator)


def rand_like(t: Tensor, dtype: Any = None, requires_grad: bool = False,
              generator: Any = None) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad,
                generator=generator)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array``, keeping its dtype (torch.from_numpy)."""
    return Tensor.from_numpy(array)


def as_tensor(data: ArrayLike, dtype: Any = None) -> Tensor:
    """``data`` itself if it is already a tensor of that dtype; an ndarray is shared when no
    conversion is needed (torch.as_tensor); anything else is copied."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    same = dtype is None or check_dtype(dtype, "as_tensor") == data.dtype
    if isinstance(data, np.ndarray) and same:
        return Tensor.from_numpy(data)
    return Tensor(data, dtype=None if dtype is None else check_dtype(dtype, "as_tensor"))


def randint(low: int, high: int | None = None, size: Sequence[int] | None = None,
            generator: Any = None, dtype: Any = None) -> Tensor:
    """Integers uniform in [low, high) (int64), as torch.randint(low, high, size) or
    torch.randint(high, size)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: give the size, e.g. tg.randint(0, 10, (3,))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    data = default_rng(generator).integers(low, high, size=tuple(size))
    kind = np.int64 if dtype is None else check_dtype(dtype, "randint")
    return wrap(data.astype(kind))


def randperm(n: int, generator: Any = None) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    return wrap(default_rng(generator).permutation(n).astype(np.int64))


def linspace(start: float, end: float, steps: int, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from start to end, both included (torch.linspace)."""
    data = np.linspace(start, end, steps).astype(_float_dtype(dtype))
    return wrap(data).requires_grad_(requires_grad)


# The modules below need the Tensor class defined above (see docs/design.md, "import order").
from . import autograd, numpy_dispatch, ops  # noqa: E402
from .validation import check_bool, check_device  # noqa: E402
