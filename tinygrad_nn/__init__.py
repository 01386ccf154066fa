"""tinygrad_nn: a small, exact reverse-mode autodiff engine on NumPy.

    >>> import tinygrad_nn as tg
    >>> x = tg.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = (x @ x.T).sigmoid().sum()
    >>> y.backward()
    >>> x.grad.shape
    (2, 2)
"""

from .tensor import (  # noqa: I001  (tensor must be imported first: it loads the engine)
    Tensor,
    arange,
    cat,
    default_rng,
    eye,
    full,
    get_default_dtype,
    manual_seed,
    maximum,
    minimum,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    set_default_dtype,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)
from .autograd import enable_grad, grad, is_grad_enabled, no_grad
from . import ops
from .gradcheck import gradcheck
from . import nn, optim, checkpoint, io, viz, train  # noqa: E402,I001  (built on the engine above)
from .checkpoint import load, save  # noqa: E402
from .viz import summary  # noqa: E402
from . import check  # noqa: E402  (your backprop vs autodiff: tg.check.layer, ...)

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "zeros", "ones", "full", "eye", "arange", "randn", "rand",
    "zeros_like", "ones_like", "randn_like", "rand_like", "manual_seed", "default_rng",
    "set_default_dtype", "get_default_dtype", "no_grad", "enable_grad", "is_grad_enabled",
    "grad", "gradcheck", "cat", "stack", "where", "maximum", "minimum", "ops",
    "nn", "optim", "io", "viz", "train", "summary", "check", "checkpoint", "save", "load",
]
