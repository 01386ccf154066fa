"""Run a document's Python code blocks, in order, in one namespace (the docs tests use it)."""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path
from typing import Any


def run_python_blocks(doc: Path) -> tuple[list[str], dict[str, Any]]:
    """Execute every ```python block of ``doc``; returns the blocks and the namespace. A failing
    block raises AssertionError quoting it (the cause chained)."""
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), flags=re.S)
    namespace: dict[str, Any] = {}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{doc.name} block {i}", "exec"), namespace)
        except Exception as e:  # noqa: BLE001  (say which block failed)
            raise AssertionError(f"{doc.name} block {i} failed:\n{block}") from e
    return blocks, namespace


# a python block, optionally followed (after blank lines only) by a text block: its output
_WITH_OUTPUT = re.compile(r"```python\n(.*?)```(\n\s*```text\n(.*?)```)?", re.S)


def run_blocks_with_output(doc: Path) -> list[tuple[str, str | None, str, tuple[int, int] | None]]:
    """Like run_python_blocks, capturing what each block prints: per block (code, the ```text
    block right after it or None, the printed output, that text block's span in the file)."""
    text = doc.read_text()
    namespace: dict[str, Any] = {"__name__": "__doc__"}
    results = []
    for i, match in enumerate(_WITH_OUTPUT.finditer(text)):
        code, expected = match.group(1), match.group(3)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, f"{doc.name} block {i}", "exec"), namespace)
        except Exception as e:  # noqa: BLE001  (say which block failed)
            raise AssertionError(f"{doc.name} block {i} failed:\n{code}") from e
        results.append((code, expected, out.getvalue(), match.span(3) if expected else None))
    return results


def rewrite_outputs(doc: Path) -> None:
    """Replace each output block of ``doc`` by what its code prints now (run by hand:
    ``python tests/doc_blocks.py docs/your_backprop.md``; the test then compares)."""
    text = doc.read_text()
    for _, _, actual, span in reversed(run_blocks_with_output(doc)):
        if span is not None:
            text = text[:span[0]] + actual + text[span[1]:]
    doc.write_text(text)


if __name__ == "__main__":
    rewrite_outputs(Path(sys.argv[1]))
