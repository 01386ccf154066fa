"""Carry a model out of tinygrad_nn: to PyTorch (``pytorch``) and to ONNX (``onnx_model``).

torch and onnx are optional: each is imported only when its functions are called.
"""

from .onnx_model import to_onnx
from .pytorch import from_torch, optimizer_to_torch, to_torch

__all__ = ["from_torch", "optimizer_to_torch", "to_onnx", "to_torch"]
