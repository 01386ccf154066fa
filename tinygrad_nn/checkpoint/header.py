"""What a checkpoint holds, as one JSON-able header, and the structural checks on it.

Both file formats are read into this one form (the ``.npz`` header of version 1 is it; the
safetensors metadata of version 2 is expanded into it), so everything after reading is shared::

    {"format": "tinygrad_nn.checkpoint", "version": 1 | 2, "kind": "checkpoint" | "state_dict",
     "library": {"tinygrad_nn": ..., "numpy": ...},
     "model": {"class": "MLP", "spec": {...} or null,
               "tensors": {name: {"key": <key in the file>, "dtype": "float32", "shape": [...]}}},
     "optimizer": null or {"class": "Adam", "defaults": {...},
                           "param_groups": [{options..., "params": [0, 1, ...]}],
                           "param_names": [model parameter name, or null, per index],
                           "state": {"<index>": {
                               "step": {"int": 3},
                               "exp_avg": {"key": ..., "dtype": ..., "shape": ...}}}},
     "scheduler": null or {"class": "StepLR", "state": {...}},
     "extra": any JSON value (the caller's)}
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from ..nn import Module
from ..nn.spec import LAYER_FIELDS, TAKES_DTYPE, layer_type
from ..optim import Optimizer
from ..tensor import Tensor
from ..version import __version__

FORMAT = "tinygrad_nn.checkpoint"
VERSION = 2  # 1: .npz + JSON header (read-only now); 2: safetensors

PathLike = Union[str, "os.PathLike[str]"]
Declared = dict[str, tuple[np.dtype, tuple[int, ...]]]  # key in the file -> (dtype, shape)


class CheckpointError(ValueError):
    """A checkpoint file could not be written or read; nothing was changed."""


@dataclass
class Stored:
    """A file opened by a format reader: its header (in the form above, structure checked),
    what it declares about each array (before reading any), and how to read them."""

    header: dict[str, Any]
    declared: Declared
    read: Callable[[], dict[str, np.ndarray]]


def library_version() -> str:
    return __version__


# ============================================================================================
# describing what is saved
# ============================================================================================


def new_header(kind: str, extra: Any, path: PathLike) -> dict[str, Any]:
    try:
        json.dumps(extra)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: extra must be JSON-serializable: {e}") from e
    return {"format": FORMAT, "version": VERSION, "kind": kind,
            "library": {"tinygrad_nn": library_version(), "numpy": np.__version__},
            "model": None, "optimizer": None, "scheduler": None, "extra": extra}


def add_array(arrays: dict[str, np.ndarray], key: str, value: Any, path: PathLike
              ) -> dict[str, Any]:
    """Store ``value`` (an array or Tensor) under ``key``; return its header entry."""
    array = value.data if isinstance(value, Tensor) else value
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        kind = array.dtype if isinstance(array, np.ndarray) else type(array).__name__
        raise CheckpointError(f"{path}: {key!r}: only bool, int and float arrays can be "
                              f"saved, got {kind}")
    if key in arrays:
        raise CheckpointError(f"{path}: {key!r}: duplicate key")
    arrays[key] = array
    return {"key": key, "dtype": array.dtype.name, "shape": list(array.shape)}


def describe_model(model: Module, arrays: dict[str, np.ndarray], path: PathLike) -> dict:
    try:
        spec = model.spec()
    except TypeError:
        spec = None  # a custom Module: the file can still be loaded into a model you build
    return {**describe_state_dict(model.state_dict(), arrays, path),
            "class": type(model).__name__, "spec": spec}


def describe_state_dict(state_dict: Mapping[str, Any], arrays: dict[str, np.ndarray],
                        path: PathLike) -> dict:
    tensors = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise CheckpointError(f"{path}: state dict keys must be strings, got {name!r}")
        tensors[name] = add_array(arrays, name, value if isinstance(value, Tensor)
                                  else np.asarray(value), path)
    return {"class": None, "spec": None, "tensors": tensors}


def describe_optimizer(optimizer: Optimizer, model: Module, arrays: dict[str, np.ndarray],
                       path: PathLike) -> dict[str, Any]:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"save: optimizer must be an Optimizer, got {type(optimizer).__name__}")
    names = {id(p): name for name, p in model.named_parameters()}
    param_names = [names.get(id(p)) for p in optimizer.parameters()]
    state_dict = optimizer.state_dict()
    state: dict[str, dict[str, Any]] = {}
    for index, entry in state_dict["state"].items():
        state[str(index)] = {}
        for key, value in entry.items():
            if isinstance(value, np.ndarray):
                array_key = f"optimizer.state.{index}.{key}"
                state[str(index)][key] = add_array(arrays, array_key, value, path)
            else:
                state[str(index)][key] = {"int": int(value)}
    return {"class": type(optimizer).__name__, "defaults": optimizer.defaults,
            "param_groups": state_dict["param_groups"], "param_names": param_names,
            "state": state}


def describe_scheduler(scheduler: Any) -> dict[str, Any]:
    if not (hasattr(scheduler, "state_dict") and hasattr(scheduler, "load_state_dict")):
        raise TypeError(f"save: scheduler must be an lr scheduler (with state_dict), got "
                        f"{type(scheduler).__name__}")
    return {"class": type(scheduler).__name__, "state": scheduler.state_dict()}


# ============================================================================================
# checking a header read from a file
# ============================================================================================


def check_header(path: PathLike, header: Any) -> dict[str, Any]:
    """The header's structure: format, version, kinds of every entry. Returns it."""
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise CheckpointError(f"{path}: 'format' is {found!r}, expected {FORMAT!r}")
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{path}: 'version' must be a positive int, got {version!r}")
    if version > VERSION:
        raise CheckpointError(f"{path}: format version {version} was written by a newer "
                              f"tinygrad_nn; this one ({library_version()}) reads up to {VERSION}")
    for key, kind in (("kind", str), ("model", dict), ("extra", object)):
        if key not in header or not isinstance(header[key], kind):
            raise CheckpointError(f"{path}: header entry {key!r} is missing or malformed")
    if header["kind"] not in ("checkpoint", "state_dict"):
        raise CheckpointError(f"{path}: unknown 'kind' {header['kind']!r}")
    if not isinstance(header["model"].get("tensors"), dict):
        raise CheckpointError(f"{path}: header entry 'model.tensors' is missing or malformed")
    optimizer = header.get("optimizer")
    if optimizer is not None:
        for key, kind in (("class", str), ("defaults", dict), ("param_groups", list),
                          ("param_names", list), ("state", dict)):
            if not isinstance(optimizer.get(key), kind):
                raise CheckpointError(f"{path}: header entry 'optimizer.{key}' is missing or "
                                      "malformed")
    scheduler = header.get("scheduler")
    if scheduler is not None and not (isinstance(scheduler, dict)
                                      and isinstance(scheduler.get("class"), str)
                                      and isinstance(scheduler.get("state"), dict)):
        raise CheckpointError(f"{path}: header entry 'scheduler' is malformed")
    return header


def array_entries(header: dict[str, Any]) -> list[tuple[str, Any]]:
    """(where in the header, entry) for every array the header promises."""
    entries = [(f"model.tensors[{name!r}]", entry)
               for name, entry in header["model"]["tensors"].items()]
    if header.get("optimizer") is not None:
        for index, state in header["optimizer"]["state"].items():
            if not isinstance(state, dict):
                entries.append((f"optimizer.state[{index!r}]", state))
                continue
            entries += [(f"optimizer.state[{index!r}][{key!r}]", entry)
                        for key, entry in state.items()
                        if not (isinstance(entry, dict) and "int" in entry)]
    return entries


def check_declared(path: PathLike, header: dict[str, Any], declared: Declared) -> None:
    """The file holds exactly the arrays the header lists, with their dtypes and shapes.
    Runs on what the file declares, before any array is read."""
    promised = set()
    for where, entry in array_entries(header):
        if not (isinstance(entry, dict) and isinstance(entry.get("key"), str)
                and isinstance(entry.get("dtype"), str) and isinstance(entry.get("shape"), list)):
            raise CheckpointError(f"{path}: header entry {where} is malformed: {entry!r}")
        key = entry["key"]
        promised.add(key)
        if key not in declared:
            raise CheckpointError(f"{path}: missing array {key!r} (listed in the header)")
        dtype, shape = declared[key]  # a numeric dtype: each format's reader refused others
        try:
            wanted = np.dtype(entry["dtype"])
        except TypeError as e:
            raise CheckpointError(f"{path}: {key!r}: unknown dtype {entry['dtype']!r}") from e
        if dtype != wanted:
            raise CheckpointError(f"{path}: {key!r} has dtype {dtype} in the archive but "
                                  f"{wanted} in the header")
        if list(shape) != entry["shape"]:
            raise CheckpointError(f"{path}: {key!r} has shape {shape} in the archive but "
                                  f"{tuple(entry['shape'])} in the header")
    unexpected = sorted(set(declared) - promised)
    if unexpected:
        raise CheckpointError(f"{path}: unexpected array {unexpected[0]!r} (not in the header)"
                              + (f" and {len(unexpected) - 1} more" if len(unexpected) > 1 else ""))


def model_declared(header: dict[str, Any], declared: Declared) -> Declared:
    """{model tensor name: (dtype, shape)} as the file declares them."""
    return {name: declared[entry["key"]] for name, entry in header["model"]["tensors"].items()}


def _conv(s: dict[str, Any]) -> int:
    kernel = s.get("kernel_size")
    kernel = kernel if isinstance(kernel, list) else [kernel]
    groups = s.get("groups", 1)
    if not (all(_count(v) for v in [s.get("in"), s.get("out"), groups, *kernel])):
        return 0  # malformed: build refuses it before allocating
    return s["out"] * (s["in"] // groups) * math.prod(kernel)  # the weight alone


def _norm(s: dict[str, Any]) -> int:
    allocates = (s.get("affine", True) is not False
                 or s.get("track_running_stats", True) is not False)
    return s["num_features"] if allocates and _count(s.get("num_features")) else 0


def _product(*fields: str) -> Callable[[dict[str, Any]], int]:
    def bound(s: dict[str, Any]) -> int:
        values = [s.get(f) for f in fields]
        return math.prod(values) if all(_count(v) for v in values) else 0
    return bound


def _mlp(s: dict[str, Any]) -> int:
    sizes = s.get("sizes")
    if not (isinstance(sizes, list) and all(_count(v) for v in sizes)):
        return 0
    return sum(a * b for a, b in zip(sizes, sizes[1:]))  # the weights alone


# A lower bound on the parameters each layer type allocates, from its spec fields alone.
_LOWER_BOUNDS: dict[str, Callable[[dict[str, Any]], int]] = {
    "linear": _product("in", "out"), "maxout": _product("in", "out", "pieces"),
    "batchnorm1d": _norm, "batchnorm2d": _norm, "conv1d": _conv, "conv2d": _conv, "mlp": _mlp}


def spec_size_lower_bound(spec: Any) -> int | str:
    """A lower bound on the number of values ``nn.build(spec)`` would allocate, read from the
    spec alone (nothing is built); or, for a layer type that allocates arrays but has no bound
    here, its name (so the caller refuses to build what it cannot bound)."""
    total, stack = 0, [spec]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        kind = layer_type(item)
        bound = _LOWER_BOUNDS.get(str(kind).lower())
        if bound is not None:
            total += bound(item)
        elif kind is not None and issubclass(LAYER_FIELDS[kind][0], TAKES_DTYPE):
            return kind
        stack.extend(v for k, v in item.items() if k == "layers")
    return total


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
