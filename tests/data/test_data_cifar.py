"""CIFAR-10 batch files, written small and fake in both the Python 2 and the Python 3 way."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from tinygrad_nn.data import (
    CIFAR10,
    UnsafePickleError,
    load_cifar10,
    load_cifar10_meta,
    load_cifar_batch,
)


def fake_batch(n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n).tolist()


def write_py3_batch(path: Path, data: np.ndarray, labels: list[int]) -> None:
    """Bytes keys, as `pickle.load(f, encoding='bytes')` shows the real files in CS231n."""
    batch = {b"batch_label": b"fake batch", b"labels": labels, b"data": data,
             b"filenames": [b"x.png"] * len(labels)}
    path.write_bytes(pickle.dumps(batch, protocol=2))


def test_channel_layout_matches_cs231n(tmp_path: Path) -> None:
    # Stored as 1024 red, 1024 green, 1024 blue values per row, each plane row-major 32x32.
    data = np.zeros((2, 3072), np.uint8)
    data[0, 0:1024], data[0, 1024:2048], data[0, 2048:3072] = 10, 20, 30
    data[1, 1024 + 5 * 32 + 7] = 99  # image 1, green, row 5, column 7
    write_py3_batch(tmp_path / "data_batch_1", data, [3, 4])
    X, y = load_cifar_batch(tmp_path / "data_batch_1")
    assert X.shape == (2, 32, 32, 3) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.dtype == np.int64 and y.tolist() == [3, 4]
    np.testing.assert_array_equal(X[0, 17, 3], [10, 20, 30])
    assert X[1, 5, 7, 1] == 99 and X[1].sum() == 99
    # The CS231n expression, for reference.
    expected = data.reshape(2, 3, 32, 32).transpose(0, 2, 3, 1).astype("float")
    np.testing.assert_array_equal(X, expected)
    X8, _ = load_cifar_batch(tmp_path / "data_batch_1", dtype=np.uint8)
    assert X8.dtype == np.uint8


def test_python2_batch_with_str_keys(tmp_path: Path, py2_dumps) -> None:
    data, labels = fake_batch(4, 0)
    batch = {"batch_label": "training batch 1 of 5", "labels": labels, "data": data,
             "filenames": ["a.png"] * 4}
    (tmp_path / "data_batch_1").write_bytes(py2_dumps(batch))
    X, y = load_cifar_batch(tmp_path / "data_batch_1")
    np.testing.assert_array_equal(X.transpose(0, 3, 1, 2).reshape(4, 3072), data)
    assert y.tolist() == labels


def test_load_cifar10_concatenates_in_order(tmp_path: Path, py2_dumps) -> None:
    batches = {f"data_batch_{i}": fake_batch(3, i) for i in range(1, 6)}
    batches["test_batch"] = fake_batch(2, 9)
    for name, (data, labels) in batches.items():
        write_py3_batch(tmp_path / name, data, labels)
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"]
    (tmp_path / "batches.meta").write_bytes(py2_dumps({"label_names": names,
                                                       "num_cases_per_batch": 3}))
    cifar = load_cifar10(tmp_path)
    assert isinstance(cifar, CIFAR10)
    x_tr, y_tr, x_te, y_te = cifar  # unpacks like CS231n's load_CIFAR10
    assert x_tr.shape == (15, 32, 32, 3) and x_te.shape == (2, 32, 32, 3)
    expected = np.concatenate([batches[f"data_batch_{i}"][1] for i in range(1, 6)])
    np.testing.assert_array_equal(y_tr, expected)
    np.testing.assert_array_equal(y_te, batches["test_batch"][1])
    assert load_cifar10_meta(tmp_path) == names


def test_missing_batch_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"data_batch_1: CIFAR-10 file not found.*kriz"):
        load_cifar10(tmp_path)


@pytest.mark.parametrize("labels, message", [
    ([0, 10], r"'labels' must lie in 0\.\.9"),
    ([0], r"'labels' must be 2 integers"),
])
def test_bad_labels_rejected(tmp_path: Path, labels: list[int], message: str) -> None:
    write_py3_batch(tmp_path / "test_batch", np.zeros((2, 3072), np.uint8), labels)
    with pytest.raises(ValueError, match=rf"test_batch: {message}"):
        load_cifar_batch(tmp_path / "test_batch")


def test_bad_data_shape_rejected(tmp_path: Path) -> None:
    write_py3_batch(tmp_path / "test_batch", np.zeros((2, 3000), np.uint8), [0, 1])
    with pytest.raises(ValueError, match=r"test_batch: 'data' must be an array \(n, 3072\)"):
        load_cifar_batch(tmp_path / "test_batch")


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


def test_malicious_batch_rejected_without_executing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    batch = {b"data": np.zeros((1, 3072), np.uint8), b"labels": [_Evil(marker)]}
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=2))
    with pytest.raises(UnsafePickleError, match=r"data_batch_1: refusing to load global"):
        load_cifar_batch(tmp_path / "data_batch_1")
    assert not marker.exists()
