"""docs/from_pytorch.md's code blocks run (one namespace, in order)."""

from __future__ import annotations

from pathlib import Path

from doc_blocks import run_python_blocks

DOC = Path(__file__).resolve().parents[1] / "docs" / "from_pytorch.md"


def test_from_pytorch_doc_runs():
    blocks, namespace = run_python_blocks(DOC)
    assert len(blocks) == 3
    assert namespace["model"](namespace["data"].float()).shape == (5, 1)
