"""optim.lr_scheduler (issue #12): each scheduler's lr sequence equals torch's, float for float."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import optim

torch = pytest.importorskip("torch")
TS = torch.optim.lr_scheduler


def _lrs(make_opt, make_sched, steps, momentum_key=None):
    opt = make_opt()
    sched = make_sched(opt)
    lrs, moms = [], []
    for _ in range(steps):
        lrs.append([g["lr"] for g in opt.param_groups])
        if momentum_key:
            moms.append([g[momentum_key] if momentum_key == "momentum" else g["betas"][0]
                         for g in opt.param_groups])
        opt.step()
        sched.step()
    return lrs, moms


def _ours(kind, **options):
    return lambda: kind([{"params": [tg.zeros(2, requires_grad=True)], "lr": 0.1},
                         {"params": [tg.zeros(1, requires_grad=True)], "lr": 0.02}], **options)


def _theirs(kind, **options):
    return lambda: kind([{"params": [torch.zeros(2, requires_grad=True)], "lr": 0.1},
                         {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.02}], **options)


CASES = {
    "LambdaLR": (lambda o: optim.lr_scheduler.LambdaLR(o, lambda e: 0.9**e + 0.1 * (e % 3)),
                 lambda o: TS.LambdaLR(o, lambda e: 0.9**e + 0.1 * (e % 3))),
    "LambdaLR_per_group": (lambda o: optim.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 2.0]),
                           lambda o: TS.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 2.0])),
    "MultiStepLR": (lambda o: optim.lr_scheduler.MultiStepLR(o, [2, 5, 5, 9], gamma=0.3),
                    lambda o: TS.MultiStepLR(o, [2, 5, 5, 9], gamma=0.3)),
    "LinearLR": (lambda o: optim.lr_scheduler.LinearLR(o, 0.25, 0.9, total_iters=6),
                 lambda o: TS.LinearLR(o, 0.25, 0.9, total_iters=6)),
    "OneCycleLR": (lambda o: optim.lr_scheduler.OneCycleLR(o, [1.0, 0.5], total_steps=20),
                   lambda o: TS.OneCycleLR(o, [1.0, 0.5], total_steps=20)),
    "OneCycleLR_linear_3phase": (
        lambda o: optim.lr_scheduler.OneCycleLR(o, 0.8, epochs=4, steps_per_epoch=5,
                                                anneal_strategy="linear", three_phase=True),
        lambda o: TS.OneCycleLR(o, 0.8, epochs=4, steps_per_epoch=5, anneal_strategy="linear",
                                three_phase=True)),
    "SequentialLR": (
        lambda o: optim.lr_scheduler.SequentialLR(
            o, [optim.LinearLR(o, 0.1, total_iters=3), optim.ExponentialLR(o, 0.8)], [4]),
        lambda o: TS.SequentialLR(o, [TS.LinearLR(o, 0.1, total_iters=3),
                                      TS.ExponentialLR(o, 0.8)], [4])),
    "SequentialLR_three": (
        lambda o: optim.lr_scheduler.SequentialLR(
            o, [optim.LinearLR(o, 0.5, total_iters=2), optim.StepLR(o, 2, 0.5),
                optim.CosineAnnealingLR(o, 5)], [3, 7]),
        lambda o: TS.SequentialLR(o, [TS.LinearLR(o, 0.5, total_iters=2), TS.StepLR(o, 2, 0.5),
                                      TS.CosineAnnealingLR(o, 5)], [3, 7])),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_lr_sequence_matches_torch(name, opt):
    ours, theirs = CASES[name]
    options = {"momentum": 0.9, "lr": 0.05} if opt == "SGD" else {}
    key = ("momentum" if opt == "SGD" else "betas") if name.startswith("OneCycle") else None
    steps = 20 if name.startswith("OneCycle") else 14
    got, got_m = _lrs(_ours(getattr(optim, opt), **options), ours, steps, key)
    want, want_m = _lrs(_theirs(getattr(torch.optim, opt), **options), theirs, steps, key)
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)
    np.testing.assert_allclose(got_m, want_m, rtol=1e-15, atol=0)


def test_one_cycle_refuses_steps_past_the_cycle():
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.OneCycleLR(opt, 1.0, total_steps=2)
    sched.step()
    sched.step()
    with pytest.raises(ValueError, match="total_steps"):
        sched.step()
