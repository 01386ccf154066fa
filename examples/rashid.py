"""Rashid, "Make Your Own Neural Network": the three-layer sigmoid network on MNIST.

    python examples/rashid.py --data DIR                     # 784-100-10, lr 0.1, 1 epoch
    python examples/rashid.py --data DIR --hidden 200 --epochs 5
    python examples/rashid.py --data DIR --rule gradient     # plain gradient descent instead

The book's network and training loop, kept as it is:

- MLP([784, hidden, 10]) with sigmoid on both layers and NO biases; weights N(0, 1/sqrt(fan_in))
  (init="rashid");
- inputs scaled to 0.01..1.00 (x / 255 * 0.99 + 0.01), targets 0.01 except 0.99 at the label;
- one example at a time, all 60,000 training images in file order, every epoch;
- the book's update (reference/rashid.py): the output weights descend 1/2 ||t - o||^2, while
  the hidden error who.T @ e drops the output sigmoid's derivative, which makes the hidden
  weights descend the cross-entropy. Autodiff reproduces it with two gradients, one per cost.
  --rule gradient descends 1/2 ||t - o||^2 in both layers instead.

The book reports about 95% ("performance = 0.95...") after one epoch with 100 hidden nodes, and
about 97% with 200 hidden nodes over several epochs at lr 0.1.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import tinygrad_nn as tg
from tinygrad_nn import nn, optim
from tinygrad_nn.data import load_mnist_textbook
from tinygrad_nn.nn import functional as F


def book_epoch(net: nn.MLP, x: np.ndarray, t: np.ndarray, lr: float) -> None:
    """One pass of the book's train(): per example, who by the quadratic cost's gradient and
    wih by the cross-entropy's (the book's hidden error)."""
    wih, who = (layer.weight for layer in net.linears)
    for i in range(len(x)):
        out = net(tg.Tensor.from_numpy(x[i : i + 1]))
        target = t[i : i + 1]
        (g_who,) = tg.grad(F.quadratic_cost(out, target, reduction="sum"), [who],
                           retain_graph=True)
        (g_wih,) = tg.grad(F.binary_cross_entropy(out, target, reduction="sum"), [wih])
        who.data -= lr * g_who.data
        wih.data -= lr * g_wih.data


def gradient_epoch(net: nn.MLP, sgd: optim.SGD, x: np.ndarray, t: np.ndarray) -> None:
    """One pass of plain SGD on 1/2 ||t - o||^2, one example at a time, in order."""
    for i in range(len(x)):
        loss = F.quadratic_cost(net(tg.Tensor.from_numpy(x[i : i + 1])), t[i : i + 1],
                                reduction="sum")
        sgd.zero_grad()
        loss.backward()
        sgd.step()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:5]))
    parser.add_argument("--data", help="MNIST directory (default: $TINYGRAD_NN_MNIST)")
    parser.add_argument("--hidden", type=int, default=100, help="hidden nodes (default: 100; "
                        "the book's final network has 200)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default: 0.1)")
    parser.add_argument("--epochs", type=int, default=1, help="default: 1")
    parser.add_argument("--rule", choices=("book", "gradient"), default="book",
                        help="the book's update (default) or plain gradient descent")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--limit", type=int, help="train on the first N images only")
    args = parser.parse_args(argv)

    try:
        split = load_mnist_textbook(args.data, download=args.data is None)
    except FileNotFoundError as e:
        sys.exit(f"rashid: {str(e).splitlines()[0]} (pass --data DIR)")
    # Rashid trains on all 60,000 training images (mnist_train.csv), in file order.
    x = np.concatenate([split.train[0], split.validation[0]]) * 0.99 + 0.01
    labels = np.concatenate([split.train[1], split.validation[1]])
    if args.limit is not None:
        x, labels = x[: args.limit], labels[: args.limit]
    targets = np.full((len(labels), 10), 0.01)
    targets[np.arange(len(labels)), labels] = 0.99
    x_test, y_test = split.test[0] * 0.99 + 0.01, split.test[1]

    net = nn.MLP([784, args.hidden, 10], activation="sigmoid", output_activation="sigmoid",
                 init="rashid", bias=False, dtype="float64", generator=args.seed)
    sgd = optim.SGD(net.parameters(), lr=args.lr)
    print(f"--- 784-{args.hidden}-10, lr {args.lr:g}, {args.rule} rule, {len(x)} training "
          f"images one at a time, seed {args.seed}")
    performance = []
    for epoch in range(args.epochs):
        start, cpu = time.perf_counter(), time.process_time()
        if args.rule == "book":
            book_epoch(net, x, targets, args.lr)
        else:
            gradient_epoch(net, sgd, x, targets)
        with tg.no_grad():
            scorecard = net(tg.Tensor(x_test)).data.argmax(axis=1) == y_test
        performance.append(float(scorecard.mean()))
        print(f"epoch {epoch + 1}: performance = {performance[-1]:.4f}  "
              f"({time.perf_counter() - start:.1f}s wall, {time.process_time() - cpu:.1f}s CPU)",
              flush=True)
    return {"performance": performance}


if __name__ == "__main__":
    main()
