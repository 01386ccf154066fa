"""Learning-rate schedules with PyTorch's semantics: call ``step()`` once per epoch, after training.

Creating a scheduler records each group's ``initial_lr`` and performs the epoch-0 step (the lr
stays at its initial value). Each ``step()`` then advances ``last_epoch`` and writes the new lr
into the optimizer's groups; ``get_last_lr()`` reports it. The formulas are PyTorch's chainable
(recursive) forms, so the sequences match ``torch.optim.lr_scheduler`` float for float.

The CS231n annealing recipes map onto them: "halve every 5 epochs" is ``StepLR(opt, 5, 0.5)``,
``lr_decay`` per epoch is ``ExponentialLR(opt, lr_decay)``, and decay on a validation plateau is
``ReduceLROnPlateau``.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

from ..validation import check_number
from .optimizer import Optimizer


class _SchedulerState:
    """state_dict/load_state_dict shared by all schedulers: every attribute but the optimizer."""

    def state_dict(self) -> dict[str, Any]:
        """Every attribute but the optimizer (JSON-able: numbers, strings and lists)."""
        return {k: list(v) if isinstance(v, list) else v
                for k, v in vars(self).items() if k != "optimizer"}

    def check_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Raise the ValueError ``load_state_dict`` would raise, changing nothing: the keys must
        match exactly and each value be of the kind the scheduler holds (``_check_like``)."""
        op = f"{type(self).__name__}.load_state_dict"
        mismatch = state_keys_mismatch(state_dict, self.state_dict())
        if mismatch is not None:
            raise ValueError(f"{op}: state_dict {mismatch}")
        for key, value in state_dict.items():
            _check_like(getattr(self, key), value, op, key)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by ``state_dict``, all or nothing (``check_state_dict``)."""
        self.check_state_dict(state_dict)
        for key, value in state_dict.items():
            setattr(self, key, list(value) if isinstance(value, list) else value)


def state_keys_mismatch(state_dict: Any, expected: Any) -> str | None:
    """What is wrong with a scheduler state's keys ("has keys [...]; expected keys [...]"), or
    None: they must be exactly those of its ``state_dict()`` (``expected``). The one comparison,
    for these schedulers and, through the checkpoint, for a user's class."""
    if isinstance(state_dict, dict) and set(state_dict) == set(expected):
        return None
    found = sorted(state_dict) if isinstance(state_dict, dict) else type(state_dict)
    return f"has keys {found}; expected keys {sorted(expected)}"


def _check_like(current: Any, value: Any, op: str, key: str) -> None:
    """A loaded scheduler attribute must be of the kind the scheduler holds: a bool, a string,
    an int, a number (never nan; inf only where the scheduler itself starts from inf, e.g.
    ``best``), a list of numbers of the same length, or of the states of its schedulers."""
    kind = type(current).__name__
    kind = ("an " if kind[0] in "aeiou" else "a ") + kind  # "an int", "a float"
    if isinstance(current, (bool, str)):
        if type(value) is not type(current):
            raise ValueError(f"{op}: {key} must be {kind}, got {value!r}")
    elif isinstance(current, (int, float)):
        if (isinstance(value, bool) or not isinstance(value, (int, float)) or value != value
                or (isinstance(current, int) and not isinstance(value, int))
                or (math.isinf(value) and not math.isinf(current))):
            raise ValueError(f"{op}: {key} must be {kind} like {current!r}, "
                             f"got {value!r}")
    elif isinstance(current, list):
        if not isinstance(value, list) or len(value) != len(current):
            raise ValueError(f"{op}: {key} must be a list of {len(current)} values, got "
                             f"{value!r}")
        for c, v in zip(current, value, strict=True):
            if isinstance(c, _SchedulerState):
                c.check_state_dict(v)  # SequentialLR's schedulers
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"{op}: {key} must hold finite numbers, got {value!r}")


class LRScheduler(_SchedulerState):
    """Base class: subclasses implement ``get_lr()``, the lrs for ``self.last_epoch``."""

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            kind = type(optimizer).__name__
            raise TypeError(f"{type(self).__name__}: {kind} is not an Optimizer")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._last_lr: list[float] = []
        self.step()  # epoch 0: the lrs stay at their initial values

    def get_lr(self) -> list[float]:
        """The lr of each group at epoch ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and set the optimizer's lrs. Call after ``optimizer.step()``.
        ``step(epoch)`` jumps to that epoch (the closed form; SequentialLR uses it)."""
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = int(epoch)
            lrs = self._closed_form()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs set by the latest ``step()``, one per param group."""
        return list(self._last_lr)

    def _group_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def _closed_form(self) -> list[float]:
        """The lrs at ``last_epoch`` from ``base_lrs`` alone (for ``step(epoch)``)."""
        return self.get_lr()


class StepLR(LRScheduler):
    """Multiply each lr by ``gamma`` every ``step_size`` epochs::

        lr_epoch = initial_lr * gamma ** (epoch // step_size)
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        self.step_size = check_number(step_size, "step_size", "StepLR", low=1, integer=True)
        self.gamma = check_number(gamma, "gamma", "StepLR", low=0, low_open=True)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _closed_form(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply each lr by ``gamma`` every epoch: ``lr_epoch = initial_lr * gamma ** epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        self.gamma = check_number(gamma, "gamma", "ExponentialLR", low=0, low_open=True)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]

    def _closed_form(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the initial lr down to ``eta_min`` over ``T_max`` epochs (SGDR
    without restarts)::

        lr_epoch = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    NOTE: computed, as PyTorch does, by the recursive form
    ``lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T)) / (1 + cos(pi (t-1) / T))``,
    which composes with other changes to the lr and reproduces torch's floats exactly. Past
    ``T_max`` the lr rises again along the same cosine (period 2 * T_max).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        self.T_max = check_number(T_max, "T_max", "CosineAnnealingLR", low=1, integer=True)
        self.eta_min = check_number(eta_min, "eta_min", "CosineAnnealingLR", low=0)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return self._group_lrs()
        if (t - 1 - T) % (2 * T) == 0:
            # the step leaving the minimum: the recursive ratio would be 0/0 here
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for lr, base in zip(self._group_lrs(), self.base_lrs, strict=True)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._group_lrs()]

    def _closed_form(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]


class ReduceLROnPlateau(_SchedulerState):
    """Multiply the lrs by ``factor`` when a metric stops improving for ``patience`` epochs.

    Call ``step(metric)`` once per epoch. An epoch improves on ``best`` when::

        mode="min", threshold_mode="rel":  metric < best * (1 - threshold)
        mode="min", threshold_mode="abs":  metric < best - threshold
        mode="max", threshold_mode="rel":  metric > best * (1 + threshold)
        mode="max", threshold_mode="abs":  metric > best + threshold

    After more than ``patience`` epochs without improvement each lr becomes
    ``max(lr * factor, min_lr)`` (changes smaller than ``eps`` are skipped) and ``cooldown``
    epochs follow in which bad epochs are not counted. Same rules as PyTorch.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: {type(optimizer).__name__} is not an Optimizer")
        op = "ReduceLROnPlateau"
        check_number(factor, "factor", op, low=0, high=1, high_open=True)
        check_number(patience, "patience", op, low=0, integer=True)
        check_number(threshold, "threshold", op, low=0)
        check_number(cooldown, "cooldown", op, low=0, integer=True)
        check_number(eps, "eps", op, low=0)
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ValueError(f"ReduceLROnPlateau: expected {n_groups} min_lrs, "
                                 f"got {len(min_lr)}")
            min_lrs = list(min_lr)
        else:
            min_lrs = [min_lr] * n_groups
        for value in min_lrs:
            check_number(value, "min_lr", op, low=0)
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.min_lrs = min_lrs
        self.eps = eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, metric: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return metric < best * (1.0 - self.threshold)
        if self.mode == "min":
            return metric < best - self.threshold
        if self.threshold_mode == "rel":
            return metric > best * (self.threshold + 1.0)
        return metric > best + self.threshold

    def step(self, metrics: Any) -> None:
        """Record this epoch's metric (a float or a one-element Tensor) and maybe reduce the lrs."""
        current = float(metrics)
        if math.isnan(current):  # never "better": the lr would be cut as if training stalled
            raise ValueError(f"ReduceLROnPlateau.step: the metric is nan (epoch "
                             f"{self.last_epoch + 1}); the run has diverged")
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self) -> None:
        if len(self.min_lrs) != len(self.optimizer.param_groups):
            raise RuntimeError(
                f"ReduceLROnPlateau: the optimizer has {len(self.optimizer.param_groups)} param "
                f"groups but min_lrs has {len(self.min_lrs)} (a group was added); set min_lrs"
            )
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)


# --------------------------------------------------------------------------------------------
# more of torch.optim.lr_scheduler (issue #12)
# --------------------------------------------------------------------------------------------


def _per_group(value: Any, optimizer: Optimizer, name: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name}: {len(value)} values for {len(optimizer.param_groups)} "
                             "param groups")
        return list(value)
    return [value] * len(optimizer.param_groups)


class LambdaLR(LRScheduler):
    """``lr_epoch = initial_lr * lr_lambda(epoch)`` (one function, or one per param group)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Any):
        self.lr_lambdas = _per_group(lr_lambda, optimizer, "LambdaLR")
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]

    def state_dict(self) -> dict[str, Any]:
        """As PyTorch: the functions are not saved (they may be lambdas)."""
        return {k: v for k, v in super().state_dict().items() if k != "lr_lambdas"}


class MultiStepLR(LRScheduler):
    """Multiply each lr by ``gamma`` at every epoch in ``milestones`` (a repeated milestone
    multiplies once per repetition)::

        lr_epoch = initial_lr * gamma ** (number of milestones <= epoch)
    """

    def __init__(self, optimizer: Optimizer, milestones: list[int], gamma: float = 0.1):
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = check_number(gamma, "gamma", "MultiStepLR", low=0, low_open=True)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        hits = self.milestones.count(self.last_epoch)
        if hits == 0:
            return self._group_lrs()
        return [lr * self.gamma**hits for lr in self._group_lrs()]

    def _closed_form(self) -> list[float]:
        n = bisect.bisect_right(self.milestones, self.last_epoch)
        return [base * self.gamma**n for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale each lr linearly from ``start_factor`` to ``end_factor`` of its initial value over
    ``total_iters`` epochs, then keep it (warm-up)."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5):
        self.start_factor = check_number(start_factor, "start_factor", "LinearLR", low=0,
                                         low_open=True, high=1)
        self.end_factor = check_number(end_factor, "end_factor", "LinearLR", low=0, high=1)
        self.total_iters = check_number(total_iters, "total_iters", "LinearLR", low=1,
                                        integer=True)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        # NOTE: PyTorch's recursive form (the ratio of consecutive factors), for its exact floats
        t, s, e, n = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
        if t == 0:
            return [lr * s for lr in self._group_lrs()]
        if t > n:
            return self._group_lrs()
        ratio = 1.0 + (e - s) / (n * s + (t - 1) * (e - s))
        return [lr * ratio for lr in self._group_lrs()]

    def _closed_form(self) -> list[float]:
        t, s, e, n = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
        return [base * (s + (e - s) * min(n, t) / n) for base in self.base_lrs]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin), stepped once per BATCH: the lr rises from
    ``max_lr / div_factor`` to ``max_lr`` over ``pct_start`` of ``total_steps``, then anneals
    to ``initial_lr / final_div_factor``; momentum (or Adam's beta1) moves the opposite way
    between ``max_momentum`` and ``base_momentum``. As torch.optim.lr_scheduler.OneCycleLR."""

    def __init__(self, optimizer: Optimizer, max_lr: Any, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: Any = 0.85,
                 max_momentum: Any = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False):
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
            total_steps = int(epochs) * int(steps_per_epoch)
        self.total_steps = check_number(total_steps, "total_steps", "OneCycleLR", low=1,
                                        integer=True)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        if three_phase:
            ends = [pct_start * total_steps - 1, 2 * pct_start * total_steps - 2,
                    total_steps - 1]
            self.phases = [(ends[0], "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (ends[1], "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                           (ends[2], "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            ends = [pct_start * total_steps - 1, total_steps - 1]
            self.phases = [(ends[0], "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (ends[1], "max_lr", "min_lr", "base_momentum", "max_momentum")]
        self.cycle_momentum = cycle_momentum
        self.use_beta1 = "betas" in optimizer.defaults
        if cycle_momentum and "momentum" not in optimizer.defaults and not self.use_beta1:
            raise ValueError("OneCycleLR: cycle_momentum needs an optimizer with momentum or "
                             "betas; pass cycle_momentum=False")
        groups = optimizer.param_groups
        for group, top, low, high in zip(groups, _per_group(max_lr, optimizer, "OneCycleLR"),
                                         _per_group(base_momentum, optimizer, "OneCycleLR"),
                                         _per_group(max_momentum, optimizer, "OneCycleLR")):
            group["initial_lr"] = top / div_factor
            group["max_lr"] = top
            group["min_lr"] = group["initial_lr"] / final_div_factor
            if cycle_momentum:
                self._set_momentum(group, high)
                group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer)

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, more than total_steps="
                             f"{self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, (end_step, lr0, lr1, m0, m1) in enumerate(self.phases):
                if step <= end_step or i == len(self.phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[lr0], group[lr1], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[m0], group[m1], pct))
                    break
                start_step = end_step
        return lrs


class SequentialLR(LRScheduler):
    """``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarted at its epoch
    0) until ``milestones[1]``, ... (warm-up then decay)."""

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler],
                 milestones: list[int]):
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: {len(schedulers)} schedulers need "
                             f"{len(schedulers) - 1} milestones, got {len(milestones)}")
        if any(s.optimizer is not optimizer for s in schedulers):
            raise ValueError("SequentialLR: every scheduler must drive the same optimizer")
        self.optimizer = optimizer
        self._schedulers = list(schedulers)
        self.milestones = [int(m) for m in milestones]
        self.last_epoch = 0
        for group in optimizer.param_groups:  # undo the constructors' epoch-0 steps
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            scheduler.last_epoch -= 1
        self._schedulers[0].step()
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self._last_lr = self._schedulers[0].get_last_lr()

    def step(self, epoch: int | None = None) -> None:
        self.last_epoch += 1
        index = bisect.bisect_right(self.milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self.milestones[index - 1] == self.last_epoch:
            scheduler.step(0)  # the next scheduler starts over at its epoch 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        return {"last_epoch": self.last_epoch, "milestones": list(self.milestones),
                "_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.check_state_dict(state_dict)
        self.last_epoch = state_dict["last_epoch"]
        self.milestones = list(state_dict["milestones"])
        for scheduler, state in zip(self._schedulers, state_dict["_schedulers"], strict=True):
            scheduler.load_state_dict(state)
