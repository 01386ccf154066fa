"""Run a document's Python code blocks, in order, in one namespace (the docs tests use it)."""

from __future__ import annotations

import re
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
