"""Count lines of logic per module: no blank lines, comments or docstrings.

A line counts when it holds at least one token of code. Docstrings (the first string statement of
a module, class or function) are free, as are comments and blank lines, so the count measures what a
reader must follow, never how it is laid out.

    python tools/logic_lines.py [root ...]          # default: tinygrad_nn
    python tools/logic_lines.py --by-dir tinygrad_nn # subtotals per package directory
"""

from __future__ import annotations

import argparse
import ast
import io
import tokenize
from pathlib import Path

_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
         tokenize.ENDMARKER, tokenize.ENCODING}


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def logic_lines(source: str) -> int:
    """The number of lines of ``source`` that hold code (not blank, comment or docstring)."""
    docstrings = _docstring_lines(ast.parse(source))
    code: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in _SKIP:
            continue
        for line in range(tok.start[0], tok.end[0] + 1):
            if line not in docstrings:
                code.add(line)
    return len(code)


def count(root: Path) -> dict[str, int]:
    """Logic lines of every ``.py`` file under ``root``, keyed by path relative to root's parent."""
    return {str(p.relative_to(root.parent)): logic_lines(p.read_text())
            for p in sorted(root.rglob("*.py"))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="*", default=["tinygrad_nn"])
    parser.add_argument("--by-dir", action="store_true", help="print subtotals per directory")
    args = parser.parse_args(argv)
    total = 0
    for root in map(Path, args.roots):
        counts = count(root)
        if args.by_dir:
            dirs: dict[str, int] = {}
            for path, n in counts.items():
                dirs[str(Path(path).parent)] = dirs.get(str(Path(path).parent), 0) + n
            counts = dirs
        for name, n in counts.items():
            print(f"{n:6d}  {name}")
        total += sum(counts.values())
    print(f"{total:6d}  total")


if __name__ == "__main__":
    main()
