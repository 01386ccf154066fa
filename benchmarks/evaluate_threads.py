"""One ``evaluate`` pass of Nielsen's [784, 30, 10] network over 10,000 examples (batches of
1000: 1000 x 784 x 30 products, above threads.THRESHOLD) at 1 BLAS thread, 2 threads, and the
default policy, interleaved; medians and ranges of 7 rounds, with the load average.

    python -m benchmarks.evaluate_threads
"""

from __future__ import annotations

import os
import time

import numpy as np

import tinygrad_nn as tg
from tinygrad_nn import nn


def main() -> None:
    rng = np.random.default_rng(0)
    X, labels = rng.random((10_000, 784)), rng.integers(0, 10, 10_000)
    tg.manual_seed(0)
    model = nn.build("784-30-10:sigmoid,out=sigmoid", dtype=np.float64)
    # NOTE: 2 threads last in a round: OpenBLAS's threads spin a while after a product, which
    # slows whatever runs next on a busy machine
    settings = {"default": None, "1 thread": 1, "2 threads": 2}
    times: dict[str, list[float]] = {k: [] for k in settings}
    print(f"load average before: {os.getloadavg()}")
    for _ in range(7):
        for name, n in settings.items():
            tg.set_num_threads(n)
            start = time.perf_counter()
            tg.train.evaluate(model, X, labels)
            times[name].append(time.perf_counter() - start)
    tg.set_num_threads(None)
    for name, t in times.items():
        t_ms = np.array(t) * 1e3
        print(f"{name:9s} evaluate {np.median(t_ms):7.1f} ms [{t_ms.min():.1f}-{t_ms.max():.1f}]")
    free = getattr(tg.threads, "free_cores", None)  # None: a tree from before the policy
    print(f"load average after: {os.getloadavg()}; large products get "
          f"{free() if free else tg.threads.max_threads()} thread(s) by default")


if __name__ == "__main__":
    main()
