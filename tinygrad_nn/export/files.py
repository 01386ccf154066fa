"""Export a saved checkpoint to a file another runtime reads (``tinygrad-nn export``).

    export_checkpoint("model.safetensors", "onnx")    # -> model.onnx, for ONNX Runtime
    export_checkpoint("model.safetensors", "torch")   # -> model.pt2, torch.export.load(...)

The torch file is a ``torch.export`` program (weights and graph, batch size dynamic): PyTorch
loads it with ``torch.export.load(path).module()`` without tinygrad_nn installed. Both compute
the model in eval mode.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import nn
from ..checkpoint import Checkpoint, load
from .onnx_model import to_onnx
from .pytorch import to_torch

FORMATS = {"onnx": ".onnx", "torch": ".pt2"}


def export_checkpoint(path: str | os.PathLike[str], to: str,
                      out: str | os.PathLike[str] | None = None,
                      input_shape: Sequence[int] | None = None) -> Path:
    """Write the model of the checkpoint at ``path`` as ``to`` ("onnx" or "torch") to ``out``
    (default: ``path`` with the format's suffix); returns where it was written.
    ``input_shape`` is one sample's shape (after the batch axis): default (features,) of the
    first layer; a convolutional network needs it, e.g. (1, 28, 28)."""
    if to not in FORMATS:
        raise ValueError(f"export: unknown format {to!r}; known: {', '.join(FORMATS)}")
    loaded = load(path)
    if not isinstance(loaded, Checkpoint):
        raise ValueError(f"{path}: holds a state dict, not a model with its spec: nothing to "
                         "export (load it into a model and call tinygrad_nn.export.to_onnx)")
    model = loaded.model.eval()
    sample = tuple(input_shape) if input_shape is not None else _sample_shape(model)
    target = Path(out) if out is not None else Path(path).with_suffix(FORMATS[to])
    if to == "onnx":
        to_onnx(model, target, (None, *sample))
    else:
        _save_torch_program(model, target, sample)
    return target


def _sample_shape(model: nn.Module) -> tuple[int]:
    """(features,) read from the first layer that has a size; a convolution's input has
    spatial sizes no layer records."""
    for module in model.modules():
        if hasattr(module, "in_channels"):
            break
        for attribute in ("in_features", "num_features"):
            if isinstance(getattr(module, attribute, None), int):
                return (getattr(module, attribute),)
    raise ValueError(f"export: cannot tell the input shape of {type(model).__name__} from its "
                     "layers; give it (input_shape=, --input-shape C,H,W)")


def _save_torch_program(model: nn.Module, target: Path, sample: tuple[int, ...]) -> None:
    import torch

    module = to_torch(model)
    floats = [a.dtype for a in model.state_dict().values() if a.dtype.kind == "f"]
    example = torch.from_numpy(np.zeros((2, *sample), floats[0] if floats else np.float32))
    program = torch.export.export(module, (example,),
                                  dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, os.fspath(target))
