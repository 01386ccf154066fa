"""Nielsen's network.py on two moons: Network([2, 10, 2]), SGD, 5 epochs, mini-batch 10, eta 0.1.

    python examples/make_moons.py                       # the example as written: 5 epochs
    python examples/make_moons.py --epochs 100 --eta 3  # trained until it separates the moons

200 noisy two-moons points (noise 0.2), split 80/20 into 160 training and 40 test points, and
Nielsen's chapter-1 network: sigmoid on every layer, N(0, 1) weights and biases, the quadratic
cost on one-hot targets, mini-batch SGD with w -= (eta/m) * sum of gradients. Each epoch prints
"Epoch j: n / 40" as network.py does.

Five epochs at eta = 0.1 are only 80 small steps: the network has barely moved from its random
start, and the score is near what its initialization happens to give. The flags show what the
same network reaches with more epochs and a larger rate.
"""

from __future__ import annotations

import argparse

from tinygrad_nn import nn, optim
from tinygrad_nn.data import make_moons, train_test_split
from tinygrad_nn.train import evaluate, fit


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:4]))
    parser.add_argument("--epochs", type=int, default=5, help="default: 5")
    parser.add_argument("--batch-size", type=int, default=10, help="default: 10")
    parser.add_argument("--eta", type=float, default=0.1, help="default: 0.1")
    parser.add_argument("--hidden", type=int, default=10, help="default: 10")
    parser.add_argument("--n-samples", type=int, default=200, help="default: 200")
    parser.add_argument("--noise", type=float, default=0.2, help="default: 0.2")
    parser.add_argument("--seed", type=int, default=0, help="data, init and shuffling seed")
    args = parser.parse_args(argv)

    X, y = make_moons(args.n_samples, noise=args.noise, seed=args.seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.2, seed=args.seed)
    net = nn.MLP([2, args.hidden, 2], activation="sigmoid", output_activation="sigmoid",
                 init="nielsen_large", dtype="float64", generator=args.seed)

    def show(record: dict) -> None:
        print(f"Epoch {int(record['epoch']) - 1}: {int(record['val_correct'])} / "
              f"{int(record['val_count'])}")

    print(f"--- Network([2, {args.hidden}, 2]) on {len(X_train)} training / {len(X_test)} test "
          f"moons, {args.epochs} epochs, mini-batch {args.batch_size}, eta {args.eta:g}, "
          f"seed {args.seed}")
    history = fit(net, "quadratic", optim.SGD(net.parameters(), lr=args.eta), (X_train, y_train),
                  val=(X_test, y_test), epochs=args.epochs, batch_size=args.batch_size,
                  seed=args.seed, log=None, progress=False, on_epoch_end=show)
    train_acc = evaluate(net, X_train, y_train)["accuracy"]
    test_acc = history["val_accuracy"][-1]
    print(f"train accuracy {100 * train_acc:.1f}%, test accuracy {100 * test_acc:.1f}%")
    return {"train_accuracy": train_acc, "test_accuracy": test_acc}


if __name__ == "__main__":
    main()
