"""Check a learner's Nielsen-style network: their ``backprop(x, y)`` against autodiff, per layer.

The network object is the one of "Neural Networks and Deep Learning" (network.py / network2.py):
``net.weights[l]`` of shape (n_out, n_in), ``net.biases[l]`` of shape (n_out, 1), sigmoid
neurons, and ``net.backprop(x, y) -> (nabla_b, nabla_w)`` for one column-vector example. The
same network is built from Tensors for autodiff; central differences on a seeded sample of
entries come from a plain NumPy forward pass. The learner's object and arrays are not modified.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..autograd import grad
from ..tensor import Tensor
from .diagnose import diagnose
from .layer import central_differences, disagreement_note
from .report import GradientCheck, Report

COSTS = ("quadratic", "cross-entropy")


def network(net: Any, x: Any, y: Any, cost: Any = None, lmbda: float = 0.0, n: int = 1, *,
            numeric: int = 20, seed: int = 0) -> Report:
    """Check ``net.backprop(x, y)`` against autodiff of the cost for that one example.

    ``cost``: ``"quadratic"`` (½‖a - y‖²), ``"cross-entropy"`` (-Σ y ln a + (1 - y) ln(1 - a)),
    one of Nielsen's cost classes, or None for ``net.cost`` when the network has one (else
    quadratic). ``lmbda`` and ``n`` add his L2 term (λ/2n)Σw² (only if the learner's backprop
    includes it: his network2 applies it in update_mini_batch instead). ``numeric`` entries per
    parameter are also checked by central differences. The report names the first wrong layer
    from the output, where to start fixing: errors propagate towards the input.
    """
    what = f"check.network({type(net).__name__})"
    cost_name = _cost_name(what, net if cost is None else cost, explicit=cost is not None)
    weights, biases = _parameters(what, net)
    x = np.array(x, dtype=np.float64)
    y = np.array(y, dtype=np.float64)
    if x.shape != (weights[0].shape[1], 1) or y.shape != (weights[-1].shape[0], 1):
        raise ValueError(f"{what}: x must be a column of shape ({weights[0].shape[1]}, 1) and "
                         f"y of shape ({weights[-1].shape[0]}, 1); got {x.shape} and {y.shape}")
    learner = copy.copy(net)  # their backprop runs on copies of the arrays
    learner.weights = [w.copy() for w in weights]
    learner.biases = [b.copy() for b in biases]
    nabla_b, nabla_w = _returned(what, learner.backprop(x.copy(), y.copy()), weights, biases)

    def cost_of(ws: list[Any], bs: list[Any]) -> Any:
        a: Any = Tensor(x) if isinstance(ws[0], Tensor) else x
        for w, b in zip(ws, bs):
            a = w @ a + b
            a = a.sigmoid() if isinstance(a, Tensor) else 1.0 / (1.0 + np.exp(-a))
        if cost_name == "quadratic":
            c = 0.5 * ((a - y) ** 2).sum()
        else:
            c = -(y * a.log() + (1 - y) * (1 - a).log()).sum() if isinstance(a, Tensor) \
                else -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a))
        if lmbda:
            c = c + (lmbda / (2 * n)) * sum((w * w).sum() for w in ws)
        return c

    wt = [Tensor(w, requires_grad=True) for w in weights]
    bt = [Tensor(b, requires_grad=True) for b in biases]
    true = [g.data for g in grad(cost_of(wt, bt), [*bt, *wt])]
    true_b, true_w = true[:len(bt)], true[len(bt):]
    rng = np.random.default_rng(seed)
    zs = _pre_activations(x, weights, biases)
    rows: list[GradientCheck] = []
    arrays, n_layers = [*weights, *biases], len(weights)

    def objective(*values: np.ndarray) -> float:
        return float(cost_of(list(values[:n_layers]), list(values[n_layers:])))

    for layer in range(n_layers):
        label = f"layer {layer + 1} ({weights[layer].shape[1]}->{weights[layer].shape[0]})"
        for kind, mine, auto, index in (("nabla_b", nabla_b, true_b, n_layers + layer),
                                        ("nabla_w", nabla_w, true_w, layer)):
            numbers = (central_differences(objective, arrays, index, numeric, rng)[0]
                       if numeric > 0 else None)
            rows.append(GradientCheck(f"{label} {kind}", mine[layer], auto[layer], numbers))
    first_wrong = None
    for r in reversed(rows):  # from the output
        if not r.ok:
            layer = int(r.name.split()[1]) - 1
            first_wrong = first_wrong or r.name.rsplit(" ", 1)[0]
            s = 1.0 / (1.0 + np.exp(-zs[layer]))
            r.diagnosis = diagnose(r.manual, r.autodiff, name=r.name, derivatives={
                f"sigmoid:σ'(z) of layer {layer + 1}": s * (1 - s)})
    notes = [f"cost: {cost_name}" + (f", L2 lmbda={lmbda}, n={n}" if lmbda else "")
             + f"; central differences on up to {numeric} entries per parameter (seed {seed})"]
    for r in rows:
        disagreement_note(r, notes)
    title = f"{what}: sizes {[weights[0].shape[1]] + [w.shape[0] for w in weights]}, float64"
    return Report(title, rows, notes, first_wrong)


def _cost_name(what: str, cost: Any, explicit: bool) -> str:
    if not explicit:
        cost = getattr(cost, "cost", "quadratic")
    if isinstance(cost, str):
        if cost not in COSTS:
            raise ValueError(f"{what}: cost={cost!r}; expected one of {COSTS} or one of "
                             "Nielsen's cost classes")
        return cost
    name = getattr(cost, "__name__", type(cost).__name__).lower()
    for known in ("quadratic", "crossentropy"):
        if known in name:
            return "cross-entropy" if known == "crossentropy" else known
    raise ValueError(f"{what}: unknown cost {name!r}; pass cost='quadratic' or "
                     "'cross-entropy'")


def _parameters(what: str, net: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    for attribute in ("weights", "biases", "backprop"):
        if not hasattr(net, attribute):
            raise TypeError(f"{what}: the network has no .{attribute}; check.network expects "
                            "Nielsen's layout (net.weights, net.biases, net.backprop(x, y))")
    weights = [np.array(w, dtype=np.float64) for w in net.weights]
    biases = [np.array(b, dtype=np.float64) for b in net.biases]
    if len(weights) != len(biases) or not weights:
        raise ValueError(f"{what}: {len(weights)} weight matrices but {len(biases)} bias "
                         "vectors")
    for i, (w, b) in enumerate(zip(weights, biases)):
        if w.ndim != 2 or b.shape != (w.shape[0], 1):
            raise ValueError(f"{what}: layer {i + 1}: weights {w.shape} and biases {b.shape}; "
                             "expected (n_out, n_in) and (n_out, 1)")
        if i and w.shape[1] != weights[i - 1].shape[0]:
            raise ValueError(f"{what}: layer {i + 1}'s weights {w.shape} do not take layer "
                             f"{i}'s {weights[i - 1].shape[0]} outputs")
    return weights, biases


def _returned(what: str, result: Any, weights: list[np.ndarray],
              biases: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"{what}: backprop must return (nabla_b, nabla_w); it returned "
                        f"{type(result).__name__}")
    lists = []
    for label, got, like in (("nabla_b", result[0], biases), ("nabla_w", result[1], weights)):
        if not isinstance(got, (list, tuple)) or len(got) != len(like):
            count = len(got) if isinstance(got, (list, tuple)) else type(got).__name__
            raise ValueError(f"{what}: backprop's {label} must be a list of {len(like)} arrays "
                             f"(one per layer); got {count}")
        arrays = [np.asarray(g, dtype=np.float64) for g in got]
        for i, a in enumerate(arrays):
            if not np.all(np.isfinite(a)):
                raise ValueError(f"{what}: backprop's {label}[{i}] contains NaN or inf")
        lists.append(arrays)
    return lists[0], lists[1]


def _pre_activations(x: np.ndarray, weights: list[np.ndarray],
                     biases: list[np.ndarray]) -> list[np.ndarray]:
    zs, a = [], x
    for w, b in zip(weights, biases):
        zs.append(w @ a + b)
        a = 1.0 / (1.0 + np.exp(-zs[-1]))
    return zs
