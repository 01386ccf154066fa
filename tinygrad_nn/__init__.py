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
    einsum,
    from_numpy,
    linspace,
    randint,
    randperm,
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
from . import autograd, dtypes, ops
from .dtypes import (  # noqa: A004  (PyTorch's names: tg.float32, tg.bool, ...)
    bool, double, float, float16, float32, float64, half, int, int32, int64, long, uint8,
)
from .gradcheck import gradcheck
from .threads import get_num_threads, set_num_threads
from . import nn, optim, checkpoint, io, viz, train, utils  # noqa: E402,I001  (built on the engine above)
from .checkpoint import load, save  # noqa: E402
from .jit import TraceError, compile  # noqa: E402  (tg.compile: issue #14)
from .viz import summary  # noqa: E402
from . import check  # noqa: E402  (your backprop vs autodiff: tg.check.layer, ...)

# torch.exp(x), torch.sum(x, dim=0), torch.max(x, 1), ...: the Tensor methods, as functions
abs = Tensor.abs  # noqa: A001
amax, amin, argmax, argmin = Tensor.amax, Tensor.amin, Tensor.argmax, Tensor.argmin
ceil, floor, round, sign = Tensor.ceil, Tensor.floor, Tensor.round, Tensor.sign  # noqa: A001
chunk, split, flip, roll = Tensor.chunk, Tensor.split, Tensor.flip, Tensor.roll
clamp = clip = Tensor.clip
cos, cosh, sin, sinh = Tensor.cos, Tensor.cosh, Tensor.sin, Tensor.sinh
tan, tanh, sigmoid, relu = Tensor.tan, Tensor.tanh, Tensor.sigmoid, Tensor.relu
cumsum, prod, sum, mean = Tensor.cumsum, Tensor.prod, Tensor.sum, Tensor.mean  # noqa: A001
diag, diagonal, trace = Tensor.diag, Tensor.diagonal, Tensor.trace
tril, triu = Tensor.tril, Tensor.triu
erf, exp, expm1, log, log1p = Tensor.erf, Tensor.exp, Tensor.expm1, Tensor.log, Tensor.log1p
log2, log10, sqrt, square = Tensor.log2, Tensor.log10, Tensor.sqrt, Tensor.square
gather, index_select, masked_fill = Tensor.gather, Tensor.index_select, Tensor.masked_fill
logaddexp, logsumexp, norm = Tensor.logaddexp, Tensor.logsumexp, Tensor.norm
matmul, mm, mv, outer = Tensor.matmul, Tensor.mm, Tensor.mv, Tensor.outer
max, min = Tensor.max, Tensor.min  # noqa: A001  (torch.max(x, dim) -> (values, indices))
softmax, log_softmax = Tensor.softmax, Tensor.log_softmax
std, var = Tensor.std, Tensor.var

from .version import __version__ as __version__  # noqa: E402

__all__ = [
    "Tensor", "tensor", "zeros", "ones", "full", "eye", "arange", "randn", "rand",
    "zeros_like", "ones_like", "randn_like", "rand_like", "manual_seed", "default_rng",
    "set_default_dtype", "get_default_dtype", "no_grad", "enable_grad", "is_grad_enabled",
    "grad", "gradcheck", "cat", "stack", "where", "maximum", "minimum", "ops",
    "nn", "optim", "io", "viz", "train", "summary", "check", "checkpoint", "save", "load",
    # PyTorch's spellings (docs/from_pytorch.md)
    "ValuesIndices", "as_tensor", "einsum", "from_numpy", "linspace", "randint", "randperm",
    "autograd", "dtypes", "utils", "bool", "double", "float", "float16", "float32", "float64",
    "half", "int", "int32", "int64", "long", "uint8",
    "abs", "amax", "amin", "argmax", "argmin", "ceil", "floor", "round", "sign", "chunk",
    "split", "flip", "roll", "clamp", "clip", "cos", "cosh", "sin", "sinh", "tan", "tanh",
    "cumsum", "prod", "sum", "mean", "diag", "diagonal", "trace", "tril", "triu", "erf", "exp",
    "expm1", "log", "log1p", "log2", "log10", "gather", "index_select", "masked_fill",
    "logaddexp", "logsumexp", "norm", "matmul", "mm", "mv", "outer", "max", "min", "relu",
    "sigmoid", "sqrt", "square", "softmax", "log_softmax", "std", "var",
    "set_num_threads", "get_num_threads", "compile", "TraceError",
]
