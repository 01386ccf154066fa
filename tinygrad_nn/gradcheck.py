"""Gradient checking: analytic gradients against float64 central differences.

``gradcheck`` needs no PyTorch. It compares J^T v (one backward pass with a random, seeded
cotangent v) with the same product formed from central differences of <v, f(x)>, element by
element of every input, and reports the worst disagreement in words a person can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .autograd import grad, no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by gradcheck when an analytic gradient disagrees with the numerical one."""


@dataclass
class Mismatch:
    input_index: int
    element: tuple[int, ...]
    analytic: float
    numeric: float

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        """CS231n's relative error: |a - n| / max(1e-8, |a| + |n|)."""
        return self.abs_error / max(1e-8, abs(self.analytic) + abs(self.numeric))

    def __str__(self) -> str:
        return (f"input {self.input_index}, element {self.element}: analytic {self.analytic:.10g}"
                f" vs numeric {self.numeric:.10g} (abs error {self.abs_error:.3g}, "
                f"rel error {self.rel_error:.3g})")


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check d fn / d input for every input that requires grad, in float64.

    An element passes when |analytic - numeric| <= atol + rtol * |numeric|. On failure, raises
    GradcheckError listing the worst elements (or returns False with raise_exception=False).
    """
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; nothing to check")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; central differences "
                             "need float64 inputs (use .double())")
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    v = np.random.default_rng(seed).standard_normal(out.shape)
    if not out.requires_grad:
        analytic = [np.zeros(inputs[i].shape) for i in checked]
    else:
        grads = grad(out, [inputs[i] for i in checked], grad_outputs=v, allow_unused=True)
        analytic = [np.zeros(inputs[i].shape) if g is None else g.data for i, g in
                    zip(checked, grads)]

    def projected(t: Tensor) -> float:
        return float((v * t.data).sum())

    mismatches: list[Mismatch] = []
    with no_grad():
        for i, a in zip(checked, analytic):
            x = inputs[i].data
            if not x.flags.writeable or x.base is not None:
                raise ValueError(f"gradcheck: input {i} must own writable data (pass a copy)")
            for element in np.ndindex(x.shape):
                original = x[element]
                x[element] = original + eps
                plus = projected(fn(*inputs))
                x[element] = original - eps
                minus = projected(fn(*inputs))
                x[element] = original
                numeric = (plus - minus) / (2 * eps)
                analytic_value = float(a[element])
                if not abs(analytic_value - numeric) <= atol + rtol * abs(numeric):
                    mismatches.append(Mismatch(i, element, analytic_value, numeric))
    if not mismatches:
        return True
    if not raise_exception:
        return False
    worst = sorted(mismatches, key=lambda m: -m.abs_error)[:5]
    lines = "\n  ".join(str(m) for m in worst)
    raise GradcheckError(
        f"gradcheck: {len(mismatches)} element(s) of the gradient disagree with central "
        f"differences (eps={eps}, atol={atol}, rtol={rtol}); worst:\n  {lines}"
    )
