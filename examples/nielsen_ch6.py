"""Nielsen, chapter 6: network3.py's convolutional networks on MNIST, with tinygrad_nn.

    python examples/nielsen_ch6.py --data DIR --net shallow      # FC 100 sigmoid (book 97.80%)
    python examples/nielsen_ch6.py --data DIR --net conv1        # + one conv-pool (98.78%)
    python examples/nielsen_ch6.py --data DIR --net conv2        # two conv-pool (99.06%)
    python examples/nielsen_ch6.py --data DIR --net conv2_relu   # ReLU, eta 0.03, L2 0.1 (99.23%)
    python examples/nielsen_ch6.py --data DIR --net conv2_relu --expand        # (99.37%)
    python examples/nielsen_ch6.py --data DIR --net conv2_dropout --expand     # (99.60%)

network3.py's conventions, each spelled out here (docs/REFERENCES.md, section 6):

- ConvPoolLayer computes activation(max_pool(conv(x, w)) + b): bias and activation come AFTER
  the 2x2 max pooling (no padding, floor). Theano's conv2d flips the kernel (a true
  convolution), conv2d here does not (a cross-correlation, as PyTorch). For a LEARNED filter
  this cannot change accuracy: the flipped network is the same network with every filter
  stored upside down, and the init N(0, s^2) is symmetric under the flip, so both start from
  the same distribution and follow the same training dynamics.
- Init: conv weights N(0, 1/n_out) with n_out = filters * kh * kw / pool area; fully connected
  weights N(0, 1/n_out), stored (n_in, n_out) as his; all biases N(0, 1); the softmax layer
  starts at zeros.
- Cost: mean log-likelihood over the mini-batch + 0.5 * lmbda * sum(w^2) / num_training_batches
  over every layer's weights (not biases), so SGD's weight_decay is lmbda / num_training_batches
  on the weights (the gradient of that term). Plain SGD, param -= eta * grad.
- Mini-batches of 10 taken IN ORDER, the same every epoch (network3 never shuffles); the
  expanded set (--expand) is shuffled once when it is made, as expand_mnist.py does.
- Dropout (conv2_dropout): classic, on the inputs of the fully connected and softmax layers:
  units dropped in training without rescaling, and the weighted input scaled by (1 - p) at test.
- The figure reported: the test accuracy at the epoch of the best validation accuracy (the
  validation set: training images 50,000-59,999).
- float32, as Theano's floatX in network3.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np

import tinygrad_nn as tg
from tinygrad_nn import optim
from tinygrad_nn.convolution import conv2d, max_pool2d
from tinygrad_nn.data import load_mnist_textbook
from tinygrad_nn.nn import functional as F

DTYPE = np.float32

# name: (layers as (kind, sizes), activation, eta, lmbda, book's figure)
NETS: dict[str, dict[str, Any]] = {
    "shallow": dict(layers=[("fc", 784, 100), ("softmax", 100, 10)], act="sigmoid",
                    eta=0.1, lmbda=0.0, p=0.0, epochs=60, book="97.80%"),
    "conv1": dict(layers=[("conv", 20, 1), ("fc", 20 * 12 * 12, 100), ("softmax", 100, 10)],
                  act="sigmoid", eta=0.1, lmbda=0.0, p=0.0, epochs=60, book="98.78%"),
    "conv2": dict(layers=[("conv", 20, 1), ("conv", 40, 20), ("fc", 40 * 4 * 4, 100),
                          ("softmax", 100, 10)],
                  act="sigmoid", eta=0.1, lmbda=0.0, p=0.0, epochs=60, book="99.06%"),
    "conv2_relu": dict(layers=[("conv", 20, 1), ("conv", 40, 20), ("fc", 40 * 4 * 4, 100),
                               ("softmax", 100, 10)],
                       act="relu", eta=0.03, lmbda=0.1, p=0.0, epochs=60,
                       book="99.23% (99.37% with --expand)"),
    "conv2_dropout": dict(layers=[("conv", 20, 1), ("conv", 40, 20), ("fc", 40 * 4 * 4, 1000),
                                  ("fc", 1000, 1000), ("softmax", 1000, 10)],
                          act="relu", eta=0.03, lmbda=0.0, p=0.5, epochs=40,
                          book="99.60% (with --expand)"),
}


class Network3:
    """The layers of network3.py as plain tensors: conv-pool, fully connected, softmax."""

    def __init__(self, layers: list[tuple], act: str, p_dropout: float, seed: int):
        rng = np.random.default_rng(seed)
        self.act, self.p = act, p_dropout
        self.layers: list[tuple[str, tg.Tensor, tg.Tensor]] = []
        for kind, a, b in layers:
            if kind == "conv":  # (filters, channels): 5x5 filters, 2x2 pooling
                n_out = a * 5 * 5 / 4
                w = rng.normal(0.0, np.sqrt(1.0 / n_out), size=(a, b, 5, 5))
                bias = rng.normal(0.0, 1.0, size=(a,))
            elif kind == "fc":
                w = rng.normal(0.0, np.sqrt(1.0 / b), size=(a, b))
                bias = rng.normal(0.0, 1.0, size=(b,))
            else:
                w, bias = np.zeros((a, b)), np.zeros(b)
            self.layers.append((kind, tg.Tensor(w, dtype=DTYPE, requires_grad=True),
                                tg.Tensor(bias, dtype=DTYPE, requires_grad=True)))

    def weights(self) -> list[tg.Tensor]:
        return [w for _, w, _ in self.layers]

    def biases(self) -> list[tg.Tensor]:
        return [b for _, _, b in self.layers]

    def _activation(self, z: tg.Tensor) -> tg.Tensor:
        return z.relu() if self.act == "relu" else z.sigmoid()

    def logits(self, x: tg.Tensor, rng: np.random.Generator | None = None) -> tg.Tensor:
        """The softmax layer's input; ``rng`` given means training (dropout draws masks)."""
        a = x
        for kind, w, b in self.layers:
            if kind == "conv":
                if a.ndim == 2:  # rows of 784 pixels into (m, 1, 28, 28) images
                    a = a.reshape(len(a), 1, 28, 28)
                z = max_pool2d(conv2d(a, w), 2) + b.reshape(1, -1, 1, 1)
                a = self._activation(z)
                continue
            a = a.reshape(len(a), -1)
            if self.p > 0.0:
                if rng is not None:  # classic dropout: drop, never rescale
                    keep = (rng.random(a.shape) >= self.p).astype(DTYPE)
                    a = a * tg.Tensor(keep)
                else:
                    a = a * (1.0 - self.p)
            z = a @ w + b
            a = z if kind == "softmax" else self._activation(z)
        return a

    def accuracy(self, x: np.ndarray, y: np.ndarray, batch: int = 100) -> float:
        correct = 0
        with tg.no_grad():
            for i in range(0, len(x), batch):
                out = self.logits(tg.Tensor(x[i: i + batch]))
                correct += int((out.data.argmax(axis=1) == y[i: i + batch]).sum())
        return correct / len(x)


def expand(x: np.ndarray, y: np.ndarray,
           rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nielsen's expand_mnist.py: each image plus its one-pixel shifts up, down, left and right
    (zeros shifted in), 50,000 -> 250,000 images, then shuffled once as his script does
    (``random.shuffle(expanded_training_pairs)``): left in order, every mini-batch of 10 would
    be two images and their shifts. ``rng=None`` keeps each image followed by its shifts."""
    images = x.reshape(-1, 28, 28)
    shifted = [images]
    for d, axis in ((1, 1), (-1, 1), (1, 2), (-1, 2)):
        s = np.roll(images, d, axis=axis)
        index = [slice(None)] * 3
        index[axis] = 0 if d == 1 else -1
        s[tuple(index)] = 0
        shifted.append(s)
    stacked, labels = np.stack(shifted, axis=1).reshape(-1, 784), np.repeat(y, 5)
    if rng is None:
        return stacked, labels
    order = rng.permutation(len(stacked))
    return stacked[order], labels[order]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:9]))
    parser.add_argument("--data", help="MNIST directory (default: $TINYGRAD_NN_MNIST)")
    parser.add_argument("--net", choices=sorted(NETS), default="conv2_relu")
    parser.add_argument("--epochs", type=int, help="default: the book's (60; 40 for dropout)")
    parser.add_argument("--batch-size", type=int, default=10, help="default: 10")
    parser.add_argument("--eta", type=float, help="default: the book's for --net")
    parser.add_argument("--lmbda", type=float, help="default: the book's for --net")
    parser.add_argument("--expand", action="store_true", help="add the one-pixel shifts")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--limit", type=int, help="train on the first N images only")
    args = parser.parse_args(argv)
    for option in ("epochs", "batch_size", "limit"):  # 0 would report a best epoch of -1
        value = getattr(args, option)
        if value is not None and value < 1:
            parser.error(f"--{option.replace('_', '-')}: expected a positive integer, got {value}")
    config = NETS[args.net]
    epochs = config["epochs"] if args.epochs is None else args.epochs
    eta = config["eta"] if args.eta is None else args.eta
    lmbda = config["lmbda"] if args.lmbda is None else args.lmbda

    try:
        split = load_mnist_textbook(args.data, download=args.data is None, dtype=DTYPE)
    except FileNotFoundError as e:
        sys.exit(f"nielsen_ch6: {str(e).splitlines()[0]} (pass --data DIR)")
    x_train, y_train = split.train
    if args.limit is not None:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    if args.expand:
        x_train, y_train = expand(x_train, y_train, np.random.default_rng(args.seed + 2))
    m = args.batch_size
    batches = len(x_train) // m  # network3 drops a last partial mini-batch
    if batches == 0:
        parser.error(f"--batch-size {m}: larger than the {len(x_train)} training images")
    net = Network3(config["layers"], config["act"], config["p"], args.seed)
    # the gradient of 0.5 * lmbda * sum(w^2) / num_training_batches is (lmbda / batches) * w
    sgd = optim.SGD([{"params": net.weights(), "weight_decay": lmbda / batches},
                     {"params": net.biases(), "weight_decay": 0.0}], lr=eta)
    rng = np.random.default_rng(args.seed + 1)

    print(f"--- {args.net}: {config['layers']}, {config['act']}, eta {eta:g}, lmbda {lmbda:g}, "
          f"dropout {config['p']:g}, {len(x_train)} training images{' (expanded)' * args.expand}"
          f", mini-batch {m}, {epochs} epochs, seed {args.seed}; book: {config['book']}",
          flush=True)
    best_val, best_epoch, test_at_best = -1.0, -1, 0.0
    history = []
    start = time.perf_counter()
    for epoch in range(epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(batches):
            xb = tg.Tensor(x_train[i * m: (i + 1) * m])
            loss = F.cross_entropy(net.logits(xb, rng), y_train[i * m: (i + 1) * m])
            sgd.zero_grad()
            loss.backward()
            sgd.step()
        train_time = time.perf_counter() - t0
        val = net.accuracy(*split.validation)
        line = (f"Epoch {epoch}: validation accuracy {100 * val:.2f}%; "
                f"train {train_time:.1f}s wall, epoch {time.process_time() - c0:.1f}s CPU, "
                f"{time.perf_counter() - t0:.1f}s wall with evaluation")
        if val >= best_val:  # network3 uses >=: the later of equal epochs
            best_val, best_epoch = val, epoch
            test_at_best = net.accuracy(*split.test)
            line += f"; best so far, test accuracy {100 * test_at_best:.2f}%"
        print(line, flush=True)
        history.append(val)
    print(f"Finished: best validation accuracy {100 * best_val:.2f}% at epoch {best_epoch}; "
          f"corresponding test accuracy {100 * test_at_best:.2f}% (book: {config['book']}); "
          f"total {time.perf_counter() - start:.1f}s wall, {time.process_time():.1f}s CPU")
    return {"best_val": best_val, "best_epoch": best_epoch, "test": test_at_best,
            "val": history}


if __name__ == "__main__":
    main()
