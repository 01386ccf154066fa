"""The vanishing gradient problem of Nielsen's chapter 5, measured.

    python examples/gradient_flow.py                        # synthetic data, gradient_flow.png
    python examples/gradient_flow.py --mnist ../shared/data/mnist --epochs 30 --out flow.png

A deep sigmoid network [784, 30, 30, 30, 30, 10] (Nielsen's network2: N(0, 1/fan_in) weights,
sigmoid outputs, cross-entropy cost) trained with SGD on 1,000 images, mini-batches of 10,
eta = 0.1. Before each epoch the gradient of the cost over all 1,000 images is computed and the
norm ||dC/db|| of every layer recorded: Nielsen's "speed of learning". The early layers learn
far more slowly than the later ones (the book reports 0.003, 0.017, 0.070, 0.285 for the four
hidden layers of this network at initialization).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tinygrad_nn as tg
from tinygrad_nn import nn, viz
from tinygrad_nn.nn import functional as F


def synthetic_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """MNIST-shaped data: 784 pixels in [0, 1], labels from a fixed random linear teacher."""
    x = rng.random((n, 784)).astype(np.float32)
    teacher = rng.standard_normal((784, 10))
    return x, np.argmax((x - 0.5) @ teacher, axis=1)


def mnist_data(path: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    from tinygrad_nn.data import load_mnist_textbook

    x, y = load_mnist_textbook(path, download=False, dtype=np.float32).train
    return x[:n], y[:n]


def cost(model: nn.Module, x: np.ndarray, onehot: np.ndarray) -> tg.Tensor:
    """Nielsen's cross-entropy: summed over the outputs, averaged over the examples."""
    out = model(tg.Tensor(x))
    return F.binary_cross_entropy(out, onehot, reduction="sum") * (1.0 / len(x))


def train(
    x: np.ndarray, y: np.ndarray, sizes: list[int], epochs: int, eta: float, batch: int,
    seed: int = 0,
) -> viz.GradientFlow:
    tg.manual_seed(seed)
    model = nn.MLP(sizes, activation="sigmoid", output_activation="sigmoid", init="nielsen")
    onehot = np.eye(10, dtype=np.float32)[y]
    flow = viz.GradientFlow(which="bias")
    rng = np.random.default_rng(seed)
    for epoch in range(epochs + 1):
        # the speed of learning now: the gradient over the whole training set
        model.zero_grad()
        cost(model, x, onehot).backward()
        norms = flow.record(model, step=epoch)
        print(f"epoch {epoch:2d}: " + "  ".join(f"{norms[k]:.4f}" for k in flow.layers))
        if epoch == epochs:
            break
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            rows = order[start:start + batch]
            model.zero_grad()
            cost(model, x[rows], onehot[rows]).backward()
            for p in model.parameters():
                p.data -= eta * p.grad.data
    return flow


def main(argv: list[str] | None = None) -> viz.GradientFlow:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", help="directory with the MNIST .gz files (else synthetic)")
    parser.add_argument("--sizes", default="784,30,30,30,30,10")
    parser.add_argument("--n", type=int, default=1000, help="training images")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--eta", type=float, default=0.1)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--out", default="gradient_flow.png")
    parser.add_argument("--dpi", type=int, default=120)
    args = parser.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",")]
    if args.mnist:
        x, y = mnist_data(args.mnist, args.n)
    else:
        x, y = synthetic_data(args.n, np.random.default_rng(1))
    flow = train(x, y, sizes, args.epochs, args.eta, args.batch)
    try:
        viz.plot_gradient_flow(flow, args.out, title=f"speed of learning, {sizes}",
                               dpi=args.dpi)
        print(f"wrote {Path(args.out)}")
    except ImportError as e:  # matplotlib is an optional extra
        print(e)
    return flow


if __name__ == "__main__":
    main()
