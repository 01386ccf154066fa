"""Argument checks shared across the library: one function per kind of fact, so every caller
refuses the same bad values with the same kind of message (op and argument named).

Shapes, sizes and axes are Tensor arguments and are checked in tensor.py (``_shape_arg``,
``_axis``, ``_axes``); a non-finite training loss is checked in train.py.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any

import numpy as np

__all__ = ["BadArgument", "BadArgumentType", "BadArgumentValue", "check_bool", "check_device",
           "check_number", "check_positive_int", "check_reduction"]


class BadArgument(Exception):
    """What the checks here raise, as a ``BadArgumentValue`` (a ValueError) or a
    ``BadArgumentType`` (a TypeError): ``argument`` names the argument (the first word of the
    name in the message: "sizes" for "sizes[1]"), so a caller that took the value from somewhere
    else can point there (``nn.spec`` names the spec's field)."""

    def __init__(self, message: str, name: str = ""):
        super().__init__(message)
        self.argument = re.split(r"\W", name, maxsplit=1)[0]


class BadArgumentValue(BadArgument, ValueError):
    """A value out of range, not finite, or not one of the allowed ones."""


class BadArgumentType(BadArgument, TypeError):
    """A value of the wrong type."""


def check_bool(value: Any, name: str, op: str) -> bool:
    """``value`` if it is a bool (NumPy's too); anything else is a TypeError. A string such as
    ``"false"`` is truthy in Python: accepted, ``maximize="false"`` would silently ascend."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise BadArgumentType(f"{op}: {name} must be True or False, got {type(value).__name__} "
                          f"{value!r}", name)


def check_device(device: Any, op: str) -> None:
    """Refuse any device but the CPU (None means the CPU): this library runs on NumPy."""
    if device is not None and str(device) not in ("cpu", "cpu:0"):
        raise RuntimeError(f"{op}: device {device!r} is not available: tinygrad_nn runs on NumPy, "
                           "on the CPU only; drop the .to(device)/.cuda() call or use 'cpu'")


def check_number(
    value: Any, name: str, op: str, *, low: float | None = None, high: float | None = None,
    low_open: bool = False, high_open: bool = False, integer: bool = False,
) -> Any:
    """``value`` if it is a finite real number (an int if ``integer``) in the given range;
    otherwise a TypeError (not a number) or ValueError (nan, inf or out of range) naming the
    argument. Hyperparameters go through here: ``lr=inf`` or ``gamma=nan`` would run and diverge
    silently."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        wanted = "an int" if integer else "a number"
        raise BadArgumentType(f"{op}: {name} must be {wanted}, got {type(value).__name__} "
                              f"{value!r}", name)
    if not math.isfinite(value):
        raise BadArgumentValue(f"{op}: {name} must be finite, got {value}", name)
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low}"
        hi = "inf)" if high is None else f"{high}" + (")" if high_open else "]")
        raise BadArgumentValue(f"{op}: {name} must be in {lo}, {hi}, got {value}", name)
    return value


def check_positive_int(value: Any, name: str, op: str) -> int:
    """``value`` as an int if it is a positive integer (a layer's size); otherwise a ValueError
    naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise BadArgumentValue(f"{op}: {name} must be a positive int, got {value!r}", name)
    return int(value)


def check_reduction(reduction: Any, op: str) -> None:
    """A loss's ``reduction=``: 'mean', 'sum' or 'none' (PyTorch's), else a ValueError."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
