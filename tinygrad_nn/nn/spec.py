"""Declarative networks: build a Module from a dict, a JSON/TOML file, or a compact string.

Three forms, all validated field by field (an error names the field and what is allowed):

1. MLP form (a dict, or a file holding it)::

       {"sizes": [784, 30, 10], "activation": "sigmoid", "output_activation": "sigmoid",
        "init": "nielsen", "dropout": 0.0, "batchnorm": false, "bias": true}

   Only "sizes" is required; the other fields take MLP's defaults.

2. Layer-list form, for any stack of the built-in layers::

       {"layers": [{"type": "Linear", "in": 784, "out": 30}, {"type": "Sigmoid"},
                   {"type": "Linear", "in": 30, "out": 10}]}

   Layer types (case-insensitive) and their fields are in ``LAYER_FIELDS``; a layer may itself
   be {"type": "MLP", ...} or {"type": "Sequential", "layers": [...]}.

3. Compact string (MLP form only)::

       spec    := sizes [":" option ("," option)*]
       sizes   := INT ("-" INT)+                       e.g. 784-100-10
       option  := ACTIVATION                           hidden activation: relu (default),
                                                       sigmoid, tanh, leaky_relu, identity
                | "batchnorm" | "nobias"               flags
                | KEY "=" VALUE                        KEY: activation, out (the output
                                                       activation, default none), dropout,
                                                       init, bias (true/false), batchnorm

   Examples: ``"784-30-10:sigmoid,out=sigmoid,init=nielsen"`` (Nielsen's network2),
   ``"784-100-10:relu,dropout=0.5,batchnorm"``. Spaces are ignored.

Files: ``.json`` or ``.toml`` (a ``Path``, or a string ending in one of those). If the document
has a top-level "model" entry (a table or a compact string), that entry is the spec and the rest
of the file belongs to other tools (an optimizer section, say). TOML has no null: write "none"
for output_activation or momentum.

``model.spec()`` (on MLP, Sequential and every built-in layer) gives a dict that ``build``
turns back into the same architecture (same repr, same parameter shapes; new random values).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import read_document
from ..tensor import as_generator
from ..validation import BadArgument
from . import conv as C
from . import init as nn_init
from . import layers as L
from .module import Module, join_name

SpecLike = Mapping[str, Any] | str | os.PathLike


class SpecError(ValueError):
    """An invalid spec: the message names the field and what is allowed."""


# ============================================================================================
# fields: how each one is checked, and what the error says is allowed
# ============================================================================================


@dataclass(frozen=True)
class Field:
    """One spec field: its name in the spec, the constructor argument it feeds, the words an
    error uses for what is allowed (its choices, for a choice), and whether it must be present.
    The value itself is checked by the constructor, the one check: an error it raises for this
    argument (``validation.BadArgument``) is reported here as this field's."""

    name: str
    arg: str
    allowed: str
    required: bool = False
    choices: tuple[str, ...] = ()


def _positive_int(name: str, arg: str, required: bool = True) -> Field:
    return Field(name, arg, "a positive int", required)


def _integer(name: str, arg: str) -> Field:
    return Field(name, arg, "an int")


def _boolean(name: str, arg: str) -> Field:
    return Field(name, arg, "true or false")


def _number(name: str, arg: str, lo: float, hi: float, hi_open: bool = False) -> Field:
    return Field(name, arg, f"a number in [{lo}, {hi}{')' if hi_open else ']'}")


def _choice(name: str, arg: str, choices: Any, nullable: bool = False) -> Field:
    options = tuple(choices) + (("none",) if nullable else ())
    return Field(name, arg, ", ".join(options), choices=options)


_INIT = _choice("init", "init", nn_init.SCHEMES)

LAYER_FIELDS: dict[str, tuple[type[Module], tuple[Field, ...]]] = {
    "Linear": (L.Linear, (_positive_int("in", "in_features"), _positive_int("out", "out_features"),
                          _boolean("bias", "bias"), _INIT)),
    "Maxout": (L.Maxout, (_positive_int("in", "in_features"), _positive_int("out", "out_features"),
                          _positive_int("pieces", "pieces"), _INIT)),
    "ReLU": (L.ReLU, ()),
    "Sigmoid": (L.Sigmoid, ()),
    "Tanh": (L.Tanh, ()),
    "Identity": (L.Identity, ()),
    "LeakyReLU": (L.LeakyReLU, (Field("negative_slope", "negative_slope", "a number"),)),
    "Softmax": (L.Softmax, (_integer("axis", "axis"),)),
    "LogSoftmax": (L.LogSoftmax, (_integer("axis", "axis"),)),
    "Flatten": (L.Flatten, (_integer("start_axis", "start_axis"),
                            _integer("end_axis", "end_axis"))),
    "Dropout": (L.Dropout, (_number("p", "p", 0.0, 1.0),)),
    "BatchNorm1d": (L.BatchNorm1d, (
        _positive_int("num_features", "num_features"),
        Field("eps", "eps", "a number >= 0"),
        Field("momentum", "momentum", "a number in [0, 1], or none (cumulative average)"),
        _boolean("affine", "affine"), _boolean("track_running_stats", "track_running_stats"),
    )),
    "MLP": (L.MLP, (
        Field("sizes", "sizes", "a list of at least 2 positive ints (input, hidden..., output)",
              required=True),
        _choice("activation", "activation", L.ACTIVATIONS),
        _choice("output_activation", "output_activation", L.OUTPUT_ACTIVATIONS, nullable=True),
        _number("dropout", "dropout", 0.0, 1.0, hi_open=True),
        _boolean("batchnorm", "batchnorm"), _INIT, _boolean("bias", "bias"),
    )),
    "Sequential": (L.Sequential, ()),  # its one field, "layers", is handled by _build
}


# --- convolution and pooling layers (issue #17) ---------------------------------------------
def _int_or_pair(name: str, arg: str, minimum: int, words: tuple[str, ...] = (),
                 required: bool = False) -> Field:
    described = f"an int >= {minimum} or a pair of them" + "".join(f", or {w!r}" for w in words)
    return Field(name, arg, described, required)


_CONV_FIELDS = (
    _positive_int("in", "in_channels"), _positive_int("out", "out_channels"),
    _int_or_pair("kernel_size", "kernel_size", 1, required=True),
    _int_or_pair("stride", "stride", 1), _int_or_pair("padding", "padding", 0, ("valid", "same")),
    _int_or_pair("dilation", "dilation", 1), _positive_int("groups", "groups", required=False),
    _boolean("bias", "bias"), _INIT,
)
LAYER_FIELDS.update({
    "Conv2d": (C.Conv2d, _CONV_FIELDS),
    "Conv1d": (C.Conv1d, (
        *_CONV_FIELDS[:2], _positive_int("kernel_size", "kernel_size"),
        _positive_int("stride", "stride", required=False),
        Field("padding", "padding", "an int >= 0, or 'valid', or 'same'"),
        _positive_int("dilation", "dilation", required=False), *_CONV_FIELDS[-3:])),
    "MaxPool2d": (C.MaxPool2d, (
        _int_or_pair("kernel_size", "kernel_size", 1, required=True),
        _int_or_pair("stride", "stride", 1), _int_or_pair("padding", "padding", 0),
        _int_or_pair("dilation", "dilation", 1))),
    "AvgPool2d": (C.AvgPool2d, (
        _int_or_pair("kernel_size", "kernel_size", 1, required=True),
        _int_or_pair("stride", "stride", 1), _int_or_pair("padding", "padding", 0),
        _boolean("count_include_pad", "count_include_pad"),
        Field("divisor_override", "divisor_override", "a positive int, or none"))),
    "AdaptiveAvgPool2d": (C.AdaptiveAvgPool2d, (
        _int_or_pair("output_size", "output_size", 1, required=True),)),
    "BatchNorm2d": (C.BatchNorm2d, LAYER_FIELDS["BatchNorm1d"][1]),
    "Dropout2d": (C.Dropout2d, (_number("p", "p", 0.0, 1.0),)),
})
# --- end of the convolution block ----------------------------------------------------------

_TYPE_NAMES = {name.lower(): name for name in LAYER_FIELDS}
# Constructors that accept build()'s dtype / generator keywords.
TAKES_DTYPE = (L.Linear, L.Maxout, L.BatchNorm1d, L.MLP, C.Conv2d, C.Conv1d)
TAKES_GENERATOR = (L.Linear, L.Maxout, L.Dropout, L.MLP, C.Conv2d, C.Conv1d, C.Dropout2d)


def layer_type(spec: Any) -> str | None:
    """The layer type a spec declares, spelled as in ``LAYER_FIELDS``: its "type" (any case),
    else "MLP" if it has "sizes", "Sequential" if it has "layers"; None for an unknown type, no
    type, or not a dict. The one reading of a spec's type (build, the CLI, the checkpoint)."""
    if not isinstance(spec, Mapping):
        return None
    if "type" in spec:
        return _TYPE_NAMES.get(str(spec["type"]).lower())
    if "sizes" in spec:
        return "MLP"
    return "Sequential" if "layers" in spec else None


def _fail(where: str, message: str) -> SpecError:
    return SpecError(f'spec field "{where}": {message}')


def _show(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (str, bool, type(None))) else repr(value)


# ============================================================================================
# building
# ============================================================================================


def build(spec: SpecLike | Module, *, dtype: Any = None,
          generator: np.random.Generator | int | None = None) -> Module:
    """A Module from a spec: a dict, a compact string, or a path to a .json/.toml file.

    ``dtype`` and ``generator`` (a numpy Generator or an int seed, for reproducible
    initialization and dropout masks) are passed to every layer that takes them.
    """
    rng = as_generator(generator)
    loaded = load_spec(spec)
    file = spec_file(spec)
    try:
        return _build(loaded, "", {"dtype": dtype, "generator": rng})
    except SpecError as e:
        if file is None:
            raise
        raise in_file(file, e) from e


def spec_file(spec: Any) -> Path | None:
    """The .json/.toml file ``spec`` names (a path, or a string ending in the suffix: what
    ``load_spec`` reads), else None."""
    if isinstance(spec, os.PathLike) or (
        isinstance(spec, str) and spec.endswith((".json", ".toml"))
    ):
        return Path(spec)
    return None


def in_file(path: str | os.PathLike, error: SpecError) -> SpecError:
    """``error`` (about a spec read from the file at ``path``) with the file named first."""
    return SpecError(f"spec file {str(path)!r}: {error}")


def load_spec(spec: SpecLike | Module) -> dict[str, Any]:
    """The spec as a dict: reads files, parses compact strings; ``Module`` -> ``module.spec()``."""
    if isinstance(spec, Module):
        return spec.spec()
    if isinstance(spec, Mapping):
        return dict(spec)
    file = spec_file(spec)
    if file is not None:
        return _read_file(file)
    if isinstance(spec, str):
        return parse_spec_string(spec)
    raise SpecError(f"spec: expected a dict, a compact string like \"784-30-10:sigmoid\" or a "
                    f"path to a .json/.toml file, got {type(spec).__name__}")


def _read_file(path: Path) -> dict[str, Any]:
    try:
        document = read_document(path, "spec file")
    except (OSError, ValueError) as e:
        raise SpecError(str(e)) from e
    if isinstance(document, dict) and "model" in document:
        document = document["model"]
    if isinstance(document, str):
        try:
            return parse_spec_string(document)
        except SpecError as e:
            raise in_file(path, e) from e
    if not isinstance(document, dict):
        raise in_file(path, SpecError(f"expected a table/object, got "
                                      f"{type(document).__name__}"))
    return document


def _build(spec: Any, where: str, extras: dict[str, Any]) -> Module:
    if not isinstance(spec, Mapping):
        raise _fail(where or "spec", f"expected a table/object, got {_show(spec)}")
    type_name = layer_type(spec)
    if type_name is None and "type" in spec:
        raise _fail(join_name(where, "type"), f"unknown value {_show(spec['type'])}; allowed: "
                    f"{', '.join(LAYER_FIELDS)}")
    if type_name is None:
        raise _fail(join_name(where, "type"), "missing; give a layer type, or \"sizes\" (an MLP), "
                    "or \"layers\" (a list of layers)")
    if type_name == "Sequential":
        return _build_sequential(spec, where, extras)
    cls, fields = LAYER_FIELDS[type_name]
    kwargs = _arguments(spec, where, type_name, fields)
    if extras["dtype"] is not None and issubclass(cls, TAKES_DTYPE):
        kwargs["dtype"] = extras["dtype"]
    if extras["generator"] is not None and issubclass(cls, TAKES_GENERATOR):
        kwargs["generator"] = extras["generator"]
    try:
        return cls(**kwargs)
    except BadArgument as e:  # the constructor's check, reported as the field's
        field = next((f for f in fields if f.arg == e.argument and f.name in spec), None)
        if field is None:
            raise _fail(where or type_name, str(e)) from e
        value = spec[field.name]
        if field.choices:
            message = f"unknown value {_show(value)}; allowed: {field.allowed}"
        else:
            message = f"expected {field.allowed}, got {_show(value)}"
        raise _fail(join_name(where, field.name), message) from e
    except (TypeError, ValueError) as e:  # a check across fields (groups, say)
        raise _fail(where or type_name, str(e)) from e


def _arguments(spec: Mapping[str, Any], where: str, type_name: str,
               fields: tuple[Field, ...]) -> dict[str, Any]:
    """The constructor's keyword arguments, after refusing unknown and missing fields (the
    values are the constructor's to check)."""
    by_name = {f.name: f for f in fields}
    for key in spec:
        if key != "type" and key not in by_name:
            allowed = ", ".join(["type", *by_name]) if by_name else "type (no other fields)"
            raise _fail(join_name(where, key), f"unknown field for {type_name}; allowed: {allowed}")
    kwargs: dict[str, Any] = {}
    for field in fields:
        if field.name not in spec:
            if field.required:
                raise _fail(join_name(where, field.name), f"required for {type_name} "
                            f"({field.allowed})")
            continue
        value = spec[field.name]
        kwargs[field.arg] = None if isinstance(value, str) and value == "none" else value
    return kwargs


def _build_sequential(spec: Mapping[str, Any], where: str, extras: dict[str, Any]) -> Module:
    for key in spec:
        if key not in ("type", "layers"):
            raise _fail(join_name(where, key),
                        "unknown field for Sequential; allowed: type, layers")
    layers = spec.get("layers")
    prefix = join_name(where, "layers")
    if not isinstance(layers, (list, tuple)):
        raise _fail(prefix, f"expected a list of layer specs, got {_show(layers)}")
    return L.Sequential(*[_build(layer, f"{prefix}[{i}]", extras)
                          for i, layer in enumerate(layers)])


# ============================================================================================
# the compact string form
# ============================================================================================

_SIZES = re.compile(r"^\d+(-\d+)+$")
_FLAGS = {"batchnorm": ("batchnorm", True), "nobias": ("bias", False)}
_KEYS = {"activation": "activation", "out": "output_activation",
         "output_activation": "output_activation", "dropout": "dropout", "init": "init",
         "bias": "bias", "batchnorm": "batchnorm"}


def parse_spec_string(text: str) -> dict[str, Any]:
    """The MLP dict for a compact spec such as ``"784-100-10:relu,dropout=0.5,batchnorm"``
    (grammar in this module's docstring). Values are checked by ``build``."""
    compact = re.sub(r"\s+", "", text)
    sizes_part, _, options_part = compact.partition(":")
    if not _SIZES.match(sizes_part):
        raise _fail("sizes", f"expected sizes joined by '-' like 784-30-10 (at least two), "
                    f"got {sizes_part!r} in the spec string {text!r}")
    spec: dict[str, Any] = {"type": "MLP", "sizes": [int(s) for s in sizes_part.split("-")]}
    given: dict[str, str] = {}  # field -> the option that set it: each field is set once
    for option in filter(None, options_part.split(",")):
        key, eq, value = option.partition("=")
        if not eq:
            if key in _FLAGS:
                field, setting = _FLAGS[key]
            else:
                field, setting = "activation", key  # a bare word is the hidden activation
        elif key in _KEYS:
            field, setting = _KEYS[key], _string_value(_KEYS[key], value)
        else:
            raise _fail(key, f"unknown option in the spec string {text!r}; allowed: "
                        f"{', '.join(_KEYS)}, an activation name, batchnorm, nobias")
        if field in given:
            raise _fail(field, f"set twice in the spec string {text!r}, by {given[field]!r} "
                        f"and {option!r}; give it once")
        given[field] = option
        spec[field] = setting
    return spec


def _string_value(field: str, value: str) -> Any:
    if field in ("bias", "batchnorm"):
        if value.lower() not in ("true", "false"):
            raise _fail(field, f"expected true or false, got {value!r}")
        return value.lower() == "true"
    if field == "dropout":
        try:
            return float(value)
        except ValueError:
            raise _fail(field, f"expected a number in [0.0, 1.0), got {value!r}") from None
    return value


def spec_to_string(spec: SpecLike | Module) -> str:
    """The compact string of an MLP spec (the inverse of ``parse_spec_string``); fields at
    their defaults are left out, except the activation."""
    spec = load_spec(spec)
    if layer_type(spec) != "MLP":
        raise SpecError("spec_to_string: only the MLP form has a compact string; "
                        "this spec is a layer list")
    _build(spec, "", {"dtype": None, "generator": None})  # the constructors check the values
    parts = [str(spec.get("activation", "relu"))]
    if spec.get("output_activation") not in (None, "none"):
        parts.append(f"out={spec['output_activation']}")
    if spec.get("dropout", 0.0):
        parts.append(f"dropout={spec['dropout']}")
    if spec.get("batchnorm", False):
        parts.append("batchnorm")
    if not spec.get("bias", True):
        parts.append("nobias")
    if spec.get("init", "pytorch") != "pytorch":
        parts.append(f"init={spec['init']}")
    return "-".join(str(s) for s in spec["sizes"]) + ":" + ",".join(parts)


def save_spec(spec: SpecLike | Module, path: str | os.PathLike) -> None:
    """Write a spec (or a module's) as JSON, for ``build(path)``."""
    path = Path(path)
    if path.suffix != ".json":
        raise SpecError(f"save_spec: only .json is written, got {str(path)!r}")
    path.write_text(json.dumps(load_spec(spec), indent=2) + "\n")
