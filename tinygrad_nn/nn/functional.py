"""Losses (and dropout) as functions: ``tinygrad_nn.nn.functional``, PyTorch's names.

Every loss is composed from the engine's primitives (no gradient code) except two fused ops:
``cross_entropy`` is one stable op (log-softmax + NLL, the ``CrossEntropy`` Function below; the
composed form is kept as ``cross_entropy_composed`` and the tests check one against the other),
and ``mse_loss`` / ``quadratic_cost`` with reduction "mean" or "sum" are the engine's fused
``sum_squared_error`` with the right scale ("none" is composed).

``reduction`` is "mean" (the default), "sum" or "none" (one value per example; per element for
the elementwise losses), as in PyTorch. Inputs are row batches: axis 0 indexes the examples.

Conventions pinned (docs/REFERENCES.md, section 5):

- ``mse_loss`` is PyTorch's: the mean over ALL elements.
- ``quadratic_cost`` is Nielsen's: C_x = 1/2 ||a - y||^2 per example (summed over the outputs).
  reduction="mean" is his eq. (6), C = 1/(2n) sum_x ||a - y||^2, and its gradient is the
  mini-batch average, so plain SGD with lr=eta performs his update w -= (eta/m) sum_x dC_x/dw.
  reduction="sum" gives the summed gradients of his ``backprop`` loop (then use lr=eta/m).
- ``l2_penalty(params, strength)`` = strength/2 * sum ||W||^2 over the weights:
  CS231n's 0.5 * reg * sum W^2 is strength=reg; Nielsen's network2 term lmbda/(2n) sum w^2
  (n = TRAINING-SET size) is strength=lmbda/n, which with a mean cost and lr=eta gives his
  w -> (1 - eta*lmbda/n) w; PyTorch's weight_decay=wd adds wd*W to the gradient: strength=wd.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import autograd, ops
from ..convolution import (
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    fold,
    max_pool2d,
    unfold,
)
from ..data.preprocess import one_hot as preprocess_one_hot
from ..tensor import ArrayLike, Tensor, cat, default_rng, where
from ..validation import check_number, check_reduction
from .module import Module, split_weights

__all__ = [
    "mse_loss", "quadratic_cost", "cross_entropy", "cross_entropy_composed", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "l2_penalty", "dropout",
    "linear", "sum_squared_error", "sum_squared_error_composed",
    "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
    "relu", "sigmoid", "tanh", "leaky_relu", "softmax", "log_softmax", "softplus", "elu", "gelu",
    "silu", "mish", "pad", "one_hot", "layer_norm", "embedding",
]
# convolution and pooling (issue #17): defined in tinygrad_nn/convolution.py
__all__ += ["conv2d", "conv1d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "unfold",
            "fold"]



# ============================================================================================
# argument checks: errors name the loss, the shapes and the dtypes
# ============================================================================================


def _check_input(loss: str, input: Any) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{loss}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{loss}: input must be floating point, got {input.dtype} "
                        f"with shape {input.shape}")
    return input


def _float_target(loss: str, input: Tensor, target: ArrayLike) -> Tensor:
    """The target as a Tensor of input's shape; arrays and lists take the input's dtype."""
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target), dtype=input.dtype)
    if target.dtype.kind not in "fb":
        raise TypeError(f"{loss}: target must be floating point, got {target.dtype} with shape "
                        f"{target.shape} (input {input.shape} {input.dtype})")
    if target.shape != input.shape:
        # NOTE: no broadcasting: (N, 1) against (N,) silently makes an (N, N) loss.
        raise ValueError(f"{loss}: target shape {target.shape} does not match input shape "
                         f"{input.shape} (input {input.dtype}, target {target.dtype})")
    if target.dtype != input.dtype:
        target = target.astype(input.dtype)  # the loss takes the input's dtype, as in PyTorch
    return target


def _labels(loss: str, input: Tensor, target: ArrayLike) -> np.ndarray:
    """Integer class labels: shape = input.shape[:-1], values in [0, C)."""
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    classes = input.shape[-1]
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{loss}: class labels must be integers, got dtype {labels.dtype} with "
                        f"shape {labels.shape} (input {input.shape} {input.dtype}); for "
                        "probability targets pass a float array of the input's shape")
    if labels.shape != input.shape[:-1]:
        raise ValueError(f"{loss}: target shape {labels.shape} does not match input shape "
                         f"{input.shape}: expected labels of shape {input.shape[:-1]}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        bad = labels[(labels < 0) | (labels >= classes)]
        raise IndexError(f"{loss}: labels must be in [0, {classes}) for input shape "
                         f"{input.shape}, got {bad[:5].tolist()}")
    return labels


def _check_probabilities(loss: str, name: str, values: np.ndarray, hint: str) -> None:
    """Every value in [0, 1] (nan is not a probability)."""
    inside = (values >= 0) & (values <= 1)
    if not inside.all():
        bad = values[~inside]
        raise ValueError(f"{loss}: {name} must be probabilities in [0, 1], got {bad[:5].tolist()} "
                         f"(shape {values.shape}, {values.dtype}){hint}")


def _check_classes(loss: str, input: Tensor) -> None:
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise ValueError(f"{loss}: input must be (N, C) scores or a single (C,) vector, "
                         f"got shape {input.shape} {input.dtype}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    return loss


# ============================================================================================
# the fused primitives, as functions
# ============================================================================================


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias, one fused op; weight has shape (out_features, in_features)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    return ops.Linear.apply(x, weight) if bias is None else ops.Linear.apply(x, weight, bias)


def sum_squared_error(x: Tensor, y: ArrayLike, scale: float = 1.0) -> Tensor:
    """scale * sum((x - y)**2) as one fused op (the base of MSE and Nielsen's quadratic cost)."""
    if not isinstance(y, Tensor):  # a Python number takes x's dtype, as in x - y
        y = Tensor(y, dtype=x.dtype if isinstance(y, (int, float)) else None)
    return ops.SquaredErrorSum.apply(x, y, scale=scale)


def sum_squared_error_composed(x: Tensor, y: ArrayLike, scale: float = 1.0) -> Tensor:
    """The same as ``sum_squared_error`` from primitives; the reference the fused op is tested
    against."""
    return ((x - y) ** 2).sum() * scale


# ============================================================================================
# regression
# ============================================================================================


def mse_loss(input: Tensor, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """(input - target)**2, averaged over every element (PyTorch's MSELoss)."""
    check_reduction(reduction, "mse_loss")
    input = _check_input("mse_loss", input)
    target = _float_target("mse_loss", input, target)
    if reduction != "none" and input.data.size:
        # one fused node (the engine's SquaredErrorSum) instead of sub, square, sum and scale
        scale = 1.0 / input.data.size if reduction == "mean" else 1.0
        return sum_squared_error(input, target, scale)
    diff = input - target
    return _reduce(diff * diff, reduction)


def quadratic_cost(output: Tensor, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """Nielsen's quadratic cost: C_x = 1/2 * sum over outputs of (a - y)**2 for each example
    (axis 0 indexes examples; a 1-D input is a batch of scalar outputs).

    "mean": 1/(2n) sum_x ||a - y||^2, the book's eq. (6); "sum": summed over the batch;
    "none": the vector of C_x."""
    check_reduction(reduction, "quadratic_cost")
    output = _check_input("quadratic_cost", output)
    if output.ndim == 0:
        raise ValueError(f"quadratic_cost: input must have a batch axis, got shape {output.shape}")
    target = _float_target("quadratic_cost", output, target)
    if reduction != "none" and output.shape[0]:
        scale = 0.5 / output.shape[0] if reduction == "mean" else 0.5
        return sum_squared_error(output, target, scale)  # fused, as in mse_loss
    diff = output - target
    per_example = (diff * diff).sum(axis=tuple(range(1, output.ndim))) * 0.5
    return _reduce(per_example, reduction)


def l1_loss(input: Tensor, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """|input - target| (PyTorch's L1Loss); the gradient at 0 is 0."""
    check_reduction(reduction, "l1_loss")
    input = _check_input("l1_loss", input)
    return _reduce((input - _float_target("l1_loss", input, target)).abs(), reduction)


def smooth_l1_loss(input: Tensor, target: ArrayLike, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """0.5 d**2 / beta where |d| < beta, else |d| - 0.5 beta (PyTorch's SmoothL1Loss)."""
    return _smooth_l1("smooth_l1_loss", input, target, reduction, beta)


def huber_loss(input: Tensor, target: ArrayLike, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """0.5 d**2 where |d| < delta, else delta (|d| - 0.5 delta) (PyTorch's HuberLoss): the
    smooth L1 loss with beta = delta, times delta."""
    return _smooth_l1("huber_loss", input, target, reduction, delta) * delta


def _smooth_l1(name: str, input: Tensor, target: ArrayLike, reduction: str,
               beta: float) -> Tensor:
    """The one piecewise-quadratic loss behind both names; errors name the caller."""
    # a negative or nan beta would give a negative or nan loss without complaint (torch refuses)
    check_number(beta, "beta" if name == "smooth_l1_loss" else "delta", name, low=0.0,
                 low_open=name == "huber_loss")
    check_reduction(reduction, name)
    input = _check_input(name, input)
    diff = input - _float_target(name, input, target)
    size = diff.abs()
    if beta == 0:
        return _reduce(size, reduction)
    return _reduce(where(size.data < beta, diff * diff * (0.5 / beta), size - 0.5 * beta),
                   reduction)


def kl_div(input: Tensor, target: ArrayLike, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """target * (log target - input), input being log-probabilities (PyTorch's KLDivLoss; 0
    where target is 0). reduction="batchmean" divides the sum by the batch size: the true KL
    divergence; "mean" (PyTorch's default) divides by the number of elements."""
    if reduction != "batchmean":
        check_reduction(reduction, "kl_div")
    input = _check_input("kl_div", input)
    y = _float_target("kl_div", input, target)
    if log_target:
        pointwise = y.exp() * (y - input)
    else:
        positive = y.data > 0
        safe = where(positive, y, 1.0)  # log(1) = 0 where y is 0: no nan in either branch
        pointwise = where(positive, y * (safe.log() - input), 0.0)
    if reduction == "batchmean":
        return pointwise.sum() * (1.0 / (input.shape[0] if input.ndim else 1))
    return _reduce(pointwise, reduction)


# ============================================================================================
# classification
# ============================================================================================


def cross_entropy(input: Tensor, target: ArrayLike, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits ``input`` (N, C) or (C,), fused and stable.

    ``target``: integer class labels (N,) (or () for a single vector), or class probabilities
    of the input's shape. ``label_smoothing`` eps mixes the target with the uniform
    distribution: q = (1 - eps) * target + eps / C (PyTorch's definition). "mean" divides by N.
    """
    check_reduction(reduction, "cross_entropy")
    input = _check_input("cross_entropy", input)
    _check_classes("cross_entropy", input)
    check_number(label_smoothing, "label_smoothing", "cross_entropy", low=0, high=1)
    kw = {"smoothing": float(label_smoothing), "reduction": reduction}
    target_dtype = target.dtype if isinstance(target, Tensor) else np.asarray(target).dtype
    if target_dtype.kind == "f":
        probs = _float_target("cross_entropy", input, target)
        return ops.CrossEntropy.apply(input, probs, labels=None, **kw)
    labels = _labels("cross_entropy", input, target)
    return ops.CrossEntropy.apply(input, labels=labels, **kw)


def nll_loss(input: Tensor, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: -input[i, target_i], for log-probabilities ``input`` (N, C)."""
    check_reduction(reduction, "nll_loss")
    input = _check_input("nll_loss", input)
    _check_classes("nll_loss", input)
    labels = _labels("nll_loss", input, target)
    if input.ndim == 1:
        return _reduce(-input[int(labels)], reduction)
    picked = input[np.arange(input.shape[0]), labels]
    return _reduce(-picked, reduction)


def cross_entropy_composed(input: Tensor, target: ArrayLike, reduction: str = "mean",
                           label_smoothing: float = 0.0) -> Tensor:
    """``cross_entropy`` written as log_softmax + nll_loss (the reference the fused op is
    tested against; same arguments and results)."""
    check_reduction(reduction, "cross_entropy")
    input = _check_input("cross_entropy", input)
    _check_classes("cross_entropy", input)
    logp = input.log_softmax(-1)
    target_dtype = target.dtype if isinstance(target, Tensor) else np.asarray(target).dtype
    if target_dtype.kind == "f":
        probs = _float_target("cross_entropy", input, target)
        per_example = -(probs * logp).sum(axis=-1) * (1.0 - label_smoothing)
    else:
        per_example = nll_loss(logp, target, reduction="none") * (1.0 - label_smoothing)
    if label_smoothing:
        per_example = per_example - logp.mean(axis=-1) * label_smoothing
    return _reduce(per_example, reduction)


def _log_clamped(p: Tensor, exact: np.ndarray | None = None) -> Tensor:
    """max(log p, -100), PyTorch's clamp for BCE, in any dtype, with a gradient never nan:
    1/p where log p > -100, exactly 0 where clamped (p = 0 included). The clamp is on the log's
    OUTPUT: a floor on p itself (e^-100) is subnormal in float32, and 1/floor overflows. A
    subnormal p (float32 only: e^-100 is normal in float64) keeps its log as a constant, as 1/p
    would overflow to inf. ``exact``: the log's values computed more precisely (log1p(-q) for
    p = 1 - q, as PyTorch does); the gradient is still that of log p."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.maximum(np.log(p.data) if exact is None else exact, -100.0).astype(p.dtype)
    kept = (log_p > -100.0) & (p.data >= np.finfo(p.dtype).tiny)
    out = p.log() if kept.all() else where(kept, where(kept, p, 1.0).log(), log_p)
    return out if exact is None else out + (log_p - out.data)


def binary_cross_entropy(input: Tensor, target: ArrayLike, reduction: str = "mean") -> Tensor:
    """-(y log p + (1 - y) log(1 - p)) on probabilities p, each log clamped at -100 (PyTorch).

    NOTE: at exactly p = 0 or 1 the gradient of the clamped term is 0 here; PyTorch returns
    (p - y) / max(p (1 - p), 1e-12) there instead. Elsewhere the two agree."""
    check_reduction(reduction, "binary_cross_entropy")
    input = _check_input("binary_cross_entropy", input)
    y = _float_target("binary_cross_entropy", input, target)
    _check_probabilities("binary_cross_entropy", "input", input.data,
                         "; use binary_cross_entropy_with_logits for logits")
    _check_probabilities("binary_cross_entropy", "target", y.data, "")
    with np.errstate(divide="ignore"):
        log1p_neg = np.log1p(-input.data)
    loss = -(y * _log_clamped(input) + (1.0 - y) * _log_clamped(1.0 - input, log1p_neg))
    return _reduce(loss, reduction)


def _softplus(x: Tensor) -> Tensor:
    """log(1 + e^x), stable: log(e^-m + e^(x-m)) + m with the constant m = max(x, 0).

    Its gradient e^(x-m) / (e^-m + e^(x-m)) is sigmoid(x) exactly, at 0 too (a relu/abs form
    would give the wrong slope at x = 0 through the kink conventions)."""
    m = autograd.derived(_softplus_shift, x)
    e = autograd.derived(_exp_of_minus_shift, x)
    return (Tensor.from_numpy(e) + (x - m).exp()).log() + m


def _softplus_shift(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _exp_of_minus_shift(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.maximum(x, 0.0))


def binary_cross_entropy_with_logits(input: Tensor, target: ArrayLike, reduction: str = "mean",
                                     pos_weight: ArrayLike | None = None) -> Tensor:
    """BCE on logits x, stable for any x: y * softplus(-x) + (1 - y) * softplus(x), since
    -log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x). ``pos_weight``
    multiplies the positive term, as in PyTorch."""
    check_reduction(reduction, "binary_cross_entropy_with_logits")
    input = _check_input("binary_cross_entropy_with_logits", input)
    y = _float_target("binary_cross_entropy_with_logits", input, target)
    positive = y * _softplus(-input)
    if pos_weight is not None:
        positive = positive * (pos_weight if isinstance(pos_weight, Tensor)
                               else Tensor(np.asarray(pos_weight), dtype=input.dtype))
    loss = positive + (1.0 - y) * _softplus(input)
    return _reduce(loss, reduction)


# ============================================================================================
# activations and layer functions, PyTorch's names (torch.nn.functional.gelu, ...)
# ============================================================================================


def relu(x: Tensor) -> Tensor:
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return x.leaky_relu(negative_slope)


def softmax(x: Tensor, dim: int | None = None) -> Tensor:
    return x.softmax(dim)


def log_softmax(x: Tensor, dim: int | None = None) -> Tensor:
    return x.log_softmax(dim)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (torch's rule)."""
    scaled = x * beta if beta != 1 else x
    soft = _softplus(scaled) * (1.0 / beta) if beta != 1 else _softplus(scaled)
    return where(scaled.data > threshold, x, soft)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else alpha (e^x - 1); the clip keeps exp finite in the discarded branch."""
    return where(x.data > 0, x, x.clip(max=0.0).expm1() * alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x) with erf (approximate='none'), or PyTorch's tanh approximation ('tanh')."""
    if approximate == "none":
        return x * 0.5 * (1.0 + (x * (1.0 / np.sqrt(2.0))).erf())
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * np.sqrt(2.0 / np.pi)
        return x * 0.5 * (1.0 + inner.tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x: Tensor) -> Tensor:
    """x sigmoid(x) (swish)."""
    return x * x.sigmoid()


def mish(x: Tensor) -> Tensor:
    """x tanh(softplus(x))."""
    return x * _softplus(x).tanh()


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """torch.nn.functional.pad: ``pad`` = (left, right) for the last dim, then (top, bottom)
    for the one before, ... Modes 'constant' (with ``value``) and 'reflect'; negative padding
    crops."""
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: needs pairs (left, right) for at most {x.ndim} dims, got {pad}")
    if mode not in ("constant", "reflect"):
        raise ValueError(f"pad: mode must be 'constant' or 'reflect', got {mode!r}")
    for k in range(len(pad) // 2):
        a = x.ndim - 1 - k
        left, right = int(pad[2 * k]), int(pad[2 * k + 1])
        lead = (slice(None),) * a
        n = x.shape[a]
        x = x[lead + (slice(max(-left, 0), n - max(-right, 0)),)]  # negative padding crops
        left, right, n = max(left, 0), max(right, 0), x.shape[a]
        if mode == "reflect":
            if left >= n or right >= n:
                raise ValueError(f"pad: reflect padding ({left}, {right}) must be smaller than "
                                 f"the dim it pads (size {n})")
            parts = [x[lead + (slice(1, left + 1),)].flip(a), x,
                     x[lead + (slice(n - 1 - right, n - 1),)].flip(a)]
        else:
            parts = [_filled(x, a, left, value), x, _filled(x, a, right, value)]
        x = cat([p for p in parts if p.shape[a]], axis=a)
    return x


def _filled(x: Tensor, axis: int, width: int, value: float) -> Tensor:
    """A constant block shaped like ``x`` but ``width`` long along ``axis`` (pad's sides)."""
    shape = x.shape[:axis] + (width,) + x.shape[axis + 1:]
    return Tensor.from_numpy(np.full(shape, value, dtype=x.dtype))


def one_hot(tensor: ArrayLike, num_classes: int = -1) -> Tensor:
    """Integer labels -> int64 tensor of shape labels.shape + (num_classes,) (PyTorch's)."""
    labels = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    classes = None if num_classes == -1 else num_classes
    return Tensor.from_numpy(preprocess_one_hot(labels, classes, dtype=np.int64))


def layer_norm(x: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) over the last len(normalized_shape) axes (biased var),
    then * weight + bias."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise ValueError(f"layer_norm: input of shape {x.shape} does not end with the "
                         f"normalized shape {shape}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    centered = x - x.mean(axis=axes, keepdims=True)
    variance = (centered * centered).mean(axis=axes, keepdims=True)
    out = centered / (variance + eps).sqrt()
    if weight is not None:
        out = out * weight
    return out + bias if bias is not None else out


def embedding(input: ArrayLike, weight: Tensor) -> Tensor:
    """Rows of ``weight`` picked by the integer ``input`` (any shape); repeated indices add
    their gradients."""
    idx = np.asarray(input.data if isinstance(input, Tensor) else input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < 0 or idx.max() >= weight.shape[0]):
        raise IndexError(f"embedding: indices must lie in [0, {weight.shape[0]}), got "
                         f"{idx.min()}..{idx.max()}")
    return weight[idx]


# ============================================================================================
# regularization, dropout
# ============================================================================================


def l2_penalty(params: Module | Iterable[Tensor], strength: float) -> Tensor:
    """strength / 2 * sum of squares of ``params`` (see the module docstring for how CS231n's
    reg, Nielsen's lmbda/n and PyTorch's weight_decay map to ``strength``).

    Given a Module, only its weights (parameters with 2 or more dims) are penalized: biases and
    BatchNorm's gamma/beta are not, as in CS231n and Nielsen."""
    if isinstance(params, Module):
        tensors = split_weights(params.parameters())[0]
    else:
        tensors = list(params)
    if not tensors:
        raise ValueError("l2_penalty: no parameters to penalize")
    total = (tensors[0] * tensors[0]).sum()
    for t in tensors[1:]:
        total = total + (t * t).sum()
    return total * (0.5 * strength)


def dropout(x: Tensor, p: float = 0.5, training: bool = True,
            generator: np.random.Generator | None = None,
            mask: ArrayLike | None = None) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` (the DROP probability, as in
    PyTorch) and scale the survivors by 1/(1 - p), so eval needs no rescaling.

    ``mask``: a fixed keep-mask (1 = keep) of x's shape instead of a random one, e.g. to
    reproduce a reference implementation's draw. Identity when not ``training`` or p == 0."""
    check_number(p, "p (the drop probability)", "dropout", low=0, high=1)
    if not training or p == 0.0:
        return x
    if mask is None:
        rng = default_rng(generator)
        keep = rng.random(x.shape) >= p
    else:
        keep = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
        if keep.shape != x.shape:
            raise ValueError(f"dropout: mask shape {keep.shape} does not match input shape "
                             f"{x.shape}")
    if p == 1.0:
        return x * 0.0
    scaled = _scaled_mask(keep, p, x.dtype)
    if mask is None and autograd._tracer is not None:  # tg.compile: a fresh draw per call
        shape, dtype = x.shape, x.dtype

        def draw() -> np.ndarray:
            rng = default_rng(generator)
            return _scaled_mask(rng.random(shape) >= p, p, dtype)

        autograd._tracer.random(scaled, draw)
    return x * Tensor.from_numpy(scaled)


def _scaled_mask(keep: np.ndarray, p: float, dtype: np.dtype) -> np.ndarray:
    return (keep * (1.0 / (1.0 - p))).astype(dtype)
