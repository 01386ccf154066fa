"""Export a saved checkpoint to a file another runtime reads (``tinygrad-nn export``).

    export_checkpoint("model.safetensors", "onnx")    # -> model.onnx, for ONNX Runtime
    export_checkpoint("model.safetensors", "torch")   # -> model.pt2, torch.export.load(...)

The torch file is a ``torch.export`` program (weights and graph, batch size dynamic): PyTorch
loads it with ``torch.export.load(path).module()`` without tinygrad_nn installed. Both compute
the model in eval mode.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import nn
from ..checkpoint import Checkpoint, load
from .onnx_model import to_onnx
from .pytorch import to_torch

FORMATS = {"onnx": ".onnx", "torch": ".pt2"}


def export_checkpoint(path: str | os.PathLike[str], to: str,
                      out: str | os.PathLike[str] | None = None,
                      input_features: int | None = None) -> Path:
    """Write the model of the checkpoint at ``path`` as ``to`` ("onnx" or "torch") to ``out``
    (default: ``path`` with the format's suffix); returns where it was written.
    ``input_features`` defaults to the first layer's."""
    if to not in FORMATS:
        raise ValueError(f"export: unknown format {to!r}; known: {', '.join(FORMATS)}")
    loaded = load(path)
    if not isinstance(loaded, Checkpoint):
        raise ValueError(f"{path}: holds a state dict, not a model with its spec: nothing to "
                         "export (load it into a model and call tinygrad_nn.export.to_onnx)")
    model = loaded.model.eval()
    features = input_features if input_features is not None else _input_features(model)
    target = Path(out) if out is not None else Path(path).with_suffix(FORMATS[to])
    if to == "onnx":
        to_onnx(model, target, (None, features))
    else:
        _save_torch_program(model, target, features)
    return target


def _input_features(model: nn.Module) -> int:
    for module in model.modules():
        for attribute in ("in_features", "num_features"):
            if isinstance(getattr(module, attribute, None), int):
                return getattr(module, attribute)
    raise ValueError(f"export: cannot tell how many input features {type(model).__name__} "
                     "takes; give input_features (--input-features)")


def _save_torch_program(model: nn.Module, target: Path, features: int) -> None:
    import torch

    module = to_torch(model)
    floats = [a.dtype for a in model.state_dict().values() if a.dtype.kind == "f"]
    example = torch.from_numpy(np.zeros((2, features), floats[0] if floats else np.float32))
    program = torch.export.export(module, (example,),
                                  dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, os.fspath(target))
