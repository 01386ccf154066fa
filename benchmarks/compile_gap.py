"""Where the compiled step's time goes: the replay against the same NumPy calls written out.

    python -m benchmarks.compile_gap [--rounds 15] [--batch 10] [--hidden 30]

Three SGD steps of Nielsen's [784, hidden, 10] sigmoid network (default [784, 30, 10], mini-batch
10), float64, take turns (floor, straight, compiled, floor, ...): ``floor`` is the hand-written
NumPy step of ``benchmarks.quick_step``; ``straight`` is the arithmetic ``tg.compile`` replays for
the public-API step (the eager ops' NumPy calls: the overflow-free sigmoid, the loss value and
its backward, ``p.grad`` kept apart from the update), written out as straight-line NumPy on
preallocated buffers with no Python in between but the rule's own sigmoid function;
``compiled`` is that step through ``tg.compile``. ``straight`` and ``compiled`` must end with
bit-for-bit the same weights (checked). So ``straight / floor`` is what the eager arithmetic
costs, and ``compiled / straight`` what the replay's Python costs. CPU time, medians of
per-round ratios with their ranges; one BLAS thread.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinygrad_nn as tg
from tinygrad_nn.ops import sigmoid_into

from .quick_step import api_step, floor_step


def _straight(params: list, lr: float, m: int, floor_sigmoid: bool = False,
              floor_loss: bool = False, floor_update: bool = False):
    """The replay's NumPy calls for the public-API step, in its order, as one function; the
    flags swap one part for the floor's way (not the eager arithmetic: for the breakdown)."""
    (w1, b1), (w2, b2) = [(w.copy(), b.copy()) for w, b in params]
    h, k = w1.shape[0], w2.shape[0]
    one = np.ones(())
    z1, a1, e1 = np.empty((m, h)), np.empty((m, h)), np.empty((m, h))
    z2, a2, e2 = np.empty((m, k)), np.empty((m, k)), np.empty((m, k))
    diff, loss = np.empty((m, k)), np.empty(())
    c = np.array(0.5 / m)
    g_total, term, g_diff = np.empty(()), np.empty((m, k)), np.empty((m, k))
    g2, g1 = np.empty((m, k)), np.empty((m, h))
    gw1, gb1, gw2, gb2 = (np.empty_like(a) for a in (w1, b1, w2, b2))
    scratch = [np.empty_like(a) for a in (w1, b1, w2, b2)]
    seed = np.ones(())

    def sigmoid(x, out, e):
        if floor_sigmoid:  # 1 / (1 + exp(-x)): 4 calls, overflows for x < -709
            np.negative(x, out=out)
            np.exp(out, out=out)
            np.add(out, one, out=out)
            np.reciprocal(out, out=out)
            return
        sigmoid_into(x, out, e)  # the replay's own (and eager's)

    def step(x: np.ndarray, y: np.ndarray) -> None:
        np.dot(x, w1.T, out=z1)
        np.add(z1, b1, out=z1)
        sigmoid(z1, a1, e1)
        np.dot(a1, w2.T, out=z2)
        np.add(z2, b2, out=z2)
        sigmoid(z2, a2, e2)
        np.subtract(a2, y, out=diff)
        if floor_loss:  # no loss value: the output error is the gradient (lr / m folded later)
            np.multiply(diff, c + c, out=g_diff)
        else:
            total = np.asarray(np.vdot(diff, diff))  # float64: the square's Sum as one vdot
            np.multiply(total, c, out=loss)
            np.multiply(seed, c, out=g_total)  # backward: loss = total * c
            np.multiply(np.broadcast_to(g_total, diff.shape), diff, out=term)  # sum; x * x
            np.add(term, term, out=g_diff)
        np.multiply(g_diff, a2, out=g2)  # sigmoid: g * s * (1 - s)
        np.subtract(one, a2, out=e2)
        np.multiply(g2, e2, out=g2)
        np.dot(g2, w2, out=g1)  # Linear 2
        np.dot(g2.T, a1, out=gw2)
        np.add.reduce(g2, axis=0, out=gb2)
        np.multiply(g1, a1, out=g1)  # sigmoid 1
        np.subtract(one, a1, out=e1)
        np.multiply(g1, e1, out=g1)
        np.dot(g1.T, x, out=gw1)  # Linear 1
        np.add.reduce(g1, axis=0, out=gb1)
        for p, g, s in zip((w1, b1, w2, b2), (gw1, gb1, gw2, gb2), scratch):
            if floor_update:  # the gradient scaled in place: no p.grad kept
                np.multiply(g, lr, out=g)
                np.subtract(p, g, out=p)
            else:
                np.subtract(p, np.multiply(g, lr, out=s), out=p)  # SGD: p -= lr * grad

    return step, (w1, b1, w2, b2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=30)
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the straight step with one part done the floor's way")
    args = parser.parse_args()
    tg.set_num_threads(1)
    m, lr, hidden = args.batch, 3.0, args.hidden
    rng = np.random.default_rng(0)
    X, Y = rng.random((m * 50, 784)), np.eye(10)[rng.integers(0, 10, m * 50)]
    params = [(rng.standard_normal((hidden, 784)), rng.standard_normal(hidden)),
              (rng.standard_normal((10, hidden)), rng.standard_normal(10))]
    straight, straight_weights = _straight(params, lr, m)
    step, compiled_weights = api_step(params, np.float64, lr)
    compiled = tg.compile(step)
    floor = floor_step([(w.copy(), b.copy()) for w, b in params], lr)
    steps = {"floor": floor, "straight": straight, "compiled": compiled}
    parts = ("floor_sigmoid", "floor_loss", "floor_update")
    if args.breakdown:
        for part in parts:
            steps[f"straight, {part}"] = _straight(params, lr, m, **{part: True})[0]
    cpu: dict[str, list[float]] = {k: [] for k in steps}
    with np.errstate(over="ignore"):
        for _ in range(args.rounds):
            for name, step in steps.items():
                start = time.process_time()
                for _ in range(4):
                    for i in range(0, len(X), m):
                        step(X[i:i + m], Y[i:i + m])
                cpu[name].append((time.process_time() - start) / 200)
    same = all(np.array_equal(a, b) for a, b in zip(straight_weights, compiled_weights))
    print(f"[784, {hidden}, 10] mini-batch {m} float64, 1 BLAS thread, {args.rounds} rounds of 200 "
          f"steps; straight and compiled weights bit-for-bit equal: {same}")
    pairs = [("straight", "floor"), ("compiled", "floor"), ("compiled", "straight")]
    pairs += [(name, "floor") for name in steps if name.startswith("straight, ")]
    for name, versus in pairs:
        r = np.array(cpu[name]) / np.array(cpu[versus])
        print(f"{name:30s} / {versus:8s} cpu {np.median(r):.3f}x [{r.min():.2f}-{r.max():.2f}]   "
              f"({np.median(cpu[name]) * 1e6:.1f} us vs {np.median(cpu[versus]) * 1e6:.1f} us)")
    if not same:
        raise SystemExit("straight and compiled disagree: the straight-line step is not the replay")


if __name__ == "__main__":
    main()
