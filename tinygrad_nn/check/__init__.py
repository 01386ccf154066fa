"""Check YOUR backprop: a learner's hand-written gradients against autodiff, with a diagnosis.

Three workflows, each on the learner's own plain-NumPy code, unchanged (docs/your_backprop.md):

- ``layer(forward, backward, *inputs, **kwargs)``: a CS231n forward/backward pair;
  ``loss(f, x, y)``: a CS231n loss (``loss, dx = f(x, y)``).
- ``network(net, x, y, cost=...)``: a Nielsen-style network's ``backprop(x, y)``.
- ``cmp(name, manual, tensor)`` with ``retain_grads(loss)``: Karpathy's line by line check.

Each report says which gradient is wrong, where (the first wrong layer from the output) and the
likely cause (``diagnose``). Also here: ``gradcheck`` (the engine's own, in gradcheck.py) and
``compare`` / ``run_check`` (the engine against the shipped references, in compare/).
"""

from ..compare import Tolerances, compare, run_check
from ..gradcheck import GradcheckError, Mismatch, gradcheck
from .cmp import CmpLine, cmp, retain_grads
from .diagnose import Diagnosis, diagnose
from .layer import layer, loss
from .network import network
from .report import GradientCheck, Report, rel_error

__all__ = [
    "CmpLine", "Diagnosis", "GradcheckError", "GradientCheck", "Mismatch", "Report",
    "Tolerances", "cmp", "compare", "diagnose", "gradcheck", "layer", "loss", "network",
    "rel_error", "retain_grads", "run_check",
]
