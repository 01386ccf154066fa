"""``run_check``: what ``tinygrad-nn check`` runs: a model from a spec, a random batch, compare."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..nn.layers import in_out_features
from ..nn.spec import build
from .core import compare
from .report import Report


def run_check(
    spec: str | Mapping[str, Any],
    loss: str | None = None,
    batch_size: int = 10,
    reference: str | None = None,
    seed: int = 0,
    dtype: Any = "float64",
    *,
    l2: float = 0.0,
    n_train: int | None = None,
    lr: float | None = 0.1,
    numeric_entries: int = 64,
    activations: bool = True,
) -> Report:
    """Build ``spec`` (nn.build: a compact string, a dict or a .json/.toml path) seeded with
    ``seed``, draw a random batch of ``batch_size`` inputs in [0, 1) and integer labels, and
    ``compare`` autodiff with the reference (None or "auto": the one the architecture fits;
    "none": numeric only), numerical gradients, and one SGD step with learning rate ``lr``.

    Parameters whose entries are all equal after initialization (BatchNorm's gamma = 1 and
    beta = 0, zero biases) get N(0, 0.1^2) noise: symmetric values can hide a wrong gradient.
    """
    if batch_size < 2:
        raise ValueError(f"run_check: batch_size must be at least 2 (batchnorm), got {batch_size}")
    model = build(spec, dtype=np.dtype(dtype), generator=seed)
    rng = np.random.default_rng(seed)
    perturbed = []
    for name, p in model.named_parameters():
        if p.data.size > 1 and np.all(p.data == p.data.flat[0]):
            p.data += (0.1 * rng.standard_normal(p.shape)).astype(p.dtype)
            perturbed.append(name)
    n_in, n_out = in_out_features(model)
    x = rng.random((batch_size, n_in))
    labels = rng.integers(0, n_out, batch_size)
    report = compare(model, x, labels, loss=loss,
                     reference="auto" if reference is None else reference, l2=l2,
                     n_train=n_train, numeric_entries=numeric_entries, activations=activations,
                     optimizer_step=lr, seed=seed)
    if perturbed:
        report.header.insert(0, ("init", f"{', '.join(perturbed)} were all-equal; "
                                         f"perturbed by N(0, 0.1^2) (seed {seed})"))
    return report
