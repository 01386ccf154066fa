"""Every optimizer against torch.optim: same float64 problem, N steps, parameters and state equal.

The problem is a small tanh network with a bias that only some steps use, so parameters whose
gradient is None must be skipped (and their lazy state must lag) exactly as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import optim

torch = pytest.importorskip("torch")

STEPS = 25
SHAPES = {"w1": (4, 5), "b1": (5,), "w2": (5, 3), "b2": (3,), "sometimes": (3,)}


def _initial_arrays() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {name: rng.normal(0.0, 0.7, shape) for name, shape in SHAPES.items()}


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.normal(size=(8, 4)), rng.normal(size=(8, 3))


def _loss(P: dict[str, Any], x: Any, y: Any, step: int) -> Any:
    """The same expression for both libraries; "sometimes" only takes part on even steps."""
    out = (x @ P["w1"] + P["b1"]).tanh() @ P["w2"] + P["b2"]
    if step % 2 == 0:
        out = out + P["sometimes"]
    return ((out - y) * (out - y)).mean()


GroupsFn = Callable[[dict[str, Any]], list[Any]]


def _all_params(P: dict[str, Any]) -> list[Any]:
    return list(P.values())


def _two_groups(P: dict[str, Any]) -> list[Any]:
    """Parameter groups: the second overrides lr (and, for SGD, momentum)."""
    return [
        {"params": [P["w1"], P["b1"]]},
        {"params": [P["w2"], P["b2"], P["sometimes"]], "lr": 0.02},
    ]


def _run(
    tg_cls: type, torch_cls: type, kwargs: dict[str, Any], groups: GroupsFn = _all_params,
    steps: int = STEPS,
) -> tuple[dict[str, Any], dict[str, Any], Any, Any]:
    arrays = _initial_arrays()
    x, y = _data()
    P_tg = {k: tg.Tensor(a, requires_grad=True) for k, a in arrays.items()}
    P_t = {k: torch.tensor(a, requires_grad=True) for k, a in arrays.items()}
    opt_tg = tg_cls(groups(P_tg), **kwargs)
    opt_t = torch_cls(groups(P_t), **kwargs)
    x_tg, y_tg, x_t, y_t = tg.Tensor(x), tg.Tensor(y), torch.tensor(x), torch.tensor(y)
    for step in range(steps):
        opt_tg.zero_grad()
        opt_t.zero_grad()
        _loss(P_tg, x_tg, y_tg, step).backward()
        _loss(P_t, x_t, y_t, step).backward()
        opt_tg.step()
        opt_t.step()
    return P_tg, P_t, opt_tg, opt_t


def _assert_same(P_tg: dict[str, Any], P_t: dict[str, Any], opt_tg: Any, opt_t: Any) -> None:
    initial = _initial_arrays()
    for name in P_tg:
        ours, theirs = P_tg[name].data, P_t[name].detach().numpy()
        assert not np.array_equal(ours, initial[name]), f"{name} never moved"
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13, err_msg=name)
    ours_state = opt_tg.state_dict()["state"]
    theirs_state = opt_t.state_dict()["state"]
    for index, entry in ours_state.items():
        for key, value in entry.items():
            other = theirs_state[index][key]
            if key == "step":
                assert value == int(other), f"state[{index}]['step']"
            else:
                np.testing.assert_allclose(value, other.numpy(), rtol=1e-12, atol=1e-13,
                                           err_msg=f"state[{index}][{key!r}]")
    # every array PyTorch keeps, we keep too (None is torch's "no momentum buffer")
    for index, entry in theirs_state.items():
        wanted = {k for k, v in entry.items() if v is not None}
        assert wanted <= set(ours_state.get(index, {})), f"state[{index}]: {wanted}"
    for ours_group, theirs_group in zip(opt_tg.param_groups, opt_t.param_groups, strict=True):
        assert ours_group["lr"] == theirs_group["lr"]


CASES = [
    (optim.SGD, torch.optim.SGD, dict(lr=0.1)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.3)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.1, weight_decay=0.05)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.7, nesterov=True, weight_decay=0.1)),
    (optim.SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.5, maximize=True, weight_decay=0.1)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.05)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.05, weight_decay=0.1)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.05, amsgrad=True)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    (optim.AdamW, torch.optim.AdamW, dict(lr=0.05)),
    (optim.AdamW, torch.optim.AdamW, dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, centered=True)),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, momentum=0.9)),
    (optim.RMSprop, torch.optim.RMSprop,
     dict(lr=0.005, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1, eps=1e-6)),
    (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1)),
    (optim.Adagrad, torch.optim.Adagrad,
     dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3, eps=1e-8)),
    (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1, maximize=True)),
]


@pytest.mark.parametrize(("tg_cls", "torch_cls", "kwargs"), CASES,
                         ids=[f"{c[0].__name__}-{c[2]}" for c in CASES])
def test_matches_torch(tg_cls: type, torch_cls: type, kwargs: dict[str, Any]) -> None:
    _assert_same(*_run(tg_cls, torch_cls, kwargs))


GROUP_CASES = [
    (optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.05, amsgrad=True)),
    (optim.AdamW, torch.optim.AdamW, dict(lr=0.05)),
    (optim.RMSprop, torch.optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.3)),
    (optim.Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
]


@pytest.mark.parametrize(("tg_cls", "torch_cls", "kwargs"), GROUP_CASES,
                         ids=[c[0].__name__ for c in GROUP_CASES])
def test_param_groups_match_torch(tg_cls: type, torch_cls: type, kwargs: dict[str, Any]) -> None:
    P_tg, P_t, opt_tg, opt_t = _run(tg_cls, torch_cls, kwargs, groups=_two_groups)
    _assert_same(P_tg, P_t, opt_tg, opt_t)
    assert [g["lr"] for g in opt_tg.param_groups] == [kwargs["lr"], 0.02]
    assert [g["params"] for g in opt_tg.state_dict()["param_groups"]] == [[0, 1], [2, 3, 4]]


def test_param_groups_with_their_own_momentum_match_torch() -> None:
    def groups(P: dict[str, Any]) -> list[Any]:
        return [{"params": [P["w1"], P["b1"]], "momentum": 0.0},
                {"params": [P["w2"], P["b2"], P["sometimes"]], "lr": 0.03, "nesterov": True}]

    _assert_same(*_run(optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9), groups=groups))


def test_state_dict_layout_and_values_match_torch() -> None:
    _, _, opt_tg, opt_t = _run(optim.Adam, torch.optim.Adam, dict(lr=0.05, amsgrad=True), steps=3)
    ours, theirs = opt_tg.state_dict(), opt_t.state_dict()
    assert sorted(ours["state"]) == sorted(theirs["state"])
    # "sometimes" (index 4) received a gradient on steps 0 and 2 only
    assert ours["state"][4]["step"] == 2 and ours["state"][0]["step"] == 3
    for ours_group, theirs_group in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        for key, value in ours_group.items():
            assert theirs_group[key] == value, key
