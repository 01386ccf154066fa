"""docs/convnets.md: its Python blocks run, in order, and their assertions hold."""

from __future__ import annotations

from pathlib import Path

from doc_blocks import run_python_blocks

DOC = Path(__file__).resolve().parents[1] / "docs" / "convnets.md"


def test_convnets_doc_blocks_run():
    blocks, namespace = run_python_blocks(DOC)
    assert len(blocks) == 3
    assert namespace["loss"].item() < 1.0
