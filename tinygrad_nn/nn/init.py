"""Weight initialization: in-place, seeded, and named after the books that use them.

Every function overwrites ``tensor.data`` in place (the trailing underscore, as in PyTorch) and
returns the tensor. Randomness comes from ``generator``: a ``numpy.random.Generator``, an int seed
(a fresh generator seeded with it), or None for the library's generator that
``tinygrad_nn.manual_seed`` seeds. Samples are drawn in float64 and then cast, so a seed gives the
same values whatever the parameter's dtype.

Layer schemes (``SCHEMES``) initialize a weight of shape (out, in) and its bias together, and
are what ``Linear(init="...")``, ``MLP(init="...")`` and specs name:

=================  ========================================  ===================================
name               weight                                    bias
=================  ========================================  ===================================
``pytorch``        U(-1/sqrt(fan_in), 1/sqrt(fan_in))         same (PyTorch's Linear default)
``nielsen``        N(0, 1/fan_in): std fan_in**-0.5            N(0, 1) (network2 default, ch. 3)
``nielsen_large``  N(0, 1)                                    N(0, 1) (network.py, ch. 1)
``rashid``         N(0, 1/fan_in): std fan_in**-0.5            zeros (Rashid's net has no bias)
``xavier``         U(+-sqrt(6 / (fan_in + fan_out)))          zeros
``xavier_normal``  N(0, 2 / (fan_in + fan_out))               zeros
``kaiming``        N(0, 2 / fan_in) (He et al., for ReLU)     zeros
``kaiming_uniform`` U(+-sqrt(6 / fan_in))                     zeros
=================  ========================================  ===================================

NOTE: Nielsen ch. 3 and Rashid use the same weight distribution (Rashid writes it
"normal(0.0, pow(inodes, -0.5))", i.e. standard deviation 1/sqrt(fan_in)).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..tensor import Tensor, default_rng
from ..validation import BadArgumentValue

Generator = np.random.Generator | int | None
Scheme = Callable[[Tensor, Tensor | None, Generator], None]


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init: expected a Tensor, got {type(tensor).__name__}")
    tensor.data[...] = values.astype(tensor.dtype)
    return tensor


def fans(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as PyTorch computes them."""
    if tensor.ndim < 2:
        raise ValueError(f"init: fan_in and fan_out need a weight with at least 2 dims, "
                         f"got shape {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:]))
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for an activation, PyTorch's table (relu: sqrt(2), tanh: 5/3)."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; allowed: linear, "
                     "identity, sigmoid, tanh, relu, leaky_relu, selu")


# ============================================================================================
# tensor initializers
# ============================================================================================


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator = None) -> Tensor:
    """Fill with samples from N(mean, std**2)."""
    return _fill(tensor, default_rng(generator).normal(mean, std, tensor.shape))


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator = None) -> Tensor:
    """Fill with samples from U(a, b)."""
    return _fill(tensor, default_rng(generator).uniform(a, b, tensor.shape))


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, np.zeros(tensor.shape))


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, np.ones(tensor.shape))


def constant_(tensor: Tensor, value: float) -> Tensor:
    return _fill(tensor, np.full(tensor.shape, value))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator = None) -> Tensor:
    """Glorot & Bengio (2010): U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator = None) -> Tensor:
    """Glorot & Bengio (2010): N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Generator = None) -> Tensor:
    """He et al. (2015): U(-b, b), b = gain * sqrt(3 / fan) (PyTorch's argument defaults)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Generator = None) -> Tensor:
    """He et al. (2015): N(0, std**2), std = gain / sqrt(fan)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


# ============================================================================================
# layer schemes: a weight (out, in) and its bias together
# ============================================================================================


def pytorch_linear_(weight: Tensor, bias: Tensor | None = None,
                    generator: Generator = None) -> None:
    """PyTorch's nn.Linear default: weight and bias both U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    (PyTorch writes it as kaiming_uniform_(a=sqrt(5)), which reduces to this bound.)"""
    rng = default_rng(generator)
    bound = 1.0 / math.sqrt(fans(weight)[0])
    uniform_(weight, -bound, bound, rng)
    if bias is not None:
        uniform_(bias, -bound, bound, rng)


def nielsen_large_(weight: Tensor, bias: Tensor | None = None,
                   generator: Generator = None) -> None:
    """Nielsen network.py (ch. 1) / network2 ``large_weight_initializer``: everything N(0, 1).

    NOTE: Nielsen draws the biases before the weights; only the distributions match here."""
    rng = default_rng(generator)
    normal_(weight, 0.0, 1.0, rng)
    if bias is not None:
        normal_(bias, 0.0, 1.0, rng)


def nielsen_default_(weight: Tensor, bias: Tensor | None = None,
                     generator: Generator = None) -> None:
    """Nielsen network2 ``default_weight_initializer`` (ch. 3): weights N(0, 1/fan_in)
    (std fan_in**-0.5), biases N(0, 1)."""
    rng = default_rng(generator)
    normal_(weight, 0.0, fans(weight)[0] ** -0.5, rng)
    if bias is not None:
        normal_(bias, 0.0, 1.0, rng)


def rashid_(weight: Tensor, bias: Tensor | None = None, generator: Generator = None) -> None:
    """Rashid, Make Your Own Neural Network: weights N(0, std = fan_in**-0.5); his network has
    no biases, so a bias (if any) starts at zero. ``MLP(..., bias=False, init="rashid")`` is his."""
    normal_(weight, 0.0, fans(weight)[0] ** -0.5, generator)
    if bias is not None:
        zeros_(bias)


def _zero_bias(fill: Callable[..., Tensor], **kw: object) -> Scheme:
    def scheme(weight: Tensor, bias: Tensor | None = None, generator: Generator = None) -> None:
        fill(weight, generator=generator, **kw)
        if bias is not None:
            zeros_(bias)

    scheme.__name__ = f"{fill.__name__.rstrip('_')}_zero_bias_"
    scheme.__doc__ = f"{fill.__name__} on the weight (arguments {kw}), zeros on the bias."
    return scheme


SCHEMES: dict[str, Scheme] = {
    "pytorch": pytorch_linear_,
    "nielsen": nielsen_default_,
    "nielsen_large": nielsen_large_,
    "rashid": rashid_,
    "xavier": _zero_bias(xavier_uniform_),
    "xavier_normal": _zero_bias(xavier_normal_),
    "kaiming": _zero_bias(kaiming_normal_, nonlinearity="relu"),
    "kaiming_uniform": _zero_bias(kaiming_uniform_, nonlinearity="relu"),
}


def get_scheme(init: str | Scheme) -> Scheme:
    """A scheme by name (see ``SCHEMES``), or ``init`` itself when it is a callable
    ``init(weight, bias, generator)``."""
    if callable(init):
        return init
    if isinstance(init, str) and init in SCHEMES:
        return SCHEMES[init]
    raise BadArgumentValue(f"init: unknown scheme {init!r}; allowed: {', '.join(SCHEMES)} "
                           "or a callable init(weight, bias, generator)", "init")
