"""Optimizer: parameter groups, lazy per-parameter state, and state_dict by index (as PyTorch).

Subclasses (optimizers.py) implement two hooks and nothing else:

    _update(p, grad, state, group)  one parameter's update: mutate ``p.data`` in place
    _state_layout(group)            the state keys a stepped parameter has: "array" or "int"

The base class owns the loop over groups, ``maximize``, skipping parameters without a gradient,
``zero_grad``, and ``state_dict``/``load_state_dict`` with full validation.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .. import autograd
from ..autograd import bump_version, enable_grad
from ..tensor import Tensor
from ..validation import check_bool, check_number

ParamGroup = dict[str, Any]
_MAX_STEP = 2**63 - 1  # a step count beyond int64 is corrupt (beta ** step would overflow)
Params = Iterable[Tensor] | Iterable[ParamGroup]
State = dict[str, Any]  # one parameter's state
StateDict = dict[str, Any]


def gradient_shape_error(optimizer: Optimizer, grad: np.ndarray, data: np.ndarray
                         ) -> RuntimeError:
    """What ``step`` raises for a gradient of another shape than its parameter (tg.compile's
    generated SGD step raises it too)."""
    return RuntimeError(f"{type(optimizer).__name__}.step: gradient of shape {grad.shape} for a "
                        f"parameter of shape {data.shape}")


class Optimizer:
    """Base class: holds ``param_groups`` (lists of Tensors plus options) and per-parameter state.

    ``params`` is an iterable of Tensors, or of dicts ``{"params": [...], **options}`` (PyTorch's
    parameter groups): options a group leaves out come from ``defaults``.

    Invariants the subclasses rely on:

    - ``p.data`` is updated in place, so models, views and anyone holding the array see it;
    - ``p.grad.data`` is only read, never written: gradient arrays may be shared;
    - state is created on a parameter's first step (lazily), so parameters that never receive
      a gradient have none, and ``state_dict`` names parameters by their index across groups.
    """

    def __init__(self, params: Params, defaults: dict[str, Any]):
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or of dicts, "
                "got a single Tensor (wrap it in a list)"
            )
        if isinstance(params, (set, frozenset)):
            # a set's order changes between runs, and state_dict names parameters by position
            raise TypeError(f"{type(self).__name__}: params must be an ordered collection, "
                            "not a set")
        self.defaults = dict(defaults)
        self.param_groups: list[ParamGroup] = []
        # NOTE: keyed by the Tensor itself, as in PyTorch. Tensor hashes by identity, and a dict
        # lookup of the very same object never calls Tensor.__eq__ (which is elementwise).
        self.state: dict[Tensor, State] = {}
        self._scratch_arrays: dict[Tensor, np.ndarray] = {}
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----------------------------------------------------------------------------------------
    # the hooks subclasses implement
    # ----------------------------------------------------------------------------------------

    def _update(self, p: Tensor, grad: np.ndarray, state: State, group: ParamGroup) -> None:
        """Apply one step to ``p.data`` (in place) from ``grad`` (already negated if maximize)."""
        raise NotImplementedError

    def _state_layout(self, group: ParamGroup) -> dict[str, str]:
        """The keys of a stepped parameter's state: "array" (shaped like p) or "int"."""
        raise NotImplementedError

    def scratch(self, p: Tensor) -> np.ndarray:
        """A reused array shaped like ``p`` for an update's intermediate (not state: never saved).
        NOTE: a fresh ``lr * grad`` per parameter per step is an allocation small steps feel."""
        buffer = self._scratch_arrays.get(p)
        data = p.data
        if buffer is None or buffer.shape != data.shape or buffer.dtype is not data.dtype:
            buffer = self._scratch_arrays[p] = np.empty_like(data)
        return buffer

    # options that are True/False; every other option is a finite number (or a tuple of them)
    _flags: tuple[str, ...] = ("maximize",)

    def _check_options(self, group: ParamGroup) -> list[str]:
        """Problems with a group's hyperparameter RANGES, as messages (empty when all is well);
        types and finiteness are checked before, for every optimizer, by ``_check_types``."""
        return []

    def _check_types(self, group: ParamGroup, op: str) -> None:
        """Every flag a bool and every other option a finite number, before anything runs:
        ``lr=inf`` or ``momentum=nan`` would train to nan, ``maximize="false"`` (truthy) would
        ascend. Options not among the defaults are the caller's own (as in PyTorch)."""
        for key in self.defaults:
            value = group[key]
            if key in self._flags:
                group[key] = check_bool(value, key, op)
            elif isinstance(value, tuple):
                for v in value:
                    check_number(v, key, op)
            elif value is not None:
                check_number(value, key, op)

    # ----------------------------------------------------------------------------------------
    # groups
    # ----------------------------------------------------------------------------------------

    def add_param_group(self, param_group: ParamGroup) -> None:
        """Add a group ``{"params": ..., **options}``; missing options are taken from defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            kind = type(param_group).__name__
            raise TypeError(f"{name}: a param group must be a dict, got {kind}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a param group needs a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: params must be an ordered collection, not a set")
        params = list(params)
        index = len(self.param_groups)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for i, p in enumerate(params):
            where = f"param_groups[{index}]['params'][{i}]"
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: {where} is a {type(p).__name__}, not a Tensor")
            if not p.is_leaf:
                raise ValueError(f"{name}: {where} is not a leaf tensor (it has a grad_fn)")
            if p.dtype.kind != "f":
                raise TypeError(f"{name}: {where} has dtype {p.dtype}; only floats can be "
                                "optimized")
            if id(p) in seen:
                raise ValueError(f"{name}: {where} appears more than once in the optimizer")
            seen.add(id(p))
        group = {**self.defaults, **param_group, "params": params}
        for key, default in self.defaults.items():
            if isinstance(default, tuple):
                group[key] = tuple(group[key])  # betas given as a list work the same
        self._check_types(group, f"{name}: param group {index}")
        problems = self._check_options(group)
        if problems:
            raise ValueError(f"{name}: param group {index}: " + "; ".join(problems))
        self.param_groups.append(group)

    # ----------------------------------------------------------------------------------------
    # stepping
    # ----------------------------------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (default), or fresh zero arrays."""
        if autograd._tracer is not None:
            autograd._tracer.call(self.zero_grad, set_to_none)
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    # a new array, not an in-place fill: the old one may be shared
                    p.grad = Tensor.from_numpy(np.zeros_like(p.grad.data))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()`` if one is given."""
        if autograd._tracer is not None:
            autograd._tracer.optimizer_step(self, closure)
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        states = self.state
        for group in self.param_groups:
            maximize = group.get("maximize", False)
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                if grad.shape != p.data.shape:
                    raise gradient_shape_error(self, grad, p.data)
                if maximize:
                    grad = -grad  # every optimizer here ascends by descending on -grad
                state = states.get(p)
                if state is None:  # lazily, on the first step (no {} built on every step)
                    state = states[p] = {}
                self._update(p, grad, state, group)
                bump_version(p)  # p changed in place: a graph recorded before must not backward
        return loss

    # ----------------------------------------------------------------------------------------
    # state_dict
    # ----------------------------------------------------------------------------------------

    def _indexed_params(self) -> list[tuple[int, Tensor]]:
        """(group index, parameter) in state_dict order: the index is the list position."""
        return [(g, p) for g, group in enumerate(self.param_groups) for p in group["params"]]

    def parameters(self) -> list[Tensor]:
        """Every parameter, in state_dict order: a parameter's index there is its position."""
        return [p for _, p in self._indexed_params()]

    def state_dict(self) -> StateDict:
        """``{"state": {index: {key: value}}, "param_groups": [{**options, "params": [index]}]}``.

        Parameters are named by their position across all groups, as in PyTorch, so the dict
        can be loaded into an optimizer built over another copy of the same model. Arrays are
        copies (unlike PyTorch): a saved state_dict does not change as training continues.
        """
        index_of = {id(p): i for i, (_, p) in enumerate(self._indexed_params())}
        groups = []
        for group in self.param_groups:
            options = {k: v for k, v in group.items() if k != "params"}
            groups.append({**options, "params": [index_of[id(p)] for p in group["params"]]})
        state = {
            index_of[id(p)]: {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in s.items()}
            for p, s in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Load options and state saved by ``state_dict``.

        Everything is validated before anything is assigned: on any error (a ValueError naming
        the group, index and key) the optimizer is unchanged. Arrays are copied in and cast to
        their parameter's dtype, as PyTorch does.
        """
        new_groups, new_state = self._validated(state_dict)
        for group, new in zip(self.param_groups, new_groups, strict=True):
            group.clear()
            group.update(new)
        self.state = new_state

    def check_state_dict(self, state_dict: StateDict) -> None:
        """Raise the ValueError ``load_state_dict`` would raise, changing nothing (the checkpoint
        loader uses it to validate a whole file before loading any of it)."""
        self._validated(state_dict)

    def _validated(self, state_dict: StateDict) -> tuple[list[ParamGroup], dict[Tensor, State]]:
        """The groups and state that loading ``state_dict`` gives, or a ValueError."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            found = (sorted(state_dict) if isinstance(state_dict, dict)
                     else type(state_dict).__name__)
            raise ValueError(f"{name}: expected keys ['param_groups', 'state'], got {found}")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, (list, tuple)):
            raise ValueError(f"{name}: 'param_groups' must be a list")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: the saved state has {len(saved_groups)} param groups, this optimizer "
                f"has {len(self.param_groups)}"
            )
        new_groups = []
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            new_groups.append(self._merge_group(name, g, group, saved))
        indexed = self._indexed_params()
        saved_state = state_dict["state"]
        if not isinstance(saved_state, dict):
            raise ValueError(f"{name}: 'state' must be a dict, got {type(saved_state).__name__}")
        new_state: dict[Tensor, State] = {}
        for index, entry in saved_state.items():
            if isinstance(index, bool) or not isinstance(index, numbers.Integral):
                raise ValueError(f"{name}: state key {index!r} is not a parameter index")
            if not 0 <= index < len(indexed):
                raise ValueError(
                    f"{name}: state[{index}] refers to no parameter (there are {len(indexed)})"
                )
            g, p = indexed[index]
            layout = self._state_layout(new_groups[g])
            new_state[p] = _check_state(name, int(index), g, p, entry, layout)
        return new_groups, new_state

    def _merge_group(self, name: str, g: int, group: ParamGroup, saved: Any) -> ParamGroup:
        """The group after loading ``saved`` into it (not yet assigned), or a ValueError."""
        if not isinstance(saved, dict) or "params" not in saved:
            raise ValueError(f"{name}: param_groups[{g}] must be a dict with a 'params' entry")
        if not isinstance(saved["params"], (list, tuple)):
            raise ValueError(f"{name}: param_groups[{g}]['params'] must be a list of indices")
        if len(saved["params"]) != len(group["params"]):
            raise ValueError(
                f"{name}: param_groups[{g}] has {len(saved['params'])} params in the saved "
                f"state but {len(group['params'])} in this optimizer"
            )
        missing = sorted(set(self.defaults) - set(saved))
        if missing:
            raise ValueError(f"{name}: param_groups[{g}] is missing options {missing}")
        merged = {k: v for k, v in saved.items() if k != "params"}
        for key, default in self.defaults.items():
            if isinstance(default, tuple) and isinstance(merged[key], list):
                merged[key] = tuple(merged[key])  # betas survive a JSON round trip as a list
        merged["params"] = group["params"]
        try:
            self._check_types(merged, f"{name}: param_groups[{g}]")
        except TypeError as e:  # a bad file is a ValueError, whatever the field's fault
            raise ValueError(str(e)) from None
        problems = self._check_options(merged)
        if problems:
            raise ValueError(f"{name}: param_groups[{g}]: " + "; ".join(problems))
        return merged

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for g, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {g}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join(lines) + "\n)"


def _check_state(
    name: str, index: int, g: int, p: Tensor, entry: Any, layout: dict[str, str]
) -> dict[str, Any]:
    """One parameter's saved state, validated against ``layout`` and copied; or a ValueError."""
    where = f"state[{index}] (param_groups[{g}])"
    if not isinstance(entry, dict):
        raise ValueError(f"{name}: {where} must be a dict, got {type(entry).__name__}")
    # An empty entry is a parameter that was registered but never stepped with these options.
    if entry and set(entry) != set(layout):
        raise ValueError(
            f"{name}: {where} has keys {sorted(entry)}, expected {sorted(layout)} "
            "for this optimizer and these options"
        )
    checked: dict[str, Any] = {}
    for key, value in entry.items():
        if layout[key] == "int":
            if (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0
                    or value > _MAX_STEP):
                shown = value if not isinstance(value, int) or value < 10**30 else "a huge int"
                raise ValueError(f"{name}: {where}[{key!r}] must be a non-negative int "
                                 f"(at most 2**63 - 1), got {shown!r}")
            checked[key] = int(value)
            continue
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
            kind = value.dtype if isinstance(value, np.ndarray) else type(value).__name__
            raise ValueError(f"{name}: {where}[{key!r}] must be a numeric ndarray, got {kind}")
        if value.shape != p.shape:
            raise ValueError(
                f"{name}: {where}[{key!r}] has shape {value.shape} but the parameter has "
                f"shape {p.shape}"
            )
        if not np.isfinite(value).all():  # a diverged run's state would make the next step nan
            raise ValueError(f"{name}: {where}[{key!r}] holds nan or inf values")
        checked[key] = value.astype(p.dtype, copy=True)
    return checked
