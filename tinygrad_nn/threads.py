"""BLAS threads that fit the work: small matrix products on one thread, large ones on all cores.

OpenBLAS spreads even a 10 x 784 x 30 product over every core; waking threads for a few
microseconds of arithmetic costs more than it saves, and on a busy machine the woken threads wait
for a core (Nielsen's chapter-1 run took twice as long with 2 threads as with 1). So every product
the engine computes first calls ``fit(work)`` with its multiply-add count: below ``THRESHOLD``
NumPy's BLAS gets one thread, above it as many as it started with (``OPENBLAS_NUM_THREADS`` and
friends are respected: they set that maximum). The switch is one ctypes call made only when the
wanted count changes, so a training run of same-sized products pays one comparison per product.

"All cores" means the cores nobody else is using: on a busy machine a woken BLAS thread waits for
a core while its partner spins: with the machine's load average at 8.6, an evaluation pass of
Nielsen's network (1000 x 784 x 30 products) took 156-166 ms on 2 threads and 108-109 ms on one
(docs/logs/issue14c_threads_busy.txt). The count comes from the 1-minute load average (read at
most once a second): ``max_threads - (load - 1)``, at least 1 (our own process is 1 of the load).

Overrides: ``set_num_threads(n)`` fixes the count for every product (``None`` restores the
policy); the environment variable ``TINYGRAD_NN_NUM_THREADS`` does the same at import.
threadpoolctl (https://github.com/joblib/threadpoolctl) finds and drives NumPy's BLAS; only the
BLAS NumPy links is touched, never PyTorch's.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

ENV_VAR = "TINYGRAD_NN_NUM_THREADS"

# NOTE: measured on the 2-core machine, cores free (docs/logs/issue14_gemm_threads.txt):
# a 128 x 784 x 30 product (3M multiply-adds) runs 1.6x faster on 2 threads, a 10 x 784 x 30 one
# (0.2M) gains nothing; threads woken for small products lose when the machine is loaded.
THRESHOLD = 2_000_000

_controllers: list[Any] | None = None  # threadpoolctl's handles on NumPy's BLAS, found lazily
_max_threads = 1  # what the BLAS started with: the environment's choice, or the core count
_current = 0  # the count last set (0: not set yet)
_fixed: int | None = None  # set_num_threads / the environment variable; None: the policy
_free = (0.0, 1)  # (when the load was last read, the cores free then)


def _load() -> float:
    """The 1-minute load average (0.0 where the system has none, e.g. Windows)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def free_cores() -> int:
    """The cores a large product may use: all the BLAS has, minus those other processes keep
    busy (from the load average, which counts this process too); at least one."""
    global _free
    _find()
    now = time.monotonic()
    if now - _free[0] > 1.0:
        busy = max(0, math.floor(_load() - 1.0 + 0.5))  # the load besides ourselves, rounded
        _free = (now, max(1, _max_threads - busy))
    return _free[1]


def _parse_env() -> int | None:
    value = os.environ.get(ENV_VAR)
    if value is None or value.strip() == "":
        return None
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"{ENV_VAR}={value!r}: expected a positive integer") from None
    if n < 1:
        raise ValueError(f"{ENV_VAR}={value!r}: expected a positive integer")
    return n


def _find() -> list[Any]:
    """threadpoolctl's controllers for the BLAS that NumPy itself loaded."""
    global _controllers, _max_threads
    if _controllers is None:
        from threadpoolctl import ThreadpoolController

        blas = ThreadpoolController().select(user_api="blas").lib_controllers
        numpy_own = [c for c in blas if "numpy" in str(c.filepath)]
        _controllers = numpy_own or blas
        _max_threads = max([c.num_threads for c in _controllers], default=1)
    return _controllers


def _set(n: int) -> None:
    global _current
    for controller in _find():
        controller.set_num_threads(n)
    _current = n


def fit(work: int) -> None:
    """Give the next product of ``work`` multiply-adds one thread or all of them."""
    n = _fixed if _fixed is not None else (1 if work < THRESHOLD else free_cores())
    if n != _current:
        _set(n)


def set_num_threads(n: int | None) -> None:
    """Fix the number of BLAS threads for every product the engine computes; ``None`` restores
    the default policy (one thread for small products, all for large ones)."""
    global _fixed, _current
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"set_num_threads: expected a positive int or None, got {n!r}")
    _find()
    _fixed = n
    if n is None:
        _set(_max_threads)  # as before any product: the next fit() chooses again
    else:
        _set(n)


def get_num_threads() -> int:
    """The number of threads NumPy's BLAS uses now (the policy changes it per product)."""
    _find()
    return _current or _max_threads


def max_threads() -> int:
    """How many threads large products get: the BLAS's own count when the library started."""
    _find()
    return _max_threads


_fixed = _parse_env()
