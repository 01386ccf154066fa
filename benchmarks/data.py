"""Data for the benchmarks: MNIST (or a synthetic stand-in), initial weights, and shuffles.

Everything a backend trains on comes from here, so every backend sees the same images, the same
initial weights and the same mini-batch order. Weights follow Nielsen's chapter-1 network.py:
``w[l]`` of shape (out, in) and ``b[l]`` of shape (out,), both drawn from N(0, 1).

NOTE: MNIST is read with a ~20-line local IDX reader, so the benchmarks depend on nothing but
NumPy. The files are never copied into the repository; they are read from ``TINYGRAD_NN_MNIST``
or ``../shared/data/mnist`` beside the project root. When the files are absent, ``load`` returns
synthetic digits of the same shapes and says so in ``Dataset.source``.
"""

from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
N_PIXELS = 784
N_CLASSES = 10

Params = list[tuple[np.ndarray, np.ndarray]]


@dataclass
class Dataset:
    """Row-batch arrays: ``x`` is (n, 784) in [0, 1], ``y`` is one-hot (n, 10), ``labels`` int."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    labels_test: np.ndarray
    source: str

    def subset(self, n_train: int | None, n_test: int | None = None) -> Dataset:
        """The first ``n_train`` training and ``n_test`` test examples (None: all)."""
        return Dataset(
            self.x_train[:n_train],
            self.y_train[:n_train],
            self.x_test[:n_test],
            self.labels_test[:n_test],
            self.source,
        )

    def astype(self, dtype: str) -> Dataset:
        """The same data with images and targets in ``dtype`` (labels stay integers)."""
        return Dataset(
            self.x_train.astype(dtype),
            self.y_train.astype(dtype),
            self.x_test.astype(dtype),
            self.labels_test,
            self.source,
        )


def mnist_dir() -> Path:
    """Where the IDX files are looked for: ``$TINYGRAD_NN_MNIST`` or ``../shared/data/mnist``."""
    env = os.environ.get("TINYGRAD_NN_MNIST")
    if env:
        return Path(env)
    return PROJECT_ROOT.parent / "shared" / "data" / "mnist"


def read_idx(path: Path) -> np.ndarray:
    """Read one (optionally gzipped) IDX file of unsigned bytes into an array of its shape."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"read_idx: {path} is not an IDX file of unsigned bytes")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (directory / name).exists():
            return directory / name
    return None


def one_hot(labels: np.ndarray) -> np.ndarray:
    out = np.zeros((len(labels), N_CLASSES))
    out[np.arange(len(labels)), labels] = 1.0
    return out


def load_mnist(directory: Path, n_train: int = 50_000) -> Dataset | None:
    """Nielsen's split: the first 50,000 training images and the 10,000 test images."""
    stems = [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ]
    paths = [_find(directory, s) for s in stems]
    if any(p is None for p in paths):
        return None
    train_x, train_y, test_x, test_y = (read_idx(p) for p in paths)  # type: ignore[arg-type]
    return Dataset(
        train_x[:n_train].reshape(-1, N_PIXELS) / 255.0,
        one_hot(train_y[:n_train]),
        test_x.reshape(-1, N_PIXELS) / 255.0,
        test_y.astype(np.int64),
        f"MNIST ({directory})",
    )


def synthetic(n_train: int = 50_000, n_test: int = 10_000, seed: int = 0) -> Dataset:
    """MNIST-shaped stand-in: one random prototype per class plus noise, clipped to [0, 1].

    Learnable (a [784, 30, 10] sigmoid net reaches high accuracy), so the correctness gate still
    compares accuracies that mean something.
    """
    rng = np.random.default_rng(seed)
    prototypes = rng.random((N_CLASSES, N_PIXELS)) < 0.2

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, N_CLASSES, n)
        x = prototypes[labels] * 0.8 + rng.random((n, N_PIXELS)) * 0.4
        return np.clip(x, 0.0, 1.0), labels

    x_train, labels_train = draw(n_train)
    x_test, labels_test = draw(n_test)
    return Dataset(x_train, one_hot(labels_train), x_test, labels_test, "synthetic (no MNIST)")


def load(n_train: int = 50_000, n_test: int = 10_000, synthetic_only: bool = False) -> Dataset:
    """The first ``n_train`` / ``n_test`` images of real MNIST when the files are there, else of
    the synthetic stand-in (float64)."""
    data = None if synthetic_only else load_mnist(mnist_dir())
    if data is None:
        return synthetic(n_train, n_test)
    return data.subset(n_train, n_test)


def init_params(sizes: list[int], seed: int) -> Params:
    """Nielsen's chapter-1 init, N(0, 1) for weights (out, in) and biases (out,), float64."""
    rng = np.random.default_rng(seed)
    return [
        (rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out))
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
    ]


def shuffles(n: int, epochs: int, seed: int) -> list[np.ndarray]:
    """One permutation of range(n) per epoch, the same for every backend."""
    rng = np.random.default_rng(seed + 1)
    return [rng.permutation(n) for _ in range(epochs)]


def accuracy(params: Params, x: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``x`` whose argmax output is the label (evaluated in float64 NumPy)."""
    a = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        for w, b in params:
            a = 1.0 / (1.0 + np.exp(-(a @ w.T + b)))
    return float(np.mean(a.argmax(axis=1) == labels))
