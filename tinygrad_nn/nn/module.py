"""Module and Parameter: networks declared as plain Python attributes, PyTorch's semantics.

A Module finds its state by walking its attributes in the order they were assigned: a
``Parameter`` is trainable state, a ``Buffer`` is non-trainable state (BatchNorm's running
statistics), a ``Module`` is a child; lists, tuples and dicts of these are walked too, so
``self.layers = [Linear(2, 3), Linear(3, 1)]`` gives ``layers.0.weight`` with no registration
call. Everything found is deduplicated by identity: a shared (tied) parameter is listed once,
under the first name it is reached by.

NOTE on order: the walk is depth-first in attribute order. PyTorch lists a module's own
parameters before those of its children; the two orders differ only for a module that holds
both parameters and child modules directly, and ``state_dict`` keys (names) are the same.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .. import autograd
from ..autograd import bump_version
from ..dtypes import DTYPE_NAMES, check_dtype
from ..tensor import ArrayLike, Tensor
from ..validation import check_device

# Attributes of Module itself that are bookkeeping, never state (hooks may be Modules).
_BOOKKEEPING = frozenset({"training", "_forward_hooks", "_forward_pre_hooks"})


class Parameter(Tensor):
    """A Tensor that is trainable state of a Module: requires grad, floating point only.

    >>> Parameter([1.0, 2.0])
    Parameter(Tensor([1., 2.], requires_grad=True))
    """

    __slots__ = ()

    def __init__(self, data: ArrayLike, dtype: Any = None, requires_grad: bool = True):
        super().__init__(data, dtype=dtype)
        if self.dtype.kind != "f":
            raise TypeError(
                f"Parameter: only floating-point data can be a parameter, got {self.dtype} "
                f"with shape {self.shape}"
            )
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return f"Parameter({super().__repr__()})"


class Buffer(Tensor):
    """A Tensor that is non-trainable state of a Module (saved in ``state_dict``, never
    optimized), e.g. BatchNorm's ``running_mean``. Any dtype (``num_batches_tracked`` is int64)."""

    __slots__ = ()

    def __init__(self, data: ArrayLike, dtype: Any = None):
        super().__init__(data, dtype=dtype)

    def __repr__(self) -> str:
        return f"Buffer({super().__repr__()})"


class RemovableHandle:
    """Returned by ``register_forward_hook``: ``.remove()`` unregisters the hook (idempotent).
    Also a context manager that removes the hook on exit."""

    _next_id = 0

    def __init__(self, hooks: dict[int, Callable[..., Any]]):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class LoadResult(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped (PyTorch's ``_IncompatibleKeys``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class StateDictError(RuntimeError):
    """``load_state_dict`` refused a state: the message lists every offending key."""


def _flatten(name: str, value: Any) -> Iterator[tuple[str, Any]]:
    """The Modules, Parameters and Buffers in ``value``, looking inside lists, tuples, dicts."""
    if isinstance(value, (Module, Parameter, Buffer)):
        yield name, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _flatten(f"{name}.{i}", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(f"{name}.{key}", item)


def join_name(prefix: str, name: str) -> str:
    """``prefix.name``, or ``name`` at the top (prefix ""): how every dotted name is made."""
    return f"{prefix}.{name}" if prefix else name


def split_weights(params: Iterable[Parameter]) -> tuple[list[Parameter], list[Parameter]]:
    """(weights, others): the weights are the parameters with 2 or more dims, the ones weight
    decay and L2 penalties apply to; biases and BatchNorm's gamma/beta are not regularized
    (Nielsen, CS231n)."""
    params = list(params)
    return [p for p in params if p.ndim >= 2], [p for p in params if p.ndim < 2]


Spec = tuple[np.dtype, tuple[int, ...]]  # what a stored array is: (dtype, shape)


class Mismatch(NamedTuple):
    """One reason a state does not fit: ``what`` is "missing", "unexpected", "shape" or
    "dtype"; ``found`` and ``expected`` are the state's and the module's shape or dtype."""

    key: str
    what: str
    found: Any = None
    expected: Any = None


def state_mismatches(expected: Mapping[str, Spec], found: Mapping[str, Spec]) -> list[Mismatch]:
    """Why a state with arrays ``found`` cannot load into one with ``expected`` (both {key:
    (dtype, shape)}): PyTorch's check of keys and shapes, and dtypes (never cast silently). The
    one state check: ``Module.load_state_dict`` runs it on arrays, the checkpoint loader on what
    a file declares, before reading it."""
    mismatches = []
    for key, (dtype, shape) in expected.items():
        if key not in found:
            mismatches.append(Mismatch(key, "missing"))
        elif tuple(found[key][1]) != tuple(shape):
            mismatches.append(Mismatch(key, "shape", tuple(found[key][1]), tuple(shape)))
        elif found[key][0] != dtype:
            mismatches.append(Mismatch(key, "dtype", found[key][0], dtype))
    return mismatches + [Mismatch(key, "unexpected") for key in found if key not in expected]


class Module:
    """Base class of every layer and network: subclass it, assign parameters and submodules as
    attributes in ``__init__``, write ``forward``; call the module to run it.

    >>> class Net(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = Parameter([2.0])
    ...     def forward(self, x):
    ...         return x * self.scale
    >>> [name for name, _ in Net().named_parameters()]
    ['scale']
    """

    # Class-level defaults keep a subclass working even if it forgets super().__init__().
    training: bool = True
    _forward_hooks: dict[int, Callable[..., Any]] | None = None
    _forward_pre_hooks: dict[int, Callable[..., Any]] | None = None

    def __init__(self) -> None:
        self.training = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # NOTE: the fast path is one attribute check per hook kind: no hooks, no overhead.
        if autograd._tracer is not None:
            autograd._tracer.module(self)
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                hook(self, args)
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                replaced = hook(self, args, out)
                if replaced is not None:
                    out = replaced
        return out

    # ----------------------------------------------------------------------------------------
    # hooks
    # ----------------------------------------------------------------------------------------

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward; a non-None return value
        replaces the output (as in PyTorch). ``inputs`` is the tuple of positional arguments."""
        if "_forward_hooks" not in vars(self):
            self._forward_hooks = {}
        assert self._forward_hooks is not None
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook: Callable[[Module, tuple], Any]) -> RemovableHandle:
        """Call ``hook(module, inputs)`` before every forward (e.g. to mark where a module's ops
        begin when tracing a graph)."""
        if "_forward_pre_hooks" not in vars(self):
            self._forward_pre_hooks = {}
        assert self._forward_pre_hooks is not None
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_buffer(self, name: str, value: ArrayLike | None) -> None:
        """``self.name = Buffer(value)`` (PyTorch's spelling); None leaves a placeholder."""
        if value is not None and not isinstance(value, Buffer):
            value = Buffer(value)
        setattr(self, name, value)

    # ----------------------------------------------------------------------------------------
    # walking the state
    # ----------------------------------------------------------------------------------------

    def _members(self) -> Iterator[tuple[str, Any]]:
        """(name, value) for this module's own Modules, Parameters and Buffers, in attribute
        order, containers flattened. Containers like Sequential override this to name by index."""
        for name, value in vars(self).items():
            if name not in _BOOKKEEPING:
                yield from _flatten(name, value)

    def _walk(self, memo: set[int], prefix: str) -> Iterator[tuple[str, Any]]:
        """This module, then its members in attribute order (submodules walked in turn), each
        object once (``memo``): the one walk behind named_modules/parameters/buffers."""
        memo.add(id(self))
        yield prefix, self
        for name, value in self._members():
            if id(value) in memo:
                continue
            if isinstance(value, Module):
                yield from value._walk(memo, join_name(prefix, name))
            else:
                memo.add(id(value))
                yield join_name(prefix, name), value

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The modules held directly (or in a list/tuple/dict attribute), each once."""
        seen: set[int] = set()
        for name, value in self._members():
            if isinstance(value, Module) and id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo: set[int] | None = None,
                      prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and every descendant, depth-first, each once."""
        for name, value in self._walk(set() if memo is None else memo, prefix):
            if isinstance(value, Module):
                yield name, value

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def _named_state(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Every Parameter and Buffer in the tree, depth-first in attribute order, each once."""
        for name, value in self._walk(set(), prefix):
            if not isinstance(value, Module):
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, e.g. ``("layers.0.weight", w)``."""
        for name, value in self._named_state(prefix):
            if isinstance(value, Parameter):
                yield name, value

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Buffer]]:
        for name, value in self._named_state(prefix):
            if isinstance(value, Buffer):
                yield name, value

    def buffers(self) -> Iterator[Buffer]:
        for _, b in self.named_buffers():
            yield b

    # ----------------------------------------------------------------------------------------
    # modes, gradients, dtypes
    # ----------------------------------------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every descendant (Dropout, BatchNorm read it)."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        """Same as ``train(False)``: Dropout becomes the identity, BatchNorm uses running stats."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradients: ``grad = None`` (PyTorch's default), or zeros."""
        if autograd._tracer is not None:
            autograd._tracer.call(self.zero_grad, set_to_none)
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor.from_numpy(np.zeros_like(p.data))

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every module of the tree (e.g. a custom initialization)."""
        for module in self.modules():
            fn(module)
        return self

    def to(self, *args: Any, dtype: Any = None, device: Any = None) -> Module:
        """Convert every floating parameter and buffer to ``dtype`` in place; integer buffers
        (``num_batches_tracked``) are kept, as in PyTorch. Gradients are dropped. ``to("cpu")``
        changes nothing (this library runs on the CPU only; other devices are an error)."""
        for a in args:
            if isinstance(a, str) and a not in DTYPE_NAMES:
                device = a
            else:
                dtype = a
        check_device(device, f"{type(self).__name__}.to")
        if dtype is None:
            return self
        dtype = check_dtype(dtype, f"{type(self).__name__}.to")
        if dtype.kind != "f":
            raise TypeError(f"Module.to: only floating dtypes are allowed, got {dtype}")
        for _, t in self._named_state():
            if t.dtype.kind == "f" and t.dtype != dtype:
                t.data = t.data.astype(dtype)
                t.grad = None
                bump_version(t)  # a backward through a graph made before would be wrong
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    # ----------------------------------------------------------------------------------------
    # saving and loading
    # ----------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """{dotted name: copy of the array} for every parameter and buffer."""
        return {name: t.data.copy() for name, t in self._named_state()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy arrays from ``state`` into the parameters and buffers, all or nothing.

        Every key, shape and dtype is checked (``state_mismatches``) before anything is written:
        on any problem a StateDictError names each offending key (with both shapes or dtypes)
        and the module is left unchanged. Missing or unexpected keys are errors when ``strict``;
        otherwise they are skipped and returned. Shape and dtype mismatches are always errors
        (as in PyTorch for shapes; dtypes are not silently cast, so a float64 checkpoint never
        turns into float32).
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of name -> array, "
                            f"got {type(state).__name__}")
        own = dict(self._named_state())
        own_specs = {key: (t.dtype, t.shape) for key, t in own.items()}
        problems: list[str] = []
        arrays: dict[str, np.ndarray] = {}
        found: dict[str, Any] = {}  # an unexpected key's value is never read
        for key, value in state.items():
            if key not in own:
                found[key] = None
                continue
            try:
                arrays[key] = value.data if isinstance(value, Tensor) else np.asarray(value)
                found[key] = (arrays[key].dtype, arrays[key].shape)
            except Exception as e:  # noqa: BLE001 - reported with the key below
                problems.append(f'"{key}": cannot be read as an array ({e})')
                own_specs.pop(key)
        mismatches = state_mismatches(own_specs, found)
        for m in mismatches:
            if m.what in ("shape", "dtype"):
                problems.append(f'"{m.key}": {m.what} {m.found} in the state, '
                                f"{m.what} {m.expected} in the model"
                                + (" (convert one of them)" if m.what == "dtype" else ""))
            elif strict:
                problems.append(f'"{m.key}": ' + ("missing from the state" if m.what == "missing"
                                                  else "unexpected (not in the model)"))
        if problems:
            raise StateDictError(
                f"load_state_dict for {type(self).__name__}: nothing was loaded; "
                f"{len(problems)} problem(s):\n  " + "\n  ".join(problems)
            )
        for key, target in own.items():
            if key not in arrays:
                continue
            if target.data.flags.writeable:
                np.copyto(target.data, arrays[key])  # in place: optimizers may hold the arrays
            else:
                target.data = arrays[key].copy()
            bump_version(target)
        return LoadResult([m.key for m in mismatches if m.what == "missing"],
                          [m.key for m in mismatches if m.what == "unexpected"])

    # ----------------------------------------------------------------------------------------
    # description
    # ----------------------------------------------------------------------------------------

    def spec(self) -> dict[str, Any]:
        """A declarative description that ``nn.build`` turns back into this architecture."""
        raise TypeError(
            f"{type(self).__name__} has no declarative spec: only the built-in layers, "
            "Sequential and MLP can be written as specs (see tinygrad_nn.nn.spec)"
        )

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr line (its hyperparameters)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self.named_children():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}({extra}" if extra else f"{type(self).__name__}("
        return head + "\n" + "\n".join(lines) + "\n)"

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup failed: a typo raises, with a suggestion.
        if name.startswith("__"):
            raise AttributeError(name)
        known = [n for n in vars(self) if not n.startswith("_")]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise AttributeError(f"'{type(self).__name__}' module has no attribute '{name}'{hint}")
