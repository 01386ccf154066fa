"""Mini-batches over NumPy arrays that share their first dimension."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over aligned mini-batches of `arrays`: each step yields a tuple with one batch per
    array (a 1-tuple for a single array), rows kept aligned across arrays.

    `shuffle=True` draws a fresh order every epoch (every `iter()`); epoch e's order depends only
    on `seed` and e, so two loaders with the same seed produce the same epochs, and setting
    `loader.epoch` replays an epoch. The last, smaller batch is kept unless `drop_last`.
    Without shuffling, batches are views of the arrays; with it, copies.
    """

    def __init__(self, *arrays: np.ndarray, batch_size: int = 1, shuffle: bool = False,
                 seed: int | None = None, drop_last: bool = False) -> None:
        if not arrays:
            raise ValueError("DataLoader: needs at least one array")
        if (isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer)
                or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive integer, "
                             f"got {batch_size!r}")
        # NOTE: the data package imports nothing from the engine, so not validation.check_bool
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, bool | np.bool_):
                raise TypeError(f"DataLoader: {name} must be True or False, got "
                                f"{type(flag).__name__} {flag!r}")
        arrays = tuple(np.asarray(a) for a in arrays)
        if any(a.ndim == 0 for a in arrays):
            raise ValueError("DataLoader: arrays need a first (sample) dimension; got a scalar")
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) > 1:
            raise ValueError(f"DataLoader: arrays must have the same first dimension, "
                             f"got lengths {lengths}")
        self.arrays = arrays
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.epoch = 0
        # Fixing the entropy once lets every epoch derive its own generator from (seed, epoch),
        # even when seed is None.
        self._entropy = np.random.SeedSequence(seed).entropy

    @property
    def num_samples(self) -> int:
        return len(self.arrays[0])

    def __len__(self) -> int:
        """The number of batches per epoch."""
        full, rest = divmod(self.num_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return (f"DataLoader({self.num_samples} examples in {len(self)} batches of "
                f"{self.batch_size}, shuffle={self.shuffle}; arrays {shapes})")

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        order = None
        if self.shuffle:
            seq = np.random.SeedSequence(self._entropy, spawn_key=(self.epoch,))
            order = np.random.default_rng(seq).permutation(self.num_samples)
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order: np.ndarray | None) -> Iterator[tuple[np.ndarray, ...]]:
        for b in range(len(self)):
            rows = slice(b * self.batch_size, (b + 1) * self.batch_size)
            index = rows if order is None else order[rows]
            yield tuple(a[index] for a in self.arrays)
