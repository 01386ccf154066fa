"""Weight transfer between tinygrad_nn models and the hand-derived references' layouts.

The references in ``tinygrad_nn.reference`` keep their books' layouts, so the same network is
stored three ways (docs/backprop.md, "Conventions side by side"):

| reference | weights of layer l              | bias     | the model it corresponds to         |
|-----------|---------------------------------|----------|-------------------------------------|
| nielsen   | ``weights[l]`` (out, in)        | (out, 1) | [Linear, Sigmoid] x L               |
| cs231n    | ``W{l+1}`` (in, out) = weight.T | (out,)   | {Linear, [BatchNorm1d], ReLU,       |
|           | ``gamma{l+1}``, ``beta{l+1}``   |          |  [Dropout]} x (L-1), Linear         |
| rashid    | ``wih`` (hidden, in), ``who``   | none     | bias-free [Linear, Sigmoid] x 2     |

Every ``to_*`` returns float64 COPIES (the references run in float64); every ``from_*`` checks the
whole architecture and every shape before writing anything, then copies into the model's
parameters in place (an optimizer holding them keeps seeing them), cast to the model's dtype.
A mismatch raises ``ArchitectureError`` naming the layer and both shapes.

This module lives beside, not inside, ``tinygrad_nn/reference/``: the references import nothing
from the engine (so they cannot share its bugs), and transfer has to know both sides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .nn.layers import BatchNorm1d, Dropout, Linear, ReLU, Sequential, Sigmoid
from .nn.module import Module, Parameter, join_name

__all__ = [
    "ArchitectureError",
    "Slot",
    "cs231n_options",
    "flat_layers",
    "from_cs231n",
    "from_nielsen",
    "from_rashid",
    "layout",
    "to_cs231n",
    "to_nielsen",
    "to_rashid",
]

REFERENCES = ("nielsen", "cs231n", "rashid")


class ArchitectureError(ValueError):
    """The model is not the network a reference implements, or an array has the wrong shape."""


@dataclass(frozen=True)
class Slot:
    """One reference array and the model parameter it corresponds to.

    ``key`` is the reference's name (``weights[0]``, ``W1``, ``wih``), ``param`` the model's
    dotted parameter name (``0.weight``), ``form`` how the layouts differ: "same", "T" (CS231n's
    W is the transposed Linear weight) or "column" (Nielsen's bias is an (out, 1) column).
    """

    key: str
    param: str
    form: str
    layer: str  # the model layer, for error messages: "layer '2' (Linear 30 -> 10)"

    def to_reference(self, value: np.ndarray) -> np.ndarray:
        """The model-layout array in the reference's layout (a float64 copy)."""
        value = np.asarray(value, dtype=np.float64)
        if self.form == "T":
            return value.T.copy()
        if self.form == "column":
            return value.reshape(-1, 1).copy()
        return value.copy()

    def reference_shape(self, model_shape: tuple[int, ...]) -> tuple[int, ...]:
        if self.form == "T":
            return tuple(reversed(model_shape))
        if self.form == "column":
            return (model_shape[0], 1)
        return model_shape

    def to_model(self, value: np.ndarray) -> np.ndarray:
        """The reference-layout array in the model's layout (float64, a copy)."""
        value = np.asarray(value, dtype=np.float64)
        if self.form == "T":
            return value.T.copy()
        if self.form == "column":
            return value.reshape(-1).copy()
        return value.copy()


# ============================================================================================
# reading the architecture
# ============================================================================================


def flat_layers(model: Module, prefix: str = "") -> list[tuple[str, Module]]:
    """(dotted name, layer) of a Sequential's layers in order, nested Sequentials flattened.

    The names are those ``named_parameters`` uses ("0", "3.1", ...). A model that is not a
    Sequential is a single layer named ``prefix`` (""). A layer used twice is listed twice.
    """
    if not isinstance(model, Sequential):
        return [(prefix, model)]
    return [item for i, layer in enumerate(model)
            for item in flat_layers(layer, join_name(prefix, str(i)))]


def _describe(name: str, layer: Module) -> str:
    if isinstance(layer, Linear):
        return f"layer '{name}' (Linear {layer.in_features} -> {layer.out_features})"
    return f"layer '{name}' ({type(layer).__name__})"


def _check_chain(who: str, linears: list[tuple[str, Linear]]) -> None:
    """Consecutive Linear layers must fit: in_features of one = out_features of the previous."""
    for (name_a, a), (name_b, b) in zip(linears, linears[1:]):
        if b.in_features != a.out_features:
            raise ArchitectureError(
                f"{who}: {_describe(name_b, b)} takes {b.in_features} inputs but "
                f"{_describe(name_a, a)} gives {a.out_features}"
            )


def _sigmoid_net(model: Module, who: str, bias: bool, system: str) -> list[tuple[str, Linear]]:
    """The Linear layers of a [Linear, Sigmoid] x L network, or an ArchitectureError."""
    layers = flat_layers(model)
    expected = "Linear -> Sigmoid for every layer, the output included"
    linears: list[tuple[str, Linear]] = []
    for i, (name, layer) in enumerate(layers):
        want = Linear if i % 2 == 0 else Sigmoid
        if type(layer) is not want:
            raise ArchitectureError(f"{who}: {_describe(name, layer)} is where {system}'s "
                                    f"network has a {want.__name__} ({expected})")
        if isinstance(layer, Linear):
            if bias and layer.bias is None:
                raise ArchitectureError(f"{who}: {_describe(name, layer)} has no bias; every "
                                        f"layer of {system}'s network has one")
            if not bias and layer.bias is not None:
                raise ArchitectureError(f"{who}: {_describe(name, layer)} has a bias; "
                                        f"{system}'s network has none (build it with bias=False)")
            linears.append((name, layer))
    if not layers or len(layers) % 2:
        last = f"after {_describe(*layers[-1])}" if layers else "in this empty model"
        raise ArchitectureError(f"{who}: a Sigmoid is missing {last}; {system}'s network is "
                                f"{expected}")
    _check_chain(who, linears)
    return linears


def _nielsen_slots(model: Module, who: str) -> list[Slot]:
    slots = []
    for l, (name, linear) in enumerate(_sigmoid_net(model, who, bias=True, system="Nielsen")):
        layer = _describe(name, linear)
        slots.append(Slot(f"weights[{l}]", join_name(name, "weight"), "same", layer))
        slots.append(Slot(f"biases[{l}]", join_name(name, "bias"), "column", layer))
    return slots


def _rashid_slots(model: Module, who: str) -> list[Slot]:
    linears = _sigmoid_net(model, who, bias=False, system="Rashid")
    if len(linears) != 2:
        raise ArchitectureError(f"{who}: Rashid's network has exactly 2 Linear layers (input -> "
                                f"hidden -> output); this model has {len(linears)}")
    return [Slot(key, join_name(name, "weight"), "same", _describe(name, linear))
            for key, (name, linear) in zip(("wih", "who"), linears)]


@dataclass
class _Cs231nNet:
    """What fc_net needs to know besides the parameters."""

    slots: list[Slot]
    batchnorms: list[BatchNorm1d]
    dropouts: list[Dropout]


def _cs231n_net(model: Module, who: str) -> _Cs231nNet:
    """Parse {Linear, [BatchNorm1d], ReLU, [Dropout]} x (L-1), Linear; every hidden block alike."""
    layers = flat_layers(model)
    expected = ("CS231n's FullyConnectedNet is {Linear, [BatchNorm1d], ReLU, [Dropout]} x (L-1), "
                "Linear (scores, no output activation), every hidden block alike")
    net = _Cs231nNet([], [], [])
    linears: list[tuple[str, Linear]] = []
    i = 0
    pattern: tuple[bool, bool] | None = None  # (has batchnorm, has dropout) of the first block
    while i < len(layers):
        name, layer = layers[i]
        if not isinstance(layer, Linear) or layer.bias is None:
            what = "a Linear with a bias" if isinstance(layer, Linear) else "a Linear"
            raise ArchitectureError(f"{who}: {_describe(name, layer)} is where {expected} has "
                                    f"{what}")
        l = len(linears) + 1
        linears.append((name, layer))
        net.slots.append(Slot(f"W{l}", join_name(name, "weight"), "T", _describe(name, layer)))
        net.slots.append(Slot(f"b{l}", join_name(name, "bias"), "same", _describe(name, layer)))
        i += 1
        if i == len(layers):
            break
        block_bn = isinstance(layers[i][1], BatchNorm1d)
        if block_bn:
            bn_name, bn = layers[i]
            if not bn.affine:
                raise ArchitectureError(f"{who}: {_describe(bn_name, bn)} has affine=False; "
                                        "CS231n's batchnorm always has gamma and beta")
            if bn.num_features != layer.out_features:
                raise ArchitectureError(f"{who}: {_describe(bn_name, bn)} normalizes "
                                        f"{bn.num_features} features but "
                                        f"{_describe(name, layer)} gives {layer.out_features}")
            where = _describe(bn_name, bn)
            net.slots.append(Slot(f"gamma{l}", join_name(bn_name, "weight"), "same", where))
            net.slots.append(Slot(f"beta{l}", join_name(bn_name, "bias"), "same", where))
            net.batchnorms.append(bn)
            i += 1
        if i == len(layers) or not isinstance(layers[i][1], ReLU):
            if i < len(layers) and not any(isinstance(r, Linear) for _, r in layers[i:]):
                raise ArchitectureError(f"{who}: {_describe(*layers[i])} follows the output "
                                        f"{_describe(name, layer)}; {expected}")
            found = _describe(*layers[i]) if i < len(layers) else "the end of the model"
            raise ArchitectureError(f"{who}: {found} is where {expected} has a ReLU")
        i += 1
        block_dropout = i < len(layers) and isinstance(layers[i][1], Dropout)
        if block_dropout:
            net.dropouts.append(layers[i][1])
            i += 1
        if pattern is None:
            pattern = (block_bn, block_dropout)
        elif pattern != (block_bn, block_dropout):
            raise ArchitectureError(f"{who}: the hidden block of {_describe(name, layer)} "
                                    f"differs from the first one in batchnorm or dropout; "
                                    f"{expected}")
    ps = {d.p for d in net.dropouts}
    if len(ps) > 1:
        raise ArchitectureError(f"{who}: the Dropout layers have different p {sorted(ps)}; "
                                "CS231n's net has one keep_prob for every layer")
    _check_chain(who, linears)
    return net


def layout(model: Module, reference: str) -> list[Slot]:
    """The slots mapping ``reference``'s arrays to the model's parameters, in the reference's
    order; ArchitectureError if the model is not that reference's network."""
    who = f"{reference} reference"
    if reference == "nielsen":
        return _nielsen_slots(model, who)
    if reference == "cs231n":
        return _cs231n_net(model, who).slots
    if reference == "rashid":
        return _rashid_slots(model, who)
    raise ValueError(f"layout: unknown reference {reference!r}; allowed: {', '.join(REFERENCES)}")


# ============================================================================================
# copying
# ============================================================================================


def _read(model: Module, slots: Sequence[Slot]) -> dict[str, np.ndarray]:
    params = dict(model.named_parameters())
    return {s.key: s.to_reference(params[s.param].data) for s in slots}


def _write(model: Module, slots: Sequence[Slot], values: Mapping[str, Any], who: str) -> None:
    """Check every key and shape first, then copy: all or nothing."""
    params: dict[str, Parameter] = dict(model.named_parameters())
    problems = []
    arrays = {}
    for s in slots:
        if s.key not in values:
            problems.append(f"{s.key} is missing (for {s.layer})")
            continue
        value = np.asarray(values[s.key])
        expected = s.reference_shape(params[s.param].shape)
        if value.shape != expected:
            problems.append(f"{s.key} has shape {value.shape} but {s.layer} needs {expected} "
                            f"(its {s.param} has shape {params[s.param].shape})")
        else:
            arrays[s.param] = s.to_model(value)
    unexpected = sorted(set(values) - {s.key for s in slots})
    problems += [f"{key} has no place in this model" for key in unexpected]
    if problems:
        raise ArchitectureError(f"{who}: nothing was copied; " + "; ".join(problems))
    for name, array in arrays.items():
        p = params[name]
        if p.data.flags.writeable:
            np.copyto(p.data, array, casting="unsafe")  # in place: optimizers hold the arrays
        else:
            p.data = array.astype(p.dtype)


def to_nielsen(model: Module) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(weights, biases) for ``reference.nielsen``: weights[l] (out, in), biases[l] (out, 1)."""
    slots = _nielsen_slots(model, "to_nielsen")
    arrays = _read(model, slots)
    count = len(slots) // 2
    return ([arrays[f"weights[{l}]"] for l in range(count)],
            [arrays[f"biases[{l}]"] for l in range(count)])


def from_nielsen(model: Module, weights: Sequence[np.ndarray],
                 biases: Sequence[np.ndarray]) -> None:
    """Copy Nielsen's (weights, biases) lists into a [Linear, Sigmoid] x L model."""
    slots = _nielsen_slots(model, "from_nielsen")
    count = len(slots) // 2
    if len(weights) != count or len(biases) != count:
        names = ", ".join(f"'{s.param.rsplit('.', 1)[0]}'" for s in slots[::2])
        raise ArchitectureError(f"from_nielsen: {len(weights)} weight matrices and "
                                f"{len(biases)} bias columns for a model with {count} Linear "
                                f"layers ({names})")
    values = {f"weights[{l}]": w for l, w in enumerate(weights)}
    values.update({f"biases[{l}]": b for l, b in enumerate(biases)})
    _write(model, slots, values, "from_nielsen")


def to_cs231n(model: Module) -> dict[str, np.ndarray]:
    """FullyConnectedNet's params: W{l} = linear.weight.T (in, out), b{l}, and gamma{l}/beta{l}
    (BatchNorm1d's weight/bias) for the hidden layers when the model has batchnorm."""
    return _read(model, _cs231n_net(model, "to_cs231n").slots)


def from_cs231n(model: Module, params: Mapping[str, np.ndarray]) -> None:
    """Copy a FullyConnectedNet params dict (W1, b1, gamma1, beta1, ...) into the model."""
    _write(model, _cs231n_net(model, "from_cs231n").slots, params, "from_cs231n")


def cs231n_options(model: Module) -> dict[str, Any]:
    """``fc_net_forward``'s other keyword arguments for this model:

    - normalization: "batchnorm" or None; keep_prob = 1 - p (Dropout's p is the DROP
      probability; CS231n's reference takes the KEEP probability); mode: "train" or "test"
      from ``model.training``;
    - bn_params: one dict per BatchNorm1d with its eps, its running statistics and
      momentum = 1 - PyTorch's momentum (CS231n's momentum weights the OLD value).
      NOTE: PyTorch keeps the UNBIASED variance in running_var, CS231n the biased one, so the
      running statistics of the two drift apart in training; test mode uses them as stored.
    """
    net = _cs231n_net(model, "cs231n_options")
    bn_params = []
    for bn in net.batchnorms:
        if not bn.track_running_stats and not model.training:
            raise ArchitectureError("cs231n_options: a BatchNorm1d without running statistics "
                                    "uses batch statistics in eval mode; CS231n's test mode "
                                    "needs running statistics")
        params: dict[str, Any] = {"eps": bn.eps}
        if bn.track_running_stats:
            params["running_mean"] = bn.running_mean.data.astype(np.float64)
            params["running_var"] = bn.running_var.data.astype(np.float64)
        if bn.momentum is not None:
            params["momentum"] = 1.0 - bn.momentum
        bn_params.append(params)
    p = net.dropouts[0].p if net.dropouts else 0.0
    return {
        "normalization": "batchnorm" if net.batchnorms else None,
        "keep_prob": 1.0 - p,
        "bn_params": bn_params or None,
        "mode": "train" if model.training else "test",
    }


def to_rashid(model: Module) -> tuple[np.ndarray, np.ndarray]:
    """(wih (hidden, in), who (out, hidden)) for ``reference.rashid``, from a bias-free
    Linear, Sigmoid, Linear, Sigmoid model."""
    arrays = _read(model, _rashid_slots(model, "to_rashid"))
    return arrays["wih"], arrays["who"]


def from_rashid(model: Module, wih: np.ndarray, who: np.ndarray) -> None:
    """Copy Rashid's (wih, who) into a bias-free Linear, Sigmoid, Linear, Sigmoid model."""
    _write(model, _rashid_slots(model, "from_rashid"), {"wih": wih, "who": who}, "from_rashid")
