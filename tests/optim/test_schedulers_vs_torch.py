"""Schedulers against torch.optim.lr_scheduler: the lr sequences must be equal float for float."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import optim

torch = pytest.importorskip("torch")

EPOCHS = 40
LRS = (0.1, 0.03)  # two param groups, so every scheduler must handle each group's lr


def _optimizers() -> tuple[optim.SGD, Any]:
    ours = optim.SGD([{"params": [tg.Tensor(np.ones(2), requires_grad=True)], "lr": lr}
                      for lr in LRS], lr=1.0, momentum=0.9)
    theirs = torch.optim.SGD([{"params": [torch.ones(2, requires_grad=True)], "lr": lr}
                              for lr in LRS], lr=1.0, momentum=0.9)
    return ours, theirs


def _lrs(opt: Any) -> list[float]:
    return [group["lr"] for group in opt.param_groups]


SCHEDULES = [
    ("StepLR", dict(step_size=7)),
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)),  # EPOCHS > 2 * T_max: past the minimum and back
    ("CosineAnnealingLR", dict(T_max=15, eta_min=0.001)),
    ("CosineAnnealingLR", dict(T_max=1)),
]


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=[f"{n}-{k}" for n, k in SCHEDULES])
def test_lr_sequence_matches_torch(name: str, kwargs: dict[str, Any]) -> None:
    opt, opt_t = _optimizers()
    sched = getattr(optim, name)(opt, **kwargs)
    sched_t = getattr(torch.optim.lr_scheduler, name)(opt_t, **kwargs)
    assert sched.get_last_lr() == sched_t.get_last_lr() == list(LRS)
    seen = set()
    for epoch in range(EPOCHS):
        opt.step()
        opt_t.step()
        sched.step()
        sched_t.step()
        assert sched.get_last_lr() == sched_t.get_last_lr(), f"epoch {epoch + 1}"
        assert _lrs(opt) == _lrs(opt_t), f"epoch {epoch + 1}"
        seen.add(tuple(_lrs(opt)))
    assert len(seen) > 1, "the schedule never changed the lr"


PLATEAUS = [
    dict(),
    dict(patience=2),
    dict(mode="max", patience=1, factor=0.5),
    dict(patience=0, threshold=0.05, threshold_mode="abs", cooldown=2),
    dict(mode="max", patience=1, threshold_mode="abs", threshold=0.2, min_lr=[0.02, 0.001]),
    dict(patience=1, factor=0.5, min_lr=0.01),
]


@pytest.mark.parametrize("kwargs", PLATEAUS, ids=[str(k) for k in PLATEAUS])
def test_reduce_lr_on_plateau_matches_torch(kwargs: dict[str, Any]) -> None:
    opt, opt_t = _optimizers()
    sched = optim.ReduceLROnPlateau(opt, **kwargs)
    sched_t = torch.optim.lr_scheduler.ReduceLROnPlateau(opt_t, **kwargs)
    # improves, stalls, wiggles below and above the thresholds, improves again, stalls
    rng = np.random.default_rng(0)
    # 0.49999 and 0.45001 improve by less than the default relative threshold (1e-4): bad epochs
    metrics = list(np.linspace(1.0, 0.5, 6)) + [0.5, 0.51, 0.49999, 0.4999, 0.5, 0.45, 0.46]
    metrics += [0.449999, 0.45001, 0.45002, 0.45003]
    metrics += list(0.45 + 0.02 * rng.standard_normal(30))
    for epoch, metric in enumerate(metrics):
        sched.step(metric)
        sched_t.step(metric)
        assert sched.get_last_lr() == sched_t.get_last_lr(), f"epoch {epoch + 1}"
        assert _lrs(opt) == _lrs(opt_t), f"epoch {epoch + 1}"
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == (
            sched_t.best, sched_t.num_bad_epochs, sched_t.cooldown_counter), f"epoch {epoch + 1}"
    assert _lrs(opt) != list(LRS), "the lr was never reduced"


def test_plateau_accepts_a_tensor_metric() -> None:
    opt, _ = _optimizers()
    sched = optim.ReduceLROnPlateau(opt, patience=0)
    sched.step(tg.Tensor(1.0))
    sched.step(tg.Tensor([2.0]))
    assert sched.get_last_lr() == [LRS[0] * 0.1, LRS[1] * 0.1]


def test_initial_lr_recorded_like_torch() -> None:
    opt, opt_t = _optimizers()
    optim.StepLR(opt, 2)
    torch.optim.lr_scheduler.StepLR(opt_t, 2)
    assert [g["initial_lr"] for g in opt.param_groups] == [
        g["initial_lr"] for g in opt_t.param_groups] == list(LRS)
