"""Karpathy's ``cmp`` ("becoming a backprop ninja"): a hand-derived gradient against ``.grad``.

    loss = ...                      # a forward pass with named intermediates (Tensors)
    check.retain_grads(loss)        # every intermediate keeps its .grad, no retain_grad() each
    loss.backward()
    check.cmp("logprobs", dlogprobs, logprobs)
    logprobs        | exact: True  | approximate: True  | maxdiff: 0.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd import collect
from ..tensor import Tensor
from .diagnose import Diagnosis, activation_derivatives, diagnose


@dataclass
class CmpLine:
    """One ``cmp`` line: ``exact`` (every entry equal), ``approximate`` (``np.allclose`` with
    torch.allclose's defaults, rtol 1e-5 and atol 1e-8), ``maxdiff``, and when they differ the
    shapes or a diagnosis."""

    name: str
    exact: bool
    approximate: bool
    maxdiff: float | None
    shapes: tuple[tuple[int, ...], tuple[int, ...]]
    diagnosis: Diagnosis | None

    def __str__(self) -> str:
        if self.maxdiff is None:
            yours, true = self.shapes
            line = f"{self.name:15s} | shape: yours {yours} vs {true}"
        else:
            line = (f"{self.name:15s} | exact: {str(self.exact):5s} | approximate: "
                    f"{str(self.approximate):5s} | maxdiff: {self.maxdiff}")
        return line if self.diagnosis is None else f"{line} | {self.diagnosis.message}"


def cmp(name: str, manual: Any, tensor: Tensor | np.ndarray, *,
        verbose: bool = True) -> CmpLine:
    """Compare a hand-derived gradient with ``tensor.grad`` (or with an array), print the line
    (unless ``verbose=False``) and return it."""
    if isinstance(tensor, Tensor):
        if tensor.grad is None:
            raise ValueError(f"cmp({name!r}): the tensor has no .grad; before loss.backward() "
                             f"call check.retain_grads(loss) (or {name}.retain_grad()), and "
                             "make sure the loss depends on it")
        true = np.asarray(tensor.grad.data, np.float64)
        # a dropped activation derivative is one of the tensor's own value (hpre -> tanh)
        derivatives = activation_derivatives({name: np.asarray(tensor.data, np.float64)})
    else:
        true = np.asarray(tensor, np.float64)
        derivatives = {}
    yours = np.asarray(manual.data if isinstance(manual, Tensor) else manual, np.float64)
    if yours.shape != true.shape:
        result = CmpLine(name, False, False, None, (yours.shape, true.shape),
                            diagnose(yours, true, name=name))
    else:
        exact = bool(np.array_equal(yours, true))
        approximate = bool(np.allclose(yours, true, rtol=1e-5, atol=1e-8))
        maxdiff = float(np.max(np.abs(yours - true), initial=0.0))
        found = None if approximate else diagnose(yours, true, name=name,
                                                  derivatives=derivatives)
        result = CmpLine(name, exact, approximate, maxdiff, (yours.shape, true.shape), found)
    if verbose:
        print(result)
    return result


def retain_grads(*roots: Tensor) -> list[Tensor]:
    """Make every intermediate tensor that ``roots`` depend on keep its ``.grad`` after
    ``backward()`` (``retain_grad()`` on each), and return them in the order they were made."""
    _, intermediates = collect(list(roots))
    for t in intermediates:
        t.retain_grad()
    return intermediates
