"""Hand-derived backprop for the CS231n assignment-2 layers, in pure NumPy.

Conventions kept exactly (Stanford CS231n, assignment 2: layers.py, fc_net.py, optim.py):

- Row batches: x is (N, D) (or (N, d1, ..., dk), flattened to (N, D)); out = x @ W + b, W is (D, H).
- Every layer is a pair: `*_forward(...) -> (out, cache)` and `*_backward(dout, cache) -> grads`.
- Softmax loss is max-shifted and averaged over N. L2 is 0.5 * reg * sum(W**2) on weights only.
- Batchnorm normalises with the biased batch variance and keeps running statistics with
  running = momentum * running + (1 - momentum) * batch, momentum = 0.9: momentum weights the OLD
  value (PyTorch's momentum=0.1 weights the NEW batch). eps = 1e-5.
- Dropout is inverted dropout parameterised by `keep_prob`, the probability of KEEPING a unit.
  (The course's `p` meant "drop" in some years and "keep" in others, so `p` is refused here.)
- relu'(0) = 0.
- Update rules take `(w, dw, config) -> (next_w, config)` with the assignment's defaults. Unlike
  the assignment they do not modify w or the caller's config in place: the state lives in the
  returned config.

Imports nothing from the rest of tinygrad_nn, so it is an independent reference for autodiff.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
Config = dict[str, Any]

__all__ = [
    "adam",
    "affine_backward",
    "affine_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "batchnorm_forward",
    "dropout_backward",
    "dropout_forward",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "fc_net_backward",
    "fc_net_forward",
    "fc_net_init",
    "fc_net_loss",
    "l2_loss",
    "rel_error",
    "relu_backward",
    "relu_forward",
    "rmsprop",
    "sgd",
    "sgd_momentum",
    "sgd_nesterov",
    "sigmoid_backward",
    "sigmoid_forward",
    "softmax_loss",
    "tanh_backward",
    "tanh_forward",
]


# ================================================================ affine


def affine_forward(x: Array, w: Array, b: Array) -> tuple[Array, tuple[Array, Array, Array]]:
    """out = x.reshape(N, D) @ w + b, with x (N, d1, ..., dk), w (D, M), b (M,)."""
    x_rows = x.reshape(x.shape[0], -1)
    out = x_rows @ w + b
    return out, (x, w, b)


def affine_backward(dout: Array, cache: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
    """dx = dout @ w.T (reshaped to x's shape), dw = x.T @ dout, db = sum_n dout[n].

    Returns (dx, dw, db).
    """
    x, w, _ = cache
    x_rows = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x_rows.T @ dout
    # b is broadcast over the N rows, so its gradient sums them.
    db = dout.sum(axis=0)
    return dx, dw, db


# ================================================================ elementwise nonlinearities


def relu_forward(x: Array) -> tuple[Array, Array]:
    """out = max(0, x)."""
    return np.maximum(0.0, x), x


def relu_backward(dout: Array, cache: Array) -> Array:
    """dx = dout * [x > 0]; the strict inequality makes relu'(0) = 0."""
    x = cache
    return dout * (x > 0)


def sigmoid_forward(x: Array) -> tuple[Array, Array]:
    """out = 1 / (1 + exp(-x)); the output is cached because sigma' is cheapest from it."""
    out = 1.0 / (1.0 + np.exp(-x))
    return out, out


def sigmoid_backward(dout: Array, cache: Array) -> Array:
    """dx = dout * s * (1 - s), s = sigma(x)."""
    s = cache
    return dout * s * (1.0 - s)


def tanh_forward(x: Array) -> tuple[Array, Array]:
    """out = tanh(x); the output is cached because tanh' is cheapest from it."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: Array, cache: Array) -> Array:
    """dx = dout * (1 - tanh(x)**2)."""
    t = cache
    return dout * (1.0 - t**2)


# ================================================================ batch normalisation


def batchnorm_forward(
    x: Array, gamma: Array, beta: Array, bn_param: dict[str, Any]
) -> tuple[Array, dict[str, Any]]:
    """Batchnorm over the N rows of x (N, D): out = gamma * xhat + beta.

    Train mode: mu = mean_n x, var = mean_n (x - mu)**2 (biased), xhat = (x - mu) / sqrt(var + eps),
    and the running statistics are updated as running = momentum * running + (1 - momentum) * batch
    (running_var accumulates the same biased var). Test mode: xhat uses the running statistics.

    bn_param keys: mode ('train' | 'test', required), eps (1e-5), momentum (0.9), running_mean and
    running_var (zeros(D) when absent). As in the assignment, the updated running statistics are
    stored back into bn_param (as new arrays; the old arrays are not modified).
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    if mode == "train":
        # Staged exactly as the graph batchnorm_backward walks back through.
        mu = x.mean(axis=0)
        xmu = x - mu
        var = (xmu**2).mean(axis=0)
        std = np.sqrt(var + eps)
        istd = 1.0 / std
        xhat = xmu * istd
        out = gamma * xhat + beta
        cache = {
            "mode": "train",
            "xhat": xhat,
            "xmu": xmu,
            "istd": istd,
            "std": std,
            "gamma": gamma,
        }
        running_mean = momentum * running_mean + (1.0 - momentum) * mu
        running_var = momentum * running_var + (1.0 - momentum) * var
    elif mode == "test":
        istd = 1.0 / np.sqrt(running_var + eps)
        xhat = (x - running_mean) * istd
        out = gamma * xhat + beta
        cache = {"mode": "test", "xhat": xhat, "istd": istd, "gamma": gamma}
    else:
        raise ValueError(f"batchnorm_forward: mode must be 'train' or 'test', got {mode!r}")

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def _batchnorm_backward_test(dout: Array, cache: dict[str, Any]) -> tuple[Array, Array, Array]:
    """Test mode is a fixed affine map per feature: dx = dout * gamma / sqrt(running_var + eps)."""
    dbeta = dout.sum(axis=0)
    dgamma = (dout * cache["xhat"]).sum(axis=0)
    dx = dout * cache["gamma"] * cache["istd"]
    return dx, dgamma, dbeta


def batchnorm_backward(dout: Array, cache: dict[str, Any]) -> tuple[Array, Array, Array]:
    """Backward through the computational graph of batchnorm_forward, one node at a time.

    Returns (dx, dgamma, dbeta). Forward graph (train mode), walked here in reverse:
      mu = mean(x); xmu = x - mu; var = mean(xmu**2); std = sqrt(var + eps); istd = 1 / std;
      xhat = xmu * istd; out = gamma * xhat + beta.
    Note that x reaches the output along three paths (directly, through mu, through var).
    """
    if cache["mode"] == "test":
        return _batchnorm_backward_test(dout, cache)
    xhat, xmu, istd, std, gamma = (cache[k] for k in ("xhat", "xmu", "istd", "std", "gamma"))
    N = dout.shape[0]

    # out = gamma * xhat + beta
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    # xhat = xmu * istd: istd is broadcast over the rows, so its gradient sums them.
    dxmu_direct = dxhat * istd
    distd = (dxhat * xmu).sum(axis=0)
    # istd = 1 / std
    dstd = -distd / std**2
    # std = sqrt(var + eps)
    dvar = 0.5 * dstd / std
    # var = mean over rows of sq, sq = xmu**2
    dsq = np.ones_like(xmu) * dvar / N
    dxmu_through_var = 2.0 * xmu * dsq
    dxmu = dxmu_direct + dxmu_through_var
    # xmu = x - mu: mu is broadcast over rows.
    dx_direct = dxmu
    dmu = -dxmu.sum(axis=0)
    # mu = mean over rows of x
    dx_through_mu = np.ones_like(xmu) * dmu / N
    dx = dx_direct + dx_through_mu
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout: Array, cache: dict[str, Any]) -> tuple[Array, Array, Array]:
    """Closed form of the batchnorm gradient, per feature column, with dxhat = gamma * dout:

      dx = (istd / N) * (N * dxhat - sum_n dxhat - xhat * sum_n (dxhat * xhat))

    Returns (dx, dgamma, dbeta); equal to batchnorm_backward up to rounding.
    """
    if cache["mode"] == "test":
        return _batchnorm_backward_test(dout, cache)
    xhat, istd, gamma = cache["xhat"], cache["istd"], cache["gamma"]
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * gamma
    dx = (istd / N) * (N * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
    return dx, dgamma, dbeta


# ================================================================ dropout


def dropout_forward(x: Array, dropout_param: dict[str, Any]) -> tuple[Array, dict[str, Any]]:
    """Inverted dropout: train: out = x * mask / keep_prob; test: out = x.

    dropout_param keys:
      keep_prob: probability of KEEPING each unit (required; the ambiguous key 'p' is refused).
      mode: 'train' | 'test' (required).
      mask: optional boolean (or 0/1) keep-mask of x's shape, True = keep; drawn when absent.
      seed: optional seed for drawing the mask.
    Scaling by 1/keep_prob at train time keeps E[out] = x, so test time needs no rescaling.
    The cache holds the scaled mask (mask / keep_prob), as the assignment's does.
    """
    if "p" in dropout_param:
        raise ValueError(
            "dropout_forward: 'p' is ambiguous (keep or drop, by course year); use 'keep_prob'"
        )
    keep_prob = dropout_param["keep_prob"]
    mode = dropout_param["mode"]
    if not 0.0 < keep_prob <= 1.0:
        raise ValueError(f"dropout_forward: keep_prob must be in (0, 1], got {keep_prob}")

    if mode == "test":
        return x.copy(), {"mode": "test", "mask": None}
    if mode != "train":
        raise ValueError(f"dropout_forward: mode must be 'train' or 'test', got {mode!r}")

    keep = dropout_param.get("mask")
    if keep is None:
        rng = np.random.default_rng(dropout_param.get("seed"))
        keep = rng.random(x.shape) < keep_prob
    elif np.shape(keep) != x.shape:
        raise ValueError(f"dropout_forward: mask shape {np.shape(keep)} != x shape {x.shape}")
    mask = np.asarray(keep, dtype=x.dtype) / keep_prob
    return x * mask, {"mode": "train", "mask": mask}


def dropout_backward(dout: Array, cache: dict[str, Any]) -> Array:
    """Train: dx = dout * mask / keep_prob (the cached scaled mask). Test: dx = dout."""
    if cache["mode"] == "test":
        return dout.copy()
    return dout * cache["mask"]


# ================================================================ losses


def softmax_loss(x: Array, y: Array) -> tuple[float, Array]:
    """Softmax cross-entropy averaged over N: L = -(1/N) sum_n log softmax(x_n)[y_n].

    x is (N, C) scores, y (N,) integer labels. dx = (softmax(x) - onehot(y)) / N.
    Scores are shifted by their row max first: softmax is invariant to it and exp cannot overflow.
    """
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    probs = np.exp(log_probs)
    rows = np.arange(N)
    loss = -log_probs[rows, y].mean()
    dx = probs.copy()
    dx[rows, y] -= 1.0
    dx /= N
    return float(loss), dx


def l2_loss(weights: Iterable[Array], reg: float) -> tuple[float, list[Array]]:
    """L = 0.5 * reg * sum_W sum(W**2); returns (L, [reg * W for each W])."""
    weights = list(weights)
    loss = 0.5 * reg * sum(float(np.sum(w * w)) for w in weights)
    grads = [reg * w for w in weights]
    return loss, grads


# ================================================================ the fully connected net


def fc_net_init(
    hidden_dims: list[int],
    input_dim: int = 3 * 32 * 32,
    num_classes: int = 10,
    weight_scale: float = 1e-2,
    normalization: str | None = None,
    rng: np.random.Generator | None = None,
) -> dict[str, Array]:
    """FullyConnectedNet's init: W_i ~ weight_scale * N(0, 1), b_i = 0, gamma_i = 1, beta_i = 0.

    Keys W1, b1, ..., WL, bL and, with normalization='batchnorm', gamma_i, beta_i for the L-1
    hidden layers. Zeros and ones are the assignment's init; tests should perturb them, because
    symmetric values can hide a wrong backward pass.
    """
    rng = np.random.default_rng() if rng is None else rng
    dims = [input_dim, *hidden_dims, num_classes]
    params: dict[str, Array] = {}
    for i in range(1, len(dims)):
        params[f"W{i}"] = weight_scale * rng.standard_normal((dims[i - 1], dims[i]))
        params[f"b{i}"] = np.zeros(dims[i])
        if normalization == "batchnorm" and i < len(dims) - 1:
            params[f"gamma{i}"] = np.ones(dims[i])
            params[f"beta{i}"] = np.zeros(dims[i])
    return params


def _num_layers(params: dict[str, Array]) -> int:
    """L, the number of affine layers, counted from the W1, W2, ... keys."""
    L = 0
    while f"W{L + 1}" in params:
        L += 1
    if L == 0:
        raise ValueError("fc_net: params has no W1")
    return L


def fc_net_forward(
    params: dict[str, Array],
    X: Array,
    normalization: str | None = None,
    keep_prob: float = 1.0,
    dropout_masks: list[Array] | None = None,
    dropout_seed: int | None = None,
    bn_params: list[dict[str, Any]] | None = None,
    mode: str = "train",
) -> tuple[Array, list[dict[str, Any]]]:
    """Scores of {affine - [batchnorm] - relu - [dropout]} x (L-1) - affine, and per-layer caches.

    normalization: None or 'batchnorm'. keep_prob < 1 turns dropout on (keep_prob = 1: no dropout
    layer, as the assignment's dropout=1). dropout_masks: optional list of L-1 boolean keep-masks;
    otherwise masks are drawn from dropout_seed. bn_params: list of L-1 dicts holding the running
    statistics, updated in place in train mode; created fresh (running stats zero) when None.
    mode: 'train' or 'test' (batchnorm with running stats, dropout off).
    """
    L = _num_layers(params)
    use_bn = normalization == "batchnorm"
    if normalization not in (None, "batchnorm"):
        raise ValueError(
            f"fc_net: normalization must be None or 'batchnorm', got {normalization!r}"
        )
    if bn_params is None:
        bn_params = [{} for _ in range(L - 1)]
    seeds = np.random.SeedSequence(dropout_seed).spawn(L - 1)

    caches: list[dict[str, Any]] = []
    h = X
    for i in range(1, L):
        cache: dict[str, Any] = {}
        h, cache["affine"] = affine_forward(h, params[f"W{i}"], params[f"b{i}"])
        if use_bn:
            bn_param = bn_params[i - 1]
            bn_param["mode"] = mode
            h, cache["bn"] = batchnorm_forward(h, params[f"gamma{i}"], params[f"beta{i}"], bn_param)
        h, cache["relu"] = relu_forward(h)
        if keep_prob < 1.0:
            dropout_param: dict[str, Any] = {"keep_prob": keep_prob, "mode": mode}
            if dropout_masks is not None:
                dropout_param["mask"] = dropout_masks[i - 1]
            else:
                dropout_param["seed"] = seeds[i - 1]
            h, cache["dropout"] = dropout_forward(h, dropout_param)
        caches.append(cache)

    scores, last_cache = affine_forward(h, params[f"W{L}"], params[f"b{L}"])
    caches.append({"affine": last_cache})
    return scores, caches


def fc_net_backward(dscores: Array, caches: list[dict[str, Any]]) -> dict[str, Array]:
    """Gradients of every parameter given dL/dscores, walking the layers of fc_net_forward back.

    Batchnorm uses the staged batchnorm_backward. Returns data gradients only (no L2 term).
    """
    L = len(caches)
    grads: dict[str, Array] = {}
    dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, caches[-1]["affine"])
    for i in range(L - 1, 0, -1):
        cache = caches[i - 1]
        if "dropout" in cache:
            dh = dropout_backward(dh, cache["dropout"])
        dh = relu_backward(dh, cache["relu"])
        if "bn" in cache:
            dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward(dh, cache["bn"])
        dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, cache["affine"])
    return grads


def fc_net_loss(
    params: dict[str, Array],
    X: Array,
    y: Array,
    normalization: str | None = None,
    keep_prob: float = 1.0,
    dropout_masks: list[Array] | None = None,
    dropout_seed: int | None = None,
    bn_params: list[dict[str, Any]] | None = None,
    reg: float = 0.0,
    mode: str = "train",
) -> tuple[float, dict[str, Array]]:
    """FullyConnectedNet.loss: softmax loss of the scores + 0.5 * reg * sum_i sum(W_i**2).

    Returns (loss, grads) with grads keyed like params (W1, b1, gamma1, beta1, ...). Only the W_i
    are regularised: dW_i += reg * W_i. See fc_net_forward for the other arguments; in test mode
    the gradients are those of the test-mode network (running batchnorm stats, no dropout).
    """
    scores, caches = fc_net_forward(
        params, X, normalization, keep_prob, dropout_masks, dropout_seed, bn_params, mode
    )
    data_loss, dscores = softmax_loss(scores, y)
    grads = fc_net_backward(dscores, caches)

    weight_names = [f"W{i}" for i in range(1, len(caches) + 1)]
    reg_loss, reg_grads = l2_loss([params[k] for k in weight_names], reg)
    for name, reg_grad in zip(weight_names, reg_grads, strict=True):
        grads[name] = grads[name] + reg_grad
    return data_loss + reg_loss, grads


# ================================================================ update rules (optim.py)


def sgd(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """Vanilla SGD: w <- w - learning_rate * dw. Default learning_rate 1e-2."""
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """SGD with momentum: v <- mu * v - lr * dw; w <- w + v.

    Defaults: learning_rate 1e-2, momentum 0.9, velocity zeros_like(w).
    """
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    mu, lr = config["momentum"], config["learning_rate"]

    v = mu * v - lr * dw
    next_w = w + v
    config["velocity"] = v
    return next_w, config


def sgd_nesterov(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """Nesterov momentum in the CS231n notes' form (w is the look-ahead point):

      v_prev = v;  v <- mu * v - lr * dw;  w <- w - mu * v_prev + (1 + mu) * v

    Defaults as sgd_momentum: learning_rate 1e-2, momentum 0.9, velocity zeros_like(w).
    """
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    mu, lr = config["momentum"], config["learning_rate"]

    v_prev = v
    v = mu * v - lr * dw
    next_w = w - mu * v_prev + (1.0 + mu) * v
    config["velocity"] = v
    return next_w, config


def rmsprop(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """RMSProp:

      cache <- decay * cache + (1 - decay) * dw**2;  w <- w - lr * dw / (sqrt(cache) + eps)

    Defaults: learning_rate 1e-2, decay_rate 0.99, epsilon 1e-8, cache zeros_like(w).
    """
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))
    lr, decay, eps = config["learning_rate"], config["decay_rate"], config["epsilon"]

    cache = decay * cache + (1.0 - decay) * dw**2
    next_w = w - lr * dw / (np.sqrt(cache) + eps)
    config["cache"] = cache
    return next_w, config


def adam(w: Array, dw: Array, config: Config | None = None) -> tuple[Array, Config]:
    """Adam with bias correction; t is incremented BEFORE it is used, so the first step has t = 1:

      m <- beta1 * m + (1 - beta1) * dw;  v <- beta2 * v + (1 - beta2) * dw**2
      m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t)
      w <- w - lr * m_hat / (sqrt(v_hat) + eps)

    Defaults: learning_rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8, m = v = 0, t = 0.
    """
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    m = config.get("m", np.zeros_like(w))
    v = config.get("v", np.zeros_like(w))
    t = config.get("t", 0) + 1
    lr, beta1, beta2 = config["learning_rate"], config["beta1"], config["beta2"]

    m = beta1 * m + (1.0 - beta1) * dw
    v = beta2 * v + (1.0 - beta2) * dw**2
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    next_w = w - lr * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    config.update(m=m, v=v, t=t)
    return next_w, config


# ================================================================ gradient checking


def rel_error(x: Array, y: Array) -> float:
    """max |x - y| / max(1e-8, |x| + |y|), elementwise, as the assignment reports it."""
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _require_float64(x: Array, name: str) -> None:
    """Central differences in float32 are too coarse to trust at 1e-7, so refuse them."""
    if x.dtype != np.float64:
        raise TypeError(f"{name}: x must be float64, got {x.dtype}")


def eval_numerical_gradient(f: Callable[[Array], float], x: Array, h: float = 1e-5) -> Array:
    """Gradient of the scalar f at x by central differences: (f(x + h e_i) - f(x - h e_i)) / 2h.

    x is perturbed IN PLACE one entry at a time (so f may read x through a closure, as the
    assignment's `lambda _: model.loss(X, y)[0]` does) and restored exactly afterwards.
    """
    _require_float64(x, "eval_numerical_gradient")
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        f_plus = f(x)
        x[ix] = old - h
        f_minus = f(x)
        x[ix] = old
        grad[ix] = (f_plus - f_minus) / (2.0 * h)
    return grad


def eval_numerical_gradient_array(
    f: Callable[[Array], Array], x: Array, df: Array, h: float = 1e-5
) -> Array:
    """Vector-Jacobian product of an array-valued f at x with df, by central differences:

      grad_i = sum((f(x + h e_i) - f(x - h e_i)) * df) / 2h

    Used to check a layer's backward against its forward. x is perturbed in place and restored.
    """
    _require_float64(x, "eval_numerical_gradient_array")
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        f_plus = np.array(f(x), copy=True)
        x[ix] = old - h
        f_minus = np.array(f(x), copy=True)
        x[ix] = old
        grad[ix] = np.sum((f_plus - f_minus) * df) / (2.0 * h)
    return grad
