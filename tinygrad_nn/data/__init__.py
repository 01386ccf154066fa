"""Datasets and data utilities in pure NumPy: everything here returns NumPy arrays.

NOTE: this package must not import the engine (tinygrad_nn.tensor and friends), so that the data
code stays usable and testable on its own; convert with Tensor(x) at the call site.
"""

from .cifar import CIFAR10, load_cifar10, load_cifar10_meta, load_cifar_batch
from .datasets import DATASETS, load_dataset
from .loader import DataLoader
from .mnist import (
    MNIST,
    MNIST_FILES,
    MNIST_MIRRORS,
    ChecksumError,
    MNISTSplit,
    download_mnist,
    load_mnist,
    load_mnist_textbook,
    load_nielsen_pickle,
    mnist_dir,
    parse_idx,
    read_idx,
    textbook_split,
)
from .preprocess import PCA, MeanCenter, Standardize, one_hot
from .safe_pickle import RestrictedUnpickler, UnsafePickleError, safe_loads
from .toy import make_circles, make_moons, make_sine, make_spirals, make_xor, train_test_split

__all__ = [
    "CIFAR10",
    "DATASETS",
    "MNIST",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "PCA",
    "ChecksumError",
    "DataLoader",
    "MNISTSplit",
    "MeanCenter",
    "RestrictedUnpickler",
    "Standardize",
    "UnsafePickleError",
    "download_mnist",
    "load_cifar10",
    "load_cifar10_meta",
    "load_cifar_batch",
    "load_dataset",
    "load_mnist",
    "load_mnist_textbook",
    "load_nielsen_pickle",
    "make_circles",
    "make_moons",
    "make_sine",
    "make_spirals",
    "make_xor",
    "mnist_dir",
    "one_hot",
    "parse_idx",
    "read_idx",
    "safe_loads",
    "textbook_split",
    "train_test_split",
]
