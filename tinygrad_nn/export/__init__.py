"""Carry a model out of tinygrad_nn: to PyTorch (``pytorch``), to ONNX (``onnx_model``), and a
checkpoint file to either (``files``, the ``tinygrad-nn export`` command).

torch and onnx are optional: each is imported only when its functions are called.
"""

from .files import export_checkpoint
from .onnx_model import to_onnx
from .pytorch import from_torch, optimizer_to_torch, to_torch

__all__ = ["export_checkpoint", "from_torch", "optimizer_to_torch", "to_onnx", "to_torch"]
