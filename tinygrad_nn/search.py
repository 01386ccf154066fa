"""Random search, coarse then fine (the CS231n notes), on any ``concurrent.futures.Executor``.

    from tinygrad_nn.search import random_search, log_uniform
    trials = random_search(train_one, {"lr": log_uniform(1e-4, 1)}, trials=20, seed=0,
                           n_jobs=2)                              # a local process pool
    trials = random_search(train_one, ..., executor=client.get_executor())   # a Dask cluster

Points are drawn in this process, in order, from ``seed``; only the training runs in the
executor, and results are collected by position. So a search gives the same trials whatever
runs them (sequentially, a process pool, Dask's ``Client.get_executor()``, Ray's or loky's
executors), as long as ``build_and_train_fn`` is deterministic given its parameters (seed
inside it). A trial that raises is kept, with ``error`` set and a NaN score (sorted last); the
others are unaffected. ``build_and_train_fn`` must be picklable for a process pool (a function
defined at module level; Dask also takes lambdas and closures).

NOTE: not a thread pool (nor Dask workers with several threads): grad mode (``no_grad``) is
one flag per process, so trainings in threads of one process switch each other's gradients off.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np

from .viz import training

__all__ = ["DEFAULT_SPACE", "Distribution", "Trial", "choice", "log_uniform", "random_search",
           "uniform"]


@dataclass(frozen=True)
class Distribution:
    """A search dimension: ``kind`` is "log_uniform", "uniform" or "choice"."""

    kind: str
    low: float = 0.0
    high: float = 0.0
    options: tuple[Any, ...] = ()

    def sample(self, rng: np.random.Generator) -> Any:
        if self.kind == "log_uniform":
            return float(10 ** rng.uniform(math.log10(self.low), math.log10(self.high)))
        if self.kind == "uniform":
            return float(rng.uniform(self.low, self.high))
        return self.options[int(rng.integers(len(self.options)))]

    def narrow(self, values: Sequence[Any], widen: float) -> Distribution:
        """The range the given (best) values span, widened by ``widen`` of the range on each
        side (in log10 for log-uniform) and clipped to this range; choices are kept."""
        if self.kind == "choice":
            return self
        log = self.kind == "log_uniform"
        f = math.log10 if log else float
        lo, hi = min(f(v) for v in values), max(f(v) for v in values)
        full_lo, full_hi = f(self.low), f(self.high)
        pad = widen * max(hi - lo, 0.1 * (full_hi - full_lo))
        lo, hi = max(full_lo, lo - pad), min(full_hi, hi + pad)
        if log:
            return Distribution("log_uniform", 10 ** lo, 10 ** hi)
        return Distribution("uniform", lo, hi)


def log_uniform(low: float, high: float) -> Distribution:
    """10 ** uniform(log10(low), log10(high)): CS231n's lr = 10**uniform(-6, 1)."""
    if not 0 < low < high:
        raise ValueError(f"log_uniform: need 0 < low < high, got {low}, {high}")
    return Distribution("log_uniform", low, high)


def uniform(low: float, high: float) -> Distribution:
    if not low < high:
        raise ValueError(f"uniform: need low < high, got {low}, {high}")
    return Distribution("uniform", low, high)


def choice(*options: Any) -> Distribution:
    if not options:
        raise ValueError("choice: needs at least one option")
    return Distribution("choice", options=tuple(options))


DEFAULT_SPACE = {"lr": log_uniform(1e-6, 1e1), "reg": log_uniform(1e-5, 1e5)}


@dataclass
class Trial:
    """One evaluated point: its parameters, its score, the stage ("coarse"/"fine"), what the
    function returned, and, if it raised, the error ("TypeName: message"; score NaN)."""

    params: dict[str, Any]
    score: float
    stage: str
    result: Any = None
    error: str | None = None


def _score(result: Any, metric: str) -> float:
    from .train import History  # train.py re-exports this module's names: import lazily

    if isinstance(result, History):
        return float(result.best(metric)[metric]) if len(result) else math.nan
    if isinstance(result, Mapping):
        return float(result[metric])
    return float(result)


def random_search(
    build_and_train_fn: Callable[[dict[str, Any], str], Any],
    space: Mapping[str, Distribution] | None = None,
    trials: int = 20,
    seed: int | None = None,
    fine_trials: int | None = None,
    top: int = 3,
    widen: float = 0.25,
    metric: str = "val_accuracy",
    mode: str = "max",
    log: Callable[[str], Any] | None = None,
    *,
    executor: Executor | None = None,
    n_jobs: int = 1,
    progress: bool = True,
) -> list[Trial]:
    """Random search, coarse then fine, as in the CS231n notes; returns every trial, best first.

    ``build_and_train_fn(params, stage)`` trains with ``params`` (a dict drawn from ``space``;
    default lr ~ log-uniform(1e-6, 1e1), reg ~ log-uniform(1e-5, 1e5)) and returns a score (a
    float), a dict holding ``metric``, or a History (its best ``metric``). ``stage`` is
    "coarse" (train briefly: a few epochs) or "fine". The coarse stage draws ``trials`` points
    from the whole space; the fine stage draws ``fine_trials`` (default ``trials``; 0 skips it)
    from the range the ``top`` coarse results span, widened by ``widen``. Diverged runs
    (NaN/inf scores) and failed trials sort last. The same ``seed`` draws the same points.

    Where trials run: ``executor`` (any ``concurrent.futures.Executor``; it is not shut down
    here), else a process pool of ``n_jobs`` workers when ``n_jobs > 1`` (-1: one per CPU),
    else one after another in this process. ``progress``: a tqdm bar per stage when tqdm is
    installed and stderr is a terminal (or in Jupyter).
    """
    from .train import metric_mode

    space = dict(DEFAULT_SPACE if space is None else space)
    if not space:
        raise ValueError("random_search: the search space is empty")
    for name, dim in space.items():
        if not isinstance(dim, Distribution):
            raise TypeError(f"random_search: space[{name!r}] must be log_uniform(...), "
                            f"uniform(...) or choice(...), got {type(dim).__name__}")
    if trials < 1:
        raise ValueError(f"random_search: trials must be >= 1, got {trials}")
    if executor is not None and not isinstance(executor, Executor):
        raise TypeError(f"random_search: executor must be a concurrent.futures.Executor, got "
                        f"{type(executor).__name__}")
    if not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"random_search: n_jobs must be a positive int or -1, got {n_jobs!r}")
    mode = metric_mode(metric, mode)
    rng = np.random.default_rng(seed)
    workers = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
    own_pool = ProcessPoolExecutor(workers) if executor is None and workers > 1 else None
    pool = executor if executor is not None else own_pool

    def key(trial: Trial) -> tuple[int, float]:
        if not math.isfinite(trial.score):
            return (1, 0.0)
        return (0, -trial.score if mode == "max" else trial.score)

    def run(stage: str, dims: Mapping[str, Distribution], n: int) -> list[Trial]:
        points = [{name: dim.sample(rng) for name, dim in dims.items()} for _ in range(n)]
        done = _evaluate(build_and_train_fn, points, stage, metric, pool, progress)
        if log is not None:
            for i, trial in enumerate(done):
                shown = ", ".join(f"{k}={_short(v)}" for k, v in trial.params.items())
                outcome = (f"failed: {trial.error}" if trial.error is not None
                           else f"{metric} {trial.score:.4g}")
                log(f"{stage} {i + 1}/{n}: {shown} -> {outcome}")
        return done

    try:
        results = run("coarse", space, trials)
        if all(t.error is not None for t in results):
            raise RuntimeError(f"random_search: all {trials} coarse trials failed; the first: "
                               f"{results[0].error}")
        n_fine = trials if fine_trials is None else fine_trials
        if n_fine > 0:
            best = [t for t in sorted(results, key=key)[:top] if math.isfinite(t.score)]
            if best:
                fine_space = {name: dim.narrow([t.params[name] for t in best], widen)
                              for name, dim in space.items()}
                results += run("fine", fine_space, n_fine)
    finally:
        if own_pool is not None:
            own_pool.shutdown(cancel_futures=True)
    return sorted(results, key=key)


def _evaluate(fn: Callable[[dict[str, Any], str], Any], points: Sequence[dict[str, Any]],
              stage: str, metric: str, pool: Executor | None, progress: bool) -> list[Trial]:
    """One Trial per point, in the points' order, however and wherever they ran."""
    bar = training.progress_bar(progress, None, f"{stage} search", "trial", total=len(points))
    trials: list[Trial | None] = [None] * len(points)
    try:
        if pool is None:
            for i, params in enumerate(points):
                trials[i] = _trial(lambda p=params: fn(dict(p), stage), params, stage, metric)
                if bar is not None:
                    bar.update()
        else:
            futures: dict[Future, int] = {pool.submit(fn, dict(params), stage): i
                                          for i, params in enumerate(points)}
            for future in as_completed(futures):
                i = futures[future]
                trials[i] = _trial(future.result, points[i], stage, metric)
                if bar is not None:
                    bar.update()
    finally:
        if bar is not None:
            bar.close()
    return [t for t in trials if t is not None]


def _trial(get: Callable[[], Any], params: dict[str, Any], stage: str, metric: str) -> Trial:
    """The Trial of one run: ``get()`` returns its result or raises its error."""
    try:
        result = get()
        return Trial(params, _score(result, metric), stage, result)
    except Exception as e:  # noqa: BLE001 - one failed trial must not lose the others
        return Trial(params, math.nan, stage, None, f"{type(e).__name__}: {e}")


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
