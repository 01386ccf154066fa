"""Safe checkpoints in safetensors: tensors by name, everything else in JSON metadata.

    tg.save("run.safetensors", model, optimizer, scheduler=sched, extra={"epoch": 3})
    ckpt = tg.load("run.safetensors")            # rebuild model (and optimizer) from the file
    tg.load("run.safetensors", model=net, optimizer=opt)  # or load into ones you built
    tg.save(model.state_dict(), "weights.safetensors")    # PyTorch's order works too
    net.load_state_dict(tg.load("weights.safetensors"))  # a state-dict file gives the dict

The file (format version 2, ``safetensors_file``) opens in any safetensors reader; its model
tensors carry the ``state_dict`` names of the module ``tinygrad_nn.export.to_torch`` builds, so
``torch_module.load_state_dict(safetensors.torch.load_file(path))`` works (optimizer state is
under ``optimizer.``: leave those keys out). Version-1 ``.npz`` checkpoints still load
(``npz_file``), but are no longer written.

Loading never runs code from the file (no pickle anywhere). It checks, in this order, and
before reading any tensor: the file's structure and declared sizes (a hostile file costs no
more memory than an honest one), the checksums of the metadata, the header's fields, the
stored names, dtypes and shapes against the model (``nn.module.state_mismatches``, the check of
``Module.load_state_dict``; or, when rebuilding, the spec's size against the tensors the file
holds, before building), the scheduler's state (``check_state_dict``). Then it reads the
tensors (checksummed), checks the optimizer's state (``Optimizer.check_state_dict``), and only
then assigns: a bad file raises CheckpointError
(naming the file and the entry) and leaves model, optimizer and scheduler unchanged. Writes are
atomic (``atomic``): a crash, Ctrl-C or SIGTERM mid-save leaves the previous file intact.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..nn import Module
from ..optim import Optimizer
from . import npz_file, safetensors_file
from .header import (
    FORMAT,
    VERSION,
    CheckpointError,
    PathLike,
    Stored,
    describe_model,
    describe_optimizer,
    describe_scheduler,
    describe_state_dict,
    model_declared,
    new_header,
)
from .restore import (
    OPTIMIZERS,
    check_model,
    check_optimizer_matches,
    check_scheduler,
    optimizer_state_dict,
    rebuild_model,
    rebuild_optimizer,
)

__all__ = ["FORMAT", "OPTIMIZERS", "VERSION", "Checkpoint", "CheckpointError", "load",
           "check_save_path", "load_state_dict", "read_header", "save", "save_state_dict"]


@dataclass
class Checkpoint:
    """What ``load`` returns for a checkpoint: the model and optimizer (loaded, or rebuilt from
    the file), the scheduler's stored state (loaded into ``scheduler=`` when given), the
    caller's ``extra`` value and the whole parsed header."""

    model: Module
    optimizer: Optimizer | None
    extra: Any
    header: dict[str, Any]
    scheduler_state: dict[str, Any] | None = None


# ============================================================================================
# saving
# ============================================================================================


def save(path: Any, obj: Any, optimizer: Optimizer | None = None, extra: Any = None, *,
         scheduler: Any = None) -> None:
    """Write ``obj`` (a Module: spec, parameters, buffers; or a state dict ``{name: array}``),
    ``optimizer`` (class, options, state), ``scheduler`` (its ``state_dict``) and ``extra``
    (any JSON value: epoch, metrics) to ``path`` (a ``.safetensors`` file), atomically.

    PyTorch's argument order ``save(obj, path)`` is accepted too. On any error the previous
    file is left as it was.
    """
    if isinstance(path, (Module, Mapping)) and not isinstance(obj, (Module, Mapping)):
        path, obj = obj, path  # torch.save(obj, f) order
    check_save_path(path)
    arrays: dict[str, np.ndarray] = {}
    if isinstance(obj, Module):
        header = new_header("checkpoint", extra, path)
        header["model"] = describe_model(obj, arrays, path)
        if optimizer is not None:
            header["optimizer"] = describe_optimizer(optimizer, obj, arrays, path)
    elif isinstance(obj, Mapping):
        if optimizer is not None:
            raise TypeError("save: an optimizer is saved with its Module (its parameter "
                            "names come from the model), not with a state dict")
        header = new_header("state_dict", extra, path)
        header["model"] = describe_state_dict(obj, arrays, path)
    else:
        raise TypeError(f"save: expected a Module or a state dict, got {type(obj).__name__}")
    if scheduler is not None:
        header["scheduler"] = describe_scheduler(scheduler)
    safetensors_file.write(path, header, arrays)


def check_save_path(path: Any) -> None:
    """Refuse a path ``save`` cannot write, before any work is done (``fit`` calls it before
    its first epoch)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save: path must be a str or PathLike, got {type(path).__name__}")
    if Path(path).suffix == ".npz":
        raise CheckpointError(f"{path}: .npz checkpoints (format version 1) are read-only; "
                              "save to a .safetensors path")


def save_state_dict(path: PathLike, state_dict: Mapping[str, Any], extra: Any = None) -> None:
    """Write a raw ``{name: array}`` dict (e.g. ``model.state_dict()``); same as ``save``."""
    save(path, state_dict, extra=extra)


# ============================================================================================
# loading
# ============================================================================================


def read_header(path: PathLike) -> dict[str, Any]:
    """The parsed, checked header of a file (what it holds), reading no tensor."""
    return _open(path).header


def load_state_dict(path: PathLike) -> dict[str, np.ndarray]:
    """The ``{name: array}`` dict a file holds (a state dict, or a checkpoint's model); also
    every tensor of a safetensors file another program wrote, e.g. PyTorch weights saved with
    ``safetensors.torch.save_file`` (such a file has no checksums to verify)."""
    stored = _open(path, foreign=True)
    return _model_arrays(stored.header, stored.read())


def load(path: PathLike, model: Module | None = None, optimizer: Optimizer | None = None,
         scheduler: Any = None) -> Any:
    """Load a file written by ``save`` (or a version-1 ``.npz`` checkpoint).

    - A state-dict file without ``model``: returns the ``{name: array}`` dict.
    - ``model=None``: the model is rebuilt from the stored spec (``nn.build``) and the
      optimizer, if the file has one, is rebuilt over its parameters (``optimizer`` must then
      be None too).
    - ``model`` given: its parameters and buffers are overwritten in place (the arrays keep
      their identity, so an optimizer built over them stays valid); ``optimizer`` and
      ``scheduler``, if given, receive the stored state.

    Returns a Checkpoint (or the dict, above). Everything is validated before anything is
    assigned; on error (CheckpointError, naming the file and the entry) nothing is changed.
    """
    stored = _open(path)
    header = stored.header
    if model is None and header["kind"] == "state_dict" and optimizer is None:
        return _model_arrays(header, stored.read())
    tensors = model_declared(header, stored.declared)
    saved_optimizer, saved_scheduler = header["optimizer"], header.get("scheduler")

    if model is None:
        if optimizer is not None or scheduler is not None:
            raise CheckpointError(f"{path}: optimizer= and scheduler= need model= (the model "
                                  "their parameters belong to)")
        model = rebuild_model(path, header["model"], tensors)  # checks the spec's size first
        check_model(path, model, tensors)
        arrays = stored.read()
        model.load_state_dict(_model_arrays(header, arrays))
        if saved_optimizer is not None:
            optimizer = rebuild_optimizer(path, saved_optimizer, model, arrays)
        return Checkpoint(model, optimizer, header["extra"], header, saved_scheduler and
                          saved_scheduler["state"])

    if not isinstance(model, Module):
        raise TypeError(f"load: model must be a Module, got {type(model).__name__}")
    check_model(path, model, tensors)
    if optimizer is not None:
        if saved_optimizer is None:
            raise CheckpointError(f"{path}: has no optimizer state ('optimizer' is null) but "
                                  "an optimizer was given")
        check_optimizer_matches(path, saved_optimizer, optimizer, model)
    if scheduler is not None:
        check_scheduler(path, saved_scheduler, scheduler)
    arrays = stored.read()
    state_dict = None
    if optimizer is not None:
        state_dict = optimizer_state_dict(saved_optimizer, arrays)
        try:
            optimizer.check_state_dict(state_dict)
        except ValueError as e:
            raise CheckpointError(f"{path}: 'optimizer': {e}") from e
    # everything is validated: assign
    model.load_state_dict(_model_arrays(header, arrays))
    if optimizer is not None:
        optimizer.load_state_dict(state_dict)
    if scheduler is not None:
        scheduler.load_state_dict(saved_scheduler["state"])
    return Checkpoint(model, optimizer, header["extra"], header,
                      saved_scheduler and saved_scheduler["state"])


def _model_arrays(header: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    return {name: arrays[entry["key"]] for name, entry in header["model"]["tensors"].items()}


def _open(path: PathLike, foreign: bool = False) -> Stored:
    """Open either format; checks the header and declared sizes, reads no tensor."""
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such file")
    with open(path, "rb") as f:
        zipped = f.read(2) == b"PK"
    if zipped or Path(path).suffix == ".npz":
        return npz_file.open_file(path)
    return safetensors_file.open_file(path, foreign)
