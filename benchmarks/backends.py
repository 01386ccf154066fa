"""The backends: one network, one algorithm, four implementations.

Every backend trains Nielsen's chapter-1 network (sigmoid MLP, quadratic cost
C = 1/2 * sum ||a - y||^2 summed over the mini-batch, plain SGD w -= (eta / m) * dC/dw) and
exposes the same three calls, so the harness can time them interchangeably:

    setup(params, dtype)   copy the initial float64 weights into the backend's own form (untimed)
    step(x, y, lr)         one SGD step on a mini-batch of NumPy rows; lr is eta / len(x)
    weights()              the current weights as float64 NumPy (W (out, in), b (out,))

Mini-batches arrive as NumPy arrays (row batches, already shuffled and sliced by the harness), so
wrapping them (``Tensor.from_numpy(x)``, ``torch.from_numpy(x)``, both without a copy) is part of
each framework's cost, as it is for a user with a NumPy data loader.

Register a new backend with ``@register("name")``; ``create(name)`` instantiates it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .data import Params

BACKENDS: dict[str, type[Backend]] = {}


def register(name: str) -> Callable[[type[Backend]], type[Backend]]:
    """Class decorator: make a backend available to the harness under ``name``."""

    def add(cls: type[Backend]) -> type[Backend]:
        cls.name = name
        BACKENDS[name] = cls
        return cls

    return add


def create(name: str) -> Backend:
    if name not in BACKENDS:
        raise KeyError(f"unknown backend {name!r}; registered: {', '.join(BACKENDS)}")
    return BACKENDS[name]()


class Backend:
    """The interface; subclasses fill in the three calls."""

    name = "?"
    description = ""

    @classmethod
    def unavailable(cls) -> str | None:
        """None when the backend can run here, else why not (a missing import, say)."""
        return None

    def setup(self, params: Params, dtype: str) -> None:
        raise NotImplementedError

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> None:
        raise NotImplementedError

    def weights(self) -> Params:
        raise NotImplementedError


def sigmoid(z: np.ndarray) -> np.ndarray:
    # NOTE: exp(-z) overflows to inf for very negative z (float32 sooner); 1 / inf = 0 is the
    # right answer, so the harness runs under np.errstate(over="ignore").
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------------------------
# (b) the floor: hand-written vectorized NumPy backprop, row batches
# --------------------------------------------------------------------------------------------


@register("numpy")
class NumpyBackend(Backend):
    """Vectorized backprop by hand: the speed any NumPy-based engine is measured against.

    NOTE: written the way a performance-aware NumPy programmer would (a fresh array per result,
    updated in place where that saves an allocation), so it is a floor, not a straw man.
    """

    description = "hand-written vectorized backprop (row batches)"

    def setup(self, params: Params, dtype: str) -> None:
        self.params = [(w.astype(dtype), b.astype(dtype)) for w, b in params]

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> None:
        activations = [x]
        for w, b in self.params:
            z = activations[-1] @ w.T
            z += b
            activations.append(sigmoid_(z))
        a = activations[-1]
        delta = a - y
        delta *= sigmoid_prime(a)
        grads = []
        for layer in range(len(self.params) - 1, -1, -1):
            a_prev = activations[layer]
            grads.append((delta.T @ a_prev, delta.sum(axis=0)))
            if layer > 0:
                delta = delta @ self.params[layer][0]
                delta *= sigmoid_prime(a_prev)
        for (w, b), (dw, db) in zip(self.params, reversed(grads), strict=True):
            dw *= lr
            w -= dw
            db *= lr
            b -= db

    def weights(self) -> Params:
        return [(w.astype(np.float64), b.astype(np.float64)) for w, b in self.params]


def sigmoid_(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)), overwriting ``z``."""
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    return np.reciprocal(z, out=z)


def sigmoid_prime(a: np.ndarray) -> np.ndarray:
    """sigmoid'(z) from a = sigmoid(z): a * (1 - a)."""
    d = 1.0 - a
    d *= a
    return d


# --------------------------------------------------------------------------------------------
# (d) the textbook: Nielsen's network.py, one example (a column vector) at a time
# --------------------------------------------------------------------------------------------


@register("loop")
class NielsenLoopBackend(Backend):
    """network.py's ``update_mini_batch``/``backprop``: per-example column vectors, summed."""

    description = "Nielsen network.py per-example loop (column vectors)"

    def setup(self, params: Params, dtype: str) -> None:
        self.params = [(w.astype(dtype), b.astype(dtype).reshape(-1, 1)) for w, b in params]

    def backprop(self, x: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        activations = [x]
        for w, b in self.params:
            activations.append(sigmoid(w @ activations[-1] + b))
        a = activations[-1]
        delta = (a - y) * a * (1 - a)
        nabla = []
        for layer in range(len(self.params) - 1, -1, -1):
            a_prev = activations[layer]
            nabla.append((delta @ a_prev.T, delta))
            if layer > 0:
                delta = (self.params[layer][0].T @ delta) * a_prev * (1 - a_prev)
        return nabla[::-1]

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> None:
        nabla = [(np.zeros_like(w), np.zeros_like(b)) for w, b in self.params]
        for xi, yi in zip(x, y, strict=True):
            for (nw, nb), (dw, db) in zip(
                nabla, self.backprop(xi[:, None], yi[:, None]), strict=True
            ):
                nw += dw
                nb += db
        for (w, b), (nw, nb) in zip(self.params, nabla, strict=True):
            w -= lr * nw
            b -= lr * nb

    def weights(self) -> Params:
        return [(w.astype(np.float64), b.astype(np.float64).ravel()) for w, b in self.params]


# --------------------------------------------------------------------------------------------
# (a) tinygrad_nn: autograd with the primitives the engine exposes
# --------------------------------------------------------------------------------------------


@register("tinygrad")
class TinygradBackend(Backend):
    """tinygrad_nn Tensors, ``F.linear`` + ``sigmoid``, the fused quadratic cost
    ``F.sum_squared_error(a, y, 0.5)``, ``backward()``, manual SGD on ``.data``."""

    description = "tinygrad_nn autograd (F.linear, sigmoid, fused squared error, manual SGD)"

    @classmethod
    def unavailable(cls) -> str | None:
        try:
            import tinygrad_nn.nn.functional  # noqa: F401
        except Exception as e:  # the engine is being written concurrently; report, don't crash
            return f"tinygrad_nn not importable: {type(e).__name__}: {e}"
        return None

    def setup(self, params: Params, dtype: str) -> None:
        from tinygrad_nn import Tensor
        from tinygrad_nn.nn import functional as F

        # NOTE: Tensor.from_numpy wraps without copying, as torch.from_numpy does in the torch
        # backend; Tensor(x) would copy every mini-batch.
        self.wrap, self.linear, self.cost = Tensor.from_numpy, F.linear, F.sum_squared_error
        self.params = [
            (
                Tensor(w.astype(dtype), requires_grad=True),
                Tensor(b.astype(dtype), requires_grad=True),
            )
            for w, b in params
        ]

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> None:
        a = self.wrap(x)
        for w, b in self.params:
            a = self.linear(a, w, b).sigmoid()
        loss = self.cost(a, self.wrap(y), 0.5)  # one node: each framework's fastest spelling
        loss.backward()
        for w, b in self.params:
            for p in (w, b):
                # NOTE: scaled in place and dropped: the same allocation-free update as the floor's
                grad = p.grad.data
                grad *= lr
                p.data -= grad
                p.grad = None

    def weights(self) -> Params:
        return [(w.data.astype(np.float64), b.data.astype(np.float64)) for w, b in self.params]


@register("tinygrad-nn")
class TinygradModuleBackend(Backend):
    """The same network the idiomatic way: ``nn.Sequential``, ``nn.QuadraticCost(reduction=
    "sum")`` (a fused loss) and ``optim.SGD`` with lr = eta / m; shows what the Module and
    Optimizer layers cost on top of the engine."""

    description = "tinygrad_nn nn.Sequential + QuadraticCost + optim.SGD"

    @classmethod
    def unavailable(cls) -> str | None:
        try:
            import tinygrad_nn.nn  # noqa: F401
            import tinygrad_nn.optim  # noqa: F401
        except Exception as e:  # nn/optim are written concurrently with the engine
            return f"tinygrad_nn.nn / .optim not importable: {type(e).__name__}: {e}"
        return None

    def setup(self, params: Params, dtype: str) -> None:
        from tinygrad_nn import Tensor, nn, optim

        layers = []
        for w, b in params:
            linear = nn.Linear(w.shape[1], w.shape[0], dtype=dtype)
            linear.weight.data[...] = w
            linear.bias.data[...] = b
            layers += [linear, nn.Sigmoid()]
        self.model = nn.Sequential(*layers)
        self.cost = nn.QuadraticCost(reduction="sum")
        self.optimizer = optim.SGD(self.model.parameters(), lr=1.0)
        self.wrap = Tensor.from_numpy

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> None:
        self.optimizer.param_groups[0]["lr"] = lr  # eta / len(mini-batch): the last may be short
        self.optimizer.zero_grad()
        self.cost(self.model(self.wrap(x)), self.wrap(y)).backward()
        self.optimizer.step()

    def weights(self) -> Params:
        linears = self.model.layers[::2]
        return [(m.weight.data.astype(np.float64), m.bias.data.astype(np.float64)) for m in linears]


@register("api")
class PublicApiBackend(Backend):
    """The step exactly as issue #14 writes it: ``nn.Linear`` layers, ``.sigmoid()``, the loss
    ``(diff * diff).sum() * (0.5 / m)``, ``optim.SGD(lr=eta)``, zero_grad/backward/step."""

    description = "public API step, eager (nn.Linear, .sigmoid(), (d*d).sum()*(0.5/m), SGD)"
    compiled = False

    @classmethod
    def unavailable(cls) -> str | None:
        return TinygradModuleBackend.unavailable()

    def setup(self, params: Params, dtype: str) -> None:
        import tinygrad_nn as tg
        from tinygrad_nn import nn, optim

        self.layers = []
        for w, b in params:
            linear = nn.Linear(w.shape[1], w.shape[0], dtype=dtype)
            linear.weight.data[...] = w
            linear.bias.data[...] = b
            self.layers.append(linear)
        self.opt = optim.SGD([p for layer in self.layers for p in layer.parameters()], lr=1.0)
        wrap = tg.Tensor.from_numpy
        layers, opt = self.layers, self.opt

        def train_step(x: np.ndarray, y: np.ndarray) -> object:
            opt.zero_grad()
            a = wrap(x)
            for layer in layers:
                a = layer(a).sigmoid()
            diff = a - wrap(y)
            loss = (diff * diff).sum() * (0.5 / len(x))
            loss.backward()
            opt.step()
            return loss

        self.train_step = tg.compile(train_step) if self.compiled else train_step

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> None:
        self.opt.param_groups[0]["lr"] = lr * len(x)  # eta: the loss is already a mean
        self.train_step(x, y)

    def weights(self) -> Params:
        return [(m.weight.data.astype(np.float64), m.bias.data.astype(np.float64))
                for m in self.layers]


@register("api-compiled")
class PublicApiCompiledBackend(PublicApiBackend):
    """The same step through ``tg.compile`` (traced once per mini-batch shape, then replayed)."""

    description = "public API step, tg.compile"
    compiled = True


# --------------------------------------------------------------------------------------------
# (c) PyTorch CPU: plain autograd, manual SGD (the same update torch.optim.SGD performs)
# --------------------------------------------------------------------------------------------


@register("torch")
class TorchBackend(Backend):
    """PyTorch eager autograd on CPU, ``F.linear`` + ``sigmoid``, manual SGD under no_grad."""

    description = "PyTorch CPU autograd (F.linear, sigmoid, manual SGD)"

    @classmethod
    def unavailable(cls) -> str | None:
        try:
            import torch  # noqa: F401
        except ImportError as e:
            return f"torch not installed: {e}"
        return None

    def setup(self, params: Params, dtype: str) -> None:
        import torch

        self.torch = torch
        self.params = [
            (
                torch.tensor(w.astype(dtype), requires_grad=True),
                torch.tensor(b.astype(dtype), requires_grad=True),
            )
            for w, b in params
        ]

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> None:
        torch = self.torch
        a = torch.from_numpy(x)
        for w, b in self.params:
            a = torch.sigmoid(torch.nn.functional.linear(a, w, b))
        # torch's fastest spelling of the same cost: the fused mse_loss node, then the scale
        loss = torch.nn.functional.mse_loss(a, torch.from_numpy(y), reduction="sum") * 0.5
        loss.backward()
        with torch.no_grad():
            for w, b in self.params:
                for p in (w, b):
                    p.add_(p.grad, alpha=-lr)  # what torch.optim.SGD does, without a temporary
                    p.grad = None

    def weights(self) -> Params:
        return [
            (w.detach().numpy().astype(np.float64), b.detach().numpy().astype(np.float64))
            for w, b in self.params
        ]
