"""Where the eager public-API step's time goes beyond hand-written NumPy (issue #14, part 2).

    python -m benchmarks.eager_cost [--batch 10] [--hidden 30] [--rounds 20]

Four loops over the same data take turns, 100 steps each, on process CPU time, 1 BLAS thread:
the floor (``numpy`` backend), the public-API step eager (``api`` backend, as the user writes
it), the same step's forward pass alone, and ``engine_numpy``: the NumPy calls the engine makes
for that step, written out in order with no Tensor, no graph and no Python of the engine. Each
line is the minimum over the rounds (the least disturbed by other processes), so

- ``engine_numpy / floor`` is the price of the engine's arithmetic alone (the exact sigmoid, the
  loss as three recorded ops, the optimizer that may not overwrite ``p.grad``), and
- ``api - engine_numpy`` is the engine's Python: recording, the backward walk, the optimizer loop.

``engine_numpy`` mirrors ``ops.Linear``, ``ops.Sigmoid`` (its ``sigmoid_into``), ``Sub``, ``Mul``,
``Sum`` and ``optim.SGD`` as they are written; change it when they change.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

import tinygrad_nn as tg
from tinygrad_nn import ops

from .backends import create
from .data import init_params


def engine_numpy_step(params: list[tuple[np.ndarray, np.ndarray]]) -> Callable:
    """The NumPy calls of one eager step of the public API, in the engine's order."""
    scratch = [np.empty_like(a) for wb in params for a in wb]

    def step(x: np.ndarray, y: np.ndarray, lr: float) -> None:
        lr = lr * len(x)  # as the api backend: eta on the mean loss
        acts = [x]
        for w, b in params:  # Linear (np.dot, bias in place), Sigmoid
            z = np.dot(acts[-1], w.T)
            z += b
            acts.append(ops.sigmoid_into(z, None, None))
        diff = acts[-1] - y  # Sub
        square = diff * diff  # Mul
        total = np.asarray(np.add.reduce(square, axis=None, keepdims=False))  # Sum
        scale = np.asarray(0.5 / len(x), dtype=x.dtype)  # the Python float, lifted
        total * scale  # Mul by the 0-d constant: the loss
        g = np.array(1.0, dtype=x.dtype) * scale  # the seed through Mul's backward
        g_square = np.empty(square.shape, dtype=x.dtype)  # Sum's backward
        g_square[...] = g
        term = g_square * diff  # Mul's backward of x * x: one product, the two terms added
        g_a = term + term
        grads = []
        for layer in range(len(params) - 1, -1, -1):
            s = acts[layer + 1]  # Sigmoid's backward: g * s * (1 - s)
            g_z = g_a * s
            g_z *= 1.0 - s
            w = params[layer][0]
            grads.append((np.dot(g_z.T, acts[layer]), np.add.reduce(g_z, axis=0)))
            if layer > 0:
                g_a = np.dot(g_z, w)
        for i, ((w, b), (dw, db)) in enumerate(zip(params, reversed(grads), strict=True)):
            w -= np.multiply(dw, lr, out=scratch[2 * i])  # SGD: p.grad is left as it is
            b -= np.multiply(db, lr, out=scratch[2 * i + 1])

    return step


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    tg.set_num_threads(1)
    m = args.batch
    rng = np.random.default_rng(0)
    X = rng.random((m * 50, 784))
    Y = np.eye(10)[rng.integers(0, 10, m * 50)]
    params = init_params([784, args.hidden, 10], seed=0)
    floor, api = create("numpy"), create("api")
    floor.setup(params, "float64")
    api.setup(params, "float64")
    layers = api.layers  # type: ignore[attr-defined]

    def forward(x: np.ndarray, y: np.ndarray, lr: float) -> None:
        a = tg.Tensor.from_numpy(x)
        for layer in layers:
            a = layer(a).sigmoid()
        diff = a - tg.Tensor.from_numpy(y)
        (diff * diff).sum() * (0.5 / len(x))

    loops = {"floor": floor.step, "engine_numpy": engine_numpy_step([(w.copy(), b.copy())
                                                                     for w, b in params]),
             "api": api.step, "api forward": forward}
    times: dict[str, list[float]] = {k: [] for k in loops}
    lr = 1e-9  # tiny steps: the weights stay where they started, so every round is alike
    with np.errstate(over="ignore"):
        for r in range(args.rounds + 1):
            for name, step in loops.items():
                t = time.process_time()
                for _ in range(2):
                    for i in range(0, len(X), m):
                        step(X[i:i + m], Y[i:i + m], lr)
                if r:  # round 0 warms up
                    times[name].append((time.process_time() - t) / 100 * 1e6)
    best = {k: min(v) for k, v in times.items()}
    print(f"[784, {args.hidden}, 10] mini-batch {m} float64, 1 BLAS thread, {args.rounds} "
          "rounds of 100 steps, minimum CPU time per step")
    for name, us in best.items():
        print(f"{name:13s} {us:8.1f} us   {us / best['floor']:.2f}x the floor")
    python = best["api"] - best["engine_numpy"]
    print(f"engine's extra NumPy work {best['engine_numpy'] - best['floor']:.1f} us, "
          f"engine's Python {python:.1f} us ({100 * python / best['api']:.0f}% of the step)")


if __name__ == "__main__":
    main()
