"""Benchmarks for tinygrad_nn ("Fast by design"): ``python -m benchmarks --help``.

One module per concern, read in this order:

    data.py      MNIST (local IDX reader) or a synthetic stand-in; initial weights; shuffles
    backends.py  the registry: numpy (the floor), loop (Nielsen's network.py), tinygrad,
                 tinygrad-nn (nn.Sequential + optim.SGD), torch
    timing.py    thread settings, interleaved repeats, medians
    training.py  the grid cases and the full chapter-1 run, with the correctness gate
    micro.py     per-op overhead, the 100,000-op chain, memory per step and growth
    report.py    Markdown tables and the targets with PASS/FAIL
    worker.py    one process per thread setting (BLAS threads are fixed at NumPy import)
    cli.py       the command line
    profiling.py where a backend spends its time (pyinstrument or cProfile)
"""
