"""tinygrad_nn.nn: modules, layers, losses, initializers and declarative networks.

    >>> import tinygrad_nn as tg
    >>> from tinygrad_nn import nn
    >>> net = nn.build("784-30-10:sigmoid,out=sigmoid,init=nielsen")   # Nielsen's network2
    >>> [name for name, _ in net.named_parameters()][:2]
    ['0.weight', '0.bias']
    >>> loss = nn.functional.quadratic_cost(net(tg.zeros(5, 784)), tg.zeros(5, 10))
"""

from . import functional, init, utils
from .containers import ModuleDict, ModuleList
from .conv import (  # convolution and pooling layers (issue #17)
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Dropout2d,
    MaxPool2d,
)
from .layers import (
    ELU,
    GELU,
    MLP,
    BatchNorm1d,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    LogSoftmax,
    Maxout,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
    Unflatten,
)
from .losses import (
    LOSSES,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    MSELoss,
    NLLLoss,
    QuadraticCost,
    get_loss,
    takes_one_hot,
)
from .module import Buffer, LoadResult, Module, Parameter, RemovableHandle, StateDictError
from .spec import SpecError, build, load_spec, parse_spec_string, save_spec, spec_to_string

__all__ = [
    "Module", "Parameter", "Buffer", "RemovableHandle", "LoadResult", "StateDictError",
    "Linear", "Maxout", "ReLU", "Sigmoid", "Tanh", "LeakyReLU", "Softmax", "LogSoftmax",
    "Identity", "Flatten", "Dropout", "BatchNorm1d", "Sequential", "MLP",
    "MSELoss", "QuadraticCost", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
    "LOSSES", "get_loss", "takes_one_hot",
    "build", "load_spec", "parse_spec_string", "spec_to_string", "save_spec", "SpecError",
    "functional", "init",
    "ModuleList", "ModuleDict", "GELU", "SiLU", "ELU", "Softplus", "Unflatten", "LayerNorm",
    "Embedding", "utils",
]
__all__ += ["Conv2d", "Conv1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "BatchNorm2d",
            "Dropout2d"]
