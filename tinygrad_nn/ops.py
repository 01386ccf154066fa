"""The differentiable primitives: each op's forward and its vector-Jacobian product side by side.

Gradient formulas receive ``g`` (the gradient of the output), ``out`` (the output) and the
inputs. They are ndarrays on the fast path and Tensors when the backward pass is recorded
(``create_graph=True``), so the formulas use only what both types share: operators, ``.T``,
``.sum``, ``.reshape``, ``.swapaxes``, ``.astype``, indexing, and the few helpers just below.
The engine reduces broadcast gradients and casts dtypes (autograd.py), so formulas here may
return a gradient of the broadcast shape.

Everything not here (mean, var, logsumexp, leaky_relu, the other losses, ...) is composed from
these ops (tensor.py's "composed ops", nn/functional.py) and needs no gradient code of its own.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import threads
from .autograd import Function
from .tensor import Tensor, lift, wrap

# ============================================================================================
# helpers: the few places where ndarray and Tensor spell an operation differently
# ============================================================================================


def _exp(a):
    return a.exp() if isinstance(a, Tensor) else np.exp(a)


def _log(a):
    return a.log() if isinstance(a, Tensor) else np.log(a)


def _array(a):
    """The values, for computing masks: masks are piecewise constant, never differentiated."""
    return a.data if isinstance(a, Tensor) else a


def _broadcast_to(a, shape):
    if isinstance(a, Tensor):
        return a.expand(shape)
    # NOTE: a filled copy, not np.broadcast_to: that view costs ~2 us to make, which dominates
    # small reductions, and consumers of the gradient read every element anyway.
    out = np.empty(shape, dtype=a.dtype)
    out[...] = a
    return out


def _permute(a, axes):
    return a.permute(*axes) if isinstance(a, Tensor) else a.transpose(axes)


def _zero_where(mask, a):
    """``a`` with exact zeros where ``mask`` (multiplying by a mask would turn inf into nan)."""
    if isinstance(a, Tensor):
        return Where.apply(lift(a, 0.0), a, cond=mask)
    return np.where(mask, a.dtype.type(0), a)


def keepdims_shape(shape, axis):
    return tuple(1 if i in axis else s for i, s in enumerate(shape))


# ============================================================================================
# elementwise, binary
# ============================================================================================


class Add(Function):
    """d(x + y) = g, g"""

    def forward(self, x, y):
        return x + y

    def backward(self, g, out, x, y):
        return g, g


class Sub(Function):
    """d(x - y) = g, -g"""

    def forward(self, x, y):
        return x - y

    def backward(self, g, out, x, y):
        return g, (-g if self.needs_input_grad[1] else None)


class Mul(Function):
    """d(x * y) = g * y, g * x"""

    def forward(self, x, y):
        return x * y

    def backward(self, g, out, x, y):
        if x is y and self.needs_input_grad[0]:  # x * x: both terms are g * x (the engine
            gx = g * y                           # adds them), one product instead of two
            return gx, gx
        gx = g * y if self.needs_input_grad[0] else None
        gy = g * x if self.needs_input_grad[1] else None
        return gx, gy


class Div(Function):
    """d(x / y) = g / y, -g * x / y**2 (written with the output: -g * out / y)"""

    def forward(self, x, y):
        return x / y

    def backward(self, g, out, x, y):
        gx = g / y if self.needs_input_grad[0] else None
        gy = -g * out / y if self.needs_input_grad[1] else None
        return gx, gy


class Pow(Function):
    """d(x ** y) = g * y * x**(y - 1), g * x**y * log(x)

    At the edges PyTorch's choices: the x-gradient is 0 where y = 0 (x**0 is constant 1, even at
    x = 0 or nan), and the y-gradient is 0 where x = 0 and y >= 0 (0**y is constant 0 or 1 there),
    instead of the nan and -inf the formulas give."""

    def forward(self, x, y):
        return x**y

    def backward(self, g, out, x, y):
        xv, yv = _array(x), _array(y)
        gx = gy = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_input_grad[0]:
                gx = g * _zero_where(yv == 0, y * x ** (y - 1))
            if self.needs_input_grad[1]:
                gy = g * _zero_where((xv == 0) & (yv >= 0), out * _log(x))
        return gx, gy


class PowScalar(Function):
    """d (x ** c) = g * c * x**(c - 1) for a constant exponent c (NumPy's fast path for x ** 2)"""

    def forward(self, x, exponent):
        self.exponent = exponent
        return x**exponent

    def backward(self, g, out, x):
        c = self.exponent
        if c == 0:  # x**0 is the constant 1: gradient 0 everywhere, at x = 0 too (PyTorch)
            return g * 0.0 if isinstance(g, Tensor) else np.zeros_like(g)
        if c == 0.5:  # NumPy computes x**0.5 as sqrt: its gradient, from the output (-inf -> nan)
            return g / (2.0 * out)
        return g * c * x ** (c - 1)


class Maximum(Function):
    """d max(x, y): the gradient goes to the larger input; ties split it half and half (PyTorch)"""

    def forward(self, x, y):
        return np.maximum(x, y)

    def backward(self, g, out, x, y):
        return _tie_shares(g, _array(x), _array(y), self.needs_input_grad)


class Minimum(Function):
    """d min(x, y): the gradient goes to the smaller input; ties split it half and half (PyTorch)"""

    def forward(self, x, y):
        return np.minimum(x, y)

    def backward(self, g, out, x, y):
        return _tie_shares(g, _array(y), _array(x), self.needs_input_grad)


def _tie_shares(g, winner, loser, needs):
    """Maximum's gradient (Minimum's with the inputs swapped), PyTorch's rule: all of g to the
    winning input, half to each on a tie, and where a nan makes the pair unordered, all of g to
    both (each may be the one that made the output nan)."""
    tie = 0.5 * (winner == loser)
    gx = g * (1.0 - (winner < loser) - tie) if needs[0] else None
    gy = g * (1.0 - (winner > loser) - tie) if needs[1] else None
    return gx, gy


class Where(Function):
    """where(cond, x, y): d = g where cond, 0 elsewhere; and the reverse for y. cond is constant."""

    def forward(self, x, y, cond):
        self.cond = cond
        return np.where(cond, x, y)

    def backward(self, g, out, x, y):
        gx = g * self.cond if self.needs_input_grad[0] else None
        gy = g * ~self.cond if self.needs_input_grad[1] else None
        return gx, gy



# ============================================================================================
# elementwise, unary
# ============================================================================================


class Neg(Function):
    """d(-x) = -g"""

    def forward(self, x):
        return -x

    def backward(self, g, out, x):
        return -g


class Exp(Function):
    """d exp(x) = g * exp(x); the output is that exp, so nothing is saved"""

    def forward(self, x):
        return np.exp(x)

    def backward(self, g, out, x):
        return g * out


class Log(Function):
    """d log(x) = g / x"""

    def forward(self, x):
        return np.log(x)

    def backward(self, g, out, x):
        return g / x


class Sqrt(Function):
    """d sqrt(x) = g / (2 sqrt(x)), from the output"""

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, g, out, x):
        return g / (out * 2.0)


class Abs(Function):
    """d |x| = g * sign(x); abs'(0) = 0 as in PyTorch"""

    def forward(self, x):
        return np.abs(x)

    def backward(self, g, out, x):
        return g * np.nan_to_num(np.sign(_array(x)))  # sign(nan) -> 0, as PyTorch


class Tanh(Function):
    """d tanh(x) = g * (1 - tanh(x)**2), from the output"""

    def forward(self, x):
        return np.tanh(x)

    def backward(self, g, out, x):
        return g * (1.0 - out * out)


class Sigmoid(Function):
    """d sigmoid(x) = g * s * (1 - s) with s = sigmoid(x), the output"""

    def forward(self, x):
        if x.dtype.kind != "f":  # integers and bools: float64, as before
            x = x.astype(np.float64)
        return sigmoid_into(x, None, None)

    def backward(self, g, out, x):
        gx = g * out
        gx *= 1.0 - out  # in place on an ndarray; a Tensor (create_graph) rebinds
        return gx


def sigmoid_into(x, out, e):
    """sigmoid of a float array ``x`` into ``out``, with ``e`` as scratch (both like ``x``, or
    None for new arrays; tg.compile's replay passes its buffers). Under np.seterr(under="raise")
    the underflow exp(-1000) = 0 is the right answer, not an error."""
    try:
        return _sigmoid(x, out, e)
    except FloatingPointError:
        with np.errstate(under="ignore"):
            return _sigmoid(x, out, e)


def _sigmoid(x, out, e):
    """max(e, sign(x)) / (1 + e) with e = exp(-|x|): e / (1 + e) for x < 0, 1 / (1 + e) for
    x >= 0 (the numerator is exactly e or 1: e <= 1, and e = 1 at x = 0); exp(-|x|) never
    overflows, and nan stays nan (sign and maximum propagate it).

    NOTE: the form keeps full relative precision for x < 0, where 1/(1 + exp(-x)) overflows and
    0.5 + 0.5 tanh(x/2) cancels to 0 (float32 sigmoid(-20) would be 0 instead of 2.06e-9), in
    seven ufunc calls on same-dtype arrays and one exp: no np.where (slow with a scalar branch),
    no bool or Python-scalar operand where a mixed-type loop would be slow, no np.errstate (as
    costly as two ufuncs on small arrays); only an underflow to 0 can set a floating-point flag.
    """
    e = np.abs(x, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    out = np.sign(x, out=out)
    np.maximum(out, e, out=out)
    e += 1.0
    out /= e
    return out


class Relu(Function):
    """d relu(x) = g where x > 0, else 0 (relu'(0) = 0 as in PyTorch)"""

    def forward(self, x):
        return np.maximum(x, 0.0)

    def backward(self, g, out, x):
        return g * ~(_array(out) <= 0)  # not (out <= 0): a nan input passes g on (PyTorch)


class Clip(Function):
    """d clip(x, lo, hi) = g where lo <= x <= hi (bounds included, as torch.clamp), else 0"""

    def forward(self, x, lo, hi):
        self.lo, self.hi = lo, hi
        return np.clip(x, lo, hi)

    def backward(self, g, out, x):
        xv = _array(x)  # the mask is made here, not in forward: inference never pays for it
        inside = np.ones(xv.shape, dtype=bool)
        if self.lo is not None:
            inside &= xv >= self.lo
        if self.hi is not None:
            inside &= xv <= self.hi
        return g * inside


class Cast(Function):
    """Change dtype; the engine casts the gradient back to the input's dtype."""

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, g, out, x):
        return g


class Sin(Function):
    """d sin(x) = g * cos(x)"""

    def forward(self, x):
        return np.sin(x)

    def backward(self, g, out, x):
        return g * (x.cos() if isinstance(x, Tensor) else np.cos(x))


class Cos(Function):
    """d cos(x) = -g * sin(x)"""

    def forward(self, x):
        return np.cos(x)

    def backward(self, g, out, x):
        return -g * (x.sin() if isinstance(x, Tensor) else np.sin(x))


class Log1p(Function):
    """d log(1 + x) = g / (1 + x); exact for tiny x, where log(1 + x) rounds"""

    def forward(self, x):
        return np.log1p(x)

    def backward(self, g, out, x):
        return g / (x + 1.0)


class Expm1(Function):
    """d (exp(x) - 1) = g * exp(x) = g * (out + 1), from the output"""

    def forward(self, x):
        return np.expm1(x)

    def backward(self, g, out, x):
        return g * (out + 1.0)


_erf = np.frompyfunc(math.erf, 1, 1)  # NumPy has no erf; libm's is exact to rounding


class Erf(Function):
    """d erf(x) = g * 2/sqrt(pi) * exp(-x**2)"""

    def forward(self, x):
        return np.asarray(_erf(x), dtype=x.dtype)

    def backward(self, g, out, x):
        return g * (2.0 / math.sqrt(math.pi)) * _exp(-(x * x))


class Step(Function):
    """sign, floor, ceil, round: piecewise constant, so the gradient is 0 (as in PyTorch)"""

    def forward(self, x, fn):
        return fn(x)

    def backward(self, g, out, x):
        return g * 0.0


# ============================================================================================
# reductions
# ============================================================================================


class Sum(Function):
    """d sum(x, axis) = g broadcast back over the summed axes"""

    def forward(self, x, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims
        # NOTE: the ufunc's reduce, not x.sum(): one Python frame less (numpy's _methods)
        return np.asarray(np.add.reduce(x, axis=axis, keepdims=keepdims))

    def backward(self, g, out, x):
        if self.axis is not None and not self.keepdims:
            g = g.reshape(keepdims_shape(x.shape, self.axis))
        return _broadcast_to(g, x.shape)


class Max(Function):
    """d max(x, axis): g to the maxima; ties share it evenly (torch.amax / full torch.max)"""

    def forward(self, x, axis, keepdims):
        self.axis, self.kept = axis, keepdims_shape(x.shape, axis)
        return np.asarray(x.max(axis=axis, keepdims=keepdims))

    def backward(self, g, out, x):
        is_max = _array(x) == _array(out).reshape(self.kept)
        share = is_max / is_max.sum(axis=self.axis, keepdims=True)
        return g.reshape(self.kept) * share


class Softmax(Function):
    """d softmax(x) = s * (g - sum(g * s)) along the axis, s the output"""

    def forward(self, x, axis):
        self.axis = axis
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def backward(self, g, out, x):
        return out * (g - (g * out).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """d log_softmax(x) = g - softmax(x) * sum(g) along the axis; softmax = exp(output)"""

    def forward(self, x, axis):
        self.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(self, g, out, x):
        return g - _exp(out) * g.sum(axis=self.axis, keepdims=True)



class Cumsum(Function):
    """d cumsum(x, axis) = the reversed cumulative sum of g along the axis"""

    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x, axis=axis)

    def backward(self, g, out, x):
        if isinstance(g, Tensor):
            return g.flip(self.axis).cumsum(self.axis).flip(self.axis)
        return np.flip(np.cumsum(np.flip(g, self.axis), axis=self.axis), self.axis)


# ============================================================================================
# movement
# ============================================================================================


class Reshape(Function):
    """d reshape(x) = g reshaped back"""

    def forward(self, x, shape):
        return x.reshape(shape)

    def backward(self, g, out, x):
        return g.reshape(x.shape)


class Permute(Function):
    """d permute(x, axes) = g permuted by the inverse permutation"""

    def forward(self, x, axes):
        self.axes = axes
        return x.transpose(axes)

    def backward(self, g, out, x):
        return _permute(g, tuple(np.argsort(self.axes).tolist()))


class Expand(Function):
    """d broadcast_to(x, shape) = g summed over the broadcast axes (the engine's unbroadcast)"""

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, g, out, x):
        return g


class Getitem(Function):
    """d x[index] = g scattered back into zeros; repeated integer indices accumulate"""

    def forward(self, x, index):
        self.index = index
        return x[index]

    def backward(self, g, out, x):
        if isinstance(g, Tensor):
            return IndexAdd.apply(g, index=self.index, shape=x.shape)
        return IndexAdd().forward(g, self.index, x.shape)


class IndexAdd(Function):
    """zeros(shape) with g added at index (the adjoint of Getitem); d = g[index]"""

    def forward(self, g, index, shape):
        self.index = index
        result = np.zeros(shape, dtype=g.dtype)
        if any(isinstance(i, np.ndarray) for i in index):
            np.add.at(result, index, g)  # unbuffered: x[[0, 0]] must count twice
        else:
            result[index] = g  # basic indexing never repeats an element
        return result

    def backward(self, g, out, x):
        return g[self.index]


class Cat(Function):
    """d cat(xs, axis) = the matching slices of g"""

    def forward(self, *xs, axis):
        self.axis = axis
        return np.concatenate(xs, axis=axis)

    def backward(self, g, out, *xs):
        grads, start = [], 0
        for x, needed in zip(xs, self.needs_input_grad):
            stop = start + x.shape[self.axis]
            index = (slice(None),) * (self.axis % g.ndim) + (slice(start, stop),)
            grads.append(g[index] if needed else None)
            start = stop
        return tuple(grads)



# ============================================================================================
# matrix products
# ============================================================================================


class Matmul(Function):
    """d (x @ y) = g @ y^T, x^T @ g (vectors are promoted to matrices and back, as NumPy does)"""

    def forward(self, x, y):
        if x.ndim == 0 or y.ndim == 0:
            raise ValueError("matmul needs at least 1-D operands, got a 0-D (scalar) one")
        inner_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
        if x.shape[-1] != inner_y:
            raise ValueError(
                f"shapes {x.shape} and {y.shape} do not align ({x.shape[-1]} != {inner_y})"
            )
        threads.fit(x.size * (y.shape[-1] if y.ndim > 1 else 1))
        # NOTE: np.dot costs less than the matmul ufunc's dispatch for 2-D operands
        return np.dot(x, y) if x.ndim == 2 and y.ndim == 2 else x @ y

    def backward(self, g, out, x, y):
        # NOTE: math.prod, not np.prod (which makes an array of the shape: ~2 us); x may be a
        # Tensor here (create_graph), whose .size is a method
        threads.fit(math.prod(x.shape) * (y.shape[-1] if y.ndim > 1 else 1))
        if x.ndim == 2 and y.ndim == 2:  # the common case, without the promotions below
            if type(g) is np.ndarray:
                gx = np.dot(g, y.T) if self.needs_input_grad[0] else None
                gy = np.dot(x.T, g) if self.needs_input_grad[1] else None
                return gx, gy
            gx = g @ y.T if self.needs_input_grad[0] else None
            gy = x.T @ g if self.needs_input_grad[1] else None
            return gx, gy
        x2 = x.reshape(1, -1) if x.ndim == 1 else x
        y2 = y.reshape(-1, 1) if y.ndim == 1 else y
        if x.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1, g.shape[-1]) if y.ndim > 1 else (1, 1))
        if y.ndim == 1:
            g = g.reshape(g.shape + (1,))
        gx = gy = None
        if self.needs_input_grad[0]:
            gx = g @ y2.swapaxes(-1, -2)
            if x.ndim == 1:
                gx = gx.reshape(gx.shape[:-2] + (gx.shape[-1],))
        if self.needs_input_grad[1]:
            gy = x2.swapaxes(-1, -2) @ g
            if y.ndim == 1:
                gy = gy.reshape(gy.shape[:-1])
        return gx, gy


class Linear(Function):
    """x @ w.T + b fused (PyTorch's layout, w is (out, in)): d = g @ w, g^T @ x, sum of g

    One node instead of three (matmul, transpose, add) is what makes small batches fast.
    """

    def forward(self, x, w, b=None):
        if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
            raise ValueError(
                f"input {x.shape} does not match weight {w.shape} (expected an input of shape "
                "(..., in) and a weight of shape (out, in))"
            )
        threads.fit(x.size * w.shape[0])
        # NOTE: np.dot costs less than the matmul ufunc's dispatch for 2-D operands
        out = np.dot(x, w.T) if x.ndim == 2 else x @ w.T
        if b is None:
            return out
        if b.dtype == out.dtype:
            out += b  # the product is a fresh array: adding in place saves an allocation
            return out
        return out + b

    def backward(self, g, out, x, w, b=None):
        g2 = g if g.ndim == 2 else g.reshape(-1, g.shape[-1])  # rows: one per example
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        threads.fit(g2.shape[0] * w.shape[0] * w.shape[1])
        need = self.needs_input_grad
        if type(g) is np.ndarray:  # np.dot: less dispatch than @ (tg.compile makes the same calls)
            gx = (np.dot(g2, w).reshape(x.shape) if g.ndim != 2 else np.dot(g, w)) if need[0] \
                else None
            gw = np.dot(g2.T, x2) if need[1] else None
        else:  # recorded (create_graph): Tensor operators
            gx = g @ w if need[0] else None
            gw = g2.T @ x2 if need[1] else None
        if b is None:
            return gx, gw
        if not need[2]:
            return gx, gw, None
        gb = np.add.reduce(g2, axis=0) if type(g) is np.ndarray else g2.sum(axis=0)
        return gx, gw, gb


class Einsum(Function):
    """d einsum(spec, *xs) for input i = einsum(out, other inputs -> input i's subscripts) of g

    ``spec`` is explicit ("ij,jk->ik") with no ellipsis (functional.einsum spells it out).
    Subscripts that appear only in input i are summed over: their gradient is g broadcast, so a
    ones array of input i's shape carries them. A subscript repeated in input i (the diagonal, as
    in "ii->") is given a fresh letter and the result masked to that diagonal.
    """

    def forward(self, *xs, spec):
        # NOTE: np.einsum broadcasts a subscript of size 1 against any size, so "ij,jk" with
        # j = 3 and j = 1 would silently sum a different product; torch refuses it, and so do we
        sizes: dict[str, int] = {}
        for subscripts, x in zip(spec.split("->")[0].split(","), xs):
            for letter, size in zip(subscripts, x.shape):
                if sizes.setdefault(letter, size) != size:
                    raise ValueError(f"subscript {letter!r} has size {size} in one operand and "
                                     f"{sizes[letter]} in another ({spec!r})")
        self.spec = spec
        return np.asarray(np.einsum(spec, *xs))

    def backward(self, g, out, *xs):
        lhs, rhs = self.spec.split("->")
        subs = lhs.split(",")
        grads = []
        for i, (x, needed) in enumerate(zip(xs, self.needs_input_grad)):
            if not needed:
                grads.append(None)
                continue
            distinct, mask = _distinct_subscripts(subs[i], x.shape)
            others = [s for j, s in enumerate(subs) if j != i]
            operands = [g, *[xs[j] for j in range(len(xs)) if j != i]]
            spec = ",".join([rhs, *others, distinct]) + "->" + distinct
            operands.append(np.ones(x.shape, dtype=_array(x).dtype))
            grad = _einsum(spec, operands)
            grads.append(grad if mask is None else grad * mask)
        return tuple(grads)


def _distinct_subscripts(sub, shape):
    """Subscripts with repeats renamed (the diagonal "ii" -> "iA"), and the 0/1 diagonal mask."""
    if len(set(sub)) == len(sub):
        return sub, None
    free = iter(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in sub)
    renamed, first = [], {}
    mask = np.ones(shape, dtype=bool)
    grid = np.indices(shape, sparse=True)
    for k, c in enumerate(sub):
        if c in first:
            renamed.append(next(free))
            mask = mask & (grid[k] == grid[first[c]])
        else:
            first[c] = k
            renamed.append(c)
    return "".join(renamed), mask


def _einsum(spec, operands):
    if any(isinstance(o, Tensor) for o in operands):
        lifted = [o if isinstance(o, Tensor) else wrap(np.asarray(o))
                  for o in operands]
        return Einsum.apply(*lifted, spec=spec)
    return np.einsum(spec, *operands)


# ============================================================================================
# fused losses: one node instead of several, where small batches make per-node cost dominate
# ============================================================================================


class SquaredErrorSum(Function):
    """scale * sum((x - y)**2): d = 2 * scale * (x - y) * g, and its negation for y

    MSE and Nielsen's quadratic cost are this op with different scales; as one node it costs a
    quarter of sub, square, sum and scale recorded separately (nn.functional keeps the composed
    form, and the tests check one against the other).
    """

    def forward(self, x, y, scale):
        self.scale = scale
        diff = x - y
        return np.asarray(scale * np.vdot(diff, diff))

    def backward(self, g, out, x, y):
        gx = (g * (2.0 * self.scale)) * (x - y)
        return gx, (-gx if self.needs_input_grad[1] else None)


class CrossEntropy(Function):
    """Fused, stable softmax cross-entropy on logits x (N, C) with target distribution q:

        loss_i = -sum_c q_ic log_softmax(x)_ic,  q = (1 - eps) * target + eps / C

    d loss_i / dx_i = softmax(x_i) * sum_c q_ic - q_i;  d loss_i / d target_i = -(1 - eps) logp_i.
    The target is a one-hot of integer ``labels`` (not an input) or probabilities (input 1, so
    a probability target that requires grad gets its gradient, as in PyTorch).
    """

    def forward(self, x, probs=None, *, labels, smoothing, reduction):
        self.labels, self.smoothing, self.reduction = labels, smoothing, reduction
        shifted = x - x.max(axis=-1, keepdims=True)
        self.logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        if labels is not None:
            picked = np.take_along_axis(self.logp, labels[..., None], axis=-1)[..., 0]
            per_example = -(1.0 - smoothing) * picked
        else:
            per_example = -(1.0 - smoothing) * (probs * self.logp).sum(axis=-1)
        if smoothing:
            per_example = per_example - smoothing * self.logp.mean(axis=-1)
        if reduction == "none":
            return per_example
        total = per_example.sum()
        return np.asarray(total / per_example.size if reduction == "mean" else total,
                          dtype=x.dtype)

    def _target(self, probs, like):
        """q, the smoothed target distribution, as an ndarray or (for probs) a Tensor."""
        classes = like.shape[-1]
        if self.labels is not None:
            onehot = np.zeros(like.shape, dtype=like.dtype)
            np.put_along_axis(onehot, self.labels[..., None], 1.0, axis=-1)
            q = onehot
        else:
            q = probs
        if self.smoothing:
            q = q * (1.0 - self.smoothing) + self.smoothing / classes
        return q

    def backward(self, g, out, x, probs=None):
        # NOTE: when the backward pass is recorded (create_graph), log-softmax is recomputed as a
        # Tensor op so that second derivatives see its dependence on x; the saved array would not.
        logp = x.log_softmax(-1) if isinstance(x, Tensor) else self.logp
        count = int(np.prod(x.shape[:-1]))
        if self.reduction == "none":
            g = g.reshape(tuple(x.shape[:-1]) + (1,))
        elif self.reduction == "mean":
            g = g * (1.0 / count)
        q = self._target(probs, self.logp)
        gx = None
        if self.needs_input_grad[0]:
            gx = g * (_exp(logp) * q.sum(axis=-1, keepdims=True) - q)
        if probs is None:
            return gx
        gp = g * logp * (self.smoothing - 1.0) if self.needs_input_grad[1] else None
        return gx, gp


# ============================================================================================
# convolution and pooling (NCHW, PyTorch's layouts; issue #17)
# ============================================================================================
#
# One geometry, three linear maps. For x (N, C, H, W) and a weight w (O, C/groups, kh, kw):
#
#   conv(x, w)[n, o, i, j] = sum_{c, p, q} x_pad[n, c, i*sh + p*dh, j*sw + q*dw] * w[o, c, p, q]
#
# (a cross-correlation, within each group). It is bilinear in (x, w), so its VJP is two more
# linear maps, and each of the three has the other two as its own VJP:
#
#   conv_transpose(g, w) = the adjoint of x -> conv(x, w): d/dx <g, conv(x, w)>
#   conv_weight(x, g)    = the adjoint of w -> conv(x, w): d/dw <g, conv(x, w)>
#
# Higher derivatives therefore never leave these three ops. The kernels are im2col + one GEMM:
# ``_windows`` is a read-only strided view (N, C, oh, ow, kh, kw) of the padded input (no copy);
# ``_im2col``'s reshape makes the one copy (the "col" matrix); ``_col2im`` adds columns back into
# an image with one strided add per kernel offset (kh * kw adds, never a loop over pixels).


class ConvGeometry(NamedTuple):
    """stride, padding, dilation as (height, width) pairs, groups, and the input's (H, W)."""

    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    in_hw: tuple[int, int]

    def out_hw(self, kernel):
        return tuple(
            (size + 2 * pad - dil * (k - 1) - 1) // st + 1
            for size, pad, dil, k, st in zip(self.in_hw, self.padding, self.dilation, kernel,
                                             self.stride)
        )


def _pad(x, padding, value=0.0):
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _windows(xp, kernel, geo, writeable=False):
    """A view (N, C, oh, ow, kh, kw) of the padded input: every window, no copy. Read-only
    unless asked: overlapping windows share elements."""
    n, c = xp.shape[:2]
    oh, ow = geo.out_hw(kernel)
    s_n, s_c, s_h, s_w = xp.strides
    (sh, sw), (dh, dw) = geo.stride, geo.dilation
    return np.lib.stride_tricks.as_strided(
        xp, shape=(n, c, oh, ow, kernel[0], kernel[1]),
        strides=(s_n, s_c, s_h * sh, s_w * sw, s_h * dh, s_w * dw), writeable=writeable)


def _col2im(cols, shape, geo):
    """The adjoint of ``_windows``: add cols (C, kh, kw, oh, ow, N) back into an (N, C, H, W)
    image, overlapping windows accumulating. One strided add per kernel offset.

    NOTE: the image is accumulated as (C, H, W, N) and returned as a transposed view: with the
    batch axis innermost each add runs over whole (ow, N) blocks, not short rows of ow."""
    n, c, h, w = shape
    _, kh, kw, oh, ow, _ = cols.shape
    (sh, sw), (dh, dw), (ph, pw) = geo.stride, geo.dilation, geo.padding
    image = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=cols.dtype)
    for p in range(kh):
        for q in range(kw):
            image[:, p * dh: p * dh + sh * (oh - 1) + 1: sh,
                  q * dw: q * dw + sw * (ow - 1) + 1: sw] += cols[:, p, q]
    return image[:, ph: ph + h, pw: pw + w].transpose(3, 0, 1, 2)


def _im2col(x, kernel, geo):
    """The col matrices, one per group: (groups, C/groups * kh * kw, N * oh * ow).

    NOTE: this layout (CS231n's) copies whole output rows (runs of ow) at a time and makes the
    GEMMs' results land with the spatial axes innermost; rows of (kh * kw) runs are ~2x slower."""
    win = _windows(_pad(x, geo.padding), kernel, geo)
    n, c, oh, ow, kh, kw = win.shape
    g = geo.groups
    win = win.reshape(n, g, c // g, oh, ow, kh, kw).transpose(1, 2, 5, 6, 0, 3, 4)
    return win.reshape(g, (c // g) * kh * kw, n * oh * ow)


def _columns(y, groups):
    """An output-shaped (N, O, oh, ow) array as GEMM columns: (groups, O/groups, N * oh * ow)."""
    n, o, oh, ow = y.shape
    return y.reshape(n, groups, o // groups, oh * ow).transpose(1, 2, 0, 3).reshape(
        groups, o // groups, n * oh * ow)


def conv_kernel(x, w, geo, cols=None):
    n = x.shape[0]
    o, _, kh, kw = w.shape
    oh, ow = geo.out_hw((kh, kw))
    g = geo.groups
    if cols is None:
        cols = _im2col(x, (kh, kw), geo)
    out = w.reshape(g, o // g, -1) @ cols  # (g, O/g, N*oh*ow)
    # (N, O, oh, ow) as a view: O's two factors stay adjacent in memory, so no copy is needed
    return out.reshape(o, n, oh, ow).transpose(1, 0, 2, 3)


def _conv_transpose_kernel(g, w, geo, x_shape):
    groups = geo.groups
    n, o, oh, ow = g.shape
    kh, kw = w.shape[2:]
    # g's columns ordered (oh, ow, N), so that W^T @ G comes out as _col2im wants it
    g_cols = g.reshape(n, groups, o // groups, oh * ow).transpose(1, 2, 3, 0).reshape(
        groups, o // groups, oh * ow * n)
    cols = w.reshape(groups, o // groups, -1).transpose(0, 2, 1) @ g_cols
    return _col2im(cols.reshape(x_shape[1], kh, kw, oh, ow, n), x_shape, geo)


def _conv_weight_kernel(x, g, geo, w_shape, cols=None):
    if cols is None:
        cols = _im2col(x, w_shape[2:], geo)
    return (_columns(g, geo.groups) @ cols.transpose(0, 2, 1)).reshape(w_shape)


def _conv(x, w, geo):
    if isinstance(x, Tensor):
        return Conv2d.apply(x, w, geometry=geo)
    return conv_kernel(x, w, geo)


def _conv_transpose(g, w, geo, x_shape):
    if isinstance(g, Tensor):
        return ConvTranspose2d.apply(g, w, geometry=geo, x_shape=x_shape)
    return _conv_transpose_kernel(g, w, geo, x_shape)


def _conv_weight(x, g, geo, w_shape):
    if isinstance(x, Tensor):
        return Conv2dWeight.apply(x, g, geometry=geo, w_shape=w_shape)
    return _conv_weight_kernel(x, g, geo, w_shape)


class Conv2d(Function):
    """y = conv(x, w) + b (cross-correlation, PyTorch's conv2d; NCHW, w (O, C/groups, kh, kw)).

    Forward: Y = W @ cols, with W the weight as an (O, C*kh*kw) matrix and cols = im2col(x)
    (C*kh*kw, N*oh*ow), one column per window (with groups: one such product per group).

    VJP, with g = dL/dy and G its (O, N*oh*ow) matrix:
      dL/dx[n, c, h, w] = sum, over the windows (i, j) and offsets (p, q) that read x[n, c, h, w],
              of g[n, o, i, j] w[o, c, p, q]: the transposed convolution conv_transpose(g, w)
              = col2im(W^T @ G), each column added back at its window;
      dL/dw[o, c, p, q] = sum_{n,i,j} g[n, o, i, j] x_pad[n, c, i*sh + p*dh, j*sw + q*dw]:
              the correlation of the input with the output gradient, = G @ cols^T;
      dL/db[o] = sum_{n,i,j} g[n, o, i, j].
    """


    def forward(self, x, w, b=None, *, geometry):
        self.geometry = geometry
        # NOTE: the col matrix is kept for the weight gradient: rebuilding it costs as much as
        # the forward's copy; it is the one large thing saved (C/groups*kh*kw per output pixel).
        self.cols = _im2col(x, w.shape[2:], geometry)
        out = conv_kernel(x, w, geometry, self.cols)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out

    def backward(self, g, out, x, w, b=None):
        geo = self.geometry
        needs = self.needs_input_grad
        gx = _conv_transpose(g, w, geo, x.shape) if needs[0] else None
        gw = None
        if needs[1]:
            if isinstance(g, Tensor):
                gw = _conv_weight(x, g, geo, w.shape)
            else:
                gw = _conv_weight_kernel(x, g, geo, w.shape, self.cols)
        if b is None:
            return gx, gw
        return gx, gw, (g.sum(axis=(0, 2, 3)) if needs[2] else None)


class ConvTranspose2d(Function):
    """z = conv_transpose(g, w), the adjoint of x -> conv(x, w) (the input gradient of Conv2d).

    <conv_transpose(g, w), v> = <g, conv(v, w)>, so with u = dL/dz:
      dL/dg = conv(u, w);   dL/dw = conv_weight(u, g).
    """


    def forward(self, g, w, *, geometry, x_shape):
        self.geometry = geometry
        return _conv_transpose_kernel(g, w, geometry, x_shape)

    def backward(self, u, out, g, w):
        geo = self.geometry
        gg = _conv(u, w, geo) if self.needs_input_grad[0] else None
        gw = _conv_weight(u, g, geo, w.shape) if self.needs_input_grad[1] else None
        return gg, gw


class Conv2dWeight(Function):
    """v = conv_weight(x, g), the adjoint of w -> conv(x, w) (the weight gradient of Conv2d).

    <conv_weight(x, g), u> = <g, conv(x, u)>, so with u = dL/dv:
      dL/dx = conv_transpose(g, u);   dL/dg = conv(x, u).
    """


    def forward(self, x, g, *, geometry, w_shape):
        self.geometry = geometry
        return _conv_weight_kernel(x, g, geometry, w_shape)

    def backward(self, u, out, x, g):
        geo = self.geometry
        gx = _conv_transpose(g, u, geo, x.shape) if self.needs_input_grad[0] else None
        gg = _conv(x, u, geo) if self.needs_input_grad[1] else None
        return gx, gg


def _unfold_kernel(x, kernel, geo):
    win = _windows(_pad(x, geo.padding), kernel, geo)
    n, c, oh, ow, kh, kw = win.shape
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)


def _fold_kernel(cols, kernel, geo):
    n = cols.shape[0]
    kh, kw = kernel
    oh, ow = geo.out_hw(kernel)
    c = cols.shape[1] // (kh * kw)
    blocks = cols.reshape(n, c, kh, kw, oh, ow).transpose(1, 2, 3, 4, 5, 0)
    return _col2im(blocks, (n, c) + geo.in_hw, geo)


class Unfold(Function):
    """im2col (torch.nn.functional.unfold): (N, C, H, W) -> (N, C*kh*kw, L), every window as a
    column. Linear; its VJP is Fold (col2im: each column added back at its window)."""


    def forward(self, x, *, kernel, geometry):
        self.kernel, self.geometry = kernel, geometry
        return _unfold_kernel(x, kernel, geometry)

    def backward(self, g, out, x):
        if isinstance(g, Tensor):
            return Fold.apply(g, kernel=self.kernel, geometry=self.geometry)
        return _fold_kernel(g, self.kernel, self.geometry)


class Fold(Function):
    """col2im (torch.nn.functional.fold): (N, C*kh*kw, L) -> (N, C, H, W), overlapping columns
    summed. Linear, the adjoint of Unfold; its VJP is Unfold."""


    def forward(self, cols, *, kernel, geometry):
        self.kernel, self.geometry = kernel, geometry
        return _fold_kernel(cols, kernel, geometry)

    def backward(self, g, out, cols):
        if isinstance(g, Tensor):
            return Unfold.apply(g, kernel=self.kernel, geometry=self.geometry)
        return _unfold_kernel(g, self.kernel, self.geometry)


class MaxPool2d(Function):
    """y[n, c, i, j] = max over the window of x (padding counts as -inf).

    VJP: each g[n, c, i, j] goes to the ONE input element that was the window's maximum; on ties
    the first in row-major window order, as PyTorch's CPU kernel (a NaN wins: the last). Windows
    that overlap (stride < kernel) add their gradients. Forward saves the flat input index of
    every maximum; the VJP is a scatter-add at those indices, i.e. IndexAdd, whose own VJP is the
    gather at the same indices (so double backward is the gather)."""


    def forward(self, x, *, kernel, geometry):
        self.kernel, self.geometry, self.x_shape = kernel, geometry, x.shape
        win = _windows(_pad(x, geometry.padding, -np.inf), kernel, geometry)
        # A running maximum over the kernel offsets in row-major order: a later element wins
        # only if strictly greater (ties keep the first, as PyTorch) or NaN (PyTorch's kernel
        # takes `val > max || isnan(val)`, so the last NaN). kh*kw passes over the output,
        # never a loop over pixels.
        out = win[:, :, :, :, 0, 0].copy()
        arg = np.zeros(out.shape, dtype=np.int16)
        for k in range(1, kernel[0] * kernel[1]):
            candidate = win[:, :, :, :, k // kernel[1], k % kernel[1]]
            better = candidate > out
            better |= candidate != candidate
            np.copyto(out, candidate, where=better)
            np.putmask(arg, better, k)
        self.arg = arg
        return out

    def _flat_index(self):
        """The flat index into x of every window's maximum (for the scatter and the gather)."""
        n, c, h, w = self.x_shape
        (sh, sw), (ph, pw), (dh, dw) = (self.geometry.stride, self.geometry.padding,
                                        self.geometry.dilation)
        arg, kw = self.arg.astype(np.intp), self.kernel[1]
        oh, ow = arg.shape[2:]
        rows = np.arange(oh)[:, None] * sh - ph + (arg // kw) * dh
        cols = np.arange(ow) * sw - pw + (arg % kw) * dw
        base = (np.arange(n * c) * (h * w)).reshape(n, c, 1, 1)
        return (base + rows * w + cols).reshape(-1)

    def backward(self, g, out, x):
        if isinstance(g, Tensor):
            size = int(np.prod(x.shape))
            flat = IndexAdd.apply(g.reshape(-1), index=(self._flat_index(),), shape=(size,))
            return flat.reshape(x.shape)
        kh, kw = self.kernel
        geo = self.geometry
        (ph, pw), n, c, h, w = geo.padding, *self.x_shape
        # the gradient image as (C, H, W, N), like _col2im: each offset's writes are blocks
        image = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=g.dtype)
        target = _windows(image.transpose(3, 0, 1, 2), self.kernel, geo, writeable=True)
        g_t, arg_t = g.transpose(1, 2, 3, 0), self.arg.transpose(1, 2, 3, 0)
        overlap = any(s < d * (k - 1) + 1 for s, d, k in zip(geo.stride, geo.dilation, (kh, kw)))
        for k in range(kh * kw):
            view = target[:, :, :, :, k // kw, k % kw].transpose(1, 2, 3, 0)
            # NOTE: one offset's view never repeats an element, so these writes are safe
            if overlap:  # another window may have picked the same element: accumulate
                view += g_t * (arg_t == k)
            else:  # windows are disjoint: each element receives from at most one
                np.copyto(view, g_t, where=arg_t == k)
        return image[:, ph: ph + h, pw: pw + w].transpose(3, 0, 1, 2)
