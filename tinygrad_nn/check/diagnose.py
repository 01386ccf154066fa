"""The likely cause of a wrong gradient, from the classic backprop bugs.

``diagnose(manual, true)`` compares a learner's gradient with the true one (autodiff's, or central
differences when autodiff is unavailable) and names the pattern: a constant factor (and whether
it is the batch size, 1/batch size, 2, 1/2 or -1), a transpose, a bias gradient not summed over
the batch, a missing (or extra) activation derivative, a few wrong entries, a wrong shape. Each
test is a least-squares fit or a reshaping followed by the same closeness test, so a pattern is
named only when it explains the learner's numbers to ~1e-6; otherwise the diagnosis says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

# A pattern "explains" the learner's gradient when it reproduces the true one this closely.
PATTERN_RTOL = 1e-6


@dataclass(frozen=True)
class Diagnosis:
    """``kind`` is a stable label (``"factor:batch"``, ``"transposed"``, ...) for programs and
    tests; ``message`` is the sentence for the learner."""

    kind: str
    message: str

    def __str__(self) -> str:
        return self.message


def close(a: np.ndarray, b: np.ndarray, rtol: float = PATTERN_RTOL) -> bool:
    """Same shape and |a - b| <= rtol * (|b| + 1e-3 max|b|) everywhere (max|b| = 0: exact)."""
    if a.shape != b.shape:
        return False
    scale = float(np.max(np.abs(b), initial=0.0))
    return bool(np.all(np.abs(a - b) <= rtol * (np.abs(b) + 1e-3 * scale) + 1e-300))


def activation_derivatives(named: Mapping[str, np.ndarray],
                           outputs: Mapping[str, np.ndarray] = {}) -> dict[str, np.ndarray]:
    """The derivatives a learner may have dropped, by description: sigmoid, tanh and ReLU of
    each named pre-activation (``x``, ``z``), and the same computed from each named output."""
    found = {}
    for name, v in named.items():
        s = 1.0 / (1.0 + np.exp(-v))
        found[f"sigmoid:σ'({name}) = σ({name})(1 - σ({name}))"] = s * (1.0 - s)
        found[f"tanh:1 - tanh({name})²"] = 1.0 - np.tanh(v) ** 2
        found[f"relu:the ReLU mask ({name} > 0)"] = (v > 0).astype(float)
    for name, a in outputs.items():
        found[f"sigmoid:σ' from the output, {name}(1 - {name})"] = a * (1.0 - a)
        found[f"tanh:1 - {name}² (tanh' from the output)"] = 1.0 - a ** 2
        found[f"relu:the ReLU mask ({name} > 0)"] = (a > 0).astype(float)
    return found


def diagnose(manual: np.ndarray, true: np.ndarray, *, name: str = "the gradient",
             batch: int | None = None,
             derivatives: Mapping[str, np.ndarray] | None = None,
             kinks: Mapping[str, np.ndarray] | None = None) -> Diagnosis:
    """Why ``manual`` differs from ``true``. ``batch`` is the batch size N (for factors N and
    1/N); ``derivatives`` maps ``"kind:description"`` to an activation derivative broadcastable
    to the gradient's shape (see ``activation_derivatives``); ``kinks`` maps a name to an array
    of the gradient's shape whose zeros are kinks (ReLU inputs), to explain a few wrong entries.
    """
    m = np.asarray(manual, dtype=np.float64)
    t = np.asarray(true, dtype=np.float64)
    if m.shape != t.shape:
        return _shape(m, t, name)
    if not np.any(m) and np.any(t):
        return Diagnosis("zero", f"{name} is all zeros; the true gradient is not (a gradient "
                                 "never written, or multiplied by a mask that is all False)")
    if m.ndim == 2 and m.shape[0] == m.shape[1] > 1 and close(m.T, t):
        return Diagnosis("transposed", f"{name} is the transpose of the true one: swap the "
                                       "operands' order (e.g. x.T @ dout rather than dout.T @ x)")
    found = _factor(m, t, name, batch)
    if found is not None:
        return found
    found = _activation(m, t, name, derivatives or {})
    if found is not None:
        return found
    return _entries(m, t, name, kinks or {})


# --------------------------------------------------------------------------------------------
# the patterns
# --------------------------------------------------------------------------------------------


def _shape(m: np.ndarray, t: np.ndarray, name: str) -> Diagnosis:
    if m.ndim == 2 and m.shape == t.shape[::-1] and close(m.T, t):
        return Diagnosis("transposed", f"{name} has shape {m.shape} and is the transpose of the "
                                       f"true one {t.shape}: swap the operands' order (e.g. "
                                       "x.T @ dout rather than dout.T @ x)")
    summed = _sum_to(m, t.shape)
    if summed is not None and close(summed, t):
        axes = _summed_axes(m.shape, t.shape)
        axis = axes[0] if len(axes) == 1 else axes
        return Diagnosis(
            "bias-not-summed",
            f"{name} has the broadcast shape {m.shape}, not {t.shape}: a parameter used for "
            f"every example gets the sum of their gradients; sum over axis {axis} "
            f"(e.g. db = dout.sum(axis={axis}))")
    if m.size == t.size and close(m.reshape(t.shape), t):
        return Diagnosis("shape", f"{name} has the right values in the wrong shape {m.shape}; "
                                  f"reshape it to the input's shape {t.shape}")
    return Diagnosis("shape", f"{name} has shape {m.shape} but its input has shape {t.shape}: "
                              "a gradient always has the shape of what it differentiates")


def _sum_to(m: np.ndarray, shape: tuple[int, ...]) -> np.ndarray | None:
    """``m`` summed over the axes broadcasting added or stretched, or None if it cannot be."""
    lead = m.ndim - len(shape)
    if lead < 0 or any(s != 1 and s != ms for s, ms in zip(shape, m.shape[lead:])):
        return None
    summed = m.sum(axis=tuple(range(lead))) if lead else m
    stretched = tuple(i for i, s in enumerate(shape) if s == 1 and summed.shape[i] != 1)
    return summed.sum(axis=stretched, keepdims=True) if stretched else summed


def _summed_axes(big: tuple[int, ...], small: tuple[int, ...]) -> tuple[int, ...]:
    lead = len(big) - len(small)
    return tuple(range(lead)) + tuple(lead + i for i, s in enumerate(small)
                                      if s == 1 and big[lead + i] != 1)


def _factor(m: np.ndarray, t: np.ndarray, name: str, batch: int | None) -> Diagnosis | None:
    """``manual = k * true`` for a constant k, and what k means."""
    tt = float(np.vdot(t, t))
    if tt == 0.0:
        return None
    k = float(np.vdot(m, t)) / tt  # least squares: manual ≈ k * true
    if k == 0.0 or not close(m, k * t):
        return None
    lead = f"{name} has the wrong sign and is" if k < 0 else f"{name} is"
    size = abs(k)
    n = batch if batch is not None and batch > 1 else None
    if np.isclose(k, 1.0, rtol=1e-6):
        return Diagnosis("rounding", f"{name} agrees with the true one to about 1e-6 but not "
                                     "to the tolerance: rounding error in a numerically "
                                     "unstable formula (subtracting nearly equal numbers?)")
    if np.isclose(size, 1.0, rtol=1e-6):
        return Diagnosis("factor:-1", f"{name} has the wrong sign (it is -1 times the true one): "
                                      "a subtraction the wrong way round, or the loss's sign")
    if n is not None and np.isclose(size, n, rtol=1e-6):
        return Diagnosis(f"factor:{'-' if k < 0 else ''}batch",
                         f"{lead} N = {n} (the batch size) times the true one: it "
                         "sums over the batch where the forward averages; divide by N")
    if n is not None and np.isclose(size, 1.0 / n, rtol=1e-6):
        return Diagnosis(f"factor:{'-' if k < 0 else ''}1/batch",
                         f"{lead} 1/N = 1/{n} (N the batch size) of the true one: "
                         "it averages over the batch where the forward sums; do not divide by N")
    if np.isclose(size, 2.0, rtol=1e-6):
        return Diagnosis(f"factor:{'-' if k < 0 else ''}2",
                         f"{lead} 2 times the true one: a missing ½ (the forward "
                         "has ½·x², whose derivative is x) or a term counted twice")
    if np.isclose(size, 0.5, rtol=1e-6):
        return Diagnosis(f"factor:{'-' if k < 0 else ''}1/2",
                         f"{lead} ½ of the true one: a missing factor 2 (the "
                         "derivative of x² is 2x)")
    return Diagnosis("factor", f"{name} is off by a constant factor: it is {k:.6g} times the "
                               "true one")


def _activation(m: np.ndarray, t: np.ndarray, name: str,
                derivatives: Mapping[str, np.ndarray]) -> Diagnosis | None:
    """true = manual * d (a dropped derivative) or manual = true * d (an extra one)."""
    for label, d in derivatives.items():
        try:
            d = np.broadcast_to(d, m.shape)
        except ValueError:
            continue
        if np.all(d == 1.0):
            continue
        kind, description = label.split(":", 1)
        if close(m * d, t):
            return Diagnosis(f"activation:{kind}",
                             f"{name} is missing an activation derivative: the true gradient is "
                             f"yours times {description}; multiply by it")
        if close(m, t * d):
            return Diagnosis(f"extra-activation:{kind}",
                             f"{name} has an activation derivative too many: yours is the true "
                             f"gradient times {description} (applied twice, or a cost whose "
                             "derivative already cancels it, as cross-entropy with a sigmoid)")
    return None


def _entries(m: np.ndarray, t: np.ndarray, name: str,
             kinks: Mapping[str, np.ndarray]) -> Diagnosis:
    scale = float(np.max(np.abs(t), initial=0.0))
    wrong = np.abs(m - t) > PATTERN_RTOL * (np.abs(t) + 1e-3 * scale) + 1e-300
    count, size = int(wrong.sum()), m.size
    where = [tuple(int(i) for i in ix) for ix in np.argwhere(wrong)[:4]]
    shown = ", ".join(str(w[0] if len(w) == 1 else w) for w in where)
    shown += ", ..." if count > len(where) else ""
    diff = float(np.max(np.abs(m - t), initial=0.0))
    if count <= max(1, size // 10):
        at_kink = [k for k, v in kinks.items()
                   if v.shape == m.shape and np.all(v[wrong] == 0.0)]
        why = (f"{', '.join(at_kink)} is exactly 0 there: a kink, where any value between "
               "the one-sided derivatives is right (for a ReLU, 0 or dout) and yours is "
               "neither" if at_kink else
               "typical of a mask or an index (a kink, ties in a max, an off-by-one)")
        return Diagnosis("entries", f"{name} is wrong at {count} of {size} entries ({shown}) "
                                    f"and right elsewhere: {why}")
    return Diagnosis("unknown", f"{name} is wrong at {count} of {size} entries (max abs "
                                f"difference {diff:.3g}) with none of the usual patterns (a "
                                "constant factor, a transpose, a missing activation derivative, "
                                "a few entries): re-derive it step by step (check.cmp)")
