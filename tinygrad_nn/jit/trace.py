"""Recording one eager call of a step: every op, backward(), optimizer step and zero_grad().

While a ``Tracer`` is installed as ``autograd._tracer``, the step runs eagerly as usual (so the
first call's results are the eager ones) and the engine reports to it. Every array the step
touches gets a *slot*: the step's inputs, the tensors captured from outside (parameters, read
afresh on every call), fresh random draws (dropout), and each op's output. ``program.py`` turns
the record into the replay.

What cannot be replayed faithfully raises ``TraceError`` here, at trace time: a Python decision
on a tensor's value (``if loss > 0``, ``.item()``), a NumPy array made into a tensor inside the
step, state updated outside the graph (BatchNorm's running statistics), ``grad()`` or
``create_graph``, an optimizer closure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import autograd
from ..tensor import Tensor


class TraceError(RuntimeError):
    """The step does something ``tg.compile`` cannot replay; the message says what and why."""


@dataclass
class OpRecord:
    """One ``Function.apply``: the class, where its inputs come from, where its output goes."""

    cls: type
    ctx: Any  # the trace's own instance: rules read static attributes (axis, shapes) from it
    ins: list[int]  # slots of the parents
    static_kwargs: dict[str, Any]
    # keyword arrays that are slots (labels from an input), or tuples of (is_slot, value)
    dynamic_kwargs: dict[str, Any]
    out: int
    needs: tuple[bool, ...]  # parents' requires_grad at trace time
    recorded: bool  # part of the autograd graph (grad mode on and some input needs grad)
    shapes: list[tuple[tuple[int, ...], np.dtype]]  # the parents' (shape, dtype)
    out_shape: tuple[int, ...] = ()
    out_dtype: Any = None


@dataclass
class Event:
    """Something other than an op, replayed in place: backward, optimizer step, a call."""

    # "backward" | "step" | "call" | "random" | "convert" | "derive" | "callback"
    kind: str
    payload: Any = None


@dataclass
class Trace:
    nslots: int = 0
    events: list[Any] = field(default_factory=list)  # OpRecord | Event in call order
    inputs: list[tuple[int, int, str]] = field(default_factory=list)  # (slot, arg index, kind)
    captured: list[tuple[int, Tensor]] = field(default_factory=list)
    leaf_tensor: dict[int, Tensor] = field(default_factory=dict)  # slot -> captured leaf
    input_tensor: dict[int, int] = field(default_factory=dict)  # slot -> arg index (Tensor)
    requires_grad: dict[int, bool] = field(default_factory=dict)
    modules: list[tuple[Any, bool]] = field(default_factory=list)
    parameters: list[tuple[Any, str, Tensor]] = field(default_factory=list)
    output: Any = None  # the returned structure, tensors replaced by ("slot", n)


class Tracer:
    """Installed as ``autograd._tracer`` during one eager call; see the module docstring."""

    def __init__(self, args: tuple[Any, ...]):
        self.trace = Trace()
        self.slot_of_tensor: dict[int, int] = {}
        self.slot_of_array: dict[int, int] = {}
        self.made_here: set[int] = set()  # Tensor(...) of data the trace cannot follow
        self.keepalive: list[Any] = []  # ids above stay unique while everything is alive
        self.seen_modules: set[int] = set()
        for index, arg in enumerate(args):
            if isinstance(arg, Tensor):
                slot = self._new_slot()
                self.slot_of_tensor[id(arg)] = slot
                self.slot_of_array[id(arg.data)] = slot
                self.trace.inputs.append((slot, index, "tensor"))
                self.trace.requires_grad[slot] = arg.requires_grad
                if arg.requires_grad:
                    self.trace.input_tensor[slot] = index
                self.keepalive.append(arg)
            elif isinstance(arg, np.ndarray):
                slot = self._new_slot()
                self.slot_of_array[id(arg)] = slot
                self.trace.inputs.append((slot, index, "array"))
                self.trace.requires_grad[slot] = False
                self.keepalive.append(arg)

    def _new_slot(self) -> int:
        self.trace.nslots += 1
        return self.trace.nslots - 1

    # ----------------------------------------------------------------------------------------
    # where an array comes from
    # ----------------------------------------------------------------------------------------

    def slot(self, t: Tensor) -> int:
        """The slot of a tensor the step uses: an input, an op's output, or a captured leaf."""
        slot = self.slot_of_tensor.get(id(t))
        if slot is None:
            slot = self.slot_of_array.get(id(t.data))
        if slot is not None:
            if t._ctx is None and t.requires_grad and not self.trace.requires_grad[slot]:
                raise TraceError(
                    "compile: a tensor made from another tensor's data inside the step requires "
                    "grad; build it outside the step or pass it as an argument")
            self.slot_of_tensor[id(t)] = slot
            self.keepalive.append(t)
            return slot
        if t._ctx is not None:  # an op recorded before tracing began, used inside the step
            raise TraceError(
                f"compile: the step uses a tensor of shape {t.shape} computed before the call "
                f"(by {type(t._ctx).__name__}); pass it as an argument or detach() it outside")
        if id(t) in self.made_here and t.data.ndim > 0:
            self._refuse_gradient(t)
            raise TraceError(
                f"compile: the step makes a tensor of shape {t.shape} from NumPy data "
                "(Tensor(...)) inside the traced function; its values would be frozen at trace "
                "time. Pass the array as an argument of the step instead.")
        slot = self._new_slot()
        self.slot_of_tensor[id(t)] = slot
        self.trace.captured.append((slot, t))
        self.trace.requires_grad[slot] = t.requires_grad
        if t.requires_grad:
            self.trace.leaf_tensor[slot] = t
        self.keepalive.append(t)
        return slot

    def _refuse_gradient(self, t: Tensor) -> None:
        """Raise when ``t``, which the trace cannot follow, is the ``.grad`` of a tensor of the
        step (backward() made it): a clearer word than "made from NumPy data"."""
        if any(isinstance(x, Tensor) and x.grad is t for x in self.keepalive):
            raise TraceError(
                f"compile: the step reads the .grad of shape {t.shape} inside the traced "
                "function; the replay computes gradients only to deliver them into .grad. Read "
                ".grad after the call, or run this step eagerly.")

    # ----------------------------------------------------------------------------------------
    # the engine's reports
    # ----------------------------------------------------------------------------------------

    def op(self, cls: type, ctx: Any, parents: tuple[Tensor, ...], kwargs: dict[str, Any],
           out: Tensor) -> None:
        ins = [self.slot(p) for p in parents]
        static: dict[str, Any] = {}
        dynamic: dict[str, int] = {}
        for name, value in kwargs.items():
            if isinstance(value, np.ndarray) and id(value) in self.slot_of_array:
                dynamic[name] = self.slot_of_array[id(value)]
            elif isinstance(value, Tensor):
                dynamic[name] = self.slot(value)
            elif isinstance(value, tuple) and any(
                    isinstance(v, np.ndarray) and id(v) in self.slot_of_array for v in value):
                # an index like (arange(n), labels): the labels are the step's data
                items = []
                for v in value:
                    if isinstance(v, np.ndarray) and id(v) in self.slot_of_array:
                        items.append((True, self.slot_of_array[id(v)]))
                    else:
                        self._check_constant(cls, name, v)
                        items.append((False, v))
                dynamic[name] = items  # type: ignore[assignment]
            else:
                self._check_constant(cls, name, value)
                static[name] = value
        slot = self._new_slot()
        self.slot_of_tensor[id(out)] = slot
        self.slot_of_array[id(out.data)] = slot
        self.trace.requires_grad[slot] = out.requires_grad
        self.keepalive += [out, out.data]
        self.trace.events.append(OpRecord(
            cls=cls, ctx=ctx, ins=ins, static_kwargs=static, dynamic_kwargs=dynamic, out=slot,
            needs=tuple(p.requires_grad for p in parents), recorded=out._ctx is not None,
            shapes=[(p.shape, p.dtype) for p in parents], out_shape=out.shape,
            out_dtype=out.dtype))

    def _check_constant(self, cls: type, name: str, value: Any) -> None:
        """A keyword argument replayed as it is now: refuse arrays of unknown origin (a mask
        computed from ``tensor.data`` in Python would be frozen), except an ``arange``."""
        if isinstance(value, (tuple, list)):
            for item in value:
                self._check_constant(cls, name, item)
            return
        if not isinstance(value, np.ndarray) or value.ndim == 0:
            return
        if id(value) in self.slot_of_array:
            raise TraceError(
                f"compile: {cls.__name__} gets the step's data inside its argument {name!r}; "
                "this op cannot be replayed, run the step eagerly")
        if value.dtype.kind in "iu" and value.ndim == 1 and np.array_equal(
                value, np.arange(value.size)):
            return  # positions 0..n-1: made from a shape, which the signature fixes
        raise TraceError(
            f"compile: {cls.__name__} gets an array of shape {value.shape} in its argument "
            f"{name!r} that was computed outside the graph (for example from tensor.data in "
            "Python); its values would be frozen at trace time. Run this step eagerly.")

    def backward(self, root: Tensor, gradient: Any, create_graph: bool) -> None:
        if create_graph:
            self.unsupported("backward(create_graph=True)")
        if gradient is not None:
            self.unsupported("backward(gradient=...)")
        if root.data.size != 1:
            self.unsupported(f"backward() of a non-scalar of shape {root.shape}")
        if autograd._hooks and not self.slot_of_tensor.keys().isdisjoint(autograd._hooks):
            self.unsupported("backward() through a tensor with a hook (register_hook)")
        self.trace.events.append(Event("backward", self.slot(root)))

    def optimizer_step(self, optimizer: Any, closure: Any) -> None:
        if closure is not None:
            self.unsupported("optimizer.step(closure)")
        self.trace.events.append(Event("step", optimizer))

    def call(self, method: Callable[..., Any], *args: Any) -> None:
        """A side effect replayed as the same call (``zero_grad``)."""
        self.trace.events.append(Event("call", (method, args)))

    def random(self, array: np.ndarray, draw: Callable[[], np.ndarray]) -> None:
        """``array`` is a random draw: replay calls ``draw()`` at this point on every call."""
        slot = self._new_slot()
        self.slot_of_array[id(array)] = slot
        self.trace.requires_grad[slot] = False
        self.keepalive.append(array)
        self.trace.events.append(Event("random", (slot, draw)))

    def derived(self, array: np.ndarray, fn: Callable[..., Any], tensors: Any) -> None:
        """``array = fn(*values)`` (autograd.derived): replayed as the same call."""
        ins = [self.slot(t) for t in tensors]
        slot = self._new_slot()
        self.slot_of_array[id(array)] = slot
        self.trace.requires_grad[slot] = False
        self.keepalive.append(array)
        self.trace.events.append(Event("derive", (fn, ins, slot)))

    def callback(self, fn: Callable[[np.ndarray], Any], t: Tensor) -> None:
        """``fn(value)`` at this point of every call (jit.callback)."""
        self.trace.events.append(Event("callback", (fn, self.slot(t))))

    def created(self, t: Tensor, source: Any) -> None:
        """``Tensor(source)`` ran: a copy of an input is replayed as that copy, else the data
        came from somewhere the trace cannot follow (refused if the step uses it)."""
        array = source.data if isinstance(source, Tensor) else source
        slot = self.slot_of_array.get(id(array)) if isinstance(array, np.ndarray) else None
        self.keepalive += [t, source]
        if slot is None:
            self.made_here.add(id(t))
            return
        if t.data is array:  # the same array (detach, from_numpy): the same slot
            self.slot_of_tensor[id(t)] = slot
            return
        copy = self._new_slot()
        self.slot_of_tensor[id(t)] = copy
        self.slot_of_array[id(t.data)] = copy
        self.trace.requires_grad[copy] = t.requires_grad
        self.trace.events.append(Event("convert", (slot, copy, t.data.dtype)))

    def module(self, m: Any) -> None:
        """Guards: the module's train/eval mode and which Parameter objects it holds."""
        if id(m) in self.seen_modules:
            return
        self.seen_modules.add(id(m))
        if any(type(v).__name__ == "Buffer" for v in vars(m).values()):
            raise TraceError(
                f"compile: {type(m).__name__} keeps state outside the graph (buffers such as "
                "running statistics), which a replay would not update or would read stale; run "
                "this step eagerly (fit(..., compile=False))")
        self.trace.modules.append((m, m.training))
        for name, value in vars(m).items():
            if isinstance(value, Tensor) and value.requires_grad:
                self.trace.parameters.append((m, name, value))

    def data_dependent(self, t: Tensor, what: str) -> None:
        raise TraceError(
            f"compile: {what} on a tensor of shape {t.shape} inside a compiled step: Python "
            "control flow is frozen at trace time, so a decision on a tensor's value would be "
            "replayed the same way on every call. Move it out of the step (return the tensor and "
            "call .item() on the result), or run the step eagerly.")

    def unsupported(self, what: str) -> None:
        raise TraceError(f"compile: {what} inside a compiled step is not supported; run this "
                         "step eagerly")

    # ----------------------------------------------------------------------------------------

    def output(self, value: Any) -> Any:
        """The returned structure with tensors replaced by their slots."""
        if value is None:
            return None
        if isinstance(value, Tensor):
            return ("slot", self.slot(value))
        if isinstance(value, (tuple, list)):
            return (type(value), [self.output(v) for v in value])
        raise TraceError(
            f"compile: the step returned a {type(value).__name__}; a compiled step may return "
            "tensors, tuples or lists of tensors, or None (values computed in Python would be "
            "frozen at trace time)")
