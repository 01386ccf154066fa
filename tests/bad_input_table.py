"""The bad-input table's machinery: each row is (name, a callable producing the bad case,
and either the exception expected, with substrings its message must contain so that it names the
culprit, or the exact correct value). The tables themselves are tests/test_bad_input_*.py.

A row passes only if the call raises exactly that kind of error (a raw internal error such as
AttributeError, or a silent result, fails it) or returns the expected value. NumPy's warnings are
errors while a row runs: a ComplexWarning or a cast warning is a silent wrong answer.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest


@dataclass
class Row:
    name: str
    call: Callable[[], Any]
    error: type[BaseException] | None = None
    says: Sequence[str] = field(default_factory=tuple)  # substrings the message must contain
    value: Any = None  # the exact result when ``error`` is None (or a predicate on it)


def bad(name: str, call: Callable[[], Any], error: type[BaseException], *says: str) -> Row:
    """A row that must raise ``error`` with every one of ``says`` in its message."""
    return Row(name, call, error, says)


def good(name: str, call: Callable[[], Any], value: Any) -> Row:
    """A row that must return ``value`` exactly (arrays: same shape, equal with nan == nan,
    -0.0 == 0.0), or for which ``value(result)`` is True if ``value`` is callable."""
    return Row(name, call, None, (), value)


def same(result: Any, expected: Any) -> bool:
    if callable(expected):
        return bool(expected(result))
    if isinstance(result, (tuple, list)) and isinstance(expected, (tuple, list)):
        return len(result) == len(expected) and all(map(same, result, expected))
    a = np.asarray(getattr(result, "data", result))
    b = np.asarray(getattr(expected, "data", expected))
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def check(row: Row) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", getattr(np, "exceptions", np).ComplexWarning)
        warnings.filterwarnings("error", message=".*invalid value encountered in cast")
        if row.error is None:
            result = row.call()
            assert same(result, row.value), f"{row.name}: got {result!r}, expected {row.value!r}"
            return
        with pytest.raises(BaseException) as info:
            row.call()
    raised = info.value
    assert type(raised) is row.error or isinstance(raised, row.error), (
        f"{row.name}: expected {row.error.__name__}, got {type(raised).__name__}: {raised}")
    message = str(raised)
    missing = [s for s in row.says if s not in message]
    assert not missing, f"{row.name}: message {message!r} does not name {missing}"


def params(rows: Sequence[Row]) -> Any:
    """pytest parameters for a table, one test id per row (names must be unique)."""
    names = [r.name for r in rows]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, f"duplicate row names: {sorted(duplicates)}"
    return pytest.mark.parametrize("row", rows, ids=names)
