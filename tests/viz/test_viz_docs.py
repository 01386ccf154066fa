"""The Python code blocks of docs/visualization.md run, in order, in one namespace."""

from __future__ import annotations

from pathlib import Path

import pytest
from doc_blocks import run_python_blocks

DOC = Path(__file__).resolve().parents[2] / "docs" / "visualization.md"


def test_visualization_doc_code_blocks_run(tmp_path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    blocks, _ = run_python_blocks(DOC)
    assert len(blocks) >= 6
    written = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    for name in ("mlp_graph.svg", "micrograd.svg", "model.svg", "gradient_flow.png",
                 "backward_step_3.svg", "micrograd.html", "backward_steps.html"):
        assert name in written or name.replace(".svg", ".dot") in written, sorted(written)
