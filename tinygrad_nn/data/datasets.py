"""Datasets by name, as train/validation/test arrays: what ``tinygrad-nn train --dataset`` loads.

    >>> splits = load_dataset("moons", n_samples=500, seed=0)      # doctest: +SKIP
    >>> X_train, y_train = splits["train"]                          # doctest: +SKIP

Inputs are float arrays of ``dtype``, labels integer class indices.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .mnist import MNIST_FILES, load_mnist_textbook, mnist_dir
from .toy import make_circles, make_moons, make_spirals, make_xor, train_test_split

DATASETS = ("mnist", "moons", "circles", "spirals", "xor")
Split = tuple[np.ndarray, np.ndarray]


def load_dataset(name: str, *, data_dir: str | os.PathLike | None = None, download: bool = True,
                 dtype: Any = np.float32, limit: int | None = None, n_samples: int = 500,
                 noise: float = 0.2, test_fraction: float = 0.2, validation: bool = False,
                 seed: int = 0) -> dict[str, Split | None]:
    """{"train", "val", "test"} splits of dataset ``name`` (``DATASETS``).

    mnist: Nielsen's 50,000/10,000/10,000 split from ``data_dir`` (downloaded when missing and
    ``download``). Toy sets: ``n_samples`` points with ``noise``, ``test_fraction`` held out for
    test, and with ``validation`` the same share of the rest held out as "val" (else None).
    ``limit`` keeps the first ``limit`` training examples.
    """
    if name not in DATASETS:
        raise ValueError(f"load_dataset: unknown dataset {name!r}; allowed: {', '.join(DATASETS)}")
    dtype = np.dtype(dtype)
    if name == "mnist":
        splits: dict[str, Split | None] = _mnist(data_dir, download, dtype)
    else:
        makers = {
            "moons": lambda: make_moons(n_samples, noise=noise, seed=seed),
            "circles": lambda: make_circles(n_samples, noise=noise, factor=0.5, seed=seed),
            "spirals": lambda: make_spirals(max(n_samples // 3, 1), 3, noise=noise, seed=seed),
            "xor": lambda: make_xor(n_samples, noise=noise, seed=seed),
        }
        X, y = makers[name]()
        X_train, X_test, y_train, y_test = train_test_split(X.astype(dtype), y, test_fraction,
                                                            seed=seed)
        splits = {"train": (X_train, y_train), "val": None, "test": (X_test, y_test)}
        if validation:  # hold out part of the training split to watch
            X_train, X_val, y_train, y_val = train_test_split(X_train, y_train, test_fraction,
                                                              seed=seed)
            splits.update(train=(X_train, y_train), val=(X_val, y_val))
    if limit:
        X_train, y_train = splits["train"]  # type: ignore[misc]
        splits["train"] = (X_train[:limit], y_train[:limit])
    return splits


def _mnist(data_dir: Any, download: bool, dtype: np.dtype) -> dict[str, Split | None]:
    try:
        split = load_mnist_textbook(data_dir, download=download, dtype=dtype)
    except FileNotFoundError:
        where = mnist_dir(data_dir)
        missing = [name for name in MNIST_FILES  # gzipped or not
                   if not (where / name).exists() and not (where / name[:-3]).exists()]
        how = "downloading was off" if not download else "downloading failed (no network?)"
        raise FileNotFoundError(f"MNIST not found in {where} ({len(missing)} of 4 files "
                                f"missing, and {how})") from None
    return {"train": split.train, "val": split.validation, "test": split.test}
