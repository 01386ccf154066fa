"""The viz examples run end to end (into a temporary directory)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_draw_graph_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    written = load("draw_graph").main([str(tmp_path / "mlp_graph.svg")])
    suffix = ".svg" if shutil.which("dot") else ".dot"
    assert [p.name for p in written] == [f"mlp_graph{suffix}", f"mlp_graph_collapsed{suffix}"]
    assert all(p.exists() for p in written)
    assert "Total params: 67" in capsys.readouterr().out


def test_gradient_flow_example(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    flow = load("gradient_flow").main(
        ["--n", "40", "--epochs", "1", "--sizes", "784,30,30,10", "--out", str(tmp_path / "f.png")]
    )
    assert flow.steps == [0, 1] and flow.layers == ["0", "2", "4"]
    assert (tmp_path / "f.png").exists()


def test_draw_graph_example_writes_into_a_directory_it_is_given(tmp_path: Path) -> None:
    written = load("draw_graph").main([str(tmp_path)])
    assert written and all(p.parent == tmp_path and p.exists() for p in written), written
