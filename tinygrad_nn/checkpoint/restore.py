"""Matching a checkpoint's contents with a model, optimizer and scheduler, and rebuilding them.

Every check here runs before anything is assigned, so a refused file changes nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import optim as _optim
from ..nn import Module, build
from ..nn.module import state_mismatches
from ..optim import Optimizer
from ..optim.lr_scheduler import state_keys_mismatch
from .header import CheckpointError, Declared, PathLike, spec_size_lower_bound

# The optimizers a file may name: only these classes are ever instantiated from a header.
OPTIMIZERS: dict[str, type[Optimizer]] = {cls.__name__: cls for cls in _optim.OPTIMIZERS.values()}


def check_model(path: PathLike, model: Module, tensors: Declared) -> None:
    """The stored tensors (dtype, shape) fit ``model`` exactly: ``nn.module.state_mismatches``, the
    check ``Module.load_state_dict`` makes, run on what the file declares before reading it.
    Every problem is listed, so one error shows how a file and a model differ."""
    own = {name: (array.dtype, array.shape) for name, array in model.state_dict().items()}
    problems = []
    for m in state_mismatches(own, tensors):
        if m.what == "missing":
            problems.append(f"model key {m.key!r} is missing from the file")
        elif m.what == "unexpected":
            problems.append(f"the file has model key {m.key!r}, which {type(model).__name__} "
                            "does not have")
        else:
            problems.append(f"model key {m.key!r} has {m.what} {m.found} in the file but "
                            f"{m.expected} in the model")
    if problems:
        raise CheckpointError(f"{path}: " + "; ".join(problems))


def check_spec_size(path: PathLike, saved: dict[str, Any], tensors: Declared) -> None:
    """Refuse a spec that would build more parameters than the file holds, BEFORE building:
    a tiny file must not make ``build`` allocate gigabytes."""
    stored = sum(int(np.prod(shape)) for _, shape in tensors.values())
    declared = spec_size_lower_bound(saved.get("spec"))
    if isinstance(declared, str):
        raise CheckpointError(f"{path}: 'model.spec' has a {declared} layer, whose size "
                              "cannot be checked before building; build the model and pass "
                              "model=")
    if declared > stored:
        raise CheckpointError(f"{path}: 'model.spec' declares at least {declared} parameters "
                              f"but the file holds {stored} values; refused before building")


def rebuild_model(path: PathLike, saved: dict[str, Any], tensors: Declared) -> Module:
    if saved.get("spec") is None:
        raise CheckpointError(f"{path}: the model ({saved.get('class')}) was saved without a "
                              "spec; build it yourself and pass model=")
    check_spec_size(path, saved, tensors)
    floats = [dtype for dtype, _ in tensors.values() if dtype.kind == "f"]
    try:
        return build(saved["spec"], dtype=floats[0] if floats else None)
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: 'model.spec' cannot be built: {e}") from e


def optimizer_state_dict(saved: dict[str, Any], arrays: dict[str, np.ndarray]) -> dict:
    """The stored optimizer state in ``Optimizer.state_dict`` form (validated by the optimizer)."""
    state: dict[Any, dict[str, Any]] = {}
    for index, entry in saved["state"].items():
        key = int(index) if index.isdigit() else index  # a bad key is reported by the optimizer
        state[key] = {k: v["int"] if "int" in v else arrays[v["key"]] for k, v in entry.items()}
    return {"state": state, "param_groups": saved["param_groups"]}


def check_optimizer_matches(path: PathLike, saved: dict[str, Any], optimizer: Optimizer,
                            model: Module) -> None:
    if saved["class"] != type(optimizer).__name__:
        raise CheckpointError(f"{path}: the file holds {saved['class']} state, the optimizer "
                              f"given is {type(optimizer).__name__}")
    names = {id(p): name for name, p in model.named_parameters()}
    current = [names.get(id(p)) for p in optimizer.parameters()]
    stored = saved["param_names"]
    # NOTE: state is matched by position, as in PyTorch; when both sides know the parameter
    # names, a different order is caught here instead of silently swapping state.
    if len(stored) == len(current):
        for index, (was, now) in enumerate(zip(stored, current, strict=True)):
            if was is not None and now is not None and was != now:
                raise CheckpointError(f"{path}: optimizer parameter {index} is {was!r} in the "
                                      f"file but {now!r} in the optimizer given")


def rebuild_optimizer(path: PathLike, saved: dict[str, Any], model: Module,
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
        optimizer.load_state_dict(optimizer_state_dict(saved, arrays))
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"{path}: 'optimizer' cannot be rebuilt: {e}") from e
    return optimizer


def check_scheduler(path: PathLike, saved: dict[str, Any] | None, scheduler: Any) -> None:
    if saved is None:
        raise CheckpointError(f"{path}: has no scheduler state ('scheduler' is null) but a "
                              "scheduler was given")
    if saved["class"] != type(scheduler).__name__:
        raise CheckpointError(f"{path}: the file holds {saved['class']} state, the scheduler "
                              f"given is {type(scheduler).__name__}")
    mismatch = state_keys_mismatch(saved["state"], scheduler.state_dict())  # any scheduler's
    if mismatch is not None:
        raise CheckpointError(f"{path}: 'scheduler.state' {mismatch}")
    try:  # what the scheduler's load_state_dict checks (a user's class may not have it)
        getattr(scheduler, "check_state_dict", lambda state: None)(saved["state"])
    except ValueError as e:
        raise CheckpointError(f"{path}: 'scheduler.state': {e}") from e
