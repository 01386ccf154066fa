"""``nn.utils``, PyTorch's module path: gradient clipping (nn/clip.py, also exported by
``optim``) and flattening parameters to one vector and back."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor, cat
from .clip import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
           "vector_to_parameters"]


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector (differentiable, as in torch)."""
    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters' data, in place."""
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: expected a vector of {total} values, got "
                         f"shape {vec.shape}")
    start = 0
    for p in params:
        n = p.numel()
        np.copyto(p.data, vec.data[start:start + n].reshape(p.shape))
        start += n
