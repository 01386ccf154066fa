"""Losses as modules (PyTorch's names): ``loss_fn = CrossEntropyLoss(); loss_fn(logits, y)``.

Each is a thin holder of its options around the function of the same name in
nn/functional.py, where the math and the conventions are documented.
"""

from __future__ import annotations

from typing import Any

from ..tensor import ArrayLike, Tensor
from ..validation import check_reduction
from . import functional as nnf
from .module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean of (input - target)**2 over all elements (PyTorch)."""

    def forward(self, input: Tensor, target: ArrayLike) -> Tensor:
        return nnf.mse_loss(input, target, self.reduction)


class QuadraticCost(_Loss):
    """Nielsen's 1/2 ||a - y||^2 per example; "mean" over the batch is his eq. (6)."""

    def forward(self, input: Tensor, target: ArrayLike) -> Tensor:
        return nnf.quadratic_cost(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """Fused softmax cross-entropy on logits; integer labels or probability targets."""

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(reduction)
        self.label_smoothing = float(label_smoothing)

    def forward(self, input: Tensor, target: ArrayLike) -> Tensor:
        return nnf.cross_entropy(input, target, self.reduction, self.label_smoothing)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, label_smoothing={self.label_smoothing}"


class NLLLoss(_Loss):
    """-input[i, target_i] for log-probabilities (pair with LogSoftmax)."""

    def forward(self, input: Tensor, target: ArrayLike) -> Tensor:
        return nnf.nll_loss(input, target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities (pair with Sigmoid); logs clamped at -100."""

    def forward(self, input: Tensor, target: ArrayLike) -> Tensor:
        return nnf.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, stable for any logit."""

    def __init__(self, reduction: str = "mean", pos_weight: ArrayLike | None = None):
        super().__init__(reduction)
        self.pos_weight = pos_weight

    def forward(self, input: Tensor, target: ArrayLike) -> Tensor:
        return nnf.binary_cross_entropy_with_logits(input, target, self.reduction,
                                                    self.pos_weight)


LOSSES: dict[str, type[_Loss]] = {
    "mse": MSELoss,
    "quadratic": QuadraticCost,
    "cross_entropy": CrossEntropyLoss,
    "nll": NLLLoss,
    "bce": BCELoss,
    "bce_with_logits": BCEWithLogitsLoss,
}


# Losses that compare the output with float targets of its own shape, so integer class labels
# are one-hot encoded for them (cross_entropy and nll take the labels themselves).
ONE_HOT_LOSSES = ("mse", "quadratic", "bce", "bce_with_logits")
_ONE_HOT_FUNCTIONS = (nnf.mse_loss, nnf.quadratic_cost, nnf.binary_cross_entropy,
                      nnf.binary_cross_entropy_with_logits)


def takes_one_hot(loss: Any) -> bool:
    """Whether ``loss`` (a name in ``LOSSES``, hyphens allowed; a loss Module; a function of
    nn.functional) wants one-hot float targets rather than integer labels."""
    if isinstance(loss, str):
        return loss.replace("-", "_") in ONE_HOT_LOSSES
    if isinstance(loss, Module):
        return isinstance(loss, tuple(LOSSES[name] for name in ONE_HOT_LOSSES))
    return loss in _ONE_HOT_FUNCTIONS


def get_loss(name: str, **options: Any) -> Module:
    """A loss module by name (``LOSSES``), e.g. ``get_loss("cross_entropy", label_smoothing=0.1)``
    for configuration files and the command line."""
    if name not in LOSSES:
        raise ValueError(f"get_loss: unknown loss {name!r}; allowed: {', '.join(LOSSES)}")
    return LOSSES[name](**options)
