"""CS231n assignment 2: a fully connected net with batchnorm, dropout, Adam and lr decay.

    python examples/cs231n_fc_net.py --data DIR                 # MNIST
    python examples/cs231n_fc_net.py --cifar DIR                # CIFAR-10 (cifar-10-batches-py)
    python examples/cs231n_fc_net.py --data DIR --epochs 1 --limit 5000

FullyConnectedNet(hidden_dims=[100, 100], normalization="batchnorm", dropout_keep_ratio=0.75,
reg, weight_scale) as the assignment builds it, with tinygrad_nn:

    {affine - batchnorm - relu - dropout} x 2 - affine - softmax
    MLP([D, 100, 100, 10], activation="relu", batchnorm=True, dropout=0.25)

- dropout=0.25 is the DROP probability (the assignment's keep ratio 0.75), inverted dropout;
- weights N(0, weight_scale^2), biases 0 (a custom init: any callable init(weight, bias, rng));
- softmax loss averaged over the batch; L2 0.5 * reg * sum W^2 is weight_decay = reg on the
  weights only (biases, gamma and beta are not regularized);
- Adam (lr 1e-3) with lr_decay 0.95 per epoch (ExponentialLR), batches of 100;
- the Solver's report: train accuracy on 1,000 random training images and the validation
  accuracy after each epoch; the test accuracy at the end. Inputs are mean-centred.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from tinygrad_nn import nn, optim
from tinygrad_nn.data import MeanCenter, load_cifar10, load_mnist_textbook
from tinygrad_nn.nn import init
from tinygrad_nn.train import evaluate, fit


def load(args: argparse.Namespace) -> tuple:
    """((x_train, y_train), (x_val, y_val), (x_test, y_test)) as float32 rows."""
    if args.cifar:
        xtr, ytr, xte, yte = load_cifar10(args.cifar, dtype=np.float32)
        xtr, xte = xtr.reshape(len(xtr), -1), xte.reshape(len(xte), -1)
        # the assignment's split: 49,000 train, the next 1,000 validate
        return (xtr[:49000], ytr[:49000]), (xtr[49000:], ytr[49000:]), (xte, yte)
    return tuple(load_mnist_textbook(args.data, download=args.data is None, dtype=np.float32))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:5]))
    parser.add_argument("--data", help="MNIST directory (default: $TINYGRAD_NN_MNIST)")
    parser.add_argument("--cifar", metavar="DIR", help="train on CIFAR-10 from DIR instead")
    parser.add_argument("--hidden", type=int, nargs="+", default=[100, 100],
                        help="hidden dims (default: 100 100)")
    parser.add_argument("--dropout", type=float, default=0.25,
                        help="drop probability (default: 0.25, keep ratio 0.75)")
    parser.add_argument("--reg", type=float, default=1e-3, help="L2 (default: 1e-3)")
    parser.add_argument("--weight-scale", type=float, default=5e-2, help="default: 5e-2")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's lr (default: 1e-3)")
    parser.add_argument("--lr-decay", type=float, default=0.95, help="per epoch (default: 0.95)")
    parser.add_argument("--epochs", type=int, default=10, help="default: 10")
    parser.add_argument("--batch-size", type=int, default=100, help="default: 100")
    parser.add_argument("--seed", type=int, default=0, help="default: 0")
    parser.add_argument("--limit", type=int, help="train on the first N images only")
    args = parser.parse_args(argv)

    try:
        (x_train, y_train), (x_val, y_val), (x_test, y_test) = load(args)
    except FileNotFoundError as e:
        sys.exit(f"cs231n_fc_net: {str(e).splitlines()[0]}")
    if args.limit is not None:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    center = MeanCenter().fit(x_train)
    x_train, x_val, x_test = (center.transform(x).astype(np.float32)
                              for x in (x_train, x_val, x_test))

    def weight_scale_init(weight, bias, generator):
        init.normal_(weight, 0.0, args.weight_scale, generator)
        if bias is not None:
            init.zeros_(bias)

    model = nn.MLP([x_train.shape[1], *args.hidden, 10], activation="relu", batchnorm=True,
                   dropout=args.dropout, init=weight_scale_init, generator=args.seed)
    weights = [p for name, p in model.named_parameters() if p.ndim == 2]
    others = [p for name, p in model.named_parameters() if p.ndim < 2]
    adam = optim.Adam([{"params": weights, "weight_decay": args.reg},
                       {"params": others, "weight_decay": 0.0}], lr=args.lr)
    decay = optim.ExponentialLR(adam, gamma=args.lr_decay)
    rng = np.random.default_rng(args.seed)

    def report(record: dict) -> None:
        sample = rng.choice(len(x_train), min(1000, len(x_train)), replace=False)
        train_acc = evaluate(model, x_train[sample], y_train[sample])["accuracy"]
        print(f"(Epoch {int(record['epoch'])} / {args.epochs}) loss: {record['loss']:.6f}; "
              f"train acc: {train_acc:.6f}; val_acc: {record['val_accuracy']:.6f}; "
              f"lr {record['lr']:.3g}; {record['time']:.1f}s", flush=True)

    print(f"--- {model.spec()}\n    reg {args.reg:g}, weight_scale {args.weight_scale:g}, "
          f"Adam lr {args.lr:g}, lr_decay {args.lr_decay:g}, batch {args.batch_size}, "
          f"{len(x_train)} training images")
    history = fit(model, "cross_entropy", adam, (x_train, y_train), val=(x_val, y_val),
                  epochs=args.epochs, batch_size=args.batch_size, scheduler=decay,
                  seed=args.seed, log=None, progress=False, on_epoch_end=report)
    test = evaluate(model, x_test, y_test)
    best = history.best("val_accuracy")
    print(f"best val_acc {best['val_accuracy']:.4f} (epoch {int(best['epoch'])}); "
          f"test accuracy {test['accuracy']:.4f}")
    return {"val_accuracy": best["val_accuracy"], "test_accuracy": test["accuracy"]}


if __name__ == "__main__":
    main()
