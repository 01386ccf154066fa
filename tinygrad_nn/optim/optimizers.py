"""The optimizers: SGD, Adam, AdamW, RMSprop, Adagrad, with exactly PyTorch's update rules.

Each ``_update`` is one parameter's step, written like the algorithm box in PyTorch's docs: g is
the gradient (already negated when ``maximize``), t the step count, and every intermediate has
its paper name. Parameters change in place (``p.data -= ...``); gradients are only read.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, ParamGroup, Params, State


def _nonnegative(group: ParamGroup, *keys: str) -> list[str]:
    return [f"invalid {k} {group[k]!r} (must be >= 0)" for k in keys if not group[k] >= 0]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's formulation)::

        g = grad + weight_decay * p                    (if weight_decay != 0)
        b = g                                          (first step)
        b = momentum * b + (1 - dampening) * g         (later steps)
        g = g + momentum * b   if nesterov   else   b  (if momentum != 0)
        p = p - lr * g

    NOTE: PyTorch's momentum differs from the CS231n/Sutskever form ``v = mu*v - lr*g;
    p += v``: here lr multiplies the buffer, not the gradient, so changing lr mid-training
    changes the step immediately. With a constant lr the two give the same trajectory (v is
    -lr * b), and so do CS231n's Nesterov rule ``p += -mu*v_prev + (1 + mu)*v`` and
    ``nesterov=True`` (tests/optim/test_optimizers_vs_cs231n.py).

    Nielsen's ``network.py`` update ``w -= (eta / m) * sum of per-example gradients`` is plain
    SGD (momentum 0) on the batch-SUMMED loss with ``lr = eta / m``, or equivalently on the
    batch-MEAN loss with ``lr = eta``. His L2 step ``w -> (1 - eta*lmbda/n) w`` is
    ``weight_decay = lmbda / n`` with ``lr = eta`` on the mean loss (n: training-set size).
    """

    _flags = ("nesterov", "maximize")

    def __init__(
        self,
        params: Params,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, group: ParamGroup) -> list[str]:
        problems = _nonnegative(group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            problems.append("Nesterov momentum requires a momentum > 0 and zero dampening")
        return problems

    def _state_layout(self, group: ParamGroup) -> dict[str, str]:
        return {"momentum_buffer": "array"} if group["momentum"] != 0 else {}

    def _update(self, p: Tensor, grad: np.ndarray, state: State, group: ParamGroup) -> None:
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        g = grad
        if weight_decay != 0:
            g = g + weight_decay * p.data
        if momentum != 0:
            if "momentum_buffer" not in state:
                buf = g.copy()  # the first step seeds the buffer with the gradient itself
            else:
                buf = momentum * state["momentum_buffer"] + (1 - group["dampening"]) * g
            state["momentum_buffer"] = buf
            g = g + momentum * buf if group["nesterov"] else buf
        p.data -= np.multiply(g, lr, out=self.scratch(p))  # lr * g, into a reused buffer


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), as PyTorch computes it::

        g = grad + weight_decay * p                    (L2, if weight_decay != 0)
        p = p * (1 - lr * weight_decay)                (instead, if decoupled_weight_decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)                     (v_max = max(v_max, v) first if amsgrad,
                                                        and v_hat = v_max / (1 - beta2**t))
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    eps is added AFTER the square root of the bias-corrected v_hat (PyTorch, and the paper);
    CS231n's assignment writes the same. t counts this parameter's steps, from 1.
    """

    _flags = ("amsgrad", "maximize", "decoupled_weight_decay")

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _check_options(self, group: ParamGroup) -> list[str]:
        problems = _nonnegative(group, "lr", "eps", "weight_decay")
        betas = group["betas"]
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            problems.append(f"invalid betas {betas!r} (two values in [0, 1))")
        return problems

    def _state_layout(self, group: ParamGroup) -> dict[str, str]:
        layout = {"step": "int", "exp_avg": "array", "exp_avg_sq": "array"}
        if group["amsgrad"]:
            layout["max_exp_avg_sq"] = "array"
        return layout

    def _update(self, p: Tensor, grad: np.ndarray, state: State, group: ParamGroup) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]

        g = grad
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                p.data *= 1 - lr * weight_decay  # AdamW: shrink p, leave g alone
            else:
                g = g + weight_decay * p.data

        m = beta1 * state["exp_avg"] + (1 - beta1) * g
        v = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        state["exp_avg"], state["exp_avg_sq"] = m, v
        if group["amsgrad"]:
            # the maximum is kept of the raw v; bias correction applies to it afterwards
            v = np.maximum(state["max_exp_avg_sq"], v)
            state["max_exp_avg_sq"] = v

        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p.data -= lr * m_hat / (np.sqrt(v_hat) + eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019)::

        p = p * (1 - lr * weight_decay)
        ... then the Adam step with g = grad (no L2 term in the gradient)

    Same as ``Adam(..., decoupled_weight_decay=True)``; default weight_decay is 1e-2.
    """

    def __init__(
        self,
        params: Params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e), as PyTorch computes it::

        g = grad + weight_decay * p                    (if weight_decay != 0)
        v = alpha * v + (1 - alpha) * g**2
        avg = sqrt(v) + eps
        avg = sqrt(v - g_avg**2) + eps                 (centered: g_avg = alpha*g_avg + (1-alpha)*g)
        b = momentum * b + g / avg;  p = p - lr * b    (if momentum > 0; b starts at 0)
        p = p - lr * g / avg                           (otherwise)

    NOTE: eps is added after the square root (as PyTorch); CS231n's assignment does the same.
    """

    _flags = ("centered", "maximize")

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, group: ParamGroup) -> list[str]:
        return _nonnegative(group, "lr", "alpha", "eps", "weight_decay", "momentum")

    def _state_layout(self, group: ParamGroup) -> dict[str, str]:
        layout = {"step": "int", "square_avg": "array"}
        if group["momentum"] > 0:
            layout["momentum_buffer"] = "array"
        if group["centered"]:
            layout["grad_avg"] = "array"
        return layout

    def _update(self, p: Tensor, grad: np.ndarray, state: State, group: ParamGroup) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p.data)
        state["step"] += 1  # unused by the update; kept for PyTorch's state layout

        g = grad
        if weight_decay != 0:
            g = g + weight_decay * p.data
        v = alpha * state["square_avg"] + (1 - alpha) * g * g
        state["square_avg"] = v
        if group["centered"]:
            g_avg = alpha * state["grad_avg"] + (1 - alpha) * g
            state["grad_avg"] = g_avg
            avg = np.sqrt(v - g_avg * g_avg) + eps  # the variance, not the raw second moment
        else:
            avg = np.sqrt(v) + eps
        if momentum > 0:
            buf = momentum * state["momentum_buffer"] + g / avg
            state["momentum_buffer"] = buf
            p.data -= lr * buf
        else:
            p.data -= lr * g / avg


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), as PyTorch computes it::

        g = grad + weight_decay * p                    (if weight_decay != 0)
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = s + g**2                                   (s starts at initial_accumulator_value)
        p = p - lr_t * g / (sqrt(s) + eps)
    """

    _flags = ("maximize",)

    def __init__(
        self,
        params: Params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_options(self, group: ParamGroup) -> list[str]:
        return _nonnegative(group, "lr", "lr_decay", "weight_decay",
                            "initial_accumulator_value", "eps")

    def _state_layout(self, group: ParamGroup) -> dict[str, str]:
        return {"step": "int", "sum": "array"}

    def _update(self, p: Tensor, grad: np.ndarray, state: State, group: ParamGroup) -> None:
        lr, lr_decay, eps, weight_decay = (group["lr"], group["lr_decay"], group["eps"],
                                           group["weight_decay"])
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
        state["step"] += 1
        t = state["step"]

        g = grad
        if weight_decay != 0:
            g = g + weight_decay * p.data
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = state["sum"] + g * g
        state["sum"] = s
        p.data -= lr_t * g / (np.sqrt(s) + eps)
