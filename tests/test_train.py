"""tinygrad_nn.train: fit, evaluate, History, early stopping, checkpoints, random search."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from tinygrad_nn import io, nn, optim
from tinygrad_nn.data import make_moons, train_test_split
from tinygrad_nn.train import (
    EarlyStopping,
    History,
    choice,
    evaluate,
    fit,
    log_uniform,
    make_loss,
    random_search,
    uniform,
)


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(300, noise=0.1, seed=0)
    return train_test_split(X, y, 0.2, seed=0)


def _model(seed=0, spec="2-16-2:tanh"):
    return nn.build(spec, dtype="float64", generator=seed)


def test_fit_improves_accuracy_and_records_history(moons):
    X_train, X_test, y_train, y_test = moons
    model = _model()
    before = evaluate(model, X_test, y_test)["accuracy"]
    history = fit(model, "cross_entropy", optim.Adam(model.parameters(), lr=0.05),
                  (X_train, y_train), val=(X_test, y_test), epochs=15, batch_size=16, seed=0,
                  log=None)
    after = evaluate(model, X_test, y_test)["accuracy"]
    assert after >= 0.9 and after > before + 0.1
    assert len(history) == 15
    assert history["epoch"] == list(range(1, 16))
    assert history["loss"][-1] < history["loss"][0]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "val_correct", "val_count",
                "lr", "time", "cpu_time"):
        assert key in history.epochs[0], key
    assert history["val_accuracy"][-1] == pytest.approx(after)
    assert history.epochs[-1]["val_correct"] == round(after * len(y_test))
    assert history.best("val_accuracy")["val_accuracy"] == max(history["val_accuracy"])
    assert history.best("val_loss")["val_loss"] == min(history["val_loss"])


def test_history_is_json_and_round_trips(tmp_path, moons):
    X_train, _, y_train, _ = moons
    model = _model()
    history = fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1),
                  (X_train, y_train), epochs=2, batch_size=32, log=None)
    history.epochs[0]["loss"] = math.nan  # NaN is not JSON: written as null, read back as NaN
    path = tmp_path / "history.json"
    text = history.to_json(path)
    assert json.loads(text)["epochs"][0]["loss"] is None
    again = History.from_json(path)
    assert math.isnan(again.epochs[0]["loss"])
    assert again.epochs[1] == history.epochs[1]
    assert History.from_json(text).epochs[1] == history.epochs[1]
    with pytest.raises(KeyError, match="no 'nope'"):
        history["nope"]


def test_same_seed_same_run_and_different_seed_differs(moons):
    X_train, _, y_train, _ = moons

    def run(seed):
        model = _model(0, "2-8-2:relu,dropout=0.2")
        fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), (X_train, y_train),
            epochs=2, batch_size=8, seed=seed, log=None)
        return model.state_dict()

    a, b, c = run(1), run(1), run(2)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


def test_quadratic_loss_gets_one_hot_targets_and_matches_nielsens_update():
    """fit with "quadratic" and SGD(lr=eta) is Nielsen's w -= eta/m * sum of gradients."""
    rng = np.random.default_rng(0)
    X, y = rng.random((20, 4)), rng.integers(0, 3, 20)
    model = nn.build("4-5-3:sigmoid,out=sigmoid,init=nielsen_large", dtype="float64",
                     generator=0)
    start = {k: v.copy() for k, v in model.state_dict().items()}
    fit(model, "quadratic", optim.SGD(model.parameters(), lr=3.0), (X, y), epochs=1,
        batch_size=20, shuffle=False, log=None)

    from tinygrad_nn.reference import nielsen

    weights = [start["0.weight"], start["2.weight"]]
    biases = [start["0.bias"].reshape(-1, 1), start["2.bias"].reshape(-1, 1)]
    onehot = np.eye(3)[y]
    grads_b, grads_w = [np.zeros_like(b) for b in biases], [np.zeros_like(w) for w in weights]
    for x_row, t in zip(X, onehot):
        nb, nw = nielsen.backprop(weights, biases, x_row.reshape(-1, 1), t.reshape(-1, 1))
        grads_b = [g + d for g, d in zip(grads_b, nb)]
        grads_w = [g + d for g, d in zip(grads_w, nw)]
    expected = weights[0] - 3.0 / 20 * grads_w[0]
    np.testing.assert_allclose(model.state_dict()["0.weight"], expected, rtol=1e-12)


def test_custom_loss_with_one_hot_targets_evaluates_val_alike(moons):
    X_train, X_test, y_train, y_test = moons
    model = _model(0, "2-8-2:tanh,out=sigmoid")
    from tinygrad_nn.nn import functional as F

    def cost(a, t):
        return F.binary_cross_entropy(a, t, reduction="sum") * (1.0 / len(t))

    history = fit(model, cost, optim.SGD(model.parameters(), lr=0.5),
                  (X_train, np.eye(2)[y_train]), val=(X_test, y_test), epochs=3, batch_size=10,
                  log=None)
    assert np.isfinite(history["val_loss"]).all()
    assert history["val_accuracy"][-1] > 0.7


def test_early_stopping_triggers_and_restores_best(moons):
    X_train, X_test, y_train, y_test = moons
    model = _model()
    # lr 0: nothing ever improves after the first epoch
    stopper = EarlyStopping(patience=2, monitor="val_loss")
    history = fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.0),
                  (X_train, y_train), val=(X_test, y_test), epochs=10, early_stopping=stopper,
                  log=None)
    assert len(history) == 3 and history.stopped_early and history.best_epoch == 1


def test_early_stopping_restores_the_best_weights(moons):
    X_train, X_test, y_train, y_test = moons
    model = _model()
    seen = []

    def remember(record):
        seen.append({k: v.copy() for k, v in model.state_dict().items()})

    history = fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=5.0),
                  (X_train, y_train), val=(X_test, y_test), epochs=8, early_stopping=2,
                  on_epoch_end=remember, log=None)
    best = history.best_epoch
    assert best == history.best("val_accuracy")["epoch"]
    state = model.state_dict()
    assert all(np.array_equal(state[k], seen[best - 1][k]) for k in state)


def test_early_stopping_needs_validation_data(moons):
    X_train, _, y_train, _ = moons
    model = _model()
    with pytest.raises(ValueError, match="needs val"):
        fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), (X_train, y_train),
            epochs=2, early_stopping=3, log=None)


def test_checkpoint_written_every_epoch_and_loadable(tmp_path, moons):
    X_train, X_test, y_train, y_test = moons
    model = _model()
    path = tmp_path / "run.safetensors"
    fit(model, "cross_entropy", optim.Adam(model.parameters(), lr=0.01), (X_train, y_train),
        val=(X_test, y_test), epochs=2, checkpoint=path, log=None)
    ckpt = io.load(path)
    assert ckpt.extra["epoch"] == 2 and len(ckpt.extra["history"]["epochs"]) == 2
    assert isinstance(ckpt.optimizer, optim.Adam)
    loaded = ckpt.model.state_dict()
    assert all(np.array_equal(loaded[k], v) for k, v in model.state_dict().items())
    assert evaluate(ckpt.model, X_test, y_test) == evaluate(model, X_test, y_test)


def test_scheduler_steps_once_per_epoch(moons):
    X_train, _, y_train, _ = moons
    model = _model()
    sgd = optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, "cross_entropy", sgd, (X_train, y_train), epochs=3,
                  scheduler=optim.StepLR(sgd, step_size=1, gamma=0.5), log=None)
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])


def test_log_prints_one_line_per_epoch(moons):
    X_train, _, y_train, _ = moons
    lines = []
    model = _model()
    fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), (X_train, y_train),
        epochs=2, log=lines.append)
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2") and "acc" in lines[0]


def test_evaluate_restores_training_mode_and_uses_eval(moons):
    X_train, _, y_train, _ = moons
    model = _model(0, "2-8-2:relu,dropout=0.5")
    model.train()
    a = evaluate(model, X_train, y_train, batch_size=7)
    b = evaluate(model, X_train, y_train, batch_size=1000)
    assert a == b  # eval mode: no dropout, so batching does not matter
    assert model.training


def test_regression_without_accuracy():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (64, 1))
    y = 0.5 * X
    model = nn.build("1-1:identity", dtype="float64", generator=0)
    history = fit(model, "mse", optim.SGD(model.parameters(), lr=0.5), (X, y), epochs=20,
                  batch_size=16, metrics=(), log=None)
    assert history["loss"][-1] < 1e-4
    with pytest.raises(ValueError, match="accuracy needs"):
        fit(model, "mse", optim.SGD(model.parameters(), lr=0.5), (X, y), epochs=1, log=None)


def test_bad_arguments():
    model = _model()
    data = (np.zeros((4, 2)), np.zeros(4, dtype=int))
    sgd = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="unknown loss"):
        make_loss("hinge")
    with pytest.raises(ValueError, match="metrics"):
        fit(model, "cross_entropy", sgd, data, metrics=("f1",), log=None)
    with pytest.raises(ValueError, match="rows"):
        fit(model, "cross_entropy", sgd, (np.zeros((4, 2)), np.zeros(3, int)), log=None)
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)


# ---------------------------------------------------------------------------------------------
# random search
# ---------------------------------------------------------------------------------------------


def _quadratic_bowl(params, stage):
    """A score peaking at lr = 1e-2, reg = 1e-1 (in log space); no training needed."""
    return -((math.log10(params["lr"]) + 2) ** 2 + (math.log10(params["reg"]) + 1) ** 2)


def test_random_search_is_reproducible_sorted_and_refines():
    a = random_search(_quadratic_bowl, trials=15, seed=3)
    b = random_search(_quadratic_bowl, trials=15, seed=3)
    c = random_search(_quadratic_bowl, trials=15, seed=4)
    assert [t.params for t in a] == [t.params for t in b]
    assert [t.params for t in a] != [t.params for t in c]
    assert len(a) == 30
    scores = [t.score for t in a]
    assert scores == sorted(scores, reverse=True)
    coarse = [t for t in a if t.stage == "coarse"]
    fine = [t for t in a if t.stage == "fine"]
    # the fine stage samples near the best coarse points: its median beats the coarse median
    assert np.median([t.score for t in fine]) > np.median([t.score for t in coarse])
    for t in coarse:
        assert 1e-6 <= t.params["lr"] <= 10 and 1e-5 <= t.params["reg"] <= 1e5


def test_random_search_sorts_diverged_runs_last_and_passes_the_stage():
    stages = []

    def fn(params, stage):
        stages.append(stage)
        return math.nan if params["x"] > 0.5 else params["x"]

    results = random_search(fn, {"x": uniform(0, 1), "kind": choice("a", "b")}, trials=10,
                            fine_trials=3, seed=0, mode="max")
    assert stages == ["coarse"] * 10 + ["fine"] * 3
    finite = [t for t in results if math.isfinite(t.score)]
    assert results[: len(finite)] == finite
    assert [t.score for t in finite] == sorted((t.score for t in finite), reverse=True)


def test_random_search_accepts_histories_and_dicts():
    history = History([{"epoch": 1, "val_accuracy": 0.5}, {"epoch": 2, "val_accuracy": 0.75}])
    results = random_search(lambda p, s: history, {"lr": log_uniform(1e-3, 1)}, trials=2,
                            fine_trials=0, seed=0)
    assert [t.score for t in results] == [0.75, 0.75]
    results = random_search(lambda p, s: {"val_accuracy": p["lr"]}, {"lr": uniform(0, 1)},
                            trials=4, fine_trials=0, seed=0)
    assert results[0].score == max(t.params["lr"] for t in results)
    with pytest.raises(ValueError, match="low < high"):
        log_uniform(1, 0.1)
    with pytest.raises(TypeError, match="log_uniform"):
        random_search(_quadratic_bowl, {"lr": (1e-3, 1)}, trials=2)


# ---------------------------------------------------------------------------------------------
# the progress bar: tqdm on a terminal, a plain line per epoch otherwise
# ---------------------------------------------------------------------------------------------


def _fit_quietly(moons, progress=True):
    X_train, _, y_train, _ = moons
    model = _model()
    lines = []
    fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), (X_train, y_train),
        epochs=2, batch_size=8, progress=progress, log=lines.append)
    return lines


def test_progress_bar_on_a_terminal(capsys, monkeypatch, moons):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    lines = _fit_quietly(moons)
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "batch" in err  # the bar's description and unit
    assert len(lines) == 2  # the per-epoch line is logged as well


def test_no_bar_without_a_terminal_without_tqdm_or_when_disabled(capsys, monkeypatch, moons):
    assert len(_fit_quietly(moons)) == 2 and capsys.readouterr().err == ""  # not a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert len(_fit_quietly(moons, progress=False)) == 2
    assert capsys.readouterr().err == ""
    monkeypatch.setitem(sys.modules, "tqdm", None)  # "not installed": import raises
    assert len(_fit_quietly(moons)) == 2
    assert capsys.readouterr().err == ""


def test_a_checkpoint_path_that_cannot_be_written_fails_before_training(tmp_path, moons):
    from tinygrad_nn.checkpoint import CheckpointError

    X_train, _, y_train, _ = moons
    model = _model()
    before = model.state_dict()
    with pytest.raises(CheckpointError, match="read-only; save to a .safetensors path"):
        fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), (X_train, y_train),
            epochs=2, checkpoint=tmp_path / "run.npz", log=None)
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
