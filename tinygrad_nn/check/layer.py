"""Check a learner's layer (CS231n's forward/backward pair) or loss function against autodiff.

The learner's own NumPy code runs three ways, always on float64 copies (their arrays are never
touched): on ndarrays for their gradients, on Tensors for autodiff's (NumPy's dispatch records
the graph, see numpy_dispatch.py), and on perturbed ndarrays for central differences. When the
forward cannot run on Tensors (an operation the engine cannot differentiate), the report says
so and compares with central differences only.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import numpy_dispatch
from ..autograd import grad
from ..tensor import Tensor
from .diagnose import activation_derivatives, diagnose
from .report import NUMERIC_RTOL, GradientCheck, Report, rel_error

H = 1e-5  # central differences' step (CS231n's); float64 keeps their error near 1e-10


def layer(forward: Callable[..., Any], backward: Callable[..., Any], *inputs: Any,
          dout: Any = None, seed: int = 0, numeric: int = 1000, **kwargs: Any) -> Report:
    """Check ``backward`` against autodiff of ``forward`` and central differences.

    CS231n's convention: ``out, cache = forward(*inputs, **kwargs)`` and ``grads =
    backward(dout, cache)``, a tuple aligned with ``inputs`` (a single array for one input;
    ``None`` for an input without gradient). Parameters that are not differentiated
    (``conv_param``, ``bn_param``, ``dropout_param`` with a fixed ``seed``) go in ``kwargs``.
    ``dout`` defaults to seeded standard normal noise; ``numeric`` caps the central differences
    per input (a seeded sample of entries beyond it; 0 turns them off); when autodiff cannot run
    the forward, every entry is differenced, as the only reference.

    >>> def scale_forward(x, w):
    ...     return x * w, (x, w)
    >>> def scale_backward(dout, cache):
    ...     x, w = cache
    ...     return dout * w, (dout * x).sum(axis=0)
    >>> layer(scale_forward, scale_backward, np.ones((4, 3)), np.ones(3)).ok
    True
    """
    what = f"check.layer({_name(forward)}, {_name(backward)})"
    names = _input_names(forward, len(inputs))
    arrays = [_float_input(what, names[i], x) for i, x in enumerate(inputs)]

    def run(*xs: Any) -> Any:
        return _split(what, _name(forward), forward(*xs, **copy.deepcopy(kwargs)), "out, cache")

    out, cache = run(*_copies(arrays))
    _check_deterministic(what, _name(forward), out, run(*_copies(arrays))[0])
    rng = np.random.default_rng(seed)
    if dout is None:
        dout = rng.standard_normal(np.shape(out))
    else:
        dout = _float_input(what, "dout", dout)
        if dout.shape != np.shape(out):
            raise ValueError(f"{what}: dout has shape {dout.shape} but the forward's output "
                             f"has shape {np.shape(out)}")
    manual = _gradients(what, _name(backward), backward(dout.copy(), cache), names, arrays)
    return _compare(
        f"{what}: {len(arrays)} input(s), float64, dout seed {seed}", arrays, names, manual,
        lambda *ts: run(*ts)[0], np.asarray(out, np.float64), dout, numeric, rng,
        _name(forward), outputs={"out": np.asarray(out, np.float64)})


def loss(f: Callable[..., Any], x: Any, y: Any, *, numeric: int = 1000, seed: int = 0,
         **kwargs: Any) -> Report:
    """Check a loss function written as CS231n's ``loss, dx = f(x, y, **kwargs)`` (softmax loss,
    SVM loss) against autodiff and central differences of ``loss`` with respect to ``x``."""
    what = f"check.loss({_name(f)})"
    x = _float_input(what, "x", x)
    labels = np.array(y, copy=True)

    def run(scores: Any) -> Any:
        return _split(what, _name(f), f(scores, labels.copy(), **copy.deepcopy(kwargs)),
                      "loss, dx")

    value, dx = run(x.copy())
    _check_deterministic(what, _name(f), value, run(x.copy())[0])
    if np.size(value) != 1:
        raise ValueError(f"{what}: {_name(f)} must return a scalar loss first, got shape "
                         f"{np.shape(value)}")
    manual = _gradients(what, _name(f), dx, ["x"], [x])
    return _compare(f"{what}: scores {x.shape}, float64", [x], ["x"], manual,
                    lambda t: run(t)[0], np.asarray(value, np.float64), np.ones(()),
                    numeric, np.random.default_rng(seed), _name(f), outputs={})


# --------------------------------------------------------------------------------------------
# the comparison both entry points share
# --------------------------------------------------------------------------------------------


def _compare(title: str, arrays: list[np.ndarray], names: list[str],
             manual: list[np.ndarray | None], value: Callable[..., Any], out: np.ndarray,
             dout: np.ndarray, numeric: int, rng: np.random.Generator, fname: str,
             outputs: dict[str, np.ndarray]) -> Report:
    notes: list[str] = []
    autodiff = _autodiff(value, arrays, out, dout, fname, notes)

    def objective(*xs: np.ndarray) -> float:
        return float(np.vdot(np.asarray(value(*xs), np.float64), dout))

    rows = []
    for i, (name, g) in enumerate(zip(names, manual)):
        if g is None:
            notes.append(f"the backward returned None for {name}: not checked")
            continue
        # without autodiff, central differences are the only reference: every entry
        limit = numeric if autodiff is not None else max(numeric, arrays[i].size)
        numbers, kinks = None, None
        if limit > 0:
            numbers, kinks = central_differences(objective, arrays, i, limit, rng)
        if numbers is not None and np.isnan(numbers).any():
            notes.append(f"d{name}: central differences on {np.sum(~np.isnan(numbers))} of "
                         f"{numbers.size} entries (seeded sample; numeric={numeric})")
        row = GradientCheck("d" + name, g, None if autodiff is None else autodiff[i], numbers,
                            kinks=kinks)
        excused = row.excused
        if excused is not None and excused.any():
            notes.append(f"d{name}: {int(excused.sum())} entries sit on a kink of the forward "
                         "(ReLU at 0, ties in a max), where the derivative is a convention; "
                         "yours is between the one-sided derivatives there, so it is accepted")
        rows.append(row)
    by_name = dict(zip(names, arrays))
    batch = arrays[0].shape[0] if arrays[0].ndim > 0 else None
    for r in rows:
        disagreement_note(r, notes)
        if not r.ok:
            true = r.autodiff if r.autodiff is not None else r.numeric
            excused = r.excused
            if excused is not None:  # right at its kinks: not what is wrong
                true = np.where(excused, r.manual, true)
            shaped = {n: a for n, a in by_name.items() if a.shape == true.shape}
            outs = {n: a for n, a in outputs.items() if a.shape == true.shape}
            r.diagnosis = diagnose(r.manual, true, name=r.name, batch=batch,
                                   derivatives=activation_derivatives(shaped, outs),
                                   kinks=shaped)
    return Report(title, rows, notes)


def _autodiff(value: Callable[..., Any], arrays: list[np.ndarray], out: np.ndarray,
              dout: np.ndarray, fname: str, notes: list[str]) -> list[np.ndarray] | None:
    """Autodiff's gradients of <value(*inputs), dout>, or None (and a note) when the learner's
    forward cannot run on Tensors."""
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    try:
        with numpy_dispatch.tracing():
            result = value(*tensors)
    except Exception as e:  # the learner's code: any failure means "no autodiff", said plainly
        cause = e.__cause__ if isinstance(e.__cause__, numpy_dispatch.NotDifferentiableError) \
            else e
        notes.append(f"autodiff could not run {fname} on Tensors ({type(cause).__name__}: "
                     f"{_first_line(cause)}); compared with central differences only")
        return None
    if not isinstance(result, Tensor):
        notes.append(f"{fname} returned {type(result).__name__}, not a Tensor, when given "
                     "Tensors: some step left the graph; compared with central differences only")
        return None
    if result.shape != out.shape or not np.allclose(result.data, out, rtol=1e-10, atol=1e-12):
        notes.append(f"{fname} computes different values on Tensors than on ndarrays; autodiff "
                     "is not used (compared with central differences only)")
        return None
    if not result.requires_grad:
        return [np.zeros_like(a) for a in arrays]
    grads = grad(result, tensors, grad_outputs=dout, allow_unused=True)
    return [np.zeros_like(a) if g is None else g.data for a, g in zip(arrays, grads)]


def central_differences(objective: Callable[..., float], arrays: list[np.ndarray], i: int,
                        limit: int, rng: np.random.Generator
                        ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Central differences of ``objective`` along input ``i`` (NaN at entries not sampled), and
    the one-sided derivatives (lo, hi) at the entries that sit on a kink (NaN elsewhere)."""
    x = arrays[i]
    result = np.full(x.shape, np.nan)
    count = x.size if x.size <= limit else limit
    picked = np.arange(x.size) if count == x.size else np.sort(rng.choice(x.size, count, False))
    left, right = np.full(x.shape, np.nan), np.full(x.shape, np.nan)
    center = objective(*_copies(arrays))
    for flat in picked:
        index = np.unravel_index(flat, x.shape)
        xs = _copies(arrays)
        xs[i][index] += H
        plus = objective(*xs)
        xs[i][index] -= 2 * H
        minus = objective(*xs)
        result[index] = (plus - minus) / (2 * H)
        left[index], right[index] = (center - minus) / H, (plus - center) / H
    # NOTE: on a smooth function the one-sided slopes differ by ~H * f'' (1e-5 times the
    # curvature); at a kink by the size of a gradient entry
    scale = float(np.nanmax(np.abs(result), initial=0.0))
    with np.errstate(invalid="ignore"):
        kink = np.abs(right - left) > 1e-3 * (np.abs(left) + np.abs(right) + scale)
    lo = np.where(kink, np.minimum(left, right), np.nan)
    hi = np.where(kink, np.maximum(left, right), np.nan)
    return result, (lo, hi)


def disagreement_note(r: GradientCheck, notes: list[str]) -> None:
    if r.autodiff is None or r.numeric is None or np.isnan(r.numeric).all():
        return
    scale = float(np.nanmax(np.abs(r.numeric), initial=0.0))
    error = rel_error(r.autodiff, r.numeric, floor=max(1e-8, 1e-4 * scale))
    if error > NUMERIC_RTOL:
        notes.append(f"{r.name}: autodiff and central differences disagree (relative error "
                     f"{error:.2e}): the forward is not smooth at these inputs (a kink such as "
                     "ReLU at 0, ties in a max) or not deterministic; the verdict uses autodiff")


# --------------------------------------------------------------------------------------------
# the learner's functions: call them, and say exactly what is wrong with what they return
# --------------------------------------------------------------------------------------------


def _name(f: Any) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else ""


def _input_names(forward: Callable[..., Any], count: int) -> list[str]:
    """The forward's parameter names (x, w, b), else input0, input1, ..."""
    try:
        params = [p.name for p in inspect.signature(forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return params[:count] + [f"input{i}" for i in range(len(params), count)]


def _float_input(what: str, name: str, x: Any) -> np.ndarray:
    """A float64 copy of an input (the learner's array is never touched)."""
    if isinstance(x, dict):
        raise TypeError(f"{what}: {name} is a dict; pass parameters that are not "
                        f"differentiated by keyword ({name}=...), the inputs are the arrays")
    array = np.array(x.data if isinstance(x, Tensor) else x, copy=True)
    if array.dtype.kind not in "f":
        raise TypeError(f"{what}: {name} has dtype {array.dtype}; gradients need float inputs "
                        f"(pass {name}.astype(float); integer labels go to check.loss)")
    return array.astype(np.float64)


def _copies(arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    return [a.copy() for a in arrays]


def _split(what: str, fname: str, result: Any, expected: str) -> tuple[Any, Any]:
    """``(out, cache)`` from a forward (or ``(loss, dx)`` from a loss), or a clear error."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        got = (f"a {type(result).__name__} of length {len(result)}"
               if isinstance(result, (tuple, list)) else type(result).__name__)
        raise TypeError(f"{what}: {fname} must return ({expected}), a pair; it returned {got}")
    first = result[0]
    if not isinstance(first, Tensor):
        values = np.asarray(first)
        if values.dtype.kind not in "fiu":
            raise TypeError(f"{what}: {fname} returned {type(first).__name__} as its "
                            f"{expected.split(',')[0]}, not an array of numbers")
    return result[0], result[1]


def _check_deterministic(what: str, fname: str, first: Any, second: Any) -> None:
    if not np.array_equal(np.asarray(first), np.asarray(second), equal_nan=True):
        raise ValueError(f"{what}: {fname} gives different outputs for the same inputs (random "
                         "without a fixed seed?); central differences need a deterministic "
                         "forward: fix its seed (e.g. dropout_param={'p': 0.5, 'mode': 'train', "
                         "'seed': 0})")


def _gradients(what: str, bname: str, returned: Any, names: list[str],
               arrays: list[np.ndarray]) -> list[np.ndarray | None]:
    """The backward's gradients, one per input, as float64 arrays; errors name the function,
    the input and what is wrong."""
    count = len(arrays)
    if count == 1 and not isinstance(returned, (tuple, list)):
        returned = (returned,)
    if not isinstance(returned, (tuple, list)):
        raise TypeError(f"{what}: {bname} must return a tuple of {count} gradients "
                        f"(d{', d'.join(names)}), one per input; it returned "
                        f"{type(returned).__name__}")
    if len(returned) != count:
        raise ValueError(f"{what}: {bname} returned {len(returned)} gradient(s) for "
                         f"{count} input(s) ({', '.join(names)}); return one per input, in "
                         "order (None for an input without gradient)")
    grads: list[np.ndarray | None] = []
    for name, g in zip(names, returned):
        if g is None:
            grads.append(None)
            continue
        array = np.asarray(g.data if isinstance(g, Tensor) else g)
        if array.dtype.kind not in "fiu":
            raise TypeError(f"{what}: {bname}'s gradient for {name} is {type(g).__name__} of "
                            f"dtype {array.dtype}, not an array of numbers")
        array = array.astype(np.float64)
        bad = ~np.isfinite(array)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"{what}: {bname} returned NaN or inf in the gradient for {name} "
                             f"at {int(bad.sum())} entries (first at {first})")
        grads.append(array)
    return grads
