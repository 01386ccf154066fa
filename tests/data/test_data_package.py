"""The data package stays pure NumPy: no module in it imports the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import tinygrad_nn.data

DATA_DIR = Path(tinygrad_nn.data.__file__).parent


def engine_imports(source: str) -> list[str]:
    """Imports that reach outside tinygrad_nn.data into the rest of tinygrad_nn."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "tinygrad_nn"
                      and not a.name.startswith("tinygrad_nn.data")]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            outside = node.level > 1 or (node.level == 0 and module.split(".")[0] == "tinygrad_nn"
                                         and not module.startswith("tinygrad_nn.data"))
            if outside:
                found.append("." * node.level + module)
    return found


def test_detector_flags_engine_imports() -> None:
    assert engine_imports("from ..tensor import Tensor\nimport tinygrad_nn.ops") == [
        "..tensor", "tinygrad_nn.ops"]
    assert engine_imports("from .mnist import load_mnist\nimport numpy") == []


def test_data_modules_do_not_import_the_engine() -> None:
    modules = sorted(DATA_DIR.glob("*.py"))
    assert len(modules) >= 7
    offenders = {p.name: engine_imports(p.read_text()) for p in modules}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_public_api_is_exported() -> None:
    for name in tinygrad_nn.data.__all__:
        assert hasattr(tinygrad_nn.data, name), name
