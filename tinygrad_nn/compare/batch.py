"""The batch as both sides see it: targets in the form the loss takes, and dropout keep-masks.

Dropout is random, so the engine and the reference would drop different units; ``compare`` fixes
one keep-mask per Dropout layer and gives it to both (a forward hook on each Dropout layer of a
copy of the model, ``dropout_masks`` for the reference).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..nn import functional as nnf
from ..nn.layers import Dropout
from ..nn.module import Module
from ..tensor import Tensor
from ..transfer import flat_layers

Array = np.ndarray


def loss_targets(loss: str, targets: Any, n: int, n_out: int) -> Array:
    """Integer labels (N,) for softmax; float (N, n_out) otherwise (labels become one-hot)."""
    t = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if loss == "softmax":
        if t.dtype.kind not in "iu" or t.shape != (n,):
            raise ValueError(f"compare: the softmax loss takes integer class labels of shape "
                             f"({n},), got {t.dtype} {t.shape}")
        return t
    if t.dtype.kind in "iu" and t.shape == (n,):
        onehot = np.zeros((n, n_out))
        onehot[np.arange(n), t] = 1.0  # Nielsen's vectorized_result, as rows
        return onehot
    if t.shape != (n, n_out):
        raise ValueError(f"compare: targets must be ({n}, {n_out}) floats or ({n},) integer "
                         f"labels, got {t.dtype} {t.shape}")
    return t.astype(np.float64)


def _dropouts(model: Module) -> list[Dropout]:
    return [layer for _, layer in flat_layers(model) if isinstance(layer, Dropout)]


def keep_masks(model: Module, x: Array, masks: Sequence[Any] | None, seed: int) -> list[Array]:
    """One keep-mask (True = keep) per Dropout layer: ``masks``, else drawn from ``seed``."""
    dropouts = _dropouts(model)
    if not dropouts or not model.training:
        return []
    shapes: list[tuple[int, ...]] = []
    probe = copy.deepcopy(model)  # a forward pass updates BatchNorm's running statistics
    handles = [d.register_forward_pre_hook(lambda m, args: shapes.append(args[0].shape))
               for d in _dropouts(probe)]
    with no_grad():
        probe(Tensor(x))
    for h in handles:
        h.remove()
    if masks is None:
        rng = np.random.default_rng(seed)
        return [rng.random(s) >= d.p for s, d in zip(shapes, dropouts, strict=True)]
    masks = [np.asarray(m, dtype=bool) for m in masks]
    if len(masks) != len(dropouts) or any(m.shape != s for m, s in zip(masks, shapes)):
        raise ValueError(f"compare: dropout_masks must be {len(dropouts)} keep-masks of shapes "
                         f"{shapes}, got {[m.shape for m in masks]}")
    return masks


def fix_dropout_masks(model: Module, masks: Sequence[Array]) -> None:
    """Make ``model``'s Dropout layers (in ``flat_layers`` order) apply ``masks`` in training
    mode instead of their random draw: a forward hook on each replaces its output. Meant for a
    copy: each layer gets a generator of its own for the draw it no longer uses, so the library's
    generator is not advanced."""
    for layer, mask in zip(_dropouts(model), masks, strict=True):
        layer.generator = np.random.default_rng(0)
        layer.register_forward_hook(
            lambda m, args, out, mask=mask: nnf.dropout(args[0], m.p, m.training, mask=mask))


def copy_with_masks(model: Module, masks: list[Array]) -> Module:
    """A copy of ``model`` without gradients, its Dropout layers fixed to ``masks``."""
    work = copy.deepcopy(model)
    work.zero_grad()  # the model may hold gradients from an earlier backward(): the step adds
    if masks:
        fix_dropout_masks(work, masks)
    return work
