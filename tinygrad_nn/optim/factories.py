"""Optimizers and schedulers by name, for configuration files and the command line.

    >>> opt = get_optimizer(model, "sgd", lr=3.0, weight_decay=1e-4)   # doctest: +SKIP
    >>> scheduler = get_scheduler(opt, "step:5:0.5")                    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..nn.module import Module, split_weights
from ..tensor import Tensor
from .lr_scheduler import CosineAnnealingLR, ExponentialLR, ReduceLROnPlateau, StepLR
from .optimizer import Optimizer
from .optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad,
}
SCHEDULES = "none, step:SIZE[:GAMMA], exp:GAMMA, cosine:T_MAX or plateau[:PATIENCE[:FACTOR]]"


def get_optimizer(params: Module | Iterable[Tensor], name: str, lr: float | None = None, *,
                  momentum: float = 0.0, nesterov: bool = False,
                  weight_decay: float = 0.0) -> Optimizer:
    """The optimizer ``name`` (``OPTIMIZERS``) over ``params``; ``lr`` defaults to 0.1 for sgd
    and 0.001 otherwise. Given a Module, weight decay applies to its weights only (two groups:
    ``nn.module.split_weights``), as in Nielsen and CS231n."""
    if name not in OPTIMIZERS:
        raise ValueError(f"get_optimizer: unknown optimizer {name!r}; allowed: "
                         f"{', '.join(OPTIMIZERS)}")
    if name != "sgd" and (momentum or nesterov):
        raise ValueError(f"get_optimizer: momentum and nesterov apply to sgd, not {name}")
    if lr is None:
        lr = 0.1 if name == "sgd" else 1e-3
    if isinstance(params, Module):
        weights, others = split_weights(params.parameters())
        groups = [{"params": weights, "weight_decay": weight_decay}]
        if others:
            groups.append({"params": others, "weight_decay": 0.0})
    else:
        groups = [{"params": list(params), "weight_decay": weight_decay}]
    if name == "sgd":
        return SGD(groups, lr=lr, momentum=momentum, nesterov=nesterov)
    return OPTIMIZERS[name](groups, lr=lr)


def get_scheduler(optimizer: Optimizer, schedule: str | None) -> Any:
    """A scheduler from a compact string: none | step:SIZE[:GAMMA] | exp:GAMMA | cosine:T_MAX |
    plateau[:PATIENCE[:FACTOR]] (None or "none" give None)."""
    if schedule is None or schedule == "none":
        return None
    kind, *rest = schedule.split(":")
    try:
        values = [float(v) for v in rest]
    except ValueError as e:
        raise ValueError(f"schedule {schedule!r}: {e}") from None
    if kind == "step" and 1 <= len(values) <= 2:
        return StepLR(optimizer, int(values[0]), *values[1:])
    if kind == "exp" and len(values) == 1:
        return ExponentialLR(optimizer, values[0])
    if kind == "cosine" and len(values) == 1:
        return CosineAnnealingLR(optimizer, int(values[0]))
    if kind == "plateau" and len(values) <= 2:
        patience = int(values[0]) if values else 5
        factor = values[1] if len(values) > 1 else 0.5
        return ReduceLROnPlateau(optimizer, patience=patience, factor=factor)
    raise ValueError(f"schedule: expected {SCHEDULES}, got {schedule!r}")
