"""Autodiff against the hand-derived references and against numerical differentiation.

``compare`` takes a model and a batch, copies the model's weights into one of the references in
``tinygrad_nn.reference`` (Nielsen, CS231n, Rashid: pure NumPy, derived by hand), and checks,
parameter by parameter:

    autodiff   the engine's gradient of the loss (the model's dtype)
    reference  the reference's hand-derived gradient of the SAME loss (float64)
    numeric    five-point central differences of the engine's loss (a float64 copy)

optionally also the gradient of every Linear layer's output (Nielsen's deltas, dC/dz) and one
SGD step against the reference's update rule. The result is a ``Report``: ``print(report)`` is
a table in the spirit of Karpathy's ``cmp`` (one row per array, max abs error, CS231n relative
error, ok), ``report.ok`` the verdict, ``report.failures`` the rows that disagree.

    >>> from tinygrad_nn import nn
    >>> from tinygrad_nn.check import compare
    >>> net = nn.MLP([784, 30, 10], activation="sigmoid", output_activation="sigmoid",
    ...              init="nielsen", dtype="float64")
    >>> report = compare(net, X, Y, reference="nielsen", loss="quadratic")  # doctest: +SKIP
    >>> print(report)                                                       # doctest: +SKIP

The losses follow each reference's convention exactly (docs/backprop.md); the report's header
spells out the formula used on both sides.

``run_check`` builds a model from a spec with random, seeded data and returns the report; it is
what ``tinygrad-nn check`` prints.

The package, in the order ``compare`` uses it:

    report.py       Tolerances, Comparison (two arrays), Row, Report (the table)
    conventions.py  each reference's loss, L2 and SGD step, on the engine side and on its own
    batch.py        targets in the loss's form; dropout keep-masks shared by both sides
    numeric.py      five-point central differences of the engine's loss
    core.py         compare
    run.py          run_check
"""

from .core import compare
from .report import Comparison, Report, Row, Tolerances
from .run import run_check

__all__ = ["Comparison", "Report", "Row", "Tolerances", "compare", "run_check"]
