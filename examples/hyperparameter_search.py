"""Random search for the learning rate and L2 strength, coarse then fine (CS231n notes).

    python examples/hyperparameter_search.py                    # spirals, offline, seconds
    python examples/hyperparameter_search.py --data DIR         # a 5,000-image MNIST subset
    python examples/hyperparameter_search.py --trials 20 --seed 1

The notes' recipe: sample lr = 10**uniform(-6, 1) and reg = 10**uniform(-5, 5) (log scale, never
a grid), train each point briefly ("coarse": a few epochs), then search again inside the range
the best few span, training longer ("fine"). Points are scored by their best validation
accuracy; diverged runs (NaN loss) sort last. The same --seed draws the same points and
trains them the same way.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from tinygrad_nn import nn, optim
from tinygrad_nn.data import load_mnist_textbook, make_spirals, train_test_split
from tinygrad_nn.train import fit, log_uniform, random_search


def load(args: argparse.Namespace) -> tuple:
    if args.data:
        try:
            split = load_mnist_textbook(args.data, download=False, dtype=np.float32)
        except FileNotFoundError as e:
            sys.exit(f"hyperparameter_search: {str(e).splitlines()[0]}")
        (x, y), (xv, yv) = split.train, split.validation
        return (x[:5000], y[:5000]), (xv[:1000], yv[:1000]), [784, 50, 10]
    X, y = make_spirals(100, 3, seed=args.seed)
    X_train, X_val, y_train, y_val = train_test_split(X.astype(np.float32), y, 0.3,
                                                      seed=args.seed)
    return (X_train, y_train), (X_val, y_val), [2, 100, 3]


def main(argv: list[str] | None = None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:5]))
    parser.add_argument("--data", help="MNIST directory: search on a 5,000-image subset")
    parser.add_argument("--trials", type=int, default=12, help="per stage (default: 12)")
    parser.add_argument("--coarse-epochs", type=int, default=5, help="default: 5")
    parser.add_argument("--fine-epochs", type=int, default=20, help="default: 20")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    args = parser.parse_args(argv)
    train, val, sizes = load(args)

    def build_and_train(params: dict, stage: str) -> float:
        model = nn.MLP(sizes, activation="relu", generator=args.seed)
        weights = [p for p in model.parameters() if p.ndim == 2]
        biases = [p for p in model.parameters() if p.ndim == 1]
        sgd = optim.SGD([{"params": weights, "weight_decay": params["reg"]},
                         {"params": biases, "weight_decay": 0.0}], lr=params["lr"],
                        momentum=0.9)
        epochs = args.coarse_epochs if stage == "coarse" else args.fine_epochs
        with np.errstate(all="ignore"):  # the wild corners of the space overflow, by design
            history = fit(model, "cross_entropy", sgd, train, val=val, epochs=epochs,
                          batch_size=32, seed=args.seed, log=None, progress=False)
        return max(history["val_accuracy"])

    space = {"lr": log_uniform(1e-6, 1e1), "reg": log_uniform(1e-5, 1e5)}
    print(f"--- network {sizes}, {len(train[0])} train / {len(val[0])} validation examples; "
          f"coarse: {args.trials} x {args.coarse_epochs} epochs, fine: {args.trials} x "
          f"{args.fine_epochs} epochs")
    results = random_search(build_and_train, space, trials=args.trials, seed=args.seed,
                            log=print)
    print("\nbest first:")
    for trial in results[:5]:
        print(f"  val_acc {trial.score:.3f}  lr {trial.params['lr']:.3g}  "
              f"reg {trial.params['reg']:.3g}  ({trial.stage})")
    return results


if __name__ == "__main__":
    main()
