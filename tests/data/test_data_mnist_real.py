"""The real MNIST files (skipped when ../shared/data/mnist and $TINYGRAD_NN_MNIST lack them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinygrad_nn.data import MNIST, load_mnist, textbook_split

UNREACHABLE = ["http://127.0.0.1:9/"]  # the files must come from disk, never the network


@pytest.fixture(scope="module")
def mnist(real_mnist_dir: Path) -> MNIST:
    # Default verify=True: every file's sha256 is checked against MNIST_FILES.
    return load_mnist(real_mnist_dir, mirrors=UNREACHABLE)


def test_real_mnist_shapes_dtypes_and_labels(mnist: MNIST) -> None:
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.train_images.dtype == np.uint8
    assert mnist.test_images.shape == (10000, 28, 28) and mnist.test_images.dtype == np.uint8
    assert mnist.train_labels.shape == (60000,) and mnist.test_labels.shape == (10000,)
    for labels in (mnist.train_labels, mnist.test_labels):
        assert labels.dtype == np.uint8 and set(np.unique(labels)) == set(range(10))
    assert mnist.train_images.min() == 0 and mnist.train_images.max() == 255
    # Published facts: the first labels of each set and the class counts of digit 1.
    np.testing.assert_array_equal(mnist.train_labels[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    np.testing.assert_array_equal(mnist.test_labels[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    assert np.bincount(mnist.train_labels)[1] == 6742
    assert np.bincount(mnist.test_labels)[1] == 1135


def test_real_textbook_split(mnist: MNIST) -> None:
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = textbook_split(mnist)
    assert x_tr.shape == (50000, 784) and x_va.shape == (10000, 784) and x_te.shape == (10000, 784)
    assert y_tr.shape == (50000,) and y_va.shape == (10000,) and y_te.shape == (10000,)
    assert x_tr.dtype == np.float64 and y_tr.dtype == np.int64
    assert x_tr.min() == 0.0 and x_tr.max() == 1.0
    # Validation is the LAST 10,000 training images, not a random subset.
    np.testing.assert_array_equal(x_va[-1], mnist.train_images[-1].ravel() / 255.0)
    np.testing.assert_array_equal(x_tr[0], mnist.train_images[0].ravel() / 255.0)
    np.testing.assert_array_equal(y_va, mnist.train_labels[50000:])
    np.testing.assert_array_equal(y_te, mnist.test_labels)
