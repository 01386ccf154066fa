"""How the benchmarks measure: thread settings, interleaved repeats, medians.

Threads. BLAS reads its thread count once, when NumPy (or torch) is first imported, so each
thread setting runs in its own subprocess with OPENBLAS_NUM_THREADS / MKL_NUM_THREADS /
OMP_NUM_THREADS set before the import (``thread_env``); torch additionally gets
``torch.set_num_threads``. threadpoolctl is used when it happens to be installed, to confirm
what BLAS actually runs with, but it is not required.

Repeats. Backends are timed interleaved, A B C D A B C D ..., so that a slow patch of the machine
(another process, thermal throttling, a noisy neighbour) hits every backend alike; the statistic
is the median over repeats, and ratios are taken between medians from the same process.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

THREAD_VARS = (
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OMP_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def thread_env(threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of the environment with every BLAS/OpenMP thread variable set to ``threads``."""
    env = dict(os.environ if base is None else base)
    for var in THREAD_VARS:
        env[var] = str(threads)
    return env


def set_torch_threads(threads: int) -> None:
    """torch's intra-op pool (it read OMP_NUM_THREADS at import too; this makes it explicit)."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(threads)


def blas_info() -> str:
    """What BLAS NumPy runs on, and with how many threads (threadpoolctl when available)."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]  # type: ignore[index]
        threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
        return f"{config['name']} {config.get('version', '')} (threads env: {threads})"
    pools = [f"{p['internal_api']} {p['version']} x{p['num_threads']}" for p in threadpool_info()]
    return ", ".join(pools)


@dataclass(frozen=True)
class Sample:
    """One measurement on two clocks: wall time, and this process's CPU time (all threads).

    NOTE: on a shared machine other processes steal the cores; wall time then includes waiting,
    CPU time does not (with one thread it is the less noisy number; with several, BLAS/OpenMP
    threads that spin while waiting inflate it). The targets are judged on wall time.
    """

    wall: float
    cpu: float


def measure(fn: Callable[[], object]) -> Sample:
    """Wall and CPU seconds of one call to ``fn``, after collecting garbage.

    NOTE: the garbage collector stays enabled while timing (unlike ``timeit``): an autograd graph
    with reference cycles costs collections in real use, and that cost belongs in the number.
    """
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return Sample(time.perf_counter() - wall, time.process_time() - cpu)


def per_call(fn: Callable[[], object], calls: int) -> Sample:
    """Mean wall and CPU seconds per call over ``calls`` back-to-back calls."""

    def loop() -> None:
        for _ in range(calls):
            fn()

    total = measure(loop)
    return Sample(total.wall / calls, total.cpu / calls)


def interleaved(fns: dict[str, Callable[[], Sample]], repeats: int) -> dict[str, list[Sample]]:
    """Call every ``fn`` once per round, in order, for ``repeats`` rounds: A B C A B C ...

    Each ``fn`` returns the time it measured itself (so it may exclude its own setup).
    """
    samples: dict[str, list[Sample]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            samples[name].append(fn())
    return samples


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> float:
    """(max - min) / median: how noisy the repeats were, as a fraction."""
    m = statistics.median(values)
    return (max(values) - min(values)) / m if m > 0 else 0.0
