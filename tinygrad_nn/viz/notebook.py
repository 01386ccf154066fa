"""How the library's objects show themselves in Jupyter: small HTML pieces and the inline hooks.

IPython displays an object by asking it for rich representations (``_repr_html_``,
``_repr_png_``, ``_repr_mimebundle_``) and falls back to ``repr``. The helpers here build those
representations from plain data; they import neither IPython nor matplotlib, so they work (and
are tested) outside a notebook too.
"""

from __future__ import annotations

import html
import io
import math
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import Any

TABLE_STYLE = (
    "border-collapse:collapse;font-family:monospace;font-size:12px;margin:2px 0"
)
CELL_STYLE = "padding:1px 8px;border-bottom:1px solid #ddd;text-align:right"
HEAD_STYLE = "padding:1px 8px;border-bottom:2px solid #888;text-align:right"
FAIL_STYLE = "background:#ffd6d6;font-weight:bold"
GRAPHVIZ_HINT = (
    "install Graphviz: apt-get install graphviz / brew install graphviz / conda install graphviz"
)


def dot_available(engine: str = "dot") -> bool:
    """Whether Graphviz's layout program is on PATH (drawing needs it; tracing does not)."""
    return shutil.which(engine) is not None


def in_notebook() -> bool:
    """True inside a Jupyter kernel (not a plain ``python`` or an IPython terminal)."""
    ipython_module = sys.modules.get("IPython")
    if ipython_module is None:
        return False
    shell = ipython_module.get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def html_table(
    heads: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    bad: Sequence[bool] | None = None,
    left: int = 1,
) -> str:
    """A compact HTML table; rows flagged in ``bad`` are highlighted. The first ``left``
    columns are left-aligned (names), the rest right-aligned (numbers)."""

    def cell(tag: str, i: int, value: Any, style: str) -> str:
        align = ";text-align:left" if i < left else ""
        return f'<{tag} style="{style}{align}">{esc(value)}</{tag}>'

    head = "".join(cell("th", i, h, HEAD_STYLE) for i, h in enumerate(heads))
    body = []
    for r, row in enumerate(rows):
        style = f' style="{FAIL_STYLE}"' if bad is not None and bad[r] else ""
        body.append(f"<tr{style}>" + "".join(cell("td", i, v, CELL_STYLE)
                                            for i, v in enumerate(row)) + "</tr>")
    return (f'<table style="{TABLE_STYLE}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def sparkline(values: Sequence[float], label: str, *, width: int = 160, height: int = 36,
              colour: str = "#1f4e9c", fmt: Callable[[float], str] = "{:.4g}".format) -> str:
    """An inline SVG line of ``values`` (non-finite ones skipped) with its first and last value."""
    points = [(i, v) for i, v in enumerate(values) if math.isfinite(v)]
    if not points:
        return f"<div>{esc(label)}: no finite values</div>"
    lo, hi = min(v for _, v in points), max(v for _, v in points)
    span_y = (hi - lo) or 1.0
    span_x = max(len(values) - 1, 1)
    pad = 3
    xy = " ".join(
        f"{pad + i / span_x * (width - 2 * pad):.1f},"
        f"{height - pad - (v - lo) / span_y * (height - 2 * pad):.1f}"
        for i, v in points
    )
    first, last = points[0][1], points[-1][1]
    return (
        f'<div style="display:inline-block;margin-right:16px;font-family:sans-serif;'
        f'font-size:11px">{esc(label)}: {fmt(first)} &rarr; <b>{fmt(last)}</b><br>'
        f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<title>{esc(label)} per epoch</title>'
        f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{xy}"/></svg></div>'
    )


def figure_png(fig: Any) -> bytes:
    """A matplotlib Figure as PNG bytes (no pyplot, no GUI backend)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return buffer.getvalue()


def inline(fig: Any) -> Any:
    """Make a Figure display itself in a fresh kernel.

    NOTE: IPython shows a Figure inline only once a matplotlib backend registered its formatter
    (``%matplotlib inline`` or importing pyplot); our figures are made without pyplot, so each
    gets its own ``_repr_png_`` instead. IPython looks the method up on the instance.
    """
    fig._repr_png_ = lambda: figure_png(fig)
    return fig


class TableReport:
    """A titled table of rows with a verdict, the shape of ``compare``'s and ``check``'s
    reports: ``ok``, ``failures`` and ``row(name)`` over ``rows`` (each with ``.name`` and
    ``.ok``), shown as its text by IPython and as HTML in Jupyter (failing rows highlighted).

    A subclass gives ``title``, ``rows``, ``HEADS``, ``cells()`` (one list of cell texts per
    row), ``summary()`` (the verdict), ``__str__``, and optionally ``html_head()`` (above the
    table) and ``notes`` (lines above the verdict)."""

    title: str
    rows: list[Any]
    notes: list[str]
    HEADS: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def failures(self) -> list[Any]:
        return [row for row in self.rows if not row.ok]

    def row(self, name: str) -> Any:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"{type(self).__name__}.row: no row {name!r}; rows: "
                       f"{[r.name for r in self.rows]}")

    def cells(self) -> list[list[str]]:
        raise NotImplementedError

    def summary(self) -> str:
        raise NotImplementedError

    def html_head(self) -> str:
        return ""

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))  # IPython's plain-text view: the whole table, not the one-line repr

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.ok else "#b00000"
        lines = [f"note: {n}" for n in getattr(self, "notes", [])] + self.summary().splitlines()
        verdict = "<br>".join(esc(line) for line in lines)
        return (f'<div style="font-family:sans-serif;font-size:12px"><b>{esc(self.title)}</b>'
                + self.html_head()
                + html_table(self.HEADS, self.cells(), bad=[not r.ok for r in self.rows], left=2)
                + f'<div style="color:{colour};font-weight:bold">{verdict}</div></div>')
