"""What a check found: one row per gradient (the learner's vs autodiff vs central differences),
the verdict, and the diagnosis of each wrong one. ``print(report)`` is the table."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..compare.report import relative_errors
from ..viz.notebook import TableReport
from .diagnose import Diagnosis

# A learner's float64 gradient agrees with autodiff's to ~1e-12 when it is right; 1e-7 leaves
# room for a different but stable formula (CS231n calls < 1e-7 "probably right"). Central
# differences (h = 1e-5) are good to ~1e-9 relative, less on entries far below the largest.
AUTODIFF_RTOL = 1e-7
NUMERIC_RTOL = 1e-5


def rel_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-8) -> float:
    """CS231n's relative error, max over entries of |a - b| / max(floor, |a| + |b|); NaN entries
    of ``b`` (not evaluated) are skipped."""
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    keep = ~np.isnan(b)
    if not keep.any():
        return float("nan")
    return float(np.max(relative_errors(a[keep], b[keep], floor)))


@dataclass
class GradientCheck:
    """One gradient: the learner's (``manual``), autodiff's and central differences' (NaN where
    not evaluated), each in float64."""

    name: str
    manual: np.ndarray
    autodiff: np.ndarray | None
    numeric: np.ndarray | None
    diagnosis: Diagnosis | None = None
    # at kinks (one-sided differences disagree: ReLU at 0, ties in a max) the derivative is a
    # convention: any value between the one-sided derivatives (lo, hi; NaN elsewhere) is right
    kinks: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def excused(self) -> np.ndarray | None:
        """Entries on a kink where the learner's value is a valid one-sided derivative."""
        if self.kinks is None or not self.shape_ok:
            return None
        lo, hi = self.kinks
        scale = float(np.nanmax(np.abs(self.numeric), initial=0.0)) if self.numeric is not None \
            else 0.0
        slack = 1e-6 * scale + 1e-12
        with np.errstate(invalid="ignore"):
            inside = (self.manual >= lo - slack) & (self.manual <= hi + slack)
        return inside & ~np.isnan(lo)

    def _kept(self, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(manual, reference) without the excused entries (NaN reference: skipped)."""
        excused = self.excused
        if excused is None or not excused.any():
            return self.manual, reference
        return self.manual, np.where(excused, np.nan, reference)

    @property
    def shape_ok(self) -> bool:
        reference = self.autodiff if self.autodiff is not None else self.numeric
        return reference is None or self.manual.shape == reference.shape

    @property
    def vs_autodiff(self) -> float | None:
        """CS231n's relative error against autodiff (None: no autodiff or a wrong shape)."""
        if self.autodiff is None or not self.shape_ok:
            return None
        manual, autodiff = self._kept(self.autodiff)
        return 0.0 if np.isnan(autodiff).all() else rel_error(manual, autodiff)

    @property
    def vs_numeric(self) -> float | None:
        """Relative error against central differences, on the entries evaluated; entries below
        1e-4 of the largest are compared on that scale (central differences' noise floor)."""
        if self.numeric is None or not self.shape_ok or np.isnan(self.numeric).all():
            return None
        scale = float(np.nanmax(np.abs(self.numeric), initial=0.0))
        manual, numeric = self._kept(self.numeric)
        if np.isnan(numeric).all():
            return 0.0
        return rel_error(manual, numeric, floor=max(1e-8, 1e-4 * scale))

    @property
    def ok(self) -> bool:
        if not self.shape_ok:
            return False
        if self.autodiff is not None:
            return bool(self.vs_autodiff <= AUTODIFF_RTOL)  # type: ignore[operator]
        numeric = self.vs_numeric
        return numeric is not None and numeric <= NUMERIC_RTOL

    def cells(self) -> list[str]:
        def fmt(value: float | None) -> str:
            return "-" if value is None or np.isnan(value) else f"{value:.2e}"

        verdict = "ok" if self.ok else ("WRONG SHAPE" if not self.shape_ok else "WRONG")
        return [self.name, str(self.manual.shape), fmt(self.vs_autodiff),
                fmt(self.vs_numeric), verdict]


@dataclass
class Report(TableReport):
    """The result of ``check.layer``, ``check.loss`` or ``check.network``.

    ``ok`` is the verdict; ``rows`` the gradients; ``failures`` the wrong ones, each with its
    ``diagnosis``; ``first_wrong`` (networks) the wrong layer nearest the output; ``notes``
    what the checker had to do or could not do (autodiff unavailable, numeric sampled, ...).
    """

    title: str
    rows: list[GradientCheck]
    notes: list[str] = field(default_factory=list)
    first_wrong: str | None = None

    HEADS = ("gradient", "shape", "vs autodiff", "vs numeric", "verdict")

    def cells(self) -> list[list[str]]:
        return [r.cells() for r in self.rows]

    def table(self) -> str:
        cells = [list(self.HEADS), *self.cells()]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.HEADS))]
        return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
                         for row in cells)

    def summary(self) -> str:
        """The verdict and, for each wrong gradient, its diagnosis."""
        if self.ok:
            what = "the gradient agrees" if len(self.rows) == 1 else \
                f"all {len(self.rows)} gradients agree"
            return f"OK: {what} (relative error < {AUTODIFF_RTOL:g})"
        lines = [f"WRONG: {len(self.failures)} of {len(self.rows)} gradients disagree"]
        if self.first_wrong is not None:
            lines[0] += (f"; the first wrong layer from the output is {self.first_wrong} (errors "
                         "propagate towards the input: fix it first)")
        for r in self.failures:
            if r.diagnosis is not None:
                lines.append(f"  {r.name}: {r.diagnosis.message}")
        return "\n".join(lines)

    def __str__(self) -> str:
        notes = [f"note: {n}" for n in self.notes]
        return "\n".join([self.title, self.table(), *notes, self.summary()])

    def __repr__(self) -> str:
        verdict = "ok" if self.ok else f"{len(self.failures)} wrong"
        return f"<check.Report {self.title!r}: {verdict}>"
