"""``python -m benchmarks conv``: conv2d + max_pool2d, forward and backward, at Nielsen's shapes.

Backends, all float32 with the same inputs, timed interleaved (A B C D A B C D ...) in this one
process with one BLAS thread (set before NumPy is imported: run through ``python -m
benchmarks conv``, or set OPENBLAS_NUM_THREADS=1 yourself):

- ``tinygrad_nn``: ``max_pool2d(conv2d(x, w), 2)`` and ``backward`` (gradients of x and w);
- ``torch``: the same with PyTorch CPU (``torch.set_num_threads(1)``);
- ``cs231n_fast``: the im2col reference (index arrays + one GEMM, the reshape pool);
- ``cs231n_naive``: the assignment's loops (fewer calls: it is slow).

A step is the forward and the backward of one (conv, pool) pair, both input and weight
gradients. Reported: the median seconds per step over the repeats, the range (min-max), and
ratios between medians of the same process: tinygrad_nn / torch (target <= 1.5) and
naive / tinygrad_nn (target >= 50).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable

for _variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402  (after the thread settings)

from .timing import blas_info, median  # noqa: E402

# (name, input shape without the batch, filters): Nielsen's two conv-pool layers
LAYERS = [("20x5x5 on 1x28x28", (1, 28, 28), 20), ("40x5x5 on 20x12x12", (20, 12, 12), 40)]
BATCHES = (10, 64)
POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}
CONV = {"stride": 1, "pad": 0}


def _tinygrad(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> Callable[[], object]:
    import tinygrad_nn as tg
    from tinygrad_nn.convolution import conv2d, max_pool2d

    tx, tw = tg.Tensor(x, requires_grad=True), tg.Tensor(w, requires_grad=True)

    def step() -> object:
        tx.grad = tw.grad = None
        max_pool2d(conv2d(tx, tw), 2).backward(g)
        return tw.grad

    return step


def _torch(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> Callable[[], object] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tg_ = torch.tensor(g)

    def step() -> object:
        tx.grad = tw.grad = None
        torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(tx, tw), 2).backward(tg_)
        return tw.grad

    return step


def _cs231n(x: np.ndarray, w: np.ndarray, g: np.ndarray, fast: bool) -> Callable[[], object]:
    from tinygrad_nn.reference import cs231n_conv as ref

    b = np.zeros(w.shape[0], dtype=w.dtype)
    conv_f, conv_b = ((ref.conv_forward_fast, ref.conv_backward_fast) if fast
                      else (ref.conv_forward_naive, ref.conv_backward_naive))
    pool_f, pool_b = ((ref.max_pool_forward_fast, ref.max_pool_backward_fast) if fast
                      else (ref.max_pool_forward_naive, ref.max_pool_backward_naive))

    def step() -> object:
        out, conv_cache = conv_f(x, w, b, CONV)
        _, pool_cache = pool_f(out, POOL)
        return conv_b(pool_b(g, pool_cache), conv_cache)

    return step


def check_agreement(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> float:
    """The largest relative difference of the weight gradient between the backends (the
    benchmark measures the same computation everywhere, or it measures nothing)."""
    grads = [np.asarray(_tinygrad(x, w, g)().data), _cs231n(x, w, g, fast=True)()[1]]
    torch_step = _torch(x, w, g)
    if torch_step is not None:
        grads.append(torch_step().numpy())
    scale = np.abs(grads[0]).max()
    return max(float(np.abs(a - grads[0]).max() / scale) for a in grads[1:])


def run(repeats: int, calls: int, naive_calls: int, batches: tuple[int, ...],
        naive: bool = True) -> list[dict]:
    rows = []
    rng = np.random.default_rng(0)
    for batch in batches:
        for name, shape, filters in LAYERS:
            x = rng.standard_normal((batch,) + shape).astype(np.float32)
            w = (0.1 * rng.standard_normal((filters, shape[0], 5, 5))).astype(np.float32)
            oh = (shape[1] - 4) // 2
            g = rng.standard_normal((batch, filters, oh, oh)).astype(np.float32)
            steps: dict[str, tuple[Callable[[], object], int]] = {
                "tinygrad_nn": (_tinygrad(x, w, g), calls)}
            torch_step = _torch(x, w, g)
            if torch_step is not None:
                steps["torch"] = (torch_step, calls)
            steps["cs231n_fast"] = (_cs231n(x, w, g, fast=True), calls)
            if naive:
                steps["cs231n_naive"] = (_cs231n(x, w, g, fast=False), naive_calls)
            for step, _ in steps.values():
                step()  # warm up: imports, first allocations
            times: dict[str, list[float]] = {k: [] for k in steps}
            for _ in range(repeats):
                for key, (step, n) in steps.items():
                    start = time.perf_counter()
                    for _ in range(n):
                        step()
                    times[key].append((time.perf_counter() - start) / n)
            rows.append({"layer": name, "batch": batch, "times": times,
                         "agreement": check_agreement(x, w, g)})
    return rows


def _ms(values: list[float]) -> str:
    return f"{1e3 * median(values):.3g} ({1e3 * min(values):.3g}-{1e3 * max(values):.3g})"


def _ratio(times: dict[str, list[float]], top: str, bottom: str) -> str:
    if top not in times or bottom not in times:
        return "-"
    return f"{median(times[top]) / median(times[bottom]):.2f}"


def render(rows: list[dict], repeats: int) -> str:
    backends = [b for b in ("tinygrad_nn", "torch", "cs231n_fast", "cs231n_naive")
                if b in rows[0]["times"]]
    header = ["layer", "batch"] + [f"{b} ms" for b in backends] + [
        "tinygrad_nn / torch", "naive / tinygrad_nn", "fast / tinygrad_nn", "max rel. diff"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        t = row["times"]
        cells = [row["layer"], str(row["batch"])] + [_ms(t[b]) for b in backends] + [
            _ratio(t, "tinygrad_nn", "torch"), _ratio(t, "cs231n_naive", "tinygrad_nn"),
            _ratio(t, "cs231n_fast", "tinygrad_nn"), f"{row['agreement']:.1e}"]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append(f"\nmedians (min-max) of {repeats} interleaved repeats, per step (forward + "
                 f"backward of conv2d + 2x2 max_pool2d, float32, one thread); {blas_info()}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks conv", description=__doc__)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--calls", type=int, default=20, help="steps per timing (default 20)")
    parser.add_argument("--naive-calls", type=int, default=1)
    parser.add_argument("--batches", default="10,64", help="default: 10,64")
    parser.add_argument("--no-naive", action="store_true", help="skip the loop reference")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 repeat, 1 call")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.calls, args.naive_calls, args.batches = 1, 1, 1, "2"
    batches = tuple(int(b) for b in args.batches.split(","))
    try:  # NumPy may have been imported (and its BLAS started) before the settings above
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits = contextlib.nullcontext()
    else:
        limits = threadpool_limits(limits=1)
    with limits:
        rows = run(args.repeats, args.calls, args.naive_calls, batches, naive=not args.no_naive)
        print(render(rows, args.repeats))
    worst = max(row["agreement"] for row in rows)
    if worst > 1e-4:  # float32 sums in different orders agree to ~1e-6
        print(f"backends disagree: max relative difference {worst:.1e}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
