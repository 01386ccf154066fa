"""docs/your_backprop.md runs as written and prints exactly the output it shows."""

from __future__ import annotations

from pathlib import Path

from doc_blocks import run_blocks_with_output

DOC = Path(__file__).resolve().parents[1] / "docs" / "your_backprop.md"


def test_your_backprop_doc_runs_and_shows_real_output():
    results = run_blocks_with_output(DOC)
    assert len(results) >= 8
    assert sum(expected is not None for _, expected, _, _ in results) >= 8
    for code, expected, actual, _ in results:
        if expected is not None:
            assert actual == expected, f"after the block:\n{code}"
    shown = DOC.read_text()
    assert "WRONG" in shown and "transpose of the true one" in shown  # a wrong backward, diagnosed
