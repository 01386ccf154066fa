"""``Drawing``: the graphviz.Digraph every viz drawing returns, safe to display without Graphviz.

A plain Digraph shows itself in Jupyter by running Graphviz's ``dot``; when ``dot`` is missing
that raises a long ``ExecutableNotFound`` traceback. A Drawing shows the DOT text and the
one-line install hint instead. Imported only when something is drawn (it imports graphviz).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import graphviz

from .notebook import GRAPHVIZ_HINT, dot_available, esc


class Drawing(graphviz.Digraph):
    """A graphviz.Digraph that displays its DOT source and how to install Graphviz when the
    ``dot`` program is missing, rather than raising."""

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        if dot_available(self.engine):
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except graphviz.ExecutableNotFound:
                pass
        return self.fallback()

    def fallback(self) -> dict[str, str]:
        """What a notebook shows without Graphviz: the hint and the DOT text."""
        hint = f"Graphviz's `{self.engine}` program was not found: {GRAPHVIZ_HINT}"
        return {
            "text/html": (
                f'<div style="font-family:sans-serif;font-size:12px"><b>{esc(hint)}</b>'
                "<br>The drawing as DOT text (paste it into any Graphviz viewer):</div>"
                f'<pre style="font-size:10px;max-height:300px;overflow:auto">'
                f"{esc(self.source)}</pre>"
            ),
            "text/plain": f"{hint}\n{self.source}",
        }

    def __repr__(self) -> str:
        declared = (re.match(r"\s*(\w+) \[", line) for line in self.body)
        nodes = sum(1 for m in declared if m and m[1] not in ("graph", "node", "edge"))
        return (f"<Drawing {self.name!r}: {nodes} nodes; display it in Jupyter, "
                f"viz.render(drawing, 'out.svg') to save, .source for the DOT text>")
