"""The Python code blocks of docs/visualization.md run, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "visualization.md"


def test_visualization_doc_code_blocks_run(tmp_path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{DOC.name} block {i}", "exec"), namespace)
        except Exception as e:  # noqa: BLE001  (say which block failed)
            raise AssertionError(f"docs/visualization.md block {i} failed:\n{block}") from e
    written = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    for name in ("mlp_graph.svg", "micrograd.svg", "model.svg", "gradient_flow.png"):
        assert name in written or name.replace(".svg", ".dot") in written, sorted(written)
