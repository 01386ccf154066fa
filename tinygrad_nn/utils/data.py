"""``utils.data``: PyTorch's Dataset, TensorDataset, DataLoader and random_split.

A ``TensorDataset`` is batched by the library's array loader (``tinygrad_nn.data.DataLoader``:
one fancy-indexing per batch, not one Python call per example); any other Dataset is read
example by example and the examples stacked, as torch's default collate does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..data.loader import DataLoader as ArrayLoader
from ..tensor import Tensor, default_rng, stack

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split"]


class Dataset:
    """Base class: implement ``__getitem__(i)`` and ``__len__()``."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} does not define __len__")


class TensorDataset(Dataset):
    """Tensors (or arrays) sharing their first dimension; example i is the tuple of row i."""

    def __init__(self, *tensors: Any):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor(t) for t in tensors)
        lengths = {len(t) for t in self.tensors}
        if len(lengths) != 1:
            raise ValueError(f"TensorDataset: the tensors' first dims differ: "
                             f"{[t.shape for t in self.tensors]}")

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset, self.indices = dataset, [int(i) for i in indices]

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Dataset, lengths: Sequence[float], generator: Any = None
                 ) -> list[Subset]:
    """Disjoint random subsets of the given lengths (or fractions summing to 1, the remainder
    spread round-robin as torch does); ``generator`` an int seed or a NumPy Generator."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-9:
        counts = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        counts = [int(x) for x in lengths]
    if sum(counts) != n:
        raise ValueError(f"random_split: lengths {list(lengths)} do not add up to the dataset's "
                         f"{n} examples")
    order = default_rng(generator).permutation(n)
    starts = np.cumsum([0, *counts])
    return [Subset(dataset, order[a:b].tolist()) for a, b in zip(starts[:-1], starts[1:])]


class DataLoader:
    """Mini-batches of a Dataset: ``batch_size``, ``shuffle`` (a new order every epoch),
    ``drop_last``, ``generator`` (an int seed or a NumPy Generator; the order differs from
    torch's, whose generator is not NumPy's)."""

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: Any = None):
        self.dataset = dataset
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        seed = int(default_rng(generator).integers(2**63)) if shuffle else None
        if isinstance(dataset, TensorDataset):
            self._arrays = ArrayLoader(*[t.data for t in dataset.tensors], batch_size=batch_size,
                                       shuffle=shuffle, seed=seed, drop_last=drop_last)
        else:
            self._arrays = ArrayLoader(np.arange(len(dataset)), batch_size=batch_size,
                                       shuffle=shuffle, seed=seed, drop_last=drop_last)

    def __len__(self) -> int:
        return len(self._arrays)

    def __iter__(self) -> Iterator[Any]:
        for batch in self._arrays:
            if isinstance(self.dataset, TensorDataset):
                yield [Tensor.from_numpy(np.ascontiguousarray(b)) for b in batch]
            else:
                yield _collate([self.dataset[int(i)] for i in batch[0]])


def _collate(examples: list[Any]) -> Any:
    """Stack a list of examples field by field (tuples stay tuples, as torch's collate)."""
    first = examples[0]
    if isinstance(first, (tuple, list)):
        return [_collate([e[k] for e in examples]) for k in range(len(first))]
    if isinstance(first, Tensor):
        return stack(examples)
    return Tensor(np.asarray(examples))
