"""DataLoader: batch counts, alignment, reproducible per-epoch shuffling, validation."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn.data import DataLoader


def epoch_labels(loader: DataLoader) -> list[int]:
    return np.concatenate([y for _, y in loader]).tolist()


@pytest.mark.parametrize("n, batch_size, drop_last, expected", [
    (10, 3, False, [3, 3, 3, 1]),
    (10, 3, True, [3, 3, 3]),
    (9, 3, False, [3, 3, 3]),
    (2, 5, False, [2]),
    (2, 5, True, []),
])
def test_batch_sizes_and_len(n: int, batch_size: int, drop_last: bool, expected: list) -> None:
    loader = DataLoader(np.zeros((n, 2)), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == len(expected)
    assert [len(x) for (x,) in loader] == expected


def test_unshuffled_order_and_tuples() -> None:
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    batches = list(DataLoader(X, y, batch_size=4))
    assert all(isinstance(b, tuple) and len(b) == 2 for b in batches)
    np.testing.assert_array_equal(batches[1][0], X[4:8])
    np.testing.assert_array_equal(batches[2][1], y[8:])


def test_shuffle_keeps_rows_aligned_and_covers_everything() -> None:
    X, y = np.arange(50) * 10, np.arange(50)
    seen = []
    for xb, yb in DataLoader(X, y, batch_size=7, shuffle=True, seed=0):
        np.testing.assert_array_equal(xb, yb * 10)
        seen += yb.tolist()
    assert sorted(seen) == list(range(50)) and seen != list(range(50))


def test_reshuffles_each_epoch_reproducibly() -> None:
    y = np.arange(40)
    a = DataLoader(y, y, batch_size=8, shuffle=True, seed=123)
    b = DataLoader(y, y, batch_size=8, shuffle=True, seed=123)
    epochs_a = [epoch_labels(a) for _ in range(3)]
    epochs_b = [epoch_labels(b) for _ in range(3)]
    assert epochs_a == epochs_b
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]
    c = DataLoader(y, y, batch_size=8, shuffle=True, seed=124)
    assert epoch_labels(c) != epochs_a[0]
    a.epoch = 1  # replay epoch 1
    assert epoch_labels(a) == epochs_a[1]


def test_unseeded_loader_still_replays_its_own_epochs() -> None:
    y = np.arange(40)
    loader = DataLoader(y, y, batch_size=8, shuffle=True)
    first = epoch_labels(loader)
    loader.epoch = 0
    assert epoch_labels(loader) == first


def test_validation_errors() -> None:
    with pytest.raises(ValueError, match=r"same first dimension, got lengths \[10, 9\]"):
        DataLoader(np.zeros((10, 2)), np.zeros(9), batch_size=2)
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer, got 0"):
        DataLoader(np.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match=r"needs at least one array"):
        DataLoader(batch_size=2)
    with pytest.raises(ValueError, match=r"first \(sample\) dimension"):
        DataLoader(np.float64(1.0), batch_size=1)
