"""Gradient clipping, as ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``.

Both replace ``p.grad.data`` with a new array instead of scaling in place: gradient arrays may be
shared between tensors (or be views), and clipping one parameter must not change another.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``::

        total_norm = || (||g_1||_p, ..., ||g_n||_p) ||_p    (p = norm_type; inf: max |g|)
        g_i = g_i * min(1, max_norm / (total_norm + 1e-6))

    Returns the total norm BEFORE clipping, as a 0-d Tensor (as PyTorch). Parameters without a
    gradient are skipped; with none at all the norm is 0.
    """
    params = _with_grads(parameters)
    norm_type = float(norm_type)
    if not params:
        return Tensor(0.0)
    grads = [p.grad.data for p in params]
    dtype = np.result_type(*grads)
    per_param = np.array([np.linalg.norm(g.ravel(), ord=norm_type) for g in grads], dtype=dtype)
    # a 0-d array, not a NumPy scalar: Tensor() would treat a scalar as a Python float and give
    # it the default dtype
    total_norm = np.asarray(np.linalg.norm(per_param, ord=norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total_norm}, so they cannot be clipped; pass error_if_nonfinite=False to skip this"
        )
    coef = min(float(max_norm) / (float(total_norm) + 1e-6), 1.0)
    if coef < 1.0:
        # an infinite norm gives coef 0 and inf * 0 = nan gradients, as in PyTorch
        with np.errstate(invalid="ignore"):
            for p in params:
                p.grad.data = p.grad.data * p.grad.dtype.type(coef)
    return Tensor(total_norm)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``."""
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        p.grad.data = np.clip(p.grad.data, -clip_value, clip_value)
