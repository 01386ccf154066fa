"""Layers: Linear, activations, Dropout, BatchNorm1d, Maxout, Sequential and MLP.

Every layer can describe itself with ``spec()`` (a dict of JSON-friendly values) that
``tinygrad_nn.nn.build`` turns back into the same architecture; see spec.py for the fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .. import autograd, ops
from ..tensor import Tensor, as_generator, default_rng, get_default_dtype
from ..validation import (
    BadArgumentType,
    BadArgumentValue,
    check_bool,
    check_number,
    check_positive_int,
)
from . import functional as nnf
from . import init as nn_init
from .init import Generator
from .module import Buffer, Module, Parameter


def check_input_dtype(layer: Module, x: Any, weight: Tensor) -> None:
    """A float input of another dtype than the layer's parameters is an error, as in PyTorch:
    never a silent promotion of the whole network to float64 (or a silent cast down)."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype != weight.dtype and dtype.kind == "f":
        name = type(layer).__name__
        fix = ("x.float()", "model.double()") if weight.dtype == np.float32 else \
            ("x.double()", "model.float()")
        raise TypeError(f"{name}: the input is {dtype} but the layer's parameters are "
                        f"{weight.dtype}; convert the input ({fix[0]}) or the model "
                        f"({fix[1]}) so they match")


# ============================================================================================
# affine
# ============================================================================================


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features) (PyTorch).

    ``init`` names a scheme in ``nn.init.SCHEMES`` ("pytorch", "nielsen", "nielsen_large",
    "rashid", "xavier", "kaiming", ...) or is a callable ``init(weight, bias, generator)``.
    Nielsen and Rashid store biases as (out, 1) columns; here a bias is (out,): transfer with
    ``b.ravel()``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init: str | nn_init.Scheme = "pytorch", dtype: Any = None,
                 generator: Generator = None):
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features", "Linear")
        self.out_features = check_positive_int(out_features, "out_features", "Linear")
        check_bool(bias, "bias", "Linear")
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        scheme = nn_init.get_scheme(init)
        self.init = init if isinstance(init, str) else None  # a custom callable has no name
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype))
        self.bias = Parameter(np.empty(self.out_features, dtype)) if bias else None
        scheme(self.weight, self.bias, as_generator(generator))

    def forward(self, x: Tensor) -> Tensor:
        if type(x) is Tensor and x.dtype is not self.weight.dtype:  # one check on the fast path
            check_input_dtype(self, x, self.weight)
        return nnf.linear(x, self.weight, self.bias)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # NOTE: the fast path skips Module.__call__ -> forward -> F.linear (~1 us of Python per
        # layer at small batches); it is taken only when that chain would do exactly the same.
        if (len(args) == 1 and not kwargs and type(self) is Linear
                and not self._forward_pre_hooks and not self._forward_hooks
                and autograd._tracer is None):
            x, weight, bias = args[0], self.weight, self.bias
            if isinstance(x, Tensor) and x.data.dtype is weight.data.dtype:
                if bias is None:
                    return ops.Linear.apply(x, weight)
                return ops.Linear.apply(x, weight, bias)
        return super().__call__(*args, **kwargs)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"type": "Linear", "in": self.in_features,
                                "out": self.out_features, "bias": self.bias is not None}
        if self.init is not None:
            spec["init"] = self.init
        return spec


def in_out_features(model: Module) -> tuple[int, int]:
    """(inputs, outputs) of a model: the first Linear's in_features, the last's out_features."""
    linears = [m for _, m in model.named_modules() if isinstance(m, Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no Linear layer to take the number of "
                         "inputs and outputs from")
    return linears[0].in_features, linears[-1].out_features


class Maxout(Module):
    """Maxout (Goodfellow et al. 2013): out_features units, each the max of ``pieces`` affine
    functions of the input. ``weight`` is (out_features * pieces, in_features); rows
    j*pieces ... (j+1)*pieces - 1 are unit j's pieces. Tied maxima share the gradient."""

    def __init__(self, in_features: int, out_features: int, pieces: int,
                 init: str | nn_init.Scheme = "pytorch", dtype: Any = None,
                 generator: Generator = None):
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features", "Maxout")
        self.out_features = check_positive_int(out_features, "out_features", "Maxout")
        self.pieces = check_positive_int(pieces, "pieces", "Maxout")
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        self.init = init if isinstance(init, str) else None
        rows = self.out_features * self.pieces
        self.weight = Parameter(np.empty((rows, self.in_features), dtype))
        self.bias = Parameter(np.empty(rows, dtype))
        nn_init.get_scheme(init)(self.weight, self.bias, as_generator(generator))

    def forward(self, x: Tensor) -> Tensor:
        z = nnf.linear(x, self.weight, self.bias)
        return z.reshape(z.shape[:-1] + (self.out_features, self.pieces)).max(axis=-1)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pieces={self.pieces}")

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"type": "Maxout", "in": self.in_features,
                                "out": self.out_features, "pieces": self.pieces}
        if self.init is not None:
            spec["init"] = self.init
        return spec


# ============================================================================================
# activations and reshaping (no state)
# ============================================================================================


class _Stateless(Module):
    """A layer whose spec is just its type name."""

    def spec(self) -> dict[str, Any]:
        return {"type": type(self).__name__}


class ReLU(_Stateless):
    """max(x, 0); relu'(0) = 0 (PyTorch)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class Sigmoid(_Stateless):
    """1 / (1 + exp(-x))."""

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class Tanh(_Stateless):
    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class Identity(_Stateless):
    """Returns its input (a placeholder, e.g. "no output activation")."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = float(check_number(negative_slope, "negative_slope", "LeakyReLU"))

    def forward(self, x: Tensor) -> Tensor:
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"

    def spec(self) -> dict[str, Any]:
        return {"type": "LeakyReLU", "negative_slope": self.negative_slope}


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``axis`` (PyTorch's ``dim``)."""

    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = int(check_number(axis, "axis", type(self).__name__, integer=True))

    def forward(self, x: Tensor) -> Tensor:
        return x.softmax(self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"

    def spec(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "axis": self.axis}


class LogSoftmax(Softmax):
    """log(softmax(x)) along ``axis``, computed stably in one op."""

    def forward(self, x: Tensor) -> Tensor:
        return x.log_softmax(self.axis)


class Flatten(Module):
    """Merge axes start_axis..end_axis into one (default: all but the batch axis)."""

    def __init__(self, start_dim: int | None = None, end_dim: int | None = None, *,
                 start_axis: int | None = None, end_axis: int | None = None):
        super().__init__()
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim),
                            ("start_axis", start_axis), ("end_axis", end_axis)):
            if value is not None:
                check_number(value, name, "Flatten", integer=True)
        start = start_axis if start_dim is None else start_dim  # torch's names, or NumPy's
        end = end_axis if end_dim is None else end_dim
        self.start_axis = 1 if start is None else int(start)
        self.end_axis = -1 if end is None else int(end)

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_axis, self.end_axis)

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"

    def spec(self) -> dict[str, Any]:
        return {"type": "Flatten", "start_axis": self.start_axis, "end_axis": self.end_axis}


# ============================================================================================
# regularization and normalization
# ============================================================================================


class Dropout(Module):
    """Inverted dropout with DROP probability ``p`` (PyTorch's meaning; CS231n's assignments
    used a keep probability in some years): survivors are scaled by 1/(1 - p) in training;
    the identity in eval mode.

    ``generator``: a numpy Generator or int seed for reproducible masks (default: the library
    generator, seeded by ``tinygrad_nn.manual_seed``). To apply a given keep-mask instead (to
    reproduce a reference's draw), use ``nn.functional.dropout(x, p, mask=...)``, or a forward
    hook as ``compare.batch.fix_dropout_masks`` does.
    """

    def __init__(self, p: float = 0.5, generator: Generator = None):
        super().__init__()
        self.p = float(check_number(p, "p (the drop probability)", type(self).__name__, low=0,
                                    high=1))
        self.generator = as_generator(generator)

    def forward(self, x: Tensor) -> Tensor:
        return nnf.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def spec(self) -> dict[str, Any]:
        return {"type": "Dropout", "p": self.p}


class BatchNorm1d(Module):
    """Batch normalization over (N, C) or (N, C, L) inputs, PyTorch's semantics:

    - training: normalize with the batch mean and BIASED variance (divide by n);
    - running stats: running = (1 - momentum) * running + momentum * batch, so momentum=0.1
      weights the NEW batch (CS231n's momentum=0.9 weights the OLD value: the same rule with
      momentum 0.1 here); running_var is updated with the UNBIASED variance (n - 1);
      momentum=None gives the cumulative average over all batches seen;
    - eval: normalize with the running stats (or batch stats if track_running_stats=False).

    Composed from Tensor ops, so it needs no gradient code.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype: Any = None):
        super().__init__()
        op = type(self).__name__
        self.num_features = check_positive_int(num_features, "num_features", op)
        self.eps = float(check_number(eps, "eps", op, low=0))
        if momentum is not None:
            momentum = float(check_number(momentum, "momentum", op, low=0, high=1))
        self.momentum = momentum
        self.affine = check_bool(affine, "affine", op)
        self.track_running_stats = check_bool(track_running_stats, "track_running_stats", op)
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        # None (not absent) when switched off, as in PyTorch: ``bn.weight is None`` works.
        self.weight = Parameter(np.ones(num_features, dtype)) if self.affine else None
        self.bias = Parameter(np.zeros(num_features, dtype)) if self.affine else None
        self.running_mean: Buffer | None = None
        self.running_var: Buffer | None = None
        self.num_batches_tracked: Buffer | None = None
        if self.track_running_stats:
            self.running_mean = Buffer(np.zeros(num_features, dtype))
            self.running_var = Buffer(np.ones(num_features, dtype))
            self.num_batches_tracked = Buffer(np.array(0, dtype=np.int64))

    def _axes_and_shape(self, x: Tensor) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The axes to reduce over and the shape that broadcasts per-feature values."""
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d: expected input of shape (N, {self.num_features}) or "
                             f"(N, {self.num_features}, L), got {x.shape} {x.dtype}")
        if x.ndim == 2:
            return (0,), (self.num_features,)
        return (0, 2), (self.num_features, 1)

    def forward(self, x: Tensor) -> Tensor:
        if self.weight is not None:
            check_input_dtype(self, x, self.weight)
        axes, shape = self._axes_and_shape(x)
        use_batch = self.training or not self.track_running_stats
        if use_batch:
            n = int(np.prod([x.shape[a] for a in axes]))  # values per feature
            if self.training and n <= 1:
                raise ValueError(f"{type(self).__name__}: expected more than 1 value per "
                                 f"feature when training, got input of shape {x.shape}")
            mean = x.mean(axis=axes, keepdims=True)
            centered = x - mean
            var = (centered * centered).mean(axis=axes, keepdims=True)  # biased, as PyTorch
            if self.training and self.track_running_stats:
                self._update_running(mean.data, var.data, n)
        else:
            centered = x - self.running_mean.data.reshape(shape)
            var = Tensor.from_numpy(self.running_var.data.reshape(shape))
        out = centered / (var + self.eps).sqrt()
        if self.affine:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        return out

    def _update_running(self, mean: np.ndarray, var: np.ndarray, n: int) -> None:
        """Plain ndarray arithmetic: the running statistics are never part of the graph."""
        self.num_batches_tracked.data += 1
        if self.momentum is None:
            factor = 1.0 / float(self.num_batches_tracked.data)
        else:
            factor = self.momentum
        unbiased = var.reshape(-1) * (n / (n - 1))
        # NOTE: updated in place, so references to the buffers (e.g. a viz) stay valid.
        self.running_mean.data *= 1.0 - factor
        self.running_mean.data += factor * mean.reshape(-1)
        self.running_var.data *= 1.0 - factor
        self.running_var.data += factor * unbiased

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")

    def spec(self) -> dict[str, Any]:
        return {"type": "BatchNorm1d", "num_features": self.num_features, "eps": self.eps,
                "momentum": self.momentum, "affine": self.affine,
                "track_running_stats": self.track_running_stats}


# ============================================================================================
# containers
# ============================================================================================


class Sequential(Module):
    """Layers applied in order; indexable, sliceable, iterable; parameters named ``0.weight``,
    ``1.bias``, ... by position, as in PyTorch."""

    def __init__(self, *layers: Module):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} is a {type(layer).__name__}, "
                                "not a Module")
        self.layers: list[Module] = list(layers)

    def _members(self) -> Iterator[tuple[str, Any]]:
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def append(self, layer: Module) -> Sequential:
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.append: expected a Module, got {type(layer).__name__}")
        self.layers.append(layer)
        return self

    def spec(self) -> dict[str, Any]:
        return {"type": "Sequential", "layers": [layer.spec() for layer in self.layers]}


ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
}
OUTPUT_ACTIVATIONS: dict[str, type[Module]] = {
    **ACTIVATIONS,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
}


def _activation(table: dict[str, type[Module]], field: str, name: str) -> Module:
    if not isinstance(name, str) or name not in table:
        raise BadArgumentValue(f'MLP: {field} "{name}" is unknown; allowed: {", ".join(table)}',
                               field)
    return table[name]()


class MLP(Sequential):
    """A fully connected network from a list of layer sizes: a Sequential of

        [Linear -> (BatchNorm1d) -> activation -> (Dropout)] for each hidden layer,
        Linear -> (output_activation)

    which is CS231n's {affine - [batchnorm] - relu - [dropout]} x (L-1) - affine.

    NOTE: ``activation`` applies to the HIDDEN layers only; the output is raw scores (logits,
    what cross_entropy expects) unless ``output_activation`` is given. Nielsen's networks have a
    sigmoid on every layer including the output, so they are::

        MLP([784, 30, 10], activation="sigmoid", output_activation="sigmoid", init="nielsen")
        # ch. 1 network.py: init="nielsen_large"   (N(0, 1) weights and biases)
        # ch. 3 network2.py: init="nielsen"        (N(0, 1/fan_in) weights, N(0, 1) biases)

    and Rashid's is ``MLP([784, 200, 10], activation="sigmoid", output_activation="sigmoid",
    init="rashid", bias=False)``. ``dropout`` is the drop probability after each hidden
    activation. ``linears`` lists the Linear layers in order (for weight transfer).
    """

    def __init__(self, sizes: Sequence[int], activation: str = "relu",
                 output_activation: str | None = None, dropout: float = 0.0,
                 batchnorm: bool = False, init: str | nn_init.Scheme = "pytorch",
                 bias: bool = True, dtype: Any = None, generator: Generator = None):
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Iterable):
            raise BadArgumentType(f"MLP: sizes must be a list of ints (input, hidden..., "
                                  f"output), got {sizes!r}", "sizes")
        sizes = list(sizes)
        if len(sizes) < 2:
            raise BadArgumentValue(f"MLP: sizes needs at least an input and an output size, "
                                   f"got {sizes}", "sizes")
        for i, s in enumerate(sizes):
            check_positive_int(s, f"sizes[{i}]", "MLP")
        _activation(ACTIVATIONS, "activation", activation)  # fail early, even with no hidden
        if output_activation not in (None, "none"):
            _activation(OUTPUT_ACTIVATIONS, "output_activation", output_activation)
        check_number(dropout, "dropout (the drop probability)", "MLP", low=0, high=1,
                     high_open=True)
        check_bool(batchnorm, "batchnorm", "MLP")
        check_bool(bias, "bias", "MLP")
        rng = as_generator(generator)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(Linear(n_in, n_out, bias=bias, init=init, dtype=dtype, generator=rng))
            if i == len(sizes) - 2:
                break
            if batchnorm:
                layers.append(BatchNorm1d(n_out, dtype=dtype))
            layers.append(_activation(ACTIVATIONS, "activation", activation))
            if dropout > 0.0:
                layers.append(Dropout(dropout, generator=rng))
        if output_activation not in (None, "none"):
            layers.append(_activation(OUTPUT_ACTIVATIONS, "output_activation",
                                      output_activation))
        super().__init__(*layers)
        self._config: dict[str, Any] = {
            "sizes": [int(s) for s in sizes], "activation": activation,
            "output_activation": None if output_activation == "none" else output_activation,
            "dropout": float(dropout), "batchnorm": bool(batchnorm), "bias": bool(bias),
        }
        if isinstance(init, str):
            self._config["init"] = init
        self._built_layers = list(self.layers)

    @property
    def linears(self) -> list[Linear]:
        """The Linear layers, input to output."""
        return [layer for layer in self.layers if isinstance(layer, Linear)]

    @property
    def sizes(self) -> list[int]:
        return list(self._config["sizes"])

    def spec(self) -> dict[str, Any]:
        """The compact MLP form, or the general layer list if layers were changed since."""
        if self.layers != self._built_layers:
            return {"type": "Sequential", "layers": [layer.spec() for layer in self.layers]}
        return {"type": "MLP", **self._config}


# ============================================================================================
# more of PyTorch's layers (issue #12): activations, shape, normalization, lookup
# ============================================================================================


class GELU(Module):
    """x Phi(x) (``approximate="tanh"``: PyTorch's tanh approximation)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return nnf.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x sigmoid(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return nnf.silu(x)


class ELU(Module):
    """x where x > 0, else alpha (e^x - 1)."""

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x: Tensor) -> Tensor:
        return nnf.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """log(1 + exp(beta x)) / beta (x itself where beta x > threshold)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, x: Tensor) -> Tensor:
        return nnf.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size`` (the inverse of Flatten)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]):
        super().__init__()
        self.dim, self.unflattened_size = int(dim), tuple(int(s) for s in unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        d = self.dim % x.ndim
        return x.reshape(x.shape[:d] + self.unflattened_size + x.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class LayerNorm(Module):
    """Normalize over the last ``normalized_shape`` axes of each example (biased variance),
    then scale by ``weight`` (ones) and shift by ``bias`` (zeros), as torch.nn.LayerNorm."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype: Any = None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = float(eps)
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        affine = elementwise_affine
        self.weight = Parameter(np.ones(self.normalized_shape, dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype)) if affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        if self.weight is not None:
            check_input_dtype(self, x, self.weight)
        return nnf.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.weight is not None}")


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` (num_embeddings, embedding_dim) for index i,
    initialized N(0, 1) as in PyTorch."""

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype: Any = None,
                 generator: Generator = None):
        super().__init__()
        self.num_embeddings = check_positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = check_positive_int(embedding_dim, "embedding_dim", "Embedding")
        dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
        rng = default_rng(generator)
        self.weight = Parameter(rng.standard_normal((self.num_embeddings,
                                                     self.embedding_dim)).astype(dtype))

    def forward(self, indices: Any) -> Tensor:
        return nnf.embedding(indices, self.weight)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
