"""Numerical gradients of the engine's loss: five-point central differences in float64."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autograd import no_grad
from ..nn.layers import LeakyReLU, ReLU
from ..nn.module import Module
from ..tensor import Tensor
from ..transfer import flat_layers
from .conventions import Convention

Array = np.ndarray


def _five_point(f: Callable[[], float], x: Array, ix: tuple[int, ...], h: float) -> float:
    """d f / d x[ix] = (8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h, x restored.

    NOTE: five points, not CS231n's two: the truncation error is O(h^4), so h can be large
    enough (1e-4) that rounding (~ eps |f| / h) stays near 1e-12 |f|; the two-point formula
    would need h ~ 1e-5 and round off near 1e-11 |f|.
    """
    old = x[ix]
    values = []
    for step in (2.0, 1.0, -1.0, -2.0):
        x[ix] = old + step * h
        values.append(f())
    x[ix] = old
    f_p2, f_p1, f_m1, f_m2 = values
    return (8.0 * (f_p1 - f_m1) - (f_p2 - f_m2)) / (12.0 * h)


def numeric_gradients(model: Module, convention: Convention, x: Array, targets: Array,
                      per_param: int, seed: int, h: float
                      ) -> tuple[dict[str, tuple[list[tuple[int, ...]], Array]], int]:
    """Numerical gradients of the engine loss in float64 at every entry, or at a seeded random
    subset of ``per_param`` entries of larger parameters: ({name: (indices, values)}, skipped).

    NOTE: an entry whose stencil moves some ReLU input across 0 is skipped (and counted): the
    difference quotient straddles the kink and is wrong by up to the jump in slope, while
    autodiff is right. This is CS231n's "kinks" caveat, detected instead of risked.
    ``model`` is a copy: it is converted to float64 and its parameters perturbed in place.
    """
    model64 = model.double()
    x_t = Tensor(x)
    rng = np.random.default_rng(seed)
    signs: list[Array] = []
    for _, layer in flat_layers(model64):
        if isinstance(layer, (ReLU, LeakyReLU)):
            layer.register_forward_pre_hook(lambda m, args: signs.append(args[0].data > 0))

    def evaluate() -> float:
        signs.clear()
        with no_grad():
            return float(convention.engine_loss(model64, model64(x_t), targets).data)

    evaluate()
    unperturbed = list(signs)
    crossed = False

    def loss() -> float:
        nonlocal crossed
        value = evaluate()
        crossed = crossed or any(not np.array_equal(a, b) for a, b in zip(signs, unperturbed))
        return value

    found, skipped = {}, 0
    for name, p in model64.named_parameters():
        if not p.requires_grad:
            continue
        if p.data.size <= per_param:
            flat = np.arange(p.data.size)
        else:
            flat = np.sort(rng.choice(p.data.size, per_param, replace=False))
        indices, values = [], []
        for k in flat:
            ix = tuple(int(i) for i in np.unravel_index(k, p.shape))
            crossed = False
            value = _five_point(loss, p.data, ix, h)
            if crossed:
                skipped += 1
            else:
                indices.append(ix)
                values.append(value)
        found[name] = (indices, np.array(values))
    return found, skipped
