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
    ValuesIndices,
    arange,
    as_tensor,
    from_numpy,
    linspace,
    randint,
    randperm,
    default_rng,
    eye,
    full,
    get_default_dtype,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    set_default_dtype,
    tensor,
    zeros,
    zeros_like,
)
from .autograd import enable_grad, grad, is_grad_enabled, no_grad
from .dtypes import bool, double, float, float16, float32, float64, half, int, int32, int64, long, uint8  # noqa: A004,E501
from .functional import (  # module-level ops, as torch.relu, torch.exp, ...
    abs, cat, ceil, chunk, clip, cos, cosh, diag, diagonal, einsum, elu, erf, exp, expm1, flip,
    floor, gather, gelu, index_select, log, log1p, log2, log10, log_softmax, logaddexp,
    logsumexp, masked_fill, matmul, maximum, mean, minimum, mish, norm, outer, pad, prod, relu,
    repeat, roll, round, sigmoid, sign, silu, sin, sinh, softmax, softplus, split, sqrt, stack,
    tan, tanh, tile, trace, tril, triu, where,
)
from . import autograd, dtypes, functional, ops
from .check import gradcheck
from . import nn, optim, io, viz, train  # noqa: E402,I001  (built on the engine above)
from .viz import summary  # noqa: E402
from .saving import load, save  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Tensor", "tensor", "zeros", "ones", "full", "eye", "arange", "randn", "rand",
    "zeros_like", "ones_like", "randn_like", "rand_like", "manual_seed", "default_rng",
    "set_default_dtype", "get_default_dtype", "no_grad", "enable_grad", "is_grad_enabled",
    "grad", "gradcheck", "cat", "stack", "where", "maximum", "minimum", "functional", "ops",
    "nn", "optim", "io", "viz", "train", "summary",
    # PyTorch's spellings (docs/from_pytorch.md)
    "ValuesIndices", "as_tensor", "from_numpy", "linspace", "randint", "randperm", "save",
    "load", "autograd", "dtypes", "bool", "double", "float", "float16", "float32", "float64",
    "half", "int", "int32", "int64", "long", "uint8",
    "abs", "ceil", "chunk", "clip", "cos", "cosh", "diag", "diagonal", "einsum", "elu", "erf",
    "exp", "expm1", "flip", "floor", "gather", "gelu", "index_select", "log", "log1p", "log2",
    "log10", "log_softmax", "logaddexp", "logsumexp", "masked_fill", "matmul", "mean", "mish",
    "norm", "outer", "pad", "prod", "relu", "repeat", "roll", "round", "sigmoid", "sign",
    "silu", "sin", "sinh", "softmax", "softplus", "split", "sqrt", "tan", "tanh", "tile",
    "trace", "tril", "triu",
]
