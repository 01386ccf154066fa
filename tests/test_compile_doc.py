"""docs/compile.md's Python blocks run, in order, and print what the doc says."""

from __future__ import annotations

from pathlib import Path

from doc_blocks import run_python_blocks

DOC = Path(__file__).resolve().parents[1] / "docs" / "compile.md"


def test_compile_doc_code_blocks_run(capsys):
    blocks, namespace = run_python_blocks(DOC)
    assert len(blocks) == 2
    assert capsys.readouterr().out.strip().splitlines() == ["() float64 2", "1"]
    assert namespace["train_step"].traces == 2
