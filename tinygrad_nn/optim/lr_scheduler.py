"""PyTorch's module path, ``optim.lr_scheduler``: the schedulers live in ``schedulers.py``."""

from .schedulers import (  # noqa: F401  (re-exported)
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
