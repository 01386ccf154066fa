"""Micro-benchmarks: per-op overhead, a 100,000-op chain, and memory per training step.

Per-op overhead (10x10 float64 tensors, both inputs requiring grad), measured as differences of
loops so that each number isolates one cost:

    fwd+bwd(op)     = t[ op(a, b).sum().backward() ] - t[ a.sum().backward() ]
    backward() cost = t[ a.sum().backward() ]        - t[ a.sum() ]
    fwd(op)         = t[ op(a, b) ]                  (forward alone, graph recorded)

so "fwd+bwd" is what one more op in a graph costs, and "backward() cost" is the fixed price of a
backward call (seeding, topological sort, one trivial VJP, accumulating into ``.grad``). The same
loops run on PyTorch, interleaved, for comparison.

Memory uses ``tracemalloc``, which sees NumPy's array buffers as well as Python objects (so it
cannot see torch's allocations: memory is compared with the NumPy floor only).
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from . import timing
from .backends import create
from .data import Dataset, init_params
from .training import Case

OPS: dict[str, Callable] = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "matmul": lambda a, b: a @ b,
    "sigmoid": lambda a, b: a.sigmoid(),
    "sum": lambda a, b: a.sum(0),  # over one axis: the base loop's a.sum() is over all of them
}


def _leaves(framework: str, size: int) -> tuple:
    rng = np.random.default_rng(0)
    arrays = rng.standard_normal((2, size, size))
    if framework == "torch":
        import torch

        return tuple(torch.tensor(x, requires_grad=True) for x in arrays)
    from tinygrad_nn import Tensor

    return tuple(Tensor(x.copy(), requires_grad=True) for x in arrays)


def _loops(framework: str, size: int) -> dict[str, Callable[[], object]]:
    """The loop bodies timed for one framework; keys are measurement names."""
    a, b = _leaves(framework, size)

    def base() -> None:
        a.grad = None
        a.sum().backward()

    loops: dict[str, Callable[[], object]] = {"sum": lambda: a.sum(), "sum+backward": base}
    for name, op in OPS.items():

        def fwd_bwd(op: Callable = op) -> None:
            a.grad = None
            b.grad = None
            op(a, b).sum().backward()

        loops[f"{name} fwd"] = lambda op=op: op(a, b)
        loops[f"{name} fwd+bwd+sum+backward"] = fwd_bwd
    return loops


def per_op(frameworks: list[str], calls: int = 2000, repeats: int = 7, size: int = 10) -> dict:
    """Microseconds per op (forward+backward and forward) and per backward() call: medians over
    ``repeats`` interleaved rounds, on the wall clock and on this process's CPU time."""
    loops = {fw: _loops(fw, size) for fw in frameworks}
    samples: dict[str, dict[str, list[timing.Sample]]] = {
        fw: {k: [] for k in loops[fw]} for fw in loops
    }
    for fw_loops in loops.values():  # warm-up
        for fn in fw_loops.values():
            timing.per_call(fn, max(calls // 10, 1))
    for _ in range(repeats):
        for fw, fw_loops in loops.items():
            for key, fn in fw_loops.items():
                samples[fw][key].append(timing.per_call(fn, calls))
    result = {}
    for fw, by_key in samples.items():
        for clock in ("wall", "cpu"):
            us = {k: timing.median([getattr(s, clock) for s in v]) * 1e6 for k, v in by_key.items()}
            result.setdefault(fw, {})[clock] = {
                "backward_fixed_us": us["sum+backward"] - us["sum"],
                "ops": {
                    name: {
                        "fwd_bwd_us": us[f"{name} fwd+bwd+sum+backward"] - us["sum+backward"],
                        "fwd_us": us[f"{name} fwd"],
                    }
                    for name in OPS
                },
            }
    return {"size": size, "calls": calls, "repeats": repeats, "frameworks": result}


def chain(frameworks: list[str], length: int = 100_000) -> dict:
    """Build y = x * c * c * ... (``length`` muls), then time ``y.sum().backward()``."""
    factor = 1.0 + 1e-6
    result = {}
    for fw in frameworks:
        if fw == "torch":
            import torch

            x = torch.ones(1, dtype=torch.float64, requires_grad=True)
            c = torch.full((1,), factor, dtype=torch.float64)
        else:
            from tinygrad_nn import Tensor

            x = Tensor(np.ones(1), requires_grad=True)
            c = Tensor(np.full(1, factor))
        gc.collect()
        start = time.perf_counter()
        y = x
        for _ in range(length):
            y = y * c
        built, built_cpu = time.perf_counter(), time.process_time()
        try:
            y.sum().backward()
            error = None
        except RecursionError as e:  # an engine that recurses fails here, which is the point
            error = f"RecursionError: {e}"
        entry = {
            "forward_s": built - start,
            "backward_s": time.perf_counter() - built,
            "backward_cpu_s": time.process_time() - built_cpu,
            "error": error,
        }
        if error is None:
            grad = float(np.asarray(x.grad.data if fw != "torch" else x.grad.numpy())[0])
            entry["grad_correct"] = bool(np.isclose(grad, factor**length, rtol=1e-9))
        del y
        result[fw] = entry
    return {"length": length, "frameworks": result}


def _memory_runner(name: str, case: Case, data: Dataset):
    runner = create(name)
    runner.setup(init_params(list(case.sizes), seed=0), case.dtype)
    x = data.x_train.astype(case.dtype)
    y = data.y_train.astype(case.dtype)
    lr = 3.0 / case.batch

    def step(i: int) -> None:
        k = (i * case.batch) % (len(x) - case.batch + 1)
        runner.step(x[k : k + case.batch], y[k : k + case.batch], lr)

    return step


def peak_step_memory(backends: list[str], case: Case, data: Dataset, steps: int = 20) -> dict:
    """Peak bytes allocated during one training step above what was live before it (max over
    ``steps`` steps), per backend."""
    result = {}
    for name in backends:
        step = _memory_runner(name, case, data)
        with np.errstate(over="ignore"):
            for i in range(5):
                step(i)
            tracemalloc.start()
            peaks = []
            for i in range(steps):
                gc.collect()
                tracemalloc.reset_peak()
                before = tracemalloc.get_traced_memory()[0]
                step(i)
                peaks.append(tracemalloc.get_traced_memory()[1] - before)
            tracemalloc.stop()
        result[name] = {"peak_bytes": max(peaks)}
    return {"case": case.name, "backends": result}


def memory_growth(backends: list[str], case: Case, data: Dataset, steps: int = 10_000) -> dict:
    """Live traced bytes after ``steps`` training steps minus after the first 1% of them (both
    after ``gc.collect()``); samples of live memory (without collecting) every ``steps // 10``."""
    result = {}
    warm = max(steps // 100, 10)
    for name in backends:
        step = _memory_runner(name, case, data)
        samples = []
        with np.errstate(over="ignore"):
            tracemalloc.start()
            for i in range(warm):
                step(i)
            gc.collect()
            start = tracemalloc.get_traced_memory()[0]
            for i in range(warm, steps):
                step(i)
                if (i + 1) % max(steps // 10, 1) == 0:
                    samples.append(tracemalloc.get_traced_memory()[0] - start)
            gc.collect()
            end = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
        result[name] = {"growth_bytes": end - start, "live_samples": samples}
    return {"case": case.name, "steps": steps, "backends": result}
