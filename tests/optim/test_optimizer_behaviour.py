"""Optimizer invariants that need no PyTorch: in-place updates, untouched gradients, lazy state,
state_dict round trips, validation that leaves the optimizer unchanged, schedulers' state."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import optim

FACTORIES: dict[str, Callable[[Any], optim.Optimizer]] = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd-momentum-wd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
    "sgd-nesterov-wd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True,
                                            weight_decay=0.1, maximize=True),
    "adam-amsgrad-wd": lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True, weight_decay=0.1),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.1),
    "rmsprop-centered-momentum": lambda ps: optim.RMSprop(ps, lr=0.01, centered=True,
                                                          momentum=0.9, weight_decay=0.1),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.1, weight_decay=0.1),
}


def _params(seed: int = 0) -> list[tg.Tensor]:
    rng = np.random.default_rng(seed)
    return [tg.Tensor(rng.normal(size=s), requires_grad=True) for s in [(3, 2), (2,), (1,)]]


def _train(opt: optim.Optimizer, params: list[tg.Tensor], steps: int, start: int = 0) -> None:
    x = tg.Tensor(np.linspace(-1.0, 1.0, 12).reshape(4, 3))
    for step in range(start, start + steps):
        opt.zero_grad()
        loss = ((x @ params[0] + params[1]).tanh() * params[2]).sum()
        if step % 3 == 0:
            loss = loss + (params[1] * params[1]).sum()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("make", FACTORIES.values(), ids=FACTORIES.keys())
def test_updates_parameters_in_place(make: Callable[[Any], optim.Optimizer]) -> None:
    params = _params()
    arrays = [p.data for p in params]
    view = params[0].data[0]  # a view sees in-place updates, a rebinding would leave it stale
    before = view.copy()
    _train(make(params), params, 3)
    assert all(p.data is a for p, a in zip(params, arrays, strict=True))
    assert not np.array_equal(view, before)


@pytest.mark.parametrize("make", FACTORIES.values(), ids=FACTORIES.keys())
def test_never_writes_into_gradients(make: Callable[[Any], optim.Optimizer]) -> None:
    a = tg.Tensor(np.ones(4), requires_grad=True)
    b = tg.Tensor(np.full(4, 2.0), requires_grad=True)
    shared = np.array([0.5, -1.0, 2.0, 0.0])
    a.grad = tg.Tensor.from_numpy(shared)  # one array behind two gradients, as autograd may do
    b.grad = tg.Tensor.from_numpy(shared)
    opt = make([a, b])
    for _ in range(3):
        opt.step()
    assert np.array_equal(shared, [0.5, -1.0, 2.0, 0.0])
    assert a.grad.data is shared


@pytest.mark.parametrize("make", FACTORIES.values(), ids=FACTORIES.keys())
def test_parameters_without_gradient_are_skipped_and_get_no_state(
    make: Callable[[Any], optim.Optimizer],
) -> None:
    used, unused = tg.Tensor(np.ones(2), requires_grad=True), tg.Tensor(np.ones(3),
                                                                        requires_grad=True)
    opt = make([used, unused])
    used.grad = tg.Tensor(np.array([1.0, -1.0]))
    opt.step()
    assert np.array_equal(unused.data, np.ones(3))
    assert unused not in opt.state
    assert list(opt.state_dict()["state"]) == [0]


@pytest.mark.parametrize("make", FACTORIES.values(), ids=FACTORIES.keys())
def test_float32_parameters_stay_float32(make: Callable[[Any], optim.Optimizer]) -> None:
    p = tg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    opt = make([p])
    (p * p).sum().backward()
    opt.step()
    opt.step()
    assert p.dtype == np.float32
    assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray))


def test_zero_dim_parameters() -> None:
    s = tg.Tensor(np.array(2.0), requires_grad=True)
    (s * s).backward()
    optim.SGD([s], lr=0.25).step()
    assert s.data == 1.0 and s.data.shape == ()


def test_zero_grad() -> None:
    p = tg.Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    shared = np.array([1.0, 2.0])
    p.grad = tg.Tensor.from_numpy(shared)
    opt.zero_grad(set_to_none=False)
    assert np.array_equal(p.grad.data, [0.0, 0.0])
    assert np.array_equal(shared, [1.0, 2.0]), "zeroing must not write into a shared array"
    opt.zero_grad()
    assert p.grad is None


def test_closure_is_evaluated_and_its_loss_returned() -> None:
    p = tg.Tensor(np.array([3.0]), requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure() -> tg.Tensor:
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with tg.no_grad():  # the closure still records its graph
        loss = opt.step(closure)
    assert loss.item() == 9.0
    assert p.data[0] == 3.0 - 0.25 * 6.0


def test_sgd_is_nielsen_update_with_lr_eta_over_m() -> None:
    """Nielsen: w -= (eta/m) * (sum of per-example gradients) is SGD with lr = eta/m on the
    batch-summed loss."""
    rng = np.random.default_rng(0)
    x, w0 = rng.normal(size=(10, 3)), rng.normal(size=3)
    eta, m = 3.0, 10
    w = tg.Tensor(w0, requires_grad=True)
    ((tg.Tensor(x) @ w) * (tg.Tensor(x) @ w) * 0.5).sum().backward()
    optim.SGD([w], lr=eta / m).step()
    per_example = (x @ w0)[:, None] * x  # d/dw of 1/2 (x.w)^2, one row per example
    np.testing.assert_allclose(w.data, w0 - (eta / m) * per_example.sum(axis=0), rtol=1e-14)


# --------------------------------------------------------------------------------------------
# state_dict
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", FACTORIES.values(), ids=FACTORIES.keys())
def test_state_dict_round_trip_continues_identically(
    make: Callable[[Any], optim.Optimizer],
) -> None:
    params = _params()
    opt = make(params)
    _train(opt, params, 4)
    saved_params = [p.data.copy() for p in params]
    saved = opt.state_dict()
    _train(opt, params, 4, start=4)

    clones = [tg.Tensor(a, requires_grad=True) for a in saved_params]
    fresh = make(clones)
    fresh.load_state_dict(json_round_trip(saved))
    _train(fresh, clones, 4, start=4)
    for p, q in zip(params, clones, strict=True):
        assert np.array_equal(p.data, q.data)
    assert _equal(opt.state_dict(), fresh.state_dict())


def json_round_trip(state_dict: dict[str, Any]) -> dict[str, Any]:
    """Options through JSON (tuples become lists), arrays untouched: what io.py does."""
    groups = json.loads(json.dumps(state_dict["param_groups"]))
    return {"state": state_dict["state"], "param_groups": groups}


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_equal(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def test_state_dict_is_a_snapshot() -> None:
    params = _params()
    opt = optim.Adam(params, lr=0.1)
    _train(opt, params, 2)
    saved = opt.state_dict()
    snapshot = copy.deepcopy(saved)
    _train(opt, params, 2)
    assert _equal(saved, snapshot), "training changed a state_dict taken earlier"
    opt.load_state_dict(saved)
    saved["state"][0]["exp_avg"][...] = 123.0
    assert not np.any(opt.state[params[0]]["exp_avg"] == 123.0), "load must copy arrays"
    opt.state_dict()["state"][0]["exp_avg"][...] = 123.0
    assert not np.any(opt.state[params[0]]["exp_avg"] == 123.0), "state_dict must copy arrays"


def _trained_adam() -> tuple[optim.Adam, list[tg.Tensor]]:
    params = _params()
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.01}], lr=0.1,
                     amsgrad=True)
    _train(opt, params, 2)
    return opt, params


def _corrupt(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A function that sets one entry of a state_dict, reached by a path like 'state/0/step'."""
    def apply(sd: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target: Any = sd
        for key in parents:
            target = target[int(key) if key.isdigit() else key]
        key_or_index: Any = int(last) if last.isdigit() else last
        if value is _DELETE:
            del target[key_or_index]
        else:
            target[key_or_index] = value
    return apply


_DELETE = object()

BAD_STATE_DICTS = {
    "wrong shape": (_corrupt("state/1/exp_avg", np.zeros(3)),
                    r"state\[1\] \(param_groups\[0\]\)\['exp_avg'\] has shape \(3,\) but the "
                    r"parameter has shape \(2,\)"),
    "missing state key": (_corrupt("state/2/max_exp_avg_sq", _DELETE),
                          r"state\[2\].*keys \['exp_avg', 'exp_avg_sq', 'step'\], expected"),
    "index out of range": (_corrupt("state/7", {}), r"state\[7\] refers to no parameter"),
    "negative step": (_corrupt("state/0/step", -1), r"state\[0\].*\['step'\] must be"),
    "string array": (_corrupt("state/0/exp_avg", np.array(["a"] * 2)), r"numeric ndarray"),
    "group count": (_corrupt("param_groups/1", _DELETE), r"1 param groups, this optimizer has 2"),
    "param count": (_corrupt("param_groups/1/params", [2, 3]),
                    r"param_groups\[1\] has 2 params in the saved state but 1"),
    "missing option": (_corrupt("param_groups/0/betas", _DELETE),
                       r"param_groups\[0\] is missing options \['betas'\]"),
    "invalid option": (_corrupt("param_groups/1/lr", -1.0), r"param_groups\[1\]: invalid lr"),
    "top-level keys": (_corrupt("extra", 1), r"expected keys \['param_groups', 'state'\]"),
    # a late failure: group 0 and the first state entries are fine, the last entry is not
    "late failure": (_corrupt("state/2/exp_avg", np.zeros((2, 2))), r"state\[2\]"),
}


@pytest.mark.parametrize("case", BAD_STATE_DICTS.values(), ids=BAD_STATE_DICTS.keys())
def test_bad_state_dict_raises_and_changes_nothing(case: tuple[Callable, str]) -> None:
    corrupt, message = case
    opt, params = _trained_adam()
    good = opt.state_dict()
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = 0.5  # a valid change that must not be applied either
    corrupt(bad)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(bad)
    assert _equal(opt.state_dict(), good)


def test_loading_another_optimizers_state_is_refused() -> None:
    params = _params()
    sgd = optim.SGD(params, lr=0.1, momentum=0.9)
    adam = optim.Adam(params, lr=0.1)
    _train(sgd, params, 1)
    before = adam.state_dict()
    with pytest.raises(ValueError, match=r"missing options \['amsgrad', 'betas'"):
        adam.load_state_dict(sgd.state_dict())
    sgd_plain = optim.SGD(params, lr=0.1)  # same options but no momentum: layout differs
    with pytest.raises(ValueError, match=r"state\[0\].*keys \['momentum_buffer'\], expected \[\]"):
        sgd_plain.load_state_dict({**sgd.state_dict(), "param_groups": sgd_plain.state_dict()[
            "param_groups"]})
    assert _equal(adam.state_dict(), before)


def test_state_is_cast_to_the_parameter_dtype_like_torch() -> None:
    p = tg.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.5)
    sd = opt.state_dict()
    sd["state"] = {0: {"momentum_buffer": np.array([1.0, 2.0])}}  # float64
    opt.load_state_dict(sd)
    assert opt.state[p]["momentum_buffer"].dtype == np.float32


# --------------------------------------------------------------------------------------------
# construction and groups
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("build", "error", "message"), [
    (lambda p: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    (lambda p: optim.SGD(p[0], lr=0.1), TypeError, "single Tensor"),
    (lambda p: optim.SGD([p[0], p[0]], lr=0.1), ValueError, r"\['params'\]\[1\] appears more"),
    (lambda p: optim.SGD([{"params": [p[0]]}, {"params": p[0]}], lr=0.1), ValueError,
     r"param_groups\[1\]\['params'\]\[0\] appears more"),
    (lambda p: optim.SGD({p[0]}, lr=0.1), TypeError, "not a set"),
    (lambda p: optim.SGD([p[0] * 2], lr=0.1), ValueError, "not a leaf"),
    (lambda p: optim.SGD([np.ones(2)], lr=0.1), TypeError, "ndarray, not a Tensor"),
    (lambda p: optim.SGD([tg.Tensor([1, 2])], lr=0.1), TypeError, "dtype int64"),
    (lambda p: optim.SGD(p, lr=-0.1), ValueError, "invalid lr -0.1"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), ValueError, "Nesterov"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "Nesterov"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), ValueError, "invalid betas"),
    (lambda p: optim.Adam([{"params": p, "eps": -1.0}]), ValueError, "param group 0: invalid eps"),
    (lambda p: optim.RMSprop(p, alpha=-0.5), ValueError, "invalid alpha"),
    (lambda p: optim.Adagrad(p, lr_decay=-1.0), ValueError, "invalid lr_decay"),
])
def test_construction_errors(build: Callable, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        build(_params())


def test_groups_take_defaults_and_add_param_group() -> None:
    p = _params()
    opt = optim.SGD([{"params": p[0]}, {"params": [p[1]], "lr": 0.5}], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": [p[2]], "momentum": 0.0})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5, 0.1]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9, 0.0]
    assert opt.param_groups[0]["params"][0] is p[0]
    with pytest.raises(ValueError, match="appears more than once"):
        opt.add_param_group({"params": [p[0]]})
    assert len(opt.param_groups) == 3
    assert "Parameter Group 2" in repr(opt)


def test_adamw_is_adam_with_decoupled_decay() -> None:
    a, b = _params(), _params()
    opt_w, opt_a = optim.AdamW(a, lr=0.1), optim.Adam(b, lr=0.1, weight_decay=1e-2,
                                                      decoupled_weight_decay=True)
    _train(opt_w, a, 3)
    _train(opt_a, b, 3)
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a, b, strict=True))
    c = _params()
    _train(optim.Adam(c, lr=0.1, weight_decay=1e-2), c, 3)  # L2 in the gradient differs
    assert not np.array_equal(a[0].data, c[0].data)


# --------------------------------------------------------------------------------------------
# schedulers
# --------------------------------------------------------------------------------------------


SCHEDULERS: dict[str, Callable[[optim.Optimizer], Any]] = {
    "step": lambda o: optim.StepLR(o, 2, 0.5),
    "exponential": lambda o: optim.ExponentialLR(o, 0.9),
    "cosine": lambda o: optim.CosineAnnealingLR(o, 5, 0.01),
    "plateau": lambda o: optim.ReduceLROnPlateau(o, patience=1, cooldown=1),
}


def _epoch(sched: Any, epoch: int) -> None:
    if isinstance(sched, optim.ReduceLROnPlateau):
        sched.step([1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.9, 0.91, 0.92, 0.93][epoch % 10])
    else:
        sched.step()


@pytest.mark.parametrize("make", SCHEDULERS.values(), ids=SCHEDULERS.keys())
def test_scheduler_state_dict_round_trip(make: Callable[[optim.Optimizer], Any]) -> None:
    opt = optim.SGD(_params(), lr=0.1)
    sched = make(opt)
    for epoch in range(4):
        _epoch(sched, epoch)
    saved_sched = json.loads(json.dumps(sched.state_dict()))  # JSON-able, as io.py stores it
    saved_opt = opt.state_dict()
    lrs = []
    for epoch in range(4, 10):
        _epoch(sched, epoch)
        lrs.append(sched.get_last_lr())
    assert len({tuple(lr) for lr in lrs}) > 1, "the lr never changed after the save"

    opt2 = optim.SGD(_params(), lr=0.1)
    sched2 = make(opt2)  # torch's order: scheduler first, then load both
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    lrs2 = []
    for epoch in range(4, 10):
        _epoch(sched2, epoch)
        lrs2.append(sched2.get_last_lr())
    assert lrs2 == lrs


def test_scheduler_load_state_dict_checks_keys() -> None:
    sched = optim.StepLR(optim.SGD(_params(), lr=0.1), 2)
    with pytest.raises(ValueError, match="expected keys"):
        sched.load_state_dict({"last_epoch": 3})
    assert sched.last_epoch == 0


def test_scheduler_argument_errors() -> None:
    opt = optim.SGD(_params(), lr=0.1)
    with pytest.raises(TypeError, match="not an Optimizer"):
        optim.StepLR(object(), 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="factor"):
        optim.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        optim.ReduceLROnPlateau(opt, mode="best")
    with pytest.raises(ValueError, match="expected 1 min_lrs"):
        optim.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])


@pytest.mark.parametrize("name", FACTORIES)
def test_a_gradient_of_another_shape_is_refused_and_its_parameter_kept(name):
    params = _params()
    opt = FACTORIES[name](params)
    before = [p.data.copy() for p in params]
    for p in params:
        p.grad = tg.Tensor.from_numpy(np.ones_like(p.data))
    params[-1].grad = tg.Tensor.from_numpy(np.ones(params[-1].data.size + 1))
    with pytest.raises(RuntimeError, match=rf"{type(opt).__name__}\.step: gradient of shape "
                                           rf"\({params[-1].data.size + 1},\) for a parameter"):
        opt.step()
    assert np.array_equal(params[-1].data, before[-1])


@pytest.mark.parametrize("compiled", [False, True])
def test_sgd_refuses_a_gradient_of_another_shape_compiled_or_not(compiled):
    # v gets no gradient from the step, so the step meets the wrong .grad set from outside
    w, v = (tg.Tensor(np.ones(3), requires_grad=True) for _ in range(2))
    opt = optim.SGD([w, v], lr=0.1)

    def step(x):  # no zero_grad: w's gradients accumulate, v's wrong one stays
        (w * x).sum().backward()
        opt.step()

    run = tg.compile(step) if compiled else step
    run(tg.Tensor(np.ones(3)))
    v.grad = tg.Tensor(np.ones(4))
    with pytest.raises(RuntimeError, match=r"SGD\.step: gradient of shape \(4,\) for a "
                                           r"parameter of shape \(3,\)"):
        run(tg.Tensor(np.ones(3)))
    assert np.array_equal(v.data, np.ones(3))
