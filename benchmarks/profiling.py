"""Where a backend spends its time: ``python -m benchmarks.profiling [--case ...] [--steps N]``.

Runs training steps of one backend (tinygrad by default) under pyinstrument when it is installed
(``pip install pyinstrument``), else under cProfile, and prints the call tree / the top functions.
For a sampling view of a running benchmark instead, use py-spy:
``py-spy record -o profile.svg -- python -m benchmarks --cases 784-30-10/mb10/float64``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

import numpy as np

from .backends import create
from .data import init_params, load
from .training import GRID


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profiling", description=__doc__)
    p.add_argument("--backend", default="tinygrad")
    p.add_argument("--case", default="784-30-10/mb10/float64", choices=[c.name for c in GRID])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--cprofile", action="store_true", help="use cProfile even with pyinstrument")
    args = p.parse_args(argv)

    case = next(c for c in GRID if c.name == args.case)
    data = load(n_train=case.batch * 500, n_test=1).astype(case.dtype)
    backend = create(args.backend)
    backend.setup(init_params(list(case.sizes), seed=0), case.dtype)
    n_batches = len(data.x_train) // case.batch

    def run() -> None:
        with np.errstate(over="ignore"):
            for i in range(args.steps):
                k = (i % n_batches) * case.batch
                x, y = data.x_train[k : k + case.batch], data.y_train[k : k + case.batch]
                backend.step(x, y, 3.0 / case.batch)

    run()  # warm-up
    try:
        if args.cprofile:
            raise ImportError
        from pyinstrument import Profiler
    except ImportError:
        profiler = cProfile.Profile()
        profiler.runcall(run)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    profiler = Profiler(interval=0.001)
    profiler.start()
    run()
    profiler.stop()
    print(f"{args.backend} {case.name}: {args.steps} steps")
    print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
