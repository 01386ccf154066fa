"""Code blocks in docs/ marked ``<!-- test: run -->`` run, so the docs stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
MARKED = re.compile(r"<!-- test: run -->\s*```python\n(.+?)\n```", re.S)
BLOCKS = [(path.name, i, code) for path in sorted(DOCS.glob("*.md"))
          for i, code in enumerate(MARKED.findall(path.read_text()))]


def test_the_docs_have_runnable_blocks():
    names = {name for name, _, _ in BLOCKS}
    assert {"adding_an_op.md"} <= names, names


@pytest.mark.parametrize("name, index, code", BLOCKS, ids=[f"{n}:{i}" for n, i, _ in BLOCKS])
def test_doc_block_runs(name, index, code):
    exec(compile(code, f"{name} block {index}", "exec"), {"__name__": "__docs__"})
