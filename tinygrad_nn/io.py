"""Safe checkpoints: one ``.npz`` file of arrays plus a JSON header. No pickle, atomic writes.

    >>> io.save("run.npz", model, optimizer, extra={"epoch": 3})        # doctest: +SKIP
    >>> ckpt = io.load("run.npz")                   # rebuild model (and optimizer) from the file
    >>> io.load("run.npz", model=net, optimizer=opt)  # or load into ones you built

File format (version 1): an uncompressed (or, with ``compress=True``, deflated) NumPy ``.npz``
archive whose every member is a plain numeric array:

- ``__header__``: UTF-8 JSON as a 1-d uint8 array, holding::

      {"format": "tinygrad_nn.checkpoint", "version": 1, "kind": "checkpoint" | "state_dict",
       "library": {"tinygrad_nn": ..., "numpy": ...},
       "model": {"class": "MLP", "spec": {...} or null,
                 "tensors": {name: {"key": "model/<name>", "dtype": "float32", "shape": [...]}}},
       "optimizer": null or {"class": "Adam", "defaults": {...},
                             "param_groups": [{options..., "params": [0, 1, ...]}],
                             "param_names": [model parameter name, or null, per index],
                             "state": {"<index>": {"step": {"int": 3},
                                       "exp_avg": {"key": "optimizer/state/<index>/exp_avg",
                                                   "dtype": ..., "shape": [...]}}}},
       "extra": any JSON value (the caller's)}

  A raw state dict (``save_state_dict``) has kind "state_dict", its arrays under "model" and no
  optimizer.
- ``model/<name>``: each parameter and buffer (``model.state_dict()``), exactly as in memory.
- ``optimizer/state/<index>/<key>``: each optimizer state array (index as in ``state_dict``).

Reading uses ``np.load(..., allow_pickle=False)`` and accepts only bool/int/float arrays, so a
file can never run code. Every member, dtype and shape is checked against the header, and the
header against the model and optimizer, BEFORE anything is assigned: a bad file raises
CheckpointError (naming the file and the key) and leaves model and optimizer unchanged. Writes go
to a temporary file in the same directory, are flushed and fsynced, then renamed over the
target (``os.replace``), so a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np

from . import optim as _optim
from .nn import Module, build
from .optim import Optimizer
from .tensor import Tensor

FORMAT = "tinygrad_nn.checkpoint"
VERSION = 1
HEADER_KEY = "__header__"

PathLike = Union[str, "os.PathLike[str]"]

# The optimizers a file may name: only these classes are ever instantiated from a header.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.__name__: cls for cls in (_optim.SGD, _optim.Adam, _optim.AdamW, _optim.RMSprop,
                                  _optim.Adagrad)
}


class CheckpointError(ValueError):
    """A checkpoint file could not be written or read; nothing was changed."""


@dataclass
class Checkpoint:
    """What ``load`` returns: the model and optimizer (loaded, or rebuilt from the file), the
    caller's ``extra`` value and the whole parsed header."""

    model: Module
    optimizer: Optimizer | None
    extra: Any
    header: dict[str, Any]


# ============================================================================================
# saving
# ============================================================================================


def save(
    path: PathLike,
    model: Module,
    optimizer: Optimizer | None = None,
    extra: Any = None,
    *,
    compress: bool = False,
) -> None:
    """Write ``model`` (spec, parameters, buffers), ``optimizer`` (class, options, state) and
    ``extra`` (any JSON value: epoch, metrics, a scheduler's ``state_dict()``) to ``path``.

    The file is replaced atomically; on any error the previous file is left as it was.
    """
    if not isinstance(model, Module):
        raise TypeError(f"save: model must be a Module, got {type(model).__name__}")
    arrays: dict[str, np.ndarray] = {}
    header: dict[str, Any] = _new_header("checkpoint", extra, path)
    header["model"] = _describe_model(model, arrays, path)
    header["optimizer"] = (None if optimizer is None
                           else _describe_optimizer(optimizer, model, arrays, path))
    _write(path, header, arrays, compress)


def save_state_dict(
    path: PathLike, state_dict: Mapping[str, Any], extra: Any = None, *, compress: bool = False
) -> None:
    """Write a raw ``{name: array}`` dict (e.g. ``model.state_dict()``) to ``path``, atomically."""
    arrays: dict[str, np.ndarray] = {}
    header = _new_header("state_dict", extra, path)
    tensors = {}
    for name, value in state_dict.items():
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        tensors[name] = _add_array(arrays, f"model/{name}", array, path)
    header["model"] = {"class": None, "spec": None, "tensors": tensors}
    header["optimizer"] = None
    _write(path, header, arrays, compress)


def _new_header(kind: str, extra: Any, path: PathLike) -> dict[str, Any]:
    try:
        json.dumps(extra)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: extra must be JSON-serializable: {e}") from e
    return {
        "format": FORMAT,
        "version": VERSION,
        "kind": kind,
        "library": {"tinygrad_nn": _library_version(), "numpy": np.__version__},
        "extra": extra,
    }


def _library_version() -> str:
    # imported here: the package's __init__ may import this module before defining __version__
    from . import __version__

    return __version__


def _add_array(arrays: dict[str, np.ndarray], key: str, array: np.ndarray,
               path: PathLike) -> dict[str, Any]:
    """Store ``array`` under ``key``; return its header entry."""
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        kind = array.dtype if isinstance(array, np.ndarray) else type(array).__name__
        raise CheckpointError(f"{path}: {key!r}: only bool, int and float arrays can be "
                              f"saved, got {kind}")
    if key in arrays or key == HEADER_KEY:
        raise CheckpointError(f"{path}: {key!r}: duplicate key")
    arrays[key] = array
    return {"key": key, "dtype": array.dtype.name, "shape": list(array.shape)}


def _describe_model(model: Module, arrays: dict[str, np.ndarray], path: PathLike) -> dict:
    try:
        spec = model.spec()
    except TypeError:
        spec = None  # a custom Module: the file can still be loaded into a model you build
    tensors = {name: _add_array(arrays, f"model/{name}", array, path)
               for name, array in model.state_dict().items()}
    return {"class": type(model).__name__, "spec": spec, "tensors": tensors}


def _describe_optimizer(optimizer: Optimizer, model: Module, arrays: dict[str, np.ndarray],
                        path: PathLike) -> dict[str, Any]:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"save: optimizer must be an Optimizer, got {type(optimizer).__name__}")
    names = {id(p): name for name, p in model.named_parameters()}
    param_names = [names.get(id(p)) for _, p in optimizer._indexed_params()]
    state_dict = optimizer.state_dict()
    state: dict[str, dict[str, Any]] = {}
    for index, entry in state_dict["state"].items():
        state[str(index)] = {}
        for key, value in entry.items():
            if isinstance(value, np.ndarray):
                array_key = f"optimizer/state/{index}/{key}"
                state[str(index)][key] = _add_array(arrays, array_key, value, path)
            else:
                state[str(index)][key] = {"int": int(value)}
    return {
        "class": type(optimizer).__name__,
        "defaults": optimizer.defaults,
        "param_groups": state_dict["param_groups"],
        "param_names": param_names,
        "state": state,
    }


def _write(path: PathLike, header: dict[str, Any], arrays: dict[str, np.ndarray],
           compress: bool) -> None:
    try:
        text = json.dumps(header)
    except (TypeError, ValueError) as e:  # e.g. an option that is not a number
        raise CheckpointError(f"{path}: the header is not JSON-serializable: {e}") from e
    members = {HEADER_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays}
    savez = np.savez_compressed if compress else np.savez
    _atomic_write(Path(path), lambda f: savez(f, allow_pickle=False, **members))


def _atomic_write(path: Path, write: Any) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``.

    NOTE: the temporary file must be in the same directory: ``os.replace`` is atomic only
    within one filesystem. fsync before the rename, or a crash could leave a renamed but empty
    file; fsync the directory after, or the rename itself could be lost.
    """
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file 0600; give it the mode a plain open() would
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    with contextlib.suppress(OSError):  # not every platform can open a directory
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# ============================================================================================
# loading
# ============================================================================================


def read_header(path: PathLike) -> dict[str, Any]:
    """The parsed, validated JSON header of a file (e.g. to show what a checkpoint holds)."""
    header, _ = _read(path)
    return header


def load_state_dict(path: PathLike) -> dict[str, np.ndarray]:
    """The ``{name: array}`` dict stored by ``save_state_dict`` (or a checkpoint's model)."""
    header, arrays = _read(path)
    return {name: arrays[entry["key"]] for name, entry in header["model"]["tensors"].items()}


def load(path: PathLike, model: Module | None = None,
         optimizer: Optimizer | None = None) -> Checkpoint:
    """Load a checkpoint written by ``save``.

    - ``model=None``: the model is rebuilt from the stored spec (``nn.build``) and the
      optimizer, if the file has one, is rebuilt over its parameters (``optimizer`` must then
      be None too).
    - ``model`` given: its parameters and buffers are overwritten in place (the arrays keep
      their identity, so an optimizer built over them stays valid); ``optimizer``, if given,
      receives the stored optimizer state.

    Everything is validated before anything is assigned; on error (CheckpointError, naming the
    file and the key) ``model`` and ``optimizer`` are unchanged.
    """
    header, arrays = _read(path)
    if header["kind"] != "checkpoint":
        raise CheckpointError(f"{path}: holds a raw state dict (kind {header['kind']!r}); "
                              "read it with load_state_dict")
    tensors = {name: arrays[entry["key"]] for name, entry in header["model"]["tensors"].items()}
    saved_optimizer = header["optimizer"]

    if model is None:
        if optimizer is not None:
            raise CheckpointError(f"{path}: optimizer= needs model= (the model its parameters "
                                  "belong to)")
        model = _rebuild_model(path, header["model"], tensors)
        _check_model(path, model, tensors)
        model.load_state_dict(tensors)
        if saved_optimizer is not None:
            optimizer = _rebuild_optimizer(path, saved_optimizer, model, arrays)
        return Checkpoint(model, optimizer, header["extra"], header)

    if not isinstance(model, Module):
        raise TypeError(f"load: model must be a Module, got {type(model).__name__}")
    _check_model(path, model, tensors)
    state_dict = None
    if optimizer is not None:
        if saved_optimizer is None:
            raise CheckpointError(f"{path}: has no optimizer state ('optimizer' is null) but "
                                  "an optimizer was given")
        _check_optimizer_matches(path, saved_optimizer, optimizer, model)
        state_dict = _optimizer_state_dict(saved_optimizer, arrays)
        try:
            optimizer.check_state_dict(state_dict)
        except ValueError as e:
            raise CheckpointError(f"{path}: 'optimizer': {e}") from e
    # everything is validated: assign
    model.load_state_dict(tensors)
    if optimizer is not None:
        optimizer.load_state_dict(state_dict)
    return Checkpoint(model, optimizer, header["extra"], header)


def _read(path: PathLike) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and validate the whole file: (header, {member key: array}). Touches nothing else."""
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such file")
    arrays: dict[str, np.ndarray] = {}
    # NOTE: a damaged zip can fail in many ways (BadZipFile, zlib.error, EOFError, a "bad CRC",
    # NotImplementedError for a garbled compression method, RuntimeError for a flipped
    # "encrypted" flag, ...): any failure while reading the archive means the file is unusable.
    try:
        npz = np.load(path, allow_pickle=False)
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable .npz file (truncated or corrupted?): "
                              f"{type(e).__name__}: {e}") from e
    if not isinstance(npz, np.lib.npyio.NpzFile):  # a plain .npy file gives one ndarray
        raise CheckpointError(f"{path}: not an .npz archive (a single {type(npz).__name__})")
    with npz:
        for key in npz.files:
            try:
                arrays[key] = npz[key]
            except Exception as e:  # object arrays (they need pickle) fail here too: refused
                raise CheckpointError(f"{path}: member {key!r} is unreadable (corrupted, or an "
                                      f"object array that would need pickle): "
                                      f"{type(e).__name__}: {e}") from e
    header = _parse_header(path, arrays.pop(HEADER_KEY, None))
    _check_members(path, header, arrays)
    return header, arrays


def _parse_header(path: PathLike, raw: np.ndarray | None) -> dict[str, Any]:
    if raw is None:
        raise CheckpointError(f"{path}: no {HEADER_KEY!r} member: not a tinygrad_nn checkpoint")
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"{path}: {HEADER_KEY!r} must be a 1-d uint8 array, got "
                              f"{raw.dtype} {raw.shape}")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{path}: {HEADER_KEY!r} is not valid UTF-8 JSON: {e}") from e
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise CheckpointError(f"{path}: 'format' is {found!r}, expected {FORMAT!r}")
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{path}: 'version' must be a positive int, got {version!r}")
    if version > VERSION:
        raise CheckpointError(f"{path}: format version {version} was written by a newer "
                              f"tinygrad_nn; this one ({_library_version()}) reads up to {VERSION}")
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
    return header


def _array_entries(header: dict[str, Any]) -> list[tuple[str, Any]]:
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


def _check_members(path: PathLike, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """The archive holds exactly the arrays the header lists, with their dtypes and shapes."""
    promised = set()
    for where, entry in _array_entries(header):
        if not (isinstance(entry, dict) and isinstance(entry.get("key"), str)
                and isinstance(entry.get("dtype"), str) and isinstance(entry.get("shape"), list)):
            raise CheckpointError(f"{path}: header entry {where} is malformed: {entry!r}")
        key = entry["key"]
        promised.add(key)
        if key not in arrays:
            raise CheckpointError(f"{path}: missing array {key!r} (listed in the header)")
        array = arrays[key]
        if array.dtype.kind not in "biuf":
            raise CheckpointError(f"{path}: {key!r} has dtype {array.dtype}; only bool, int "
                                  "and float arrays are allowed")
        try:
            dtype = np.dtype(entry["dtype"])
        except TypeError as e:
            raise CheckpointError(f"{path}: {key!r}: unknown dtype {entry['dtype']!r}") from e
        if array.dtype != dtype:
            raise CheckpointError(f"{path}: {key!r} has dtype {array.dtype} in the archive but "
                                  f"{dtype} in the header")
        if list(array.shape) != entry["shape"]:
            raise CheckpointError(f"{path}: {key!r} has shape {array.shape} in the archive but "
                                  f"{tuple(entry['shape'])} in the header")
    unexpected = sorted(set(arrays) - promised)
    if unexpected:
        raise CheckpointError(f"{path}: unexpected array {unexpected[0]!r} (not in the header)"
                              + (f" and {len(unexpected) - 1} more" if len(unexpected) > 1 else ""))


def _check_model(path: PathLike, model: Module, tensors: dict[str, np.ndarray]) -> None:
    """The stored tensors fit ``model`` exactly: same names, shapes and dtypes. Every problem
    is listed, so one error shows how a file and a model differ."""
    own = model.state_dict()
    problems = [f"model key {name!r} is missing from the file" for name in own
                if name not in tensors]
    for name, array in tensors.items():
        if name not in own:
            problems.append(f"the file has model key {name!r}, which {type(model).__name__} "
                            "does not have")
        elif array.shape != own[name].shape:
            problems.append(f"model key {name!r} has shape {array.shape} in the file but "
                            f"{own[name].shape} in the model")
        elif array.dtype != own[name].dtype:
            problems.append(f"model key {name!r} has dtype {array.dtype} in the file but "
                            f"{own[name].dtype} in the model")
    if problems:
        raise CheckpointError(f"{path}: " + "; ".join(problems))


def _rebuild_model(path: PathLike, saved: dict[str, Any],
                   tensors: dict[str, np.ndarray]) -> Module:
    if saved.get("spec") is None:
        raise CheckpointError(f"{path}: the model ({saved.get('class')}) was saved without a "
                              "spec; build it yourself and pass model=")
    floats = [a.dtype for a in tensors.values() if a.dtype.kind == "f"]
    try:
        return build(saved["spec"], dtype=floats[0] if floats else None)
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: 'model.spec' cannot be built: {e}") from e


def _optimizer_state_dict(saved: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict:
    """The stored optimizer state in ``Optimizer.state_dict`` form (validated by the optimizer)."""
    state: dict[Any, dict[str, Any]] = {}
    for index, entry in saved["state"].items():
        key = int(index) if index.isdigit() else index  # a bad key is reported by the optimizer
        state[key] = {k: v["int"] if "int" in v else arrays[v["key"]] for k, v in entry.items()}
    return {"state": state, "param_groups": saved["param_groups"]}


def _check_optimizer_matches(path: PathLike, saved: dict[str, Any], optimizer: Optimizer,
                             model: Module) -> None:
    if saved["class"] != type(optimizer).__name__:
        raise CheckpointError(f"{path}: the file holds {saved['class']} state, the optimizer "
                              f"given is {type(optimizer).__name__}")
    names = {id(p): name for name, p in model.named_parameters()}
    current = [names.get(id(p)) for _, p in optimizer._indexed_params()]
    stored = saved["param_names"]
    # NOTE: state is matched by position, as in PyTorch; when both sides know the parameter
    # names, a different order is caught here instead of silently swapping state.
    if len(stored) == len(current):
        for index, (was, now) in enumerate(zip(stored, current, strict=True)):
            if was is not None and now is not None and was != now:
                raise CheckpointError(f"{path}: optimizer parameter {index} is {was!r} in the "
                                      f"file but {now!r} in the optimizer given")


def _rebuild_optimizer(path: PathLike, saved: dict[str, Any], model: Module,
                       arrays: dict[str, np.ndarray]) -> Optimizer:
    cls = OPTIMIZERS.get(saved["class"])
    if cls is None:
        raise CheckpointError(f"{path}: unknown optimizer class {saved['class']!r}; known: "
                              f"{', '.join(OPTIMIZERS)}")
    params = dict(model.named_parameters())
    names = saved["param_names"]
    for index, name in enumerate(names):
        if name not in params:
            raise CheckpointError(f"{path}: optimizer parameter {index} ({name!r}) is not a "
                                  "parameter of the model; build the optimizer and pass it")
    groups = []
    for g, group in enumerate(saved["param_groups"]):
        if not isinstance(group, dict) or not isinstance(group.get("params"), list) or any(
                not isinstance(i, int) or not 0 <= i < len(names) for i in group["params"]):
            raise CheckpointError(f"{path}: 'optimizer.param_groups[{g}]' is malformed")
        groups.append({**group, "params": [params[names[i]] for i in group["params"]]})
    try:
        # every option is in the groups; the saved defaults then replace the class defaults
        optimizer = cls(groups, lr=saved["defaults"].get("lr", groups[0].get("lr")))
        for key, value in saved["defaults"].items():
            was_tuple = isinstance(optimizer.defaults.get(key), tuple)
            optimizer.defaults[key] = tuple(value) if was_tuple else value  # betas: JSON list
        optimizer.load_state_dict(_optimizer_state_dict(saved, arrays))
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"{path}: 'optimizer' cannot be rebuilt: {e}") from e
    return optimizer
