"""CIFAR-10, "python version" (cifar-10-python.tar.gz, extracted), as CS231n loads it.

The directory (`cifar-10-batches-py`) holds pickled dicts: `data_batch_1` .. `data_batch_5` and
`test_batch` with 'data' (10000, 3072) uint8, rows of 1024 red, 1024 green, 1024 blue values, and
'labels' (list of 10000 ints in 0..9); `batches.meta` with 'label_names'. They are Python 2
pickles, read here with the restricted unpickler. Keys come back as str or bytes depending on
how a file was written; both are accepted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from .safe_pickle import read_capped, safe_loads

__all__ = ["CIFAR10", "CIFAR_URL", "load_cifar10", "load_cifar10_meta", "load_cifar_batch"]

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))


class CIFAR10(NamedTuple):
    """Images (n, 32, 32, 3) channels-last, labels int64 (n,); unpacks like CS231n's
    `Xtr, Ytr, Xte, Yte = load_CIFAR10(root)`."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def _load_dict(path: Path) -> dict[str, Any]:
    """Unpickle a batch file into a dict with str keys."""
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: CIFAR-10 file not found; download {CIFAR_URL} and extract it, then pass "
            "the extracted cifar-10-batches-py directory"
        )
    obj = safe_loads(read_capped(path), str(path))
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a pickled dict, got {type(obj).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def load_cifar_batch(
    path: str | os.PathLike[str], dtype: DTypeLike = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> (X (n, 32, 32, 3) of `dtype`, y int64 (n,)).

    Pixel values stay in 0..255 as in CS231n (`dtype=np.uint8` keeps them as stored).
    """
    path = Path(path)
    batch = _load_dict(path)
    for key in ("data", "labels"):
        if key not in batch:
            raise ValueError(f"{path}: missing key {key!r}; has {sorted(batch)}")
    data = batch["data"]
    if not (isinstance(data, np.ndarray) and data.ndim == 2 and data.shape[1] == 3 * 32 * 32
            and data.dtype == np.uint8):
        shape = getattr(data, "shape", type(data).__name__)
        kind = getattr(data, "dtype", "")
        raise ValueError(f"{path}: 'data' must be an array (n, 3072) of uint8, got {kind} {shape}")
    labels = np.asarray(batch["labels"])
    if labels.shape != (len(data),) or labels.dtype.kind not in "iu":
        raise ValueError(f"{path}: 'labels' must be {len(data)} integers, got {labels.dtype} "
                         f"{labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{path}: 'labels' must lie in 0..9, got {labels.min()}..{labels.max()}")
    # Stored channel-planar (n, 3, 32, 32); channels-last is what CS231n's loader returns.
    images = data.reshape(len(data), 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images, dtype=dtype), labels.astype(np.int64)


def load_cifar10(root: str | os.PathLike[str], dtype: DTypeLike = np.float64) -> CIFAR10:
    """All of CIFAR-10 from the extracted `cifar-10-batches-py` directory: 50,000 training
    images (data_batch_1..5 in order) and 10,000 test images, as `load_cifar_batch` returns."""
    root = Path(root)
    batches = [load_cifar_batch(root / name, dtype) for name in _TRAIN_BATCHES]
    x_test, y_test = load_cifar_batch(root / "test_batch", dtype)
    return CIFAR10(
        np.concatenate([x for x, _ in batches]),
        np.concatenate([y for _, y in batches]),
        x_test,
        y_test,
    )


def load_cifar10_meta(root: str | os.PathLike[str]) -> list[str]:
    """The class names from `batches.meta` in `root` ('airplane', 'automobile', ...)."""
    path = Path(root) / "batches.meta"
    names = _load_dict(path).get("label_names")
    if not isinstance(names, list):
        raise ValueError(f"{path}: 'label_names' must be a list")
    return [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]
