"""tools/logic_lines.py counts code, never docstrings, comments or blank lines."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("logic_lines", ROOT / "tools" / "logic_lines.py")
logic_lines = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(logic_lines)

SOURCE = '''"""Module docstring,
over two lines."""

import os  # a comment


def f(x):
    """Function docstring."""
    # a comment line
    y = (x +
         1)
    return "not a docstring"


class C:
    """Class docstring."""

    z = """a string
    assigned, so code"""
'''


def test_counts_code_lines_only():
    # import, def, y = (two lines), return, class, z = (two lines)
    assert logic_lines.logic_lines(SOURCE) == 8


def test_counts_every_module_of_the_package():
    counts = logic_lines.count(ROOT / "tinygrad_nn")
    assert "tinygrad_nn/autograd.py" in counts and counts["tinygrad_nn/autograd.py"] > 100
