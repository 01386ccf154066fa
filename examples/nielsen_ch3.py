"""Nielsen, chapter 3: network2.py (cross-entropy, L2, better init) on MNIST, with tinygrad_nn.

    python examples/nielsen_ch3.py --data DIR                   # [784, 30, 10], lmbda 5.0
    python examples/nielsen_ch3.py --data DIR --hidden 100      # [784, 100, 10]
    python examples/nielsen_ch3.py --data DIR --lmbda 0 --init large   # the cross-entropy run

network2.py's choices, each spelled out with the library:

- sigmoid on every layer; weights N(0, 1/n_in), biases N(0, 1) (init="nielsen"), or
  network2's large_weight_initializer, N(0, 1) (--init large, init="nielsen_large");
- the cross-entropy cost for sigmoid outputs, C = -1/n sum_x sum_j [y ln a + (1 - y) ln(1 - a)]:
  summed over the 10 outputs and averaged over the mini-batch (binary_cross_entropy with
  reduction="sum", divided by m);
- L2 regularization lmbda/(2n) sum w^2 with n = 50,000, the TRAINING-SET size: SGD's
  weight_decay = lmbda/n on the weights only (not the biases), so with lr = eta each step is his
  w -> (1 - eta*lmbda/n) w - (eta/m) sum dC_x/dw;
- mini-batches of 10, eta = 0.5, 30 epochs; the accuracy on the 10,000 test images per epoch.

The book: 95.49% with cross-entropy alone ([784, 30, 10], eta 0.5, large init), 96.82% with 100
hidden neurons; L2 (lmbda = 5.0) on the full training set lifts [784, 30, 10] to about 96.5%.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from tinygrad_nn import nn, optim
from tinygrad_nn.data import load_mnist_textbook, one_hot
from tinygrad_nn.nn import functional as F
from tinygrad_nn.train import fit


def cross_entropy_cost(a, y):
    """network2.CrossEntropyCost, averaged over the mini-batch (its rows)."""
    return F.binary_cross_entropy(a, y, reduction="sum") * (1.0 / len(y))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:5]))
    parser.add_argument("--data", help="MNIST directory (default: $TINYGRAD_NN_MNIST)")
    parser.add_argument("--hidden", type=int, default=30, help="default: 30")
    parser.add_argument("--epochs", type=int, default=30, help="default: 30")
    parser.add_argument("--batch-size", type=int, default=10, help="default: 10")
    parser.add_argument("--eta", type=float, default=0.5, help="default: 0.5")
    parser.add_argument("--lmbda", type=float, default=5.0, help="L2 strength (default: 5.0)")
    parser.add_argument("--init", choices=("default", "large"), default="default",
                        help="default: N(0, 1/n_in) weights; large: N(0, 1)")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--limit", type=int, help="train on the first N images only")
    args = parser.parse_args(argv)

    try:
        split = load_mnist_textbook(args.data, download=args.data is None)
    except FileNotFoundError as e:
        sys.exit(f"nielsen_ch3: {str(e).splitlines()[0]} (pass --data DIR)")
    x_train, y_train = split.train
    if args.limit is not None:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    n = len(x_train)

    net = nn.MLP([784, args.hidden, 10], activation="sigmoid", output_activation="sigmoid",
                 init="nielsen" if args.init == "default" else "nielsen_large",
                 dtype="float64", generator=args.seed)
    weights = [p for p in net.parameters() if p.ndim == 2]
    biases = [p for p in net.parameters() if p.ndim == 1]
    sgd = optim.SGD([{"params": weights, "weight_decay": args.lmbda / n},
                     {"params": biases, "weight_decay": 0.0}], lr=args.eta)

    def show(record: dict) -> None:
        print(f"Epoch {int(record['epoch']) - 1} training complete; accuracy on the test data: "
              f"{int(record['val_correct'])} / {int(record['val_count'])}", flush=True)

    print(f"--- [784, {args.hidden}, 10], cross-entropy, eta {args.eta:g}, lmbda {args.lmbda:g} "
          f"(n = {n}), init {args.init}, mini-batch {args.batch_size}, seed {args.seed}")
    start = time.perf_counter()
    # one-hot targets: the cost compares the 10 sigmoid outputs with them
    history = fit(net, cross_entropy_cost, sgd, (x_train, one_hot(y_train, 10)),
                  val=split.test, epochs=args.epochs, batch_size=args.batch_size,
                  seed=args.seed, log=None, progress=False, on_epoch_end=show)
    correct = history["val_correct"]
    peak = int(np.argmax(correct))
    print(f"peak {int(correct[peak])} / 10000 = {correct[peak] / 100:.2f}% at epoch {peak}; "
          f"training {sum(history['time']):.1f}s wall, {sum(history['cpu_time']):.1f}s CPU; "
          f"total {time.perf_counter() - start:.1f}s")
    return {"correct": [int(c) for c in correct], "peak": int(correct[peak])}


if __name__ == "__main__":
    main()
