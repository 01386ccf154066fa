"""What ``compare`` found: one ``Comparison`` per array and side, ``Row``s of them, the ``Report``.

``str(report)`` is a table in the spirit of Karpathy's ``cmp``: one row per array, max abs error,
CS231n relative error, ok; then a one-line verdict, and for each failure the worst entry in words.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..viz.notebook import TableReport, esc

Array = np.ndarray

# ============================================================================================
# comparing two arrays
# ============================================================================================


@dataclass(frozen=True)
class Tolerances:
    """Pass thresholds on CS231n's relative error, with its floor raised to a scale:

        rel = max_i |a_i - b_i| / max(floor, |a_i| + |b_i|),   ok  <=>  rel < rtol

    CS231n's floor is 1e-8. Relative error means nothing for entries that are exactly zero (a
    pixel that is 0 in every example, the bias before a batchnorm) or tiny differences of large
    terms, where rounding is relative to the whole computation, not to the entry; so entries
    below ``floor_fraction`` of a scale are measured against that floor instead:

    - vs reference: the scale is the largest reference entry among rows of the same kind
      (parameter gradients, layer-output gradients, steps); for steps also the parameter's own
      rounding (the update is done in place, in the model's dtype);
    - vs numeric: max(1, |loss|), since central differences round off in proportion to the loss.
    """

    reference_rtol: float = 1e-10
    numeric_rtol: float = 1e-6
    floor_fraction: float = 1e-3

    @classmethod
    def for_dtype(cls, dtype: Any) -> Tolerances:
        """float64: the issue's 1e-10. float32 autodiff rounds at ~1e-7 relative and
        cancellation amplifies that (batchnorm's backward most: up to 3e-4 measured), so 1e-2:
        still far below the O(1) relative errors a wrong formula gives."""
        if np.dtype(dtype) == np.float64:
            return cls()
        return cls(reference_rtol=1e-2, numeric_rtol=1e-2)


@dataclass(frozen=True)
class Comparison:
    """Autodiff values ``a`` against another computation ``b`` (reference or numeric)."""

    max_abs: float  # max |a - b|
    rel_error: float  # see Tolerances; inf if anything is not finite
    rtol: float
    floor: float
    checked: int  # entries compared
    size: int  # entries in the array
    worst: tuple[int, ...]  # index of the worst entry
    a: float  # autodiff at ``worst``
    b: float  # the other value at ``worst``

    @property
    def ok(self) -> bool:
        return bool(self.rel_error < self.rtol)


def relative_errors(a: Array, b: Array, floor: float = 1e-8) -> Array:
    """CS231n's relative error of each entry, |a - b| / max(floor, |a| + |b|): the one home of
    the formula (``check.rel_error`` takes its max)."""
    return np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))


def compare_arrays(a: Array, b: Array, rtol: float, floor: float,
                   indices: list[tuple[int, ...]] | None = None, size: int | None = None
                   ) -> Comparison:
    """Compare arrays of one shape; ``indices`` name the entries when they are a subset."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"compare: autodiff has shape {a.shape} but the other side {b.shape}")
    floor = max(1e-8, floor)
    diff = np.abs(a - b)
    # nan or inf on either side fails
    rel = np.where(np.isfinite(diff), relative_errors(a, b, floor), np.inf)
    flat = int(np.argmax(rel)) if rel.size else 0
    worst = tuple(int(i) for i in np.unravel_index(flat, a.shape)) if a.size else ()
    return Comparison(
        max_abs=float(np.max(diff, initial=0.0)), rel_error=float(np.max(rel, initial=0.0)),
        rtol=rtol, floor=floor, checked=a.size, size=a.size if size is None else size,
        worst=indices[flat] if indices is not None and a.size else worst,
        a=float(a[worst]) if a.size else 0.0, b=float(b[worst]) if b.size else 0.0,
    )


def scale(arrays: Sequence[Array]) -> float:
    """The largest magnitude among the arrays (0 for none)."""
    return max((float(np.max(np.abs(x), initial=0.0)) for x in arrays), default=0.0)


# ============================================================================================
# the report
# ============================================================================================


@dataclass
class Row:
    """One array: a parameter's gradient, a layer output's gradient ("0.out"), the loss value,
    or a parameter's change in one optimizer step ("0.weight step")."""

    name: str
    kind: str  # "loss" | "gradient" | "activation" | "step"
    shape: tuple[int, ...]
    reference: Comparison | None = None
    numeric: Comparison | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in (self.reference, self.numeric) if c is not None)

    def explain(self) -> str:
        """Why the row failed, in words: the worst entry on each side that disagrees."""
        parts = []
        for label, c in (("reference", self.reference), ("numeric", self.numeric)):
            if c is not None and not c.ok:
                at = f" at {list(c.worst)}" if c.worst else ""
                parts.append(f"vs {label}: rel err {c.rel_error:.2g} > {c.rtol:g}{at} "
                             f"(autodiff {c.a:.10g}, {label} {c.b:.10g})")
        ref, num = self.reference, self.numeric
        if ref is not None and num is not None and not ref.ok:
            if num.ok:
                parts.append("numeric agrees with autodiff: suspect the reference or the "
                             "loss convention")
            else:
                parts.append("autodiff disagrees with both: suspect the engine")
        return f"{self.name}: " + "; ".join(parts)


def _num(x: float) -> str:
    return "nan" if x != x else f"{x:.1e}"


@dataclass
class Report(TableReport):
    """What ``compare`` found. ``str(report)`` is the table a person reads."""

    title: str
    header: list[tuple[str, str]]  # (label, text) lines above the table
    rows: list[Row] = field(default_factory=list)

    def worst(self, side: str) -> float:
        """The largest relative error on one side ("reference" or "numeric"), over all rows."""
        values = [getattr(r, side).rel_error for r in self.rows if getattr(r, side) is not None]
        return max(values, default=0.0)

    def summary(self) -> str:
        parts = []
        for side in ("reference", "numeric"):
            if any(getattr(r, side) is not None for r in self.rows):
                parts.append(f"worst rel err vs {side} {_num(self.worst(side))}")
        if self.ok:
            return f"OK: all {len(self.rows)} rows agree ({'; '.join(parts)})"
        failed = self.failures
        lines = [f"FAILED: {len(failed)} of {len(self.rows)} rows disagree: "
                 + ", ".join(r.name for r in failed)]
        lines += [textwrap.fill(r.explain(), 100, initial_indent="  ", subsequent_indent="    ")
                  for r in failed]
        return "\n".join(lines)

    HEADS = ("name", "shape", "ref max|diff|", "ref rel", "num max|diff|", "num rel", "checked",
             "ok")

    def cells(self) -> list[list[str]]:
        """One list of cell texts per row, in the order of ``HEADS``."""
        body = []
        for r in self.rows:
            ref, num = r.reference, r.numeric
            checked = ("-" if num is None else "all" if num.checked == num.size
                       else f"{num.checked}/{num.size}")
            body.append([
                r.name, str(r.shape),
                "-" if ref is None else _num(ref.max_abs),
                "-" if ref is None else _num(ref.rel_error),
                "-" if num is None else _num(num.max_abs),
                "-" if num is None else _num(num.rel_error),
                checked, "ok" if r.ok else "FAIL",
            ])
        return body

    def table(self) -> str:
        heads, body = list(self.HEADS), self.cells()
        widths = [max(len(line[i]) for line in [heads, *body]) for i in range(len(heads))]

        def fmt(line: list[str]) -> str:
            name, shape, *cells = (cell.ljust(w) if i < 2 else cell.rjust(w)
                                   for i, (cell, w) in enumerate(zip(line, widths)))
            return (f"{name}  {shape} | {cells[0]}  {cells[1]} | {cells[2]}  {cells[3]}  "
                    f"{cells[4]} | {cells[5]}").rstrip()

        rule = "-" * len(fmt(heads))
        return "\n".join([fmt(heads), rule, *(fmt(line) for line in body)])

    def __str__(self) -> str:
        width = max((len(label) for label, _ in self.header), default=0)
        header = [textwrap.fill(text, 100, initial_indent=f"{label.ljust(width)}  ",
                                subsequent_indent=" " * (width + 2), break_on_hyphens=False)
                  for label, text in self.header]
        return "\n".join([self.title, *header, "", self.table(), "", self.summary()])

    def __repr__(self) -> str:
        return f"<Report {self.title!r}: {'ok' if self.ok else f'{len(self.failures)} failures'}>"

    def html_head(self) -> str:
        rows = "".join(f"<tr><td><b>{esc(label)}</b></td><td>{esc(text)}</td></tr>"
                       for label, text in self.header)
        return f'<table style="font-size:11px">{rows}</table>'
