"""PyTorch's dtype objects, which here are NumPy's dtypes.

``x.dtype == tg.float32`` and ``x.to(tg.float64)`` read as in torch, and NumPy accepts these
objects everywhere it takes a dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

float32 = float = np.dtype(np.float32)  # noqa: A001 (PyTorch's names, shadowing builtins here only)
float64 = double = np.dtype(np.float64)
float16 = half = np.dtype(np.float16)
int64 = long = np.dtype(np.int64)
int32 = int = np.dtype(np.int32)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)  # noqa: A001 (PyTorch's name)
_ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
            "int": "int32"}
DTYPE_NAMES = {"float32", "float64", "float16", "int64", "int32", "uint8", "bool", "float",
                "double", "half", "long", "int"}


def as_dtype(dtype: Any) -> np.dtype:
    """A dtype from ours/NumPy's, or a clear error for torch's (which are not NumPy's)."""
    if type(dtype).__module__.startswith("torch"):
        name = str(dtype).replace("torch.", "")
        raise TypeError(f"got the PyTorch dtype {dtype}; write tg.{name} (tinygrad_nn's dtypes "
                        "are NumPy dtypes)")
    if isinstance(dtype, str) and dtype in DTYPE_NAMES:
        return np.dtype(_ALIASES.get(dtype, dtype))
    return np.dtype(dtype)




def check_dtype(dtype: Any, op: str) -> np.dtype:
    """``dtype`` as a NumPy dtype of numbers, or a TypeError naming the op."""
    try:
        result = as_dtype(dtype)
    except TypeError as e:
        raise TypeError(f"{op}: {dtype!r} is not a dtype ({e})") from None
    if result.kind not in "biuf":
        raise TypeError(f"{op}: dtype must be bool, int or float, got {result}")
    return result
