"""The engine: Function (one recorded op), grad mode, and the reverse-mode backward pass.

Data flow: ``Function.apply`` runs an op's ``forward`` on ndarrays and, when any input requires
grad, returns a Tensor whose ``_ctx`` is the Function (its parents and whatever it saved).
``backward`` walks that graph in reverse topological order, calling each op's ``backward``.

Invariants (all enforced here, in one place):
- the topological order is built with an explicit stack: graphs of any depth, no recursion;
- gradients accumulate (``x*x``, diamonds, reuse): a parent appearing twice gets both terms;
- a gradient is reduced to its input's shape (broadcasting) and cast to its dtype here, so op
  authors write the math as if shapes matched; any other shape mismatch is an error naming the op;
- gradient formulas run on ndarrays (fast path) or, with ``create_graph=True``, on Tensors, so
  the backward pass is itself recorded and can be differentiated again;
- after backward the graph is freed unless ``retain_graph``; a second pass raises.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import itertools
import operator
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from .tensor import Tensor, wrap  # tensor.py defines Tensor and wrap before it imports this module

if TYPE_CHECKING:
    from collections.abc import Sequence

_grad_enabled = True
# The recorder of tg.compile (jit/trace.py) while it traces a step, else None: the engine
# reports every op, backward() and grad() to it. One global read per op when not tracing.
_tracer: Any = None
_sequence = itertools.count()  # creation order of ops and of in-place changes (versions)


def derived(fn: Any, *tensors: Tensor) -> np.ndarray:
    """``fn(*arrays)`` on the tensors' values, for a mask or constant an op needs that is not
    itself differentiated (leaky_relu's ``x > 0``). Computing it here rather than on
    ``tensor.data`` directly lets ``tg.compile`` recompute it on every call."""
    out = fn(*[t.data for t in tensors])
    if _tracer is not None:
        _tracer.derived(out, fn, tensors)
    return out


def is_grad_enabled() -> bool:
    """True when new operations are being recorded for autodiff."""
    return _grad_enabled


class _GradMode(contextlib.ContextDecorator):
    """Sets the one flag ``Function.apply`` reads; restores it on exit. Also a decorator."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        global _grad_enabled
        _grad_enabled = self._previous.pop()

    def __call__(self, func: Any) -> Any:
        """Decorate ``func``; a generator function gets the mode at every resume (PyTorch),
        not only while the generator object is created (contextlib's behaviour)."""
        if not inspect.isgeneratorfunction(func):
            return super().__call__(func)
        enabled = self.enabled

        @functools.wraps(func)
        def generator(*args: Any, **kwargs: Any) -> Any:
            gen = func(*args, **kwargs)
            method, value = gen.send, None
            while True:
                with _GradMode(enabled):
                    try:
                        item = method(value)
                    except StopIteration as stop:
                        return stop.value
                try:
                    method, value = gen.send, (yield item)
                except GeneratorExit:
                    gen.close()
                    raise
                except BaseException as e:  # noqa: BLE001  (thrown in: pass it on, in mode)
                    method, value = gen.throw, e

        return generator


def no_grad() -> _GradMode:
    """Context manager / decorator: operations inside record no graph and save nothing."""
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Context manager / decorator: re-enables recording inside a ``no_grad`` block."""
    return _GradMode(True)


class Function:
    """One differentiable operation: ``forward`` on ndarrays, ``backward`` on the output gradient.

    Subclasses implement::

        def forward(self, *arrays, **kwargs) -> np.ndarray
        def backward(self, g, out, *inputs) -> gradient or tuple of gradients (None = no gradient)

    In ``backward``, ``g``, ``out`` and ``inputs`` are ndarrays, or Tensors when the backward pass
    is being recorded (``create_graph=True``); formulas written with operators and the methods
    both types share (``.T``, ``.sum``, ``.reshape``, ``.swapaxes``) work in both cases. Anything
    a formula needs from the forward pass that is piecewise constant (masks, shapes, axes) is
    stored on ``self`` in ``forward``. ``self.needs_input_grad[i]`` says whether input ``i``
    wants a gradient: formulas skip the ones that do not.
    """

    __slots__ = ("parents", "inputs", "needs_input_grad", "seq", "pos", "g")

    parents: tuple[Tensor, ...] | None
    inputs: list[np.ndarray]  # the parents' arrays as forward saw them (backward's fast path)
    needs_input_grad: tuple[bool, ...]
    seq: int  # creation order, shared with in-place version bumps
    pos: int  # position on the tape (renumbered when the tape is compacted)
    g: Any  # the output's gradient, summed during backward; None outside it

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _torch_style_init_subclass(cls)  # static forward(ctx, ...): a PyTorch-style custom op

    def save_for_backward(self, *tensors: Tensor) -> None:
        """PyTorch-style custom ops keep what backward needs here (``ctx.saved_tensors``)."""
        self.saved_tensors = tensors

    def forward(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError

    def backward(self, g: Any, out: Any, *inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    @classmethod
    def apply(cls, *parents: Tensor, **kwargs: Any) -> Tensor:
        """Run the op on the parents' data; record it when grad mode is on and an input needs it."""
        ctx = cls()
        inputs = [p.data for p in parents]
        try:
            data = ctx.forward(*inputs, **kwargs)
        except (ValueError, IndexError, TypeError) as e:
            raise _op_error(cls.__name__, parents, e) from e
        if _grad_enabled:
            needs = tuple(map(_wants_grad, parents))
            if True in needs:
                # NOTE: tensor.wrap and _record written out: this is the hottest
                # path of the engine (every op of every forward pass).
                ctx.parents = parents
                ctx.inputs = inputs
                ctx.needs_input_grad = needs
                ctx.seq = next(_sequence)
                ctx.g = None
                ctx.pos = len(_tape)
                out = _new_tensor(Tensor)
                out.data = data
                out.grad = None
                out._requires_grad = True
                out._ctx = ctx
                out._retains_grad = False
                _tape.append(_weakref(out))
                if ctx.pos >= _compact_at and not _walking:
                    _compact()
                if _tracer is not None:
                    _tracer.op(cls, ctx, parents, kwargs, out)
                return out
        out = wrap(data)
        if _tracer is not None:
            _tracer.op(cls, ctx, parents, kwargs, out)
        return out


_wants_grad = operator.attrgetter("_requires_grad")  # Tensor.requires_grad without the property
_new_tensor = object.__new__
_weakref = weakref.ref


def _op_error(op: str, parents: Sequence[Tensor], e: Exception) -> Exception:
    """Re-raise a NumPy error with the op's name, the input shapes and dtypes."""
    described = ", ".join(f"{p.shape} {p.dtype}" for p in parents)
    message = f"{op.lower()}: {e} (inputs: {described})"
    for kind in (TypeError, IndexError, ValueError):
        if isinstance(e, kind):
            return kind(message)
    return ValueError(message)


# --------------------------------------------------------------------------------------------
# the tape: every recorded op in creation order
# --------------------------------------------------------------------------------------------

# An op's inputs exist before the op runs, so creation order is a topological order: backward
# walks the tape from the root down, and every consumer of a tensor is visited before the op that
# made it. The tape holds weak references to the ops' outputs (it never keeps a graph alive); it
# is compacted, dead and freed entries dropped and ``seq`` renumbered, when it has doubled since
# the last compaction.
_tape: list[weakref.ref[Tensor]] = []
_compact_at = 1024
_walking = 0  # backward passes running: the tape must not be renumbered under them


def _record(out: Tensor, ctx: Function) -> None:
    """Put ``out``, the output of ``ctx``, on the tape (``Function.apply`` does it inline)."""
    ctx.pos = len(_tape)
    _tape.append(weakref.ref(out))
    if ctx.pos >= _compact_at and not _walking:
        _compact()


def moved(t: Tensor) -> None:
    """``t`` is now the output of ``t._ctx`` (code that re-points a graph, as in-place
    ``__setitem__`` does, must say so): the tape entry of that op refers to ``t``."""
    if t._ctx is not None:
        _tape[t._ctx.pos] = weakref.ref(t)


def _compact() -> None:
    global _compact_at
    live = []
    for ref in _tape:
        t = ref()
        if t is not None and t._ctx is not None and t._ctx.parents is not None:
            t._ctx.pos = len(live)
            live.append(ref)
    _tape[:] = live
    _compact_at = max(1024, 2 * len(live))


class GraphFreedError(RuntimeError):
    """The graph behind a tensor was freed by ``backward()``: there is nothing left to walk."""


def collect(roots: Sequence[Tensor], every_input: bool = False
            ) -> tuple[list[Tensor], list[Tensor]]:
    """(leaves, op outputs in the order the ops were recorded) reachable from ``roots``: the one
    walk of a graph for the tools that list it (``viz.trace``, ``check``); backward needs no walk
    (it follows the tape).

    Creation order (``Function.seq``, the tape position) is topological: collect the reachable
    tensors with an explicit stack (no recursion: a 100,000-op chain costs a list, not 100,000
    Python frames), then sort the op outputs by it. Inputs that need no gradient are skipped
    unless ``every_input`` (a drawing shows them).
    """
    leaves: list[Tensor] = []
    outputs: list[Tensor] = []
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        ctx = t._ctx
        if ctx is None:
            leaves.append(t)
            continue
        outputs.append(t)
        parents = ctx.parents
        if parents is None:
            raise GraphFreedError(
                f"the graph was freed by backward() (found at op {type(ctx).__name__}): to "
                "backward through it a second time, or to trace it after backward(), pass "
                "retain_graph=True to the first backward()"
            )
        for p in parents:
            if every_input or p.requires_grad:
                stack.append(p)
    outputs.sort(key=lambda t: t._ctx.seq)  # creation order
    return leaves, outputs


# --------------------------------------------------------------------------------------------
# the backward pass: compute the gradients, then deliver them
# --------------------------------------------------------------------------------------------


def unbroadcast(g: Any, shape: tuple[int, ...], op: str) -> Any:
    """Sum a gradient over the axes broadcasting added, so it matches the input's ``shape``."""
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    if g.ndim == len(shape):
        axes = tuple(i for i, (gs, s) in enumerate(zip(g.shape, shape)) if s == 1 and gs != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
    if tuple(g.shape) != tuple(shape):
        raise RuntimeError(
            f"{op}.backward: gradient of shape {tuple(g.shape)} does not match its input's "
            f"shape {tuple(shape)} (and is not a broadcast of it)"
        )
    return g


def _freed(ctx: Function) -> GraphFreedError:
    return GraphFreedError(
        f"backward: trying to backward through the graph a second time (at op "
        f"{type(ctx).__name__}); its buffers were freed after the first backward(). "
        "Pass retain_graph=True to the first backward() to keep them."
    )


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
) -> dict[int, Any]:
    """Propagate ``root_grads`` from ``roots`` to every tensor that needs a gradient.

    Without ``inputs``: accumulate into ``.grad`` of leaves (and of tensors that called
    ``retain_grad()``), like ``Tensor.backward``. With ``inputs``: touch no ``.grad``; return
    {id(input): gradient} for them, like ``torch.autograd.grad``.
    """
    keep = set() if inputs is None else {id(t) for t in inputs if t._ctx is not None}
    grads = compute_gradients(roots, root_grads, retain_graph, create_graph, keep)
    if inputs is None:
        delivered: set[int] = set()
        for t, g in grads:
            _accumulate_grad(t, g, delivered)
        return {}
    wanted = {id(t) for t in inputs}
    return {id(t): g for t, g in grads if id(t) in wanted}


def compute_gradients(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    keep: set[int],
) -> list[tuple[Tensor, Any]]:
    """(tensor, gradient) for the leaves that require grad, for the ops' outputs whose ``id`` is
    in ``keep``, and (when ``keep`` is empty) for those that called ``retain_grad()``.

    Each op's pending gradient waits on the op itself (``Function.g``), summed as consumers
    deliver terms; the tape walk visits ops from the newest root down and stops when no op has
    a gradient pending. The roots' gradients are delivered by the same code as every op's.
    """
    global _grad_enabled, _walking
    leaves: dict[int, list[Any]] = {}  # id(leaf) -> [leaf, gradient]
    found: list[tuple[Tensor, Any]] = []
    done: list[Function] = []  # kept alive until the end: their gradients live on them
    pending = 0  # ops with a gradient waiting
    i = max([r._ctx.pos for r in roots if r._ctx is not None], default=-1)  # the newest root
    ordinary = not keep and not _hooks  # only retain_grad() to look at on the way
    tape, ctx = _tape, None
    parents, grads = roots, root_grads  # the first delivery: the seeds to the roots
    previous_mode, _grad_enabled = _grad_enabled, create_graph
    _walking += 1
    try:
        while True:
            # deliver: each input that wants a gradient gets its term, reduced to its shape
            # and cast to its dtype; an op's input waits on its op, a leaf's in `leaves`
            for p, pg in zip(parents, grads):
                if pg is None or not p._requires_grad:
                    continue
                data = p.data
                # NOTE: `is not` first: builtin dtypes are singletons, `!=` costs more
                if pg.shape != data.shape or (pg.dtype is not data.dtype
                                              and pg.dtype != data.dtype):
                    pg = fit_gradient(pg, data, ctx)
                owner = p._ctx
                if owner is None:
                    entry = leaves.get(id(p))
                    if entry is None:
                        leaves[id(p)] = [p, pg]
                    else:  # NOTE: out of place: Add hands one array to both of its inputs
                        entry[1] = entry[1] + pg
                elif owner.g is None:
                    if owner.parents is None:
                        raise _freed(owner)
                    owner.g = pg
                    pending += 1
                else:
                    owner.g = owner.g + pg
            if not pending:
                break
            # the next op down the tape with a gradient waiting (tape order is topological)
            while True:
                if i < 0:
                    raise _lost_on_tape()
                t = tape[i]()
                i -= 1
                if t is not None and t._ctx.g is not None:
                    break
            ctx, g = t._ctx, t._ctx.g
            if ctx.pos != i + 1:
                raise _out_of_sync(ctx)
            ctx.g = None
            pending -= 1
            done.append(ctx)
            if _last_bump > ctx.seq:  # something changed in place since this op was recorded
                _check_versions(t)
            if not ordinary:
                g = _observe(t, g, keep, found)
            elif t._retains_grad:
                found.append((t, g))
            parents = ctx.parents
            if create_graph:
                grads = ctx.backward(g, t, *parents)
            else:
                grads = ctx.backward(g, t.data, *ctx.inputs)
            if type(grads) is not tuple:
                grads = (grads,)
    except BaseException:
        _clear_pending(i)  # a failed pass leaves no gradient behind on the graph
        raise
    finally:
        _grad_enabled = previous_mode
        _walking -= 1
    if not retain_graph:  # only after a pass that succeeded: a failed one leaves the graph
        for ctx in done:
            ctx.parents = ctx.inputs = None  # free: drop the inputs and saved arrays
        if len(done) >= 1024 and not _walking:  # a big graph just died: so did its entries
            _compact()
    for t, g in leaves.values():
        if _hooks and id(t) in _hooks:
            g = _run_hooks(t, g)
        found.append((t, g))
    return found


def _observe(t: Tensor, g: Any, keep: set[int], found: list[tuple[Tensor, Any]]) -> Any:
    """The walk's stop at op output ``t`` when hooks or ``grad()``'s inputs are about: run
    ``t``'s hooks on ``g``, note ``g`` when it is wanted, and return it (hooks may replace it)."""
    if _hooks and id(t) in _hooks:
        g = _run_hooks(t, g)
    if keep:
        if id(t) in keep:
            found.append((t, g))
    elif t._retains_grad:
        found.append((t, g))
    return g


def _clear_pending(i: int) -> None:
    """Drop the gradients still waiting on ops at tape positions up to ``i``."""
    for ref in _tape[: i + 1]:
        t = ref()
        if t is not None and t._ctx is not None:
            t._ctx.g = None


def _lost_on_tape() -> RuntimeError:
    return RuntimeError("engine: gradients are waiting on ops missing from the tape (a tensor was "
                       "re-pointed without autograd.moved())")


def _out_of_sync(ctx: Function) -> RuntimeError:
    return RuntimeError(f"engine: the tape is out of sync at {type(ctx).__name__} (a tensor was "
                        "given another op's output without autograd.moved())")


def fit_gradient(g: Any, like: np.ndarray, ctx: Function) -> Any:
    """The one place gradients are reduced over broadcast axes and cast to the input's dtype."""
    if g.shape != like.shape:
        g = unbroadcast(g, like.shape, type(ctx).__name__)
    if g.dtype != like.dtype:
        g = g.astype(like.dtype)
    return g


def _accumulate_grad(t: Tensor, g: Any, delivered: set[int]) -> None:
    """Add ``g`` into ``t.grad``. The stored array is never shared with another tensor's grad."""
    if type(g) is np.ndarray:
        if g.base is not None or id(g) in delivered:
            g = g.copy()  # views and arrays handed to another leaf must not alias its .grad
        delivered.add(id(g))
        # the common case (grads zeroed to None each step): the fresh array becomes .grad as is
        t.grad = wrap(g if t.grad is None else grad_plus(t, g))
    elif isinstance(g, Tensor):  # graph mode: the gradient keeps its own graph
        t.grad = g if t.grad is None else grad_plus(t, g)
    else:  # NumPy returns scalars, not 0-d arrays, from ops on 0-d arrays
        _accumulate_grad(t, np.asarray(g), delivered)


def grad_plus(t: Tensor, g: Any) -> Any:
    """``t.grad`` plus the gradient ``g`` (an array, or a Tensor in graph mode). A ``.grad``
    assigned from outside with another shape or dtype than ``t`` is an error, as PyTorch refuses
    the assignment; NumPy would broadcast it into the sum, or promote it, without a word."""
    held = t.grad
    if held.shape != t.shape or held.dtype != t.dtype:
        raise RuntimeError(
            f"backward: the .grad of a tensor of shape {t.shape} {t.dtype} is {held.shape} "
            f"{held.dtype} (assigned from outside?), so the new gradient cannot be added to it; "
            "set .grad to None or to a tensor of the same shape and dtype")
    return held + g if isinstance(g, Tensor) else held.data + g


def seed_gradient(root: Tensor, gradient: Any, op: str) -> np.ndarray:
    """The gradient that starts a backward pass: ones for a scalar, else the one given."""
    if gradient is None:
        if root.data.ndim == 0:
            return np.array(1.0, dtype=root.data.dtype)
        if root.data.size != 1:
            raise RuntimeError(
                f"{op}: grad can be implicitly created only for scalar outputs; this output has "
                f"shape {root.shape}. Pass `gradient=` (an array of that shape) or reduce it first."
            )
        return np.full(root.shape, 1.0, dtype=root.dtype)
    data = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
    if data.dtype.kind not in "biuf":  # complex would lose its imaginary part, objects worse
        raise TypeError(f"{op}: gradient must be real numbers, got dtype {data.dtype} "
                        f"(shape {data.shape})")
    if data.shape != root.shape:
        raise RuntimeError(
            f"{op}: gradient has shape {data.shape} but the output has shape {root.shape}"
        )
    return np.array(data, dtype=root.dtype)  # a copy: the user's array must never become .grad


def _graph_seed(seed: np.ndarray, given: Any) -> Tensor:
    """The seed of a recorded backward pass: a given gradient that requires grad stays in the
    graph (PyTorch differentiates through grad_outputs under create_graph=True); any other is a
    constant."""
    if isinstance(given, Tensor) and given.requires_grad:
        return given if given.dtype == seed.dtype else given.astype(seed.dtype)
    return wrap(seed)


def _check_requires_grad(t: Tensor, what: str) -> None:
    if not t._requires_grad:
        raise RuntimeError(
            f"{what}: element of shape {t.shape} does not require grad and has no grad_fn "
            "(create it with requires_grad=True, outside no_grad())"
        )


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate d(tensors)/d(leaf) into ``leaf.grad`` for every leaf that requires grad
    (``Tensor.backward``, or ``torch.autograd.backward`` with a list of tensors)."""
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if isinstance(tensors, Tensor):  # one tensor: its gradient may be a list (x.backward([1, 2]))
        grad_tensors = [grad_tensors]
    elif grad_tensors is None or isinstance(grad_tensors, (Tensor, np.ndarray)):
        grad_tensors = [grad_tensors] * len(roots)
    if len(grad_tensors) != len(roots):
        raise ValueError(f"backward: {len(roots)} tensors but {len(grad_tensors)} grad_tensors")
    seeds = []
    for root, gradient in zip(roots, grad_tensors):
        _check_requires_grad(root, "backward")
        if _tracer is not None:
            _tracer.backward(root, gradient, create_graph)
        seeds.append(seed_gradient(root, gradient, "backward"))
    if retain_graph is None:
        retain_graph = create_graph
    root_grads: Any = ([_graph_seed(s, g) for s, g in zip(seeds, grad_tensors)]
                       if create_graph else seeds)
    run_backward(roots, root_grads, retain_graph, create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, like ``torch.autograd.grad``.

    Leaves' ``.grad`` are not touched. With ``create_graph=True`` the returned gradients are
    themselves differentiable (Hessian-vector products, gradient penalties).
    """
    if _tracer is not None:
        _tracer.unsupported("torch.autograd.grad-style grad()")
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outs):
        raise ValueError(f"grad: {len(outs)} outputs but {len(grad_outputs)} grad_outputs")
    for t in outs:
        _check_requires_grad(t, "grad")
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    seeds = [seed_gradient(o, go, "grad") for o, go in zip(outs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    root_grads: list[Any] = ([_graph_seed(s, go) for s, go in zip(seeds, grad_outputs)]
                             if create_graph else seeds)
    found = run_backward(outs, root_grads, retain_graph, create_graph, inputs=ins)
    result: list[Tensor | None] = []
    for i, t in enumerate(ins):
        g = found.get(id(t))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        if g is not None and not isinstance(g, Tensor):
            g = wrap(np.asarray(g))
        result.append(g)
    return tuple(result)



# --------------------------------------------------------------------------------------------
# in-place safety: version counters (PyTorch's "modified by an inplace operation" error)
# --------------------------------------------------------------------------------------------
# NOTE: nothing is recorded per op. Every in-place change takes a number from the same counter
# that orders recorded ops (``Function.seq``) and appends it to the tensor's ``_bumps``: a
# tensor an op used (input, or the output its backward reads) was modified after the op was
# recorded iff its last bump is larger than the op's seq. ``_last_bump`` lets backward skip
# the check with one comparison when nothing was modified since the graph's oldest op.

_last_bump = -1


class Versions:
    """One tensor's in-place changes (shared with what ``detach()`` returns): how many there
    were, and the sequence numbers of the latest ones.

    NOTE: only the last ``KEEP`` numbers are kept, so an optimizer stepping a parameter a
    million times does not grow a million-entry list; the check needs the last one only, the
    error message the ones after the op (exact unless more than ``KEEP // 2`` came after it).
    """

    __slots__ = ("count", "recent")
    KEEP = 64

    def __init__(self) -> None:
        self.count = 0
        self.recent: list[int] = []


def bump_version(t: Tensor) -> None:
    """Record an in-place change of ``t`` (in-place ops, optimizer steps, load_state_dict)."""
    global _last_bump
    _last_bump = seq = next(_sequence)
    versions = getattr(t, "_bumps", None)
    if versions is None:
        versions = t._bumps = Versions()
    versions.count += 1
    recent = versions.recent
    recent.append(seq)
    if len(recent) > Versions.KEEP:
        del recent[: Versions.KEEP // 2]


def _check_versions(t: Tensor) -> None:
    """Raise when an input of ``t``'s op, or ``t`` itself, changed in place after the op."""
    ctx: Any = t._ctx
    for i, p in enumerate((*ctx.parents, t)):
        versions = getattr(p, "_bumps", None)
        if versions is not None and versions.recent and versions.recent[-1] > ctx.seq:
            after = sum(1 for b in versions.recent if b > ctx.seq)
            saved = versions.count - after
            if after == len(versions.recent) < versions.count:  # older numbers were dropped
                expected = f"at most {saved}"
            else:
                expected = str(saved)
            role = "its output" if p is t else f"input {i}"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: a tensor of shape {p.shape} {p.dtype}, {role} of "
                f"{type(ctx).__name__}, is at version {versions.count}; expected version "
                f"{expected} instead. Modify a copy (x.clone()) or do the in-place change "
                "(an optimizer step, add_, ...) after backward()."
            )


def inplace(t: Tensor, op: str, compute: Any) -> Tensor:
    """Give ``t`` the values ``compute(t)`` in place, as PyTorch's trailing-underscore ops do.

    Under grad mode, when ``t`` or an operand requires grad, ``t`` is re-based on the recorded
    op (its data becomes the result, its grad_fn the op), as torch does; otherwise the array is
    written in place. Either way the version counter is bumped, so a backward pass through an
    op recorded before this change raises instead of returning a wrong gradient.
    """
    if _grad_enabled and t.requires_grad and t._ctx is None:
        raise RuntimeError(
            f"{op}: a leaf tensor that requires grad (shape {t.shape}) is being used in an "
            f"in-place operation. Update it inside `with tg.no_grad():` (as optimizers do), or "
            f"write the out-of-place form (x = x.{op.rstrip('_')}(...))."
        )
    old = wrap(t.data, t._ctx)
    bump_version(t)  # before the new op is recorded: the new op must see t as unmodified
    result = compute(old)
    if tuple(result.shape) != tuple(t.shape):
        raise RuntimeError(f"{op}: the result has shape {result.shape}, which does not match "
                           f"this tensor's shape {t.shape} (in-place ops cannot broadcast it)")
    if result.dtype != t.dtype:
        result = result.astype(t.dtype)
    if _grad_enabled and (t.requires_grad or result.requires_grad):
        if not result.requires_grad:  # a constant overwrote a tensor in the graph: zero grad
            from . import ops
            result = ops.Where.apply(result, old, cond=np.ones(t.shape, dtype=bool))
        moved(old)  # the tape: t's old op now outputs `old`, the new op outputs t
        t.data, t._ctx, t._requires_grad = result.data, result._ctx, True
        moved(t)
    else:
        t.data[...] = result.data
    return t


# --------------------------------------------------------------------------------------------
# tensor hooks
# --------------------------------------------------------------------------------------------

_hooks: dict[int, list[Any]] = {}  # id(tensor) -> hooks; an empty dict costs backward nothing


class _HookHandle:
    """What ``register_hook`` returns: ``remove()`` unregisters the hook."""

    def __init__(self, key: int, hook: Any):
        self.key, self.hook = key, hook

    def remove(self) -> None:
        hooks = _hooks.get(self.key, [])
        if self.hook in hooks:
            hooks.remove(self.hook)
        if not hooks:
            _hooks.pop(self.key, None)


def register_hook(t: Tensor, hook: Any) -> _HookHandle:
    import weakref

    key = id(t)
    if key not in _hooks:
        weakref.finalize(t, _hooks.pop, key, None)  # a dead tensor's id may be reused
    _hooks.setdefault(key, []).append(hook)
    return _HookHandle(key, hook)


def _run_hooks(t: Tensor, g: Any) -> Any:
    for hook in list(_hooks.get(id(t), ())):
        wrapped = g if isinstance(g, Tensor) else wrap(np.asarray(g))
        replaced = hook(wrapped)
        if replaced is not None:
            g = replaced if isinstance(g, Tensor) else np.asarray(
                replaced.data if isinstance(replaced, Tensor) else replaced)
    return g


# --------------------------------------------------------------------------------------------
# custom ops, PyTorch's way: subclass Function with static forward(ctx, ...) / backward(ctx, g)
# --------------------------------------------------------------------------------------------


def _torch_style_init_subclass(cls: type, **kwargs: Any) -> None:
    """A subclass whose ``forward`` is a staticmethod is a PyTorch-style custom Function."""
    forward = cls.__dict__.get("forward")
    if isinstance(forward, staticmethod):
        user_backward = cls.__dict__.get("backward")
        if not isinstance(user_backward, staticmethod):
            raise TypeError(f"{cls.__name__}: a Function with a static forward(ctx, ...) needs a "
                            "static backward(ctx, grad_output) too (as torch.autograd.Function)")
        cls._user_forward = forward.__func__  # type: ignore[attr-defined]
        cls._user_backward = user_backward.__func__  # type: ignore[attr-defined]
        cls.apply = classmethod(_torch_style_apply)  # type: ignore[assignment]
        cls.backward = _torch_style_backward  # type: ignore[assignment]


def _torch_style_apply(cls: Any, *args: Any) -> Any:
    ctx = cls()
    tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    parents = tuple(args[i] for i in tensor_positions)
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    with no_grad():
        out = cls._user_forward(ctx, *args)
    if not isinstance(out, Tensor):
        raise TypeError(f"{cls.__name__}.forward must return one Tensor, got "
                        f"{type(out).__name__}")
    if _grad_enabled and any(p.requires_grad for p in parents):
        ctx.parents = parents
        ctx.inputs = [p.data for p in parents]
        ctx._positions = tensor_positions
        ctx.seq = next(_sequence)
        ctx.g = None
        result = wrap(out.data, ctx)
        _record(result, ctx)
        return result
    return wrap(out.data)


def _torch_style_backward(self: Any, g: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
    graph = isinstance(g, Tensor)
    grads = type(self)._user_backward(self, g if graph else wrap(np.asarray(g)))
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) < max(self._positions) + 1:
        raise RuntimeError(f"{type(self).__name__}.backward returned {len(grads)} gradients; "
                           "it must return one per forward argument (None for non-tensors)")
    picked = [grads[i] for i in self._positions]
    if graph:
        return tuple(picked)
    return tuple(None if p is None else (p.data if isinstance(p, Tensor) else np.asarray(p))
                 for p in picked)
