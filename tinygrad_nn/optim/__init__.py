"""Optimizers, learning-rate schedulers and gradient clipping, with PyTorch's semantics.

    >>> from tinygrad_nn import optim
    >>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)   # doctest: +SKIP
    >>> opt.zero_grad(); loss.backward(); opt.step()                # doctest: +SKIP
"""

from . import lr_scheduler
from .clip import clip_grad_norm_, clip_grad_value_
from .optimizer import Optimizer, ParamGroup
from .optimizers import SGD, Adagrad, Adam, AdamW, RMSprop
from .schedulers import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

__all__ = [
    "Optimizer", "ParamGroup", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad",
    "LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau",
    "clip_grad_norm_", "clip_grad_value_",
    "lr_scheduler", "LambdaLR", "MultiStepLR", "LinearLR", "OneCycleLR", "SequentialLR",
]
