"""Optimizers, learning-rate schedulers and gradient clipping, with PyTorch's semantics.

    >>> from tinygrad_nn import optim
    >>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)   # doctest: +SKIP
    >>> opt.zero_grad(); loss.backward(); opt.step()                # doctest: +SKIP
"""

from ..nn.clip import clip_grad_norm_, clip_grad_value_  # torch.nn.utils's, also here
from .factories import OPTIMIZERS, SCHEDULES, get_optimizer, get_scheduler
from .lr_scheduler import (
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
from .optimizer import Optimizer, ParamGroup
from .optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

__all__ = [
    "Optimizer", "ParamGroup", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad",
    "LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau",
    "clip_grad_norm_", "clip_grad_value_", "OPTIMIZERS", "SCHEDULES",
    "get_optimizer", "get_scheduler",
    "lr_scheduler", "LambdaLR", "MultiStepLR", "LinearLR", "OneCycleLR", "SequentialLR",
]
