"""``tg.save`` / ``tg.load``: PyTorch's spelling for saving and loading a state dict.

Thin wrappers: the file format and its checks live in the checkpoint module (``io``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import io
from .tensor import Tensor


def save(obj: Mapping[str, Any], f: io.PathLike) -> None:
    """Write a state dict (``model.state_dict()``: names to tensors or arrays) to ``f``."""
    if not isinstance(obj, Mapping):
        raise TypeError(
            f"save: expected a state dict (a mapping of names to tensors), got "
            f"{type(obj).__name__}. Write tg.save(model.state_dict(), path); to save a whole "
            "model with its optimizer use tg.io.save(path, model, optimizer)."
        )
    io.save_state_dict(f, obj)


def load(f: io.PathLike, weights_only: bool = True) -> dict[str, Tensor]:
    """Read a state dict written by ``save``: names to tensors (``model.load_state_dict(...)``).
    Only arrays are ever read (PyTorch's ``weights_only=True``); no code is unpickled."""
    if not weights_only:
        raise ValueError("load: only weights_only=True is supported (files hold arrays, never "
                         "pickled objects)")
    return {name: Tensor.from_numpy(array) for name, array in io.load_state_dict(f).items()}
