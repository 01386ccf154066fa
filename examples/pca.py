"""PCA preprocessing (CS231n notes): MNIST reduced to 50 whitened dimensions, then an MLP.

    python examples/pca.py --data DIR                  # PCA to 50 dims, whitened
    python examples/pca.py --data DIR --k 20 --no-whiten
    python examples/pca.py --data DIR --k 0            # no PCA: the raw 784 pixels

The steps of the notes: center the training data, take the SVD of its covariance
(cov = Xc.T @ Xc / n; U, S, V = svd(cov)), project onto the top k eigenvectors
(Xrot = Xc @ U[:, :k]), and with whitening divide each by sqrt(eigenvalue + eps). The statistics
come from the training images only; the test images are transformed with them. Then an MLP
[k, 100, 10] (relu, softmax cross-entropy, SGD with Nesterov momentum 0.9) is trained on it.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from tinygrad_nn import nn, optim
from tinygrad_nn.data import PCA, load_mnist_textbook
from tinygrad_nn.train import evaluate, fit


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:5]))
    parser.add_argument("--data", help="MNIST directory (default: $TINYGRAD_NN_MNIST)")
    parser.add_argument("--k", type=int, default=50, help="dimensions kept (0: no PCA; "
                        "default: 50)")
    parser.add_argument("--no-whiten", action="store_true", help="rotate and reduce only")
    parser.add_argument("--epochs", type=int, default=10, help="default: 10")
    parser.add_argument("--lr", type=float, default=0.01, help="default: 0.01")
    parser.add_argument("--batch-size", type=int, default=64, help="default: 64")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--limit", type=int, help="train on the first N images only")
    args = parser.parse_args(argv)

    try:
        split = load_mnist_textbook(args.data, download=args.data is None, dtype=np.float32)
    except FileNotFoundError as e:
        sys.exit(f"pca: {str(e).splitlines()[0]} (pass --data DIR)")
    (x_train, y_train), _, (x_test, y_test) = split
    if args.limit is not None:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]

    if args.k:
        start = time.perf_counter()
        pca = PCA(args.k, whiten=not args.no_whiten).fit(x_train)
        x_train, x_test = pca.transform(x_train), pca.transform(x_test)
        total = split.train[0][: len(x_train)].var(axis=0).sum()  # the trace of the covariance
        kept = pca.explained_variance_.sum() / total
        print(f"PCA: 784 -> {args.k} dims ({100 * kept:.1f}% of the variance), "
              f"{'whitened' if not args.no_whiten else 'not whitened'}, fitted in "
              f"{time.perf_counter() - start:.1f}s")
    x_train, x_test = x_train.astype(np.float32), x_test.astype(np.float32)
    net = nn.MLP([x_train.shape[1], 100, 10], activation="relu", init="kaiming",
                 generator=args.seed)
    sgd = optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, nesterov=True)
    history = fit(net, "cross_entropy", sgd, (x_train, y_train), val=(x_test, y_test),
                  epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                  progress=False)
    test = evaluate(net, x_test, y_test)
    print(f"test accuracy {100 * test['accuracy']:.2f}% on {x_train.shape[1]} inputs; "
          f"training {sum(history['time']):.1f}s")
    return {"test_accuracy": test["accuracy"], "history": history}


if __name__ == "__main__":
    main()
