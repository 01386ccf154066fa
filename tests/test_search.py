"""search.random_search on executors: the same trials sequentially, in a forked and a spawned
process pool and on a local Dask cluster; a failing trial is reported and the others kept; a
progress bar per stage."""

from __future__ import annotations

import math
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pytest

from tinygrad_nn import nn, optim, search, train
from tinygrad_nn.data import make_moons
from tinygrad_nn.search import Trial, choice, log_uniform, random_search, uniform
from tinygrad_nn.viz import training

SPACE = {"lr": log_uniform(1e-3, 1.0), "width": choice(4, 8), "momentum": uniform(0.0, 0.9)}


def _train_moons(params: dict[str, Any], stage: str) -> train.History:
    """A real (tiny) training run, seeded inside: deterministic given its parameters."""
    X, y = make_moons(64, noise=0.2, seed=0)
    model = nn.build(f"2-{params['width']}-2:tanh", dtype=np.float64, generator=1)
    opt = optim.SGD(model.parameters(), lr=params["lr"], momentum=params["momentum"])
    return train.fit(model, "cross_entropy", opt, (X, y), val=(X, y),
                     epochs=2 if stage == "coarse" else 3, batch_size=16, seed=2,
                     progress=False, log=None)


def _fails_when_wide(params: dict[str, Any], stage: str) -> float:
    if params["width"] == 8 and params["lr"] > 0.05:
        raise ValueError(f"diverged at lr={params['lr']:.3g}")
    return -abs(math.log10(params["lr"]) + 1.5)


def _always_fails(params: dict[str, Any], stage: str) -> float:
    raise RuntimeError("no GPU here")


def _summary(trials: list[Trial]) -> list[tuple]:
    return [(t.stage, t.params, t.score, t.error) for t in trials]


@pytest.fixture(scope="module")
def sequential() -> list[Trial]:
    return random_search(_train_moons, SPACE, trials=4, fine_trials=2, seed=3, progress=False)


def test_a_process_pool_gives_the_sequential_trials(sequential: list[Trial]) -> None:
    pooled = random_search(_train_moons, SPACE, trials=4, fine_trials=2, seed=3, n_jobs=2,
                           progress=False)
    assert _summary(pooled) == _summary(sequential)
    assert len(sequential) == 6 and {t.stage for t in sequential} == {"coarse", "fine"}
    assert all(isinstance(t.result, train.History) for t in pooled)


def test_any_executor_gives_the_sequential_trials(sequential: list[Trial]) -> None:
    # NOTE: processes, not threads: grad mode (no_grad) is one flag per process, so two
    # trainings in threads of one process would switch each other's gradients off.
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters: nothing inherited
    with ProcessPoolExecutor(2, mp_context=spawn) as pool:
        spawned = random_search(_train_moons, SPACE, trials=4, fine_trials=2, seed=3,
                                executor=pool, progress=False)
    assert _summary(spawned) == _summary(sequential)


def test_a_local_dask_cluster_gives_the_sequential_trials(sequential: list[Trial]) -> None:
    distributed = pytest.importorskip("distributed")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need not import it
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=":0") as cluster, \
                distributed.Client(cluster) as client:
            on_dask = random_search(_train_moons, SPACE, trials=4, fine_trials=2, seed=3,
                                    executor=client.get_executor(), progress=False)
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert _summary(on_dask) == _summary(sequential)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_failed_trial_is_reported_and_the_others_kept(n_jobs: int) -> None:
    lines: list[str] = []
    trials = random_search(_fails_when_wide, SPACE, trials=12, fine_trials=0, seed=0,
                           n_jobs=n_jobs, log=lines.append, progress=False)
    failed = [t for t in trials if t.error is not None]
    assert 0 < len(failed) < len(trials), "the seed must give both kinds of trial"
    assert all(t.error.startswith("ValueError: diverged at lr=") and math.isnan(t.score)
               for t in failed)
    assert trials[-len(failed):] == failed, "failed trials sort last"
    ok = [t for t in trials if t.error is None]
    assert all(t.score == -abs(math.log10(t.params["lr"]) + 1.5) for t in ok)
    assert sum("failed: ValueError: diverged" in line for line in lines) == len(failed)


def test_all_trials_failing_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="all 3 coarse trials failed; the first: "
                                           "RuntimeError: no GPU here"):
        random_search(_always_fails, SPACE, trials=3, progress=False)


class _Bar:
    """Records what random_search does with its progress bar."""

    made: list[_Bar] = []

    def __init__(self, iterable: Any, desc: str, unit: str, total: int) -> None:
        self.desc, self.unit, self.total, self.updates, self.closed = desc, unit, total, 0, False
        _Bar.made.append(self)

    def update(self) -> None:
        self.updates += 1

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_progress_bar_per_stage(monkeypatch: pytest.MonkeyPatch, n_jobs: int) -> None:
    monkeypatch.setattr(training, "progress_bar", lambda show, *args, **kwargs:
                        _Bar(*args, **kwargs) if show else None)
    _Bar.made = []
    random_search(_fails_when_wide, SPACE, trials=3, fine_trials=2, seed=0, n_jobs=n_jobs)
    assert [(b.desc, b.unit, b.total, b.updates, b.closed) for b in _Bar.made] == [
        ("coarse search", "trial", 3, 3, True), ("fine search", "trial", 2, 2, True)]
    _Bar.made = []
    random_search(_fails_when_wide, SPACE, trials=3, fine_trials=2, seed=0, progress=False)
    assert _Bar.made == []


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="executor must be a concurrent.futures.Executor"):
        random_search(_fails_when_wide, SPACE, executor=object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_jobs must be a positive int or -1, got 0"):
        random_search(_fails_when_wide, SPACE, n_jobs=0)
    assert search.random_search is train.random_search  # the old import path still works


def test_the_real_search_bar_counts_trials(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """random_search's bar has no iterable (it is updated per trial): the real one works too."""
    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    random_search(_fails_when_wide, SPACE, trials=2, fine_trials=0, seed=0, n_jobs=1)
    assert "coarse search" in capsys.readouterr().err
