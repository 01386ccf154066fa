"""A quick interleaved check of issue #14's public-API step against hand-written NumPy.

    python -m benchmarks.quick_step [--batch 10] [--hidden 30] [--dtype float64] [--rounds 7]

Three implementations of one SGD step of Nielsen's [784, hidden, 10] sigmoid network take turns
(floor, eager, compiled, floor, ...) for ``rounds`` rounds of 200 steps each, on the same random
data; each line is the median of the per-round ratios to the floor and their range, on wall time
and on process CPU time. BLAS runs on one thread. The full harness is ``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

import tinygrad_nn as tg
from tinygrad_nn import nn, optim

from .backends import sigmoid_, sigmoid_prime


def floor_step(params: list, lr: float):
    """The hand-written NumPy SGD step on ``params`` [(w, b), ...] (updated in place)."""

    def numpy_step(x: np.ndarray, y: np.ndarray) -> None:
        activations = [x]
        for w, b in params:
            z = activations[-1] @ w.T
            z += b
            activations.append(sigmoid_(z))
        delta = activations[-1] - y
        delta *= sigmoid_prime(activations[-1])
        grads = []
        for layer in (1, 0):
            grads.append((delta.T @ activations[layer], delta.sum(axis=0)))
            if layer:
                delta = delta @ params[layer][0]
                delta *= sigmoid_prime(activations[layer])
        for (w, b), (dw, db) in zip(params, reversed(grads)):
            dw *= lr / len(x)
            w -= dw
            db *= lr / len(x)
            b -= db

    return numpy_step


def api_step(params: list, dtype: Any, lr: float) -> tuple[Any, list[np.ndarray]]:
    """Issue #14's step through the public API, on fresh layers holding ``params``; returns the
    step and the parameters' arrays (weight, bias, ...)."""
    layers = [nn.Linear(w.shape[1], w.shape[0], dtype=dtype) for w, _ in params]
    for layer, (w, b) in zip(layers, params):
        layer.weight.data[...], layer.bias.data[...] = w, b
    opt = optim.SGD([p for layer in layers for p in layer.parameters()], lr=lr)

    def step(x: np.ndarray, y: np.ndarray) -> tg.Tensor:  # as issue #14 writes it
        opt.zero_grad()
        a = tg.Tensor.from_numpy(x)
        for layer in layers:
            a = layer(a).sigmoid()
        diff = a - tg.Tensor.from_numpy(y)
        loss = (diff * diff).sum() * (0.5 / len(x))
        loss.backward()
        opt.step()
        return loss

    return step, [p.data for layer in layers for p in (layer.weight, layer.bias)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=30)
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--fold-lr", action="store_true",
                        help="also time tg.compile(..., fold_lr=True) (opt-in: p.grad holds "
                             "lr * gradient)")
    args = parser.parse_args()
    tg.set_num_threads(1)
    dt, m, hidden = np.dtype(args.dtype), args.batch, args.hidden
    rng = np.random.default_rng(0)
    X = rng.random((m * 50, 784)).astype(dt)
    Y = np.eye(10, dtype=dt)[rng.integers(0, 10, m * 50)]
    params = [(rng.standard_normal((hidden, 784)), rng.standard_normal(hidden)),
              (rng.standard_normal((10, hidden)), rng.standard_normal(10))]

    numpy_step = floor_step([(w.astype(dt), b.astype(dt)) for w, b in params], 3.0)

    steps = {"numpy": numpy_step, "eager": api_step(params, dt, 3.0)[0],
             "compiled": tg.compile(api_step(params, dt, 3.0)[0])}
    if args.fold_lr:
        steps["fold_lr"] = tg.compile(api_step(params, dt, 3.0)[0], fold_lr=True)
    wall: dict[str, list[float]] = {k: [] for k in steps}
    cpu: dict[str, list[float]] = {k: [] for k in steps}
    with np.errstate(over="ignore"):
        for _ in range(args.rounds):
            for name, step in steps.items():
                w0, c0 = time.perf_counter(), time.process_time()
                for _ in range(4):
                    for i in range(0, len(X), m):
                        step(X[i:i + m], Y[i:i + m])
                wall[name].append((time.perf_counter() - w0) / 200)
                cpu[name].append((time.process_time() - c0) / 200)
    print(f"[784, {hidden}, 10] mini-batch {m} {dt}, 1 BLAS thread, {args.rounds} rounds")
    for name in steps:
        rw = np.array(wall[name]) / np.array(wall["numpy"])
        rc = np.array(cpu[name]) / np.array(cpu["numpy"])
        print(f"{name:9s} wall {np.median(wall[name]) * 1e6:8.1f} us  vs numpy "
              f"{np.median(rw):.2f}x [{rw.min():.2f}-{rw.max():.2f}]   cpu "
              f"{np.median(cpu[name]) * 1e6:8.1f} us  vs numpy {np.median(rc):.2f}x "
              f"[{rc.min():.2f}-{rc.max():.2f}]")


if __name__ == "__main__":
    main()
