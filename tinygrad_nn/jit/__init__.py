"""``tg.compile``: trace one call of a training step, replay it as straight-line NumPy.

    @tg.compile
    def train_step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

The first call with a given signature (the shapes and dtypes of the arguments, grad mode) runs
the step eagerly while trace.py records it; program.py turns the record into one generated
Python function of NumPy calls on preallocated buffers (rules.py), which later calls with that
signature replay. A few traces are kept (``cache_size``, least recently used dropped), so a
short last mini-batch does not retrace every epoch. Every call checks the guards (the modules'
train/eval mode, the same Parameter objects in them); a miss traces again. Limits: docs/compile.md.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd
from ..tensor import Tensor, wrap
from .program import MISS, Program
from .trace import TraceError, Tracer

__all__ = ["Compiled", "TraceError", "callback", "compile"]


def callback(fn: Callable[[np.ndarray], Any], t: Tensor) -> None:
    """Call ``fn(t's values)`` now, and at this same point of every replay of a compiled step
    (as ``jax.debug.callback``): a check or a log line that must see each call's value, such as
    fit's non-finite-loss check before backward. ``fn`` must not change the step's tensors."""
    fn(t.data)
    if autograd._tracer is not None:
        autograd._tracer.callback(fn, t)


def compile(fn: Callable[..., Any] | None = None, *,
            cache_size: int = 8, fold_lr: bool = False) -> Any:
    """Compile a step function (also usable as ``@compile`` or ``@compile(cache_size=...)``).

    Arguments of the step must be Tensors, ndarrays, or Python scalars/str/None (scalars are
    part of the signature: a new value traces again). The step may return tensors, tuples or
    lists of them, or None; returned tensors are fresh 0-d or n-d arrays without a graph.

    ``fold_lr`` (opt-in, changes what ``p.grad`` holds): in a step whose one ``backward()`` is
    followed by plain SGD's ``step()`` over every tensor that gets a gradient, the replay seeds
    the backward with the lr instead of 1, so the gradients come out scaled and the update is
    ``p -= grad``: one NumPy call per parameter fewer. ``p.grad`` then holds lr times the
    gradient; parameters and loss agree with eager to rounding, not bit for bit. A call with
    several lrs, momentum, or a ``.grad`` to accumulate into runs unfolded; a backward through
    a ``Function`` of the user's own (maybe not linear in its gradient) never folds.
    """
    if fn is None:
        return lambda f: Compiled(f, cache_size, fold_lr)
    return Compiled(fn, cache_size, fold_lr)


def _signature(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """Grad mode, then per argument its type and (shape, dtype[, requires_grad]), or its value
    for a Python scalar; ``Program``'s generated guard compares exactly these."""
    key: list[Any] = [autograd._grad_enabled]
    for a in args:
        kind = type(a)
        if isinstance(a, np.ndarray):
            key.append((kind, a.shape, a.dtype))
        elif isinstance(a, Tensor):
            key.append((kind, a.data.shape, a.data.dtype, a.requires_grad))
        elif a is None or isinstance(a, (bool, int, float, str)):
            key.append((kind, a))
        else:
            raise TypeError(
                f"compile: argument of type {type(a).__name__} is not supported; pass Tensors, "
                "ndarrays or Python scalars (objects the step uses can be closed over)")
    return tuple(key)


def _detached(value: Any) -> Any:
    """What a replay returns for the traced call's result: tensors without a graph."""
    if isinstance(value, Tensor):
        return wrap(value.data)
    if isinstance(value, (tuple, list)):
        return type(value)(_detached(v) for v in value)
    return value


class Compiled:
    """A compiled step: call it like the function. ``traces`` counts the traces made."""

    def __init__(self, fn: Callable[..., Any], cache_size: int = 8, fold_lr: bool = False):
        if not callable(fn):
            raise TypeError(f"compile: expected a function, got {type(fn).__name__}")
        if not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"compile: cache_size must be a positive int, got {cache_size!r}")
        self.fn = fn
        self.cache_size = cache_size
        self.fold_lr = bool(fold_lr)
        self.traces = 0
        self._cache: OrderedDict[tuple[Any, ...], list[Program]] = OrderedDict()
        self._hot: Callable[[tuple[Any, ...]], Any] | None = None
        functools.update_wrapper(self, fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        hot = self._hot  # the program of the last call: its run() checks its own guards
        if hot is not None and not kwargs and autograd._tracer is None:
            result = hot(args)
            if result is not MISS:
                return result
        if kwargs:
            raise TypeError("compile: keyword arguments are not supported; pass them "
                            "positionally")
        if autograd._tracer is not None:  # called from a step being traced: just run it
            return self.fn(*args)
        key = _signature(args)
        for program in self._cache.get(key, ()):  # one per guard state (train and eval, say)
            if program.run is hot:  # it has just missed
                continue
            result = program.run(args)
            if result is not MISS:
                self._cache.move_to_end(key)
                self._hot = program.run
                return result
        return self._trace(key, args)

    def _trace(self, key: tuple[Any, ...], args: tuple[Any, ...]) -> Any:
        tracer = Tracer(args)
        autograd._tracer = tracer
        try:
            result = self.fn(*args)
            structure = tracer.output(result)
        except TraceError as e:
            e.side_effects = any(  # type: ignore[attr-defined]
                getattr(event, "kind", "") in ("backward", "step")
                for event in tracer.trace.events)
            raise
        finally:
            autograd._tracer = None
        tracer.trace.output = structure
        programs = self._cache.setdefault(key, [])
        programs[:] = [p for p in programs if not p.same_guards(tracer.trace)]
        programs.insert(0, Program(tracer.trace, key, self.fold_lr))
        self._hot = programs[0].run
        self._cache.move_to_end(key)
        while sum(len(p) for p in self._cache.values()) > self.cache_size:
            oldest = next(iter(self._cache))
            self._cache[oldest].pop()
            if not self._cache[oldest]:
                del self._cache[oldest]
        self.traces += 1
        return _detached(result)

    def reset(self) -> None:
        """Forget every trace (the next call traces again)."""
        self._cache.clear()
        self._hot = None
