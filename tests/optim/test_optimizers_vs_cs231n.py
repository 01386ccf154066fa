"""The optimizers against the CS231n update rules (tinygrad_nn.reference.cs231n), no PyTorch.

The conventions differ (CS231n keeps a velocity v = -lr * buffer; its Nesterov rule updates the
look-ahead point) but with a constant lr the trajectories are the same, which is what is pinned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import optim
from tinygrad_nn.reference import cs231n

STEPS = 30


def _gradient(w: np.ndarray) -> np.ndarray:
    """A gradient that depends on w, so a wrong update changes every later step."""
    return np.sin(3.0 * w) + 0.1 * w


CASES: list[tuple[Callable[..., Any], dict[str, Any], Callable[[list[tg.Tensor]], Any]]] = [
    (cs231n.sgd, {"learning_rate": 0.1}, lambda ps: optim.SGD(ps, lr=0.1)),
    (cs231n.sgd_momentum, {"learning_rate": 0.05, "momentum": 0.9},
     lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9)),
    (cs231n.sgd_nesterov, {"learning_rate": 0.05, "momentum": 0.9},
     lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True)),
    (cs231n.rmsprop, {"learning_rate": 0.01, "decay_rate": 0.9, "epsilon": 1e-8},
     lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9, eps=1e-8)),
    (cs231n.adam, {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-8},
     lambda ps: optim.Adam(ps, lr=0.05, betas=(0.8, 0.99), eps=1e-8)),
]


@pytest.mark.parametrize(("rule", "config", "make"), CASES, ids=[c[0].__name__ for c in CASES])
def test_same_trajectory_as_cs231n(rule: Callable[..., Any], config: dict[str, Any],
                                   make: Callable[[list[tg.Tensor]], Any]) -> None:
    w0 = np.random.default_rng(0).normal(size=(4, 3))
    w_ref, cfg = w0.copy(), dict(config)
    p = tg.Tensor(w0, requires_grad=True)
    opt = make([p])
    for _ in range(STEPS):
        w_ref, cfg = rule(w_ref, _gradient(w_ref), cfg)
        p.grad = tg.Tensor(_gradient(p.data))
        opt.step()
    assert not np.allclose(w_ref, w0)
    np.testing.assert_allclose(p.data, w_ref, rtol=1e-12, atol=1e-13)
