"""Run a Markdown document's Python blocks in order, in one namespace, and compare what each
prints with the ``text`` block right after it (the document's "real output").

    python tests/doc_blocks.py docs/your_backprop.md          # check
    python tests/doc_blocks.py docs/your_backprop.md --write  # rewrite the output blocks
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

# a python block, optionally followed (after blank lines only) by a text block
BLOCK = re.compile(r"```python\n(.*?)```(\n\s*```text\n(.*?)```)?", re.S)


def run_blocks(path: Path) -> list[tuple[str, str | None, str, tuple[int, int] | None]]:
    """(code, expected output or None, actual output, span of the expected text) per block."""
    text = path.read_text()
    namespace: dict = {"__name__": "__doc__"}
    results = []
    for i, match in enumerate(BLOCK.finditer(text)):
        code, expected = match.group(1), match.group(3)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, f"{path.name} block {i}", "exec"), namespace)
        except Exception as e:  # noqa: BLE001  (say which block failed)
            raise AssertionError(f"{path} block {i} failed:\n{code}") from e
        results.append((code, expected, out.getvalue(), match.span(3) if expected else None))
    return results


def rewrite(path: Path) -> None:
    text = path.read_text()
    for _, _, actual, span in reversed(run_blocks(path)):
        if span is not None:
            text = text[:span[0]] + actual + text[span[1]:]
    path.write_text(text)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    if "--write" in sys.argv:
        rewrite(target)
    for code, expected, actual, _ in run_blocks(target):
        if expected is not None and expected != actual:
            print(f"differs after:\n{code}\n--- doc\n{expected}--- actual\n{actual}")
