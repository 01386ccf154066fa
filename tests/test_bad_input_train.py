"""Bad-input table, part 3: nn layers and losses, optimizers and schedulers (non-finite or
mistyped hyperparameters refused up front), and training (a diverged run is an error naming
the epoch and step, never a "success")."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bad_input_table import bad, check, good, params

import tinygrad_nn as tg
from tinygrad_nn import nn, optim
from tinygrad_nn.nn import functional as F
from tinygrad_nn.train import NonFiniteError, check_finite_loss, evaluate, fit


def _p():
    return [tg.Tensor(np.ones(3, np.float32), requires_grad=True)]


def _sgd(**kw):
    return optim.SGD(_p(), **{"lr": 0.1, **kw})


def _sched(cls, *args, **kw):
    return cls(optim.SGD(_p(), lr=0.1), *args, **kw)


def _adam_state(**entries):
    p = _p()
    opt = optim.Adam(p)
    p[0].grad = tg.Tensor(np.ones(3, np.float32))
    opt.step()
    state = opt.state_dict()
    state["state"][0].update(entries)
    opt.load_state_dict(state)


def _sched_state(**entries):
    scheduler = _sched(optim.StepLR, 2)
    state = {**scheduler.state_dict(), **entries}
    scheduler.load_state_dict(state)


def _load_group(**options):
    group = {**_sgd().state_dict()["param_groups"][0], **options}
    _sgd().load_state_dict({"state": {}, "param_groups": [group]})


def _maximize_string_would_ascend():
    p = tg.Tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=0.1, maximize="false")
    (p * p).sum().backward()
    opt.step()
    return p.data


def _nan_model():
    model = nn.Linear(2, 3)
    model.weight.data[...] = np.nan
    return model


def _fit_diverging(**kw):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = optim.SGD(model.parameters(), lr=1e30)
    return fit(model, "cross_entropy", opt, (X, y), epochs=3, batch_size=16, log=None,
               progress=False, **kw)


X4 = np.ones((4, 2), np.float32)
Y4 = np.array([0, 1, 0, 1])

ROWS = [
    # ---- optimizers: every hyperparameter finite, every flag a bool
    bad("SGD lr inf", lambda: _sgd(lr=math.inf), ValueError, "SGD", "lr", "inf"),
    bad("SGD lr nan", lambda: _sgd(lr=math.nan), ValueError, "SGD", "lr", "nan"),
    bad("SGD lr negative", lambda: _sgd(lr=-1.0), ValueError, "SGD", "lr"),
    bad("SGD lr string", lambda: _sgd(lr="0.1"), TypeError, "SGD", "lr", "'0.1'"),
    bad("SGD lr list", lambda: optim.SGD(_p(), lr=[0.1]), TypeError, "lr"),
    bad("SGD lr bool", lambda: _sgd(lr=True), TypeError, "lr", "bool"),
    bad("SGD momentum nan", lambda: _sgd(momentum=math.nan), ValueError, "momentum"),
    bad("SGD momentum inf", lambda: _sgd(momentum=math.inf), ValueError, "momentum"),
    bad("SGD weight_decay -inf", lambda: _sgd(weight_decay=-math.inf), ValueError,
        "weight_decay"),
    bad("SGD dampening nan", lambda: _sgd(dampening=math.nan), ValueError, "dampening"),
    bad("SGD maximize 'false'", lambda: _sgd(maximize="false"), TypeError, "maximize",
        "'false'"),
    bad("SGD maximize 'false' never ascends", _maximize_string_would_ascend, TypeError,
        "maximize"),
    bad("SGD nesterov 'false'", lambda: _sgd(momentum=0.9, nesterov="false"), TypeError,
        "nesterov"),
    bad("SGD nesterov 0", lambda: _sgd(momentum=0.9, nesterov=0), TypeError, "nesterov"),
    good("SGD numpy bool flag", lambda: _sgd(maximize=np.bool_(False)).param_groups[0][
        "maximize"], False),
    bad("SGD param group lr nan", lambda: optim.SGD([{"params": _p(), "lr": math.nan}], lr=0.1),
        ValueError, "param group 0", "lr"),
    bad("Adam lr inf", lambda: optim.Adam(_p(), lr=math.inf), ValueError, "Adam", "lr"),
    bad("Adam betas nan", lambda: optim.Adam(_p(), betas=(math.nan, 0.9)), ValueError, "betas"),
    bad("Adam betas string", lambda: optim.Adam(_p(), betas=("a", 0.9)), TypeError, "betas"),
    bad("Adam betas >= 1", lambda: optim.Adam(_p(), betas=(1.0, 0.9)), ValueError, "betas"),
    bad("Adam eps nan", lambda: optim.Adam(_p(), eps=math.nan), ValueError, "eps"),
    bad("Adam amsgrad string", lambda: optim.Adam(_p(), amsgrad="yes"), TypeError, "amsgrad"),
    bad("AdamW weight_decay inf", lambda: optim.AdamW(_p(), weight_decay=math.inf), ValueError,
        "weight_decay"),
    bad("AdamW maximize string", lambda: optim.AdamW(_p(), maximize="no"), TypeError,
        "maximize"),
    bad("RMSprop alpha nan", lambda: optim.RMSprop(_p(), alpha=math.nan), ValueError, "alpha"),
    bad("RMSprop centered string", lambda: optim.RMSprop(_p(), centered="true"), TypeError,
        "centered"),
    bad("RMSprop momentum -1", lambda: optim.RMSprop(_p(), momentum=-1.0), ValueError,
        "momentum"),
    bad("Adagrad lr_decay inf", lambda: optim.Adagrad(_p(), lr_decay=math.inf), ValueError,
        "lr_decay"),
    bad("Adagrad eps -1", lambda: optim.Adagrad(_p(), eps=-1.0), ValueError, "eps"),
    bad("optimizer int params", lambda: optim.SGD([tg.Tensor([1, 2])], lr=0.1), TypeError,
        "int64"),
    bad("optimizer empty", lambda: optim.SGD([], lr=0.1), ValueError, "empty"),
    bad("load_state_dict lr nan", lambda: _load_group(lr=math.nan), ValueError, "lr"),
    bad("load_state_dict maximize string", lambda: _load_group(maximize="false"), ValueError,
        "maximize"),
    bad("optimizer state step 10**400", lambda: _adam_state(step=10**400), ValueError,
        "'step'", "huge"),
    bad("optimizer state nan moments", lambda: _adam_state(exp_avg=np.full(3, np.nan,
                                                                          np.float32)),
        ValueError, "exp_avg", "nan"),
    bad("scheduler state gamma string", lambda: _sched_state(gamma="x"), ValueError, "gamma"),
    bad("scheduler state last_epoch float", lambda: _sched_state(last_epoch=2.5), ValueError,
        "last_epoch"),
    bad("scheduler state base_lrs nan", lambda: _sched_state(base_lrs=[math.nan]), ValueError,
        "base_lrs"),
    # ---- schedulers
    bad("StepLR gamma nan", lambda: _sched(optim.StepLR, 2, gamma=math.nan), ValueError,
        "StepLR", "gamma"),
    bad("StepLR gamma negative", lambda: _sched(optim.StepLR, 2, gamma=-0.5), ValueError,
        "gamma"),
    bad("StepLR gamma 0", lambda: _sched(optim.StepLR, 2, gamma=0.0), ValueError, "gamma"),
    bad("StepLR step_size float", lambda: _sched(optim.StepLR, 2.5), TypeError, "step_size"),
    bad("StepLR step_size 0", lambda: _sched(optim.StepLR, 0), ValueError, "step_size"),
    bad("StepLR step_size huge float", lambda: _sched(optim.StepLR, 1e400), TypeError,
        "step_size"),
    bad("ExponentialLR gamma inf", lambda: _sched(optim.ExponentialLR, math.inf), ValueError,
        "ExponentialLR", "gamma"),
    bad("ExponentialLR gamma negative", lambda: _sched(optim.ExponentialLR, -0.9), ValueError,
        "gamma"),
    bad("ExponentialLR gamma string", lambda: _sched(optim.ExponentialLR, "0.9"), TypeError,
        "gamma"),
    bad("Cosine T_max float", lambda: _sched(optim.CosineAnnealingLR, 10.0), TypeError, "T_max"),
    bad("Cosine eta_min nan", lambda: _sched(optim.CosineAnnealingLR, 10, eta_min=math.nan),
        ValueError, "eta_min"),
    bad("Cosine eta_min negative", lambda: _sched(optim.CosineAnnealingLR, 10, eta_min=-1.0),
        ValueError, "eta_min"),
    bad("Plateau factor negative", lambda: _sched(optim.ReduceLROnPlateau, factor=-0.1),
        ValueError, "factor"),
    bad("Plateau factor nan", lambda: _sched(optim.ReduceLROnPlateau, factor=math.nan),
        ValueError, "factor"),
    bad("Plateau patience float", lambda: _sched(optim.ReduceLROnPlateau, patience=2.5),
        TypeError, "patience"),
    bad("Plateau threshold inf", lambda: _sched(optim.ReduceLROnPlateau, threshold=math.inf),
        ValueError, "threshold"),
    bad("Plateau min_lr nan", lambda: _sched(optim.ReduceLROnPlateau, min_lr=math.nan),
        ValueError, "min_lr"),
    bad("Plateau cooldown -1", lambda: _sched(optim.ReduceLROnPlateau, cooldown=-1),
        ValueError, "cooldown"),
    bad("Plateau step nan metric", lambda: _sched(optim.ReduceLROnPlateau).step(math.nan),
        ValueError, "ReduceLROnPlateau", "nan"),
    # ---- losses
    bad("BCE target 2", lambda: F.binary_cross_entropy(tg.Tensor([0.5]), [2.0]), ValueError,
        "binary_cross_entropy", "target", "[2.0]"),
    bad("BCE target -1", lambda: F.binary_cross_entropy(tg.Tensor([0.5]), [-1.0]), ValueError,
        "target"),
    bad("BCE target nan", lambda: F.binary_cross_entropy(tg.Tensor([0.5]), [math.nan]),
        ValueError, "target"),
    bad("BCE input nan", lambda: F.binary_cross_entropy(tg.Tensor([math.nan]), [1.0]),
        ValueError, "input", "nan"),
    bad("BCE input 1.5", lambda: F.binary_cross_entropy(tg.Tensor([1.5]), [1.0]), ValueError,
        "input", "with_logits"),
    bad("BCE shapes", lambda: F.binary_cross_entropy(tg.Tensor([0.5, 0.5]), [1.0]), ValueError,
        "target shape"),
    bad("cross_entropy float labels", lambda: F.cross_entropy(tg.ones(2, 3), [0.0, 1.0]),
        ValueError, "target shape (2,)", "(2, 3)"),
    bad("cross_entropy label 3 of 3", lambda: F.cross_entropy(tg.ones(2, 3), [0, 3]),
        IndexError, "[0, 3)"),
    bad("cross_entropy label -1", lambda: F.cross_entropy(tg.ones(2, 3), [0, -1]), IndexError,
        "-1"),
    bad("cross_entropy label shape", lambda: F.cross_entropy(tg.ones(2, 3), [0, 1, 2]),
        ValueError, "target shape"),
    bad("cross_entropy reduction", lambda: F.cross_entropy(tg.ones(2, 3), [0, 1], "avg"),
        ValueError, "reduction"),
    bad("nll_loss label 5", lambda: F.nll_loss(tg.ones(2, 3), [0, 5]), IndexError, "5"),
    bad("mse shapes", lambda: F.mse_loss(tg.ones(2, 1), np.ones(2)), ValueError, "mse",
        "(2,)"),
    bad("mse int input", lambda: F.mse_loss(tg.Tensor([1, 2]), [1.0, 2.0]), TypeError,
        "int64"),
    bad("dropout p 1.5", lambda: F.dropout(tg.ones(3), 1.5), ValueError, "dropout", "1.5"),
    bad("dropout p nan", lambda: F.dropout(tg.ones(3), math.nan), ValueError, "dropout"),
    bad("get_loss unknown", lambda: nn.get_loss("crossentropy"), ValueError, "crossentropy"),
    # ---- layers
    bad("Linear float size", lambda: nn.Linear(2.5, 3), ValueError, "in_features", "2.5"),
    bad("Linear negative size", lambda: nn.Linear(-2, 3), ValueError, "-2"),
    bad("Linear wrong input", lambda: nn.Linear(2, 3)(tg.ones(4, 5)), ValueError, "(4, 5)",
        "(3, 2)"),
    bad("Dropout p 2", lambda: nn.Dropout(2.0), ValueError, "p"),
    bad("BatchNorm1d wrong features", lambda: nn.BatchNorm1d(3)(tg.ones(4, 5)), ValueError,
        "BatchNorm1d"),
    bad("unknown attribute", lambda: nn.Linear(2, 3).wieght, AttributeError, "wieght"),
    bad("Parameter int", lambda: nn.Parameter([1, 2]), TypeError, "Parameter", "int64"),
    bad("requires_grad_ string on module", lambda: nn.Linear(2, 3).requires_grad_("false"),
        TypeError, "requires_grad"),
    # ---- training: a diverged run is an error, never a success
    bad("fit diverges: error names epoch and step", _fit_diverging, NonFiniteError, "epoch 1",
        "step"),
    bad("check_finite_loss nan", lambda: check_finite_loss(math.nan, 3, 17), NonFiniteError,
        "epoch 3", "step 17", "nan"),
    bad("check_finite_loss inf", lambda: check_finite_loss(math.inf, 1, 1), NonFiniteError,
        "inf"),
    good("check_finite_loss finite", lambda: check_finite_loss(0.5, 1, 1), None),
    bad("evaluate nan outputs are not predictions", lambda: evaluate(_nan_model(), X4, Y4),
        NonFiniteError, "evaluate", "not finite", "row 0"),
    bad("fit epochs float", lambda: fit(nn.Linear(2, 2), "cross_entropy", _sgd(), (X4, Y4),
                                        epochs=2.5, log=None), ValueError, "epochs"),
    bad("fit unknown loss", lambda: fit(nn.Linear(2, 2), "crossentropy", _sgd(), (X4, Y4),
                                        epochs=1, log=None), ValueError, "crossentropy"),
]


@params(ROWS)
def test_bad_input_train(row):
    check(row)


@pytest.mark.parametrize("compiled", [False, True])
def test_fit_stops_before_the_nan_step_reaches_the_parameters(compiled):
    """A nan in the third batch: fit raises naming epoch 1, step 3, and the parameters are
    exactly those after the first two steps (the check runs before backward and step), in the
    eager and the compiled training step alike."""
    X = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    X_bad = X.copy()
    X_bad[40, 1] = np.nan

    def run(data):
        tg.manual_seed(0)
        model = nn.Linear(2, 2)
        fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), data, epochs=1,
            batch_size=16, shuffle=False, log=None, progress=False, compile=compiled)
        return model

    expected = run((X[:32], y[:32]))
    tg.manual_seed(0)
    model = nn.Linear(2, 2)
    with pytest.raises(NonFiniteError, match="epoch 1, step 3"):
        fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), (X_bad, y),
            epochs=1, batch_size=16, shuffle=False, log=None, progress=False, compile=compiled)
    for got, want in zip(model.parameters(), expected.parameters(), strict=True):
        np.testing.assert_array_equal(got.data, want.data)
