"""The replay: a traced step as the source of one generated Python function.

Every slot of the trace (trace.py) is an entry of one list, ``vals``; gradients live in a
second list, ``grads``. Each recorded op becomes lines of that function, from a rule in
rules.py when one applies (NumPy calls with ``out=`` into a buffer made once), else a call of a
closure running its ``Function``'s own ``forward`` on a fresh instance. Each ``backward()``
becomes the ops that lead to its root, newest first, each adding its terms into its inputs'
entries of ``grads`` (a first term is stored, later ones added, as the engine does), then
delivery into ``.grad`` with the engine's rules: a gradient is never a view, never shared
between two tensors, and it accumulates when ``.grad`` is set. The lines are compiled once per
trace (``Program.source``); the arrays, buffers and functions they use are bound by name.

The arrays a replay hands out are never overwritten by the next call, except ``.grad`` of the
parameters: a rule writes a parameter's gradient straight into that parameter's buffer, which
becomes ``p.grad``, and the next call writes it again (docs/compile.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autograd, threads
from .. import ops as engine_ops
from ..autograd import fit_gradient
from ..optim import SGD
from ..optim.optimizer import gradient_shape_error
from ..tensor import Tensor, wrap
from . import rules
from .trace import Event, OpRecord, Trace

Closure = Callable[[], None]
MISS = object()  # what a replay returns when the call is not one it was traced for
Step = Closure | list[str]  # a closure called by the generated function, or its own lines


def _fresh(g: Any, delivered: set[int], owned: set[int]) -> np.ndarray:
    """A gradient as ``.grad`` may hold it: never a view, never shared, never a buffer of ours."""
    if type(g) is not np.ndarray:
        g = np.asarray(g)
    if g.base is not None or id(g) in delivered or id(g) in owned:
        g = g.copy()
    return g


def _hooked(args: tuple[Any, ...], known: frozenset[int]) -> bool:
    """Whether a hook is registered on an argument or on a tensor captured by the trace."""
    hooks = autograd._hooks
    return not known.isdisjoint(hooks) or any(id(a) in hooks for a in args)


def _use_spare(holder: list[np.ndarray]) -> None:
    """A buffer that still is some tensor's ``.grad`` (no zero_grad since the last call) must
    not be overwritten before that gradient is added to: switch to the spare."""
    if len(holder) == 1:
        holder.append(np.empty_like(holder[0]))
    holder[0], holder[1] = holder[1], holder[0]


def _uses(trace: Trace) -> tuple[dict[int, int], dict[int, list[OpRecord]]]:
    """How often each slot's value is read (by ops, events, the returned structure), and the
    ops reading it."""
    uses: dict[int, int] = {}
    readers: dict[int, list[OpRecord]] = {}

    def read(*slots: int) -> None:
        for slot in slots:
            uses[slot] = uses.get(slot, 0) + 1

    for event in trace.events:
        if isinstance(event, OpRecord):
            read(*event.ins)
            for slot in event.ins:
                readers.setdefault(slot, []).append(event)
            for where in event.dynamic_kwargs.values():
                read(*([where] if type(where) is int else [v for is_slot, v in where if is_slot]))
        elif event.kind in ("backward", "callback"):
            read(event.payload if event.kind == "backward" else event.payload[1])
        elif event.kind == "convert":
            read(event.payload[0])
        elif event.kind == "derive":
            read(*event.payload[1])
    pending = [trace.output]
    while pending:
        structure = pending.pop()
        if structure is not None:
            if structure[0] == "slot":
                read(structure[1])
            else:
                pending += structure[1]
    return uses, readers


class Program:
    """One traced signature of a compiled step: ``run(args)`` replays it (or returns MISS)."""

    def __init__(self, trace: Trace, signature: tuple[Any, ...], fold_lr: bool = False):
        self.trace = trace
        self.signature = signature  # jit._signature of the traced call's arguments
        self.sgd_source: dict[Any, Any] = {}  # rules.sgd_parts/optimizer_members, per optimizer
        self.folded: Any = None  # the optimizer whose lr seeds the backward (fold_lr)
        self.vals: list[Any] = [None] * trace.nslots
        self.grads: list[Any] = [None] * trace.nslots
        self.ctxs: dict[int, Any] = {}  # op index -> this call's Function instance (fallback)
        self.owned: set[int] = set()  # ids of buffers the program writes again next call
        self.leaf_buffers: dict[int, list[np.ndarray]] = {}  # slot -> [current, spare]
        self.steps: list[Step] = []
        self.backward_builders: dict[int, Callable[[dict[int, int]], list[str]]] = {}
        self.rules_used: list[str] = []  # what each op compiled to (for tests and docs)
        # what the generated lines name: the lists of slots, NumPy's functions, then bind()
        self.names: dict[str, Any] = {
            "vals": self.vals, "grads": self.grads, "make": wrap,
            "copy": np.array, "fresh": _fresh, "use_spare": _use_spare, "owned": self.owned,
            "dot": np.dot, "add": np.add, "subtract": np.subtract, "multiply": np.multiply,
            "negative": np.negative, "reduce": np.add.reduce, "vdot": np.vdot,
            "asarray": np.asarray, "broadcast_to": np.broadcast_to, "fit": threads.fit,
            "bump": autograd.bump_version, "grad_plus": autograd.grad_plus,
            "shape_error": gradient_shape_error, "MISS": MISS, "hooked": _hooked,
            "autograd": autograd}
        self.uses, self.readers = _uses(trace)
        self.squares: dict[int, int] = {}  # x * x left to its Sum (rules.sum_): out -> x
        self._tensor_inputs = [(s, i) for s, i, kind in trace.inputs if kind == "tensor"]
        self._array_inputs = [(s, i) for s, i, kind in trace.inputs if kind != "tensor"]
        ops: list[tuple[int, OpRecord]] = []
        events = trace.events
        backwards = sum(1 for e in events if isinstance(e, Event) and e.kind == "backward")
        for k, event in enumerate(events):
            if isinstance(event, OpRecord):
                ops.append((len(ops), event))
                self.steps.append(self._forward(len(ops) - 1, event))
            elif event.kind == "backward":
                after = events[k + 1] if k + 1 < len(events) else None
                fold = (fold_lr and backwards == 1 and isinstance(after, Event)
                        and after.kind == "step" and type(after.payload) is SGD)
                self.steps += self._backward(event.payload, ops, after.payload if fold else None)
            else:
                self.steps.append(self._event(event))
        # run(args): one replay, returning what the step returns (one generated function), or
        # MISS, having done nothing, when the arguments or the guards are not the traced ones
        self.run: Callable[[tuple[Any, ...]], Any] = self._generate()

    # ----------------------------------------------------------------------------------------
    # calling
    # ----------------------------------------------------------------------------------------

    def same_guards(self, trace: Trace) -> bool:
        """True when ``trace`` was made in the state this program guards (it replaces us)."""
        return ([(id(m), t) for m, t in trace.modules]
                == [(id(m), t) for m, t in self.trace.modules])

    def _read_captured(self) -> None:
        vals = self.vals
        for slot, tensor in self.trace.captured:
            vals[slot] = tensor.data

    # ----------------------------------------------------------------------------------------
    # generating the replay
    # ----------------------------------------------------------------------------------------

    def bind(self, value: Any, hint: str = "n") -> str:
        """A name the generated lines can use for ``value`` (unique: ``hint`` + a number)."""
        name = f"{hint}_{len(self.names)}"
        self.names[name] = value
        return name

    def _generate(self) -> Callable[[tuple[Any, ...]], Any]:
        """``run`` as the source of ONE function, compiled once per trace: the inputs and
        captured tensors bound to their slots, then every step's lines (or a call of its
        closure) in order, then the returned structure: no loop, no dispatch per step. What
        the lines name are the arguments of a factory, so inside ``run`` they are cell
        variables. The source is kept as ``self.source`` (tests and debugging)."""
        body = self._guard()
        body += [f"vals[{slot}] = args[{index}].data" for slot, index in self._tensor_inputs]
        body += [f"vals[{slot}] = args[{index}]" for slot, index in self._array_inputs]
        for slot, tensor in self.trace.captured:  # read afresh: p.data may be rebound
            body.append(f"vals[{slot}] = {self.bind(tensor, 'captured')}.data")
        for step in self.steps:
            body += step if isinstance(step, list) else [f"{self.bind(step, 'step')}()"]
        body.append(f"return {self._output_source(self.trace.output)}")
        self.source = (f"def factory({', '.join(self.names)}):\n    def run(args):\n"
                       + "".join(f"        {line}\n" for line in body) + "    return run\n")
        scope: dict[str, Any] = {}
        exec(compile(self.source, f"<tg.compile replay {id(self):#x}>", "exec"), scope)
        return scope["factory"](**self.names)

    def _guard(self) -> list[str]:
        """Lines returning MISS unless the call has the traced signature (``jit._signature``:
        grad mode, each argument's type and shape and dtype, or value) and the guards hold:
        the modules in the traced train/eval mode, holding the same Parameter objects. One
        tuple comparison for the signature's values, identity tests for the rest."""
        grad_mode, *entries = self.signature
        kinds = [f"len(args) != {len(entries)}"]
        values, expected = [], []
        for index, (kind, *rest) in enumerate(entries):
            kinds.append(f"type(args[{index}]) is not {self.bind(kind, 'kind')}")
            if issubclass(kind, Tensor):
                values += [f"args[{index}].data.shape", f"args[{index}].data.dtype",
                           f"args[{index}].requires_grad"]
            elif issubclass(kind, np.ndarray):
                values += [f"args[{index}].shape", f"args[{index}].dtype"]
            else:
                values.append(f"args[{index}]")
            expected += rest
        held = [f"autograd._grad_enabled != {grad_mode}"]
        if values:
            held.append(f"({', '.join(values)},) != {self.bind(tuple(expected), 'signature')}")
        for module, training in self.trace.modules:
            held.append(f"{self.bind(module, 'module')}.training != {training!r}")
        for module, name, tensor in self.trace.parameters:  # vars(): no __getattr__ detour
            held.append(f"{self.bind(vars(module), 'attributes')}.get({name!r}) is not "
                        f"{self.bind(tensor, 'parameter')}")
        # a hook registered after the trace on a tensor of the step: trace again (refused)
        known = self.bind(frozenset(id(t) for _, t in self.trace.captured), "known")
        held.append(f"autograd._hooks and hooked(args, {known})")
        return [f"if {' or '.join(kinds)}:", "    return MISS",
                f"if {' or '.join(held)}:", "    return MISS"]

    def _output_source(self, structure: Any) -> str:
        """The expression building what the step returns: a fresh copy of each returned
        tensor's values (ours to keep), in the returned tuple/list type."""
        if structure is None:
            return "None"
        if structure[0] == "slot":
            return f"make(copy(vals[{structure[1]}]), None)"
        kind, items = structure
        inner = "".join(self._output_source(item) + ", " for item in items)
        return f"{self.bind(kind, 'kind')}(({inner}))"

    # ----------------------------------------------------------------------------------------
    # building
    # ----------------------------------------------------------------------------------------

    def buffer(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """A preallocated array the program overwrites on every call."""
        array = np.empty(shape, dtype)
        self.owned.add(id(array))
        return array

    def leaf_holder(self, slot: int, shape: tuple[int, ...], dtype: Any) -> list[np.ndarray]:
        """[the buffer a parameter's gradient is written into, a spare]; see _use_spare."""
        holder = self.leaf_buffers.get(slot)
        if holder is None:
            holder = self.leaf_buffers[slot] = [np.empty(shape, dtype)]
        return holder

    def _forward(self, index: int, op: OpRecord) -> Step:
        rule = rules.RULES.get(op.cls)
        built = rule(self, op) if rule is not None else None
        if built is not None:
            forward, self.backward_builders[index] = built
            self.rules_used.append(f"{op.cls.__name__}: rule")
            return forward
        self.rules_used.append(f"{op.cls.__name__}: fallback")
        return self._fallback_forward(index, op)

    def _fallback_forward(self, index: int, op: OpRecord) -> Closure:
        vals, ctxs, cls, needs = self.vals, self.ctxs, op.cls, op.needs
        ins, out, static = op.ins, op.out, op.static_kwargs
        dynamic = list(op.dynamic_kwargs.items())

        def forward() -> None:
            ctx = cls()
            ctx.needs_input_grad = needs
            kwargs = static
            if dynamic:
                kwargs = dict(static)
                for name, where in dynamic:
                    kwargs[name] = vals[where] if type(where) is int else tuple(
                        [vals[v] if is_slot else v for is_slot, v in where])
            vals[out] = ctx.forward(*[vals[slot] for slot in ins], **kwargs)
            ctxs[index] = ctx

        return forward

    def _event(self, event: Event) -> Step:
        if event.kind == "random":
            slot, draw = event.payload
            vals = self.vals

            def fresh() -> None:
                vals[slot] = draw()

            return fresh
        if event.kind == "convert":  # Tensor(array): a copy, as _to_array makes it
            source, copy, dtype = event.payload
            return [f"vals[{copy}] = copy(vals[{source}], dtype={self.bind(dtype, 'dtype')})"]
        if event.kind == "derive":  # autograd.derived: the same function of the values
            fn, ins, slot = event.payload
            values = ", ".join(f"vals[{s}]" for s in ins)
            return [f"vals[{slot}] = {self.bind(fn, 'derive')}({values})"]
        if event.kind == "callback":  # jit.callback: Python on a value, at this point
            fn, slot = event.payload
            return [f"{self.bind(fn, 'callback')}(vals[{slot}])"]
        if event.kind == "call":  # zero_grad(): the same call
            method, args = event.payload
            return [f"{self.bind(method, 'call')}(*{self.bind(args, 'args')})"]
        assert event.kind == "step"
        lines = rules.sgd(self, event.payload, self.folded is event.payload)  # in place
        if lines is not None:
            return lines
        update, read_captured = event.payload.step, self._read_captured

        def step() -> None:
            update()
            read_captured()  # an optimizer may rebind p.data: later ops must see the new array

        return step

    def _backward(self, root: int, ops: list[tuple[int, OpRecord]],
                  optimizer: Any = None) -> list[Step]:
        """The steps of one backward(): seed, each op leading to ``root``, delivery.
        ``optimizer``: the plain SGD whose step() comes right after, with compile's fold_lr:
        the seed is its lr when the call allows it (rules.fold_condition)."""
        trace = self.trace
        reached = {root}
        plan: list[tuple[int, OpRecord]] = []
        for index, op in reversed(ops):
            if op.recorded and op.out in reached:
                plan.append((index, op))
                reached.update(s for s, need in zip(op.ins, op.needs) if need)
        terms: dict[int, int] = {}
        for _, op in plan:
            for s, need in zip(op.ins, op.needs):
                if need:
                    terms[s] = terms.get(s, 0) + 1
        leaves = [s for s in sorted(reached)
                  if s in trace.leaf_tensor or s in trace.input_tensor]
        # the slots whose gradient is never None here: the seed's, and the inputs of a rule
        # whose output has one (a rule always writes its inputs' terms; a fallback may not)
        self._sure, self._terms, self._written = {root}, terms, set()
        for index, op in plan:
            if op.out in self._sure and index in self.backward_builders:
                self._sure.update(s for s, need in zip(op.ins, op.needs) if need)
        root_op = next(op for _, op in plan if op.out == root)
        seed = np.full(root_op.out_shape, 1.0, dtype=root_op.out_dtype)
        steps = [self._op_backward(index, op, terms) for index, op in plan]
        seeding = [f"grads[{root}] = {self.bind(seed, 'seed')}"]
        params = {id(p) for group in optimizer.param_groups
                  for p in group["params"]} if optimizer is not None else set()
        if (params and all(s in trace.leaf_tensor for s in leaves)
                and {id(trace.leaf_tensor[s]) for s in leaves} == params
                and all(op.cls.__module__ == engine_ops.__name__ for _, op in plan)):
            # the gradients go to exactly the parameters the SGD step updates, through the
            # library's ops, whose backwards are linear in g (a user's Function may not be:
            # sign(g), a clip): seed with lr
            condition, lr = rules.fold_condition(
                self, optimizer, [trace.leaf_tensor[s] for s in leaves])
            scaled = self.bind(np.empty_like(seed), "lr_seed")
            seeding = [f"folded = {condition}", "if folded:", f"    {scaled}.fill({lr})",
                       f"    grads[{root}] = {scaled}", "else:", f"    {seeding[0]}"]
            self.folded = optimizer
        start = [f"grads[:] = {self.bind([None] * trace.nslots, 'nones')}", *seeding,
                 *self._swap_leaves()]
        return [start, *steps, self._deliver(leaves)]

    def route(self, slot: int, expr: str, only: bool = False) -> list[str]:
        """Lines adding the term ``expr`` to ``grads[slot]``: stored when it is the slot's only
        term in this backward (``only``: the op writes its terms as one), else added to what
        is there (stored if it is the first)."""
        if only or self._terms.get(slot) == 1:
            return [f"grads[{slot}] = {expr}"]
        return [f"t = {expr}", f"previous = grads[{slot}]",
                f"grads[{slot}] = t if previous is None else previous + t"]

    def when_gradient(self, out: int, body: list[str]) -> list[str]:
        """A rule's backward lines, with ``g`` the gradient of its output; skipped when that
        is None (never, for a slot known to get one)."""
        if out in self._sure:
            return [f"g = grads[{out}]", *body]
        return [f"g = grads[{out}]", "if g is not None:", *(f"    {line}" for line in body)]

    def gradient_target(self, slot: int, terms: dict[int, int], shape: tuple[int, ...],
                        dtype: Any) -> str:
        """Where a rule writes one input's gradient, as source: the parameter's own buffer
        when this is its only term (``holder[0]``: see _use_spare), else a buffer of the
        rule's own."""
        if terms.get(slot) == 1 and (slot in self.trace.leaf_tensor
                                     or slot in self.trace.input_tensor):
            self._written.add(slot)
            return f"{self.bind(self.leaf_holder(slot, shape, dtype), 'leaf')}[0]"
        return self.bind(self.buffer(shape, dtype), "buffer")

    def _op_backward(self, index: int, op: OpRecord, terms: dict[int, int]) -> Step:
        builder = self.backward_builders.get(index)
        if builder is not None:  # the forward ran as a rule: so does the backward
            return builder(terms)
        return self._fallback_backward(index, op)

    def _fallback_backward(self, index: int, op: OpRecord) -> Closure:
        vals, grads, ctxs = self.vals, self.grads, self.ctxs
        ins, out = op.ins, op.out
        targets = [(i, s, shape, dtype) for i, (s, need, (shape, dtype))
                   in enumerate(zip(op.ins, op.needs, op.shapes)) if need]

        def backward() -> None:
            g = grads[out]
            if g is None:
                return
            ctx = ctxs[index]
            result = ctx.backward(g, vals[out], *[vals[s] for s in ins])
            if type(result) is not tuple:
                result = (result,)
            for i, s, shape, dtype in targets:
                pg = result[i]
                if pg is None:
                    continue
                if pg.shape != shape or pg.dtype != dtype:
                    pg = fit_gradient(pg, vals[s], ctx)
                previous = grads[s]
                grads[s] = pg if previous is None else previous + pg

        return backward

    def _leaf(self, slot: int) -> str:
        """The tensor whose ``.grad`` a slot's gradient goes to, as source."""
        tensor = self.trace.leaf_tensor.get(slot)
        if tensor is not None:
            return self.bind(tensor, "leaf_tensor")
        return f"args[{self.trace.input_tensor[slot]}]"

    def _swap_leaves(self) -> list[str]:
        """Before a backward writes the parameters' buffers: _use_spare where still .grad."""
        lines = []
        for slot, holder in self.leaf_buffers.items():
            name = self.bind(holder, "leaf")
            lines += [f"grad = {self._leaf(slot)}.grad",
                      f"if grad is not None and grad.data is {name}[0]:", f"    use_spare({name})"]
        return lines

    def _deliver(self, leaves: list[int]) -> list[str]:
        """Each leaf's gradient into its ``.grad`` (fresh unless it is the leaf's own buffer);
        added to a ``.grad`` that is already set. A gradient a rule wrote into the leaf's
        buffer as its only term is known to be that buffer: no test, nothing to copy."""
        known = self._written & self._sure
        lines = [] if known.issuperset(leaves) else ["delivered = set()"]
        for slot in leaves:
            tensor = self._leaf(slot)
            if slot in known:
                lines += [f"g = grads[{slot}]", f"t = {tensor}",
                          "t.grad = make(g if t.grad is None else grad_plus(t, g), None)"]
                continue
            holder = self.leaf_buffers.get(slot)
            lines += [f"g = grads[{slot}]", "if g is not None:"]
            if holder is None:
                lines.append("    g = fresh(g, delivered, owned)")
            else:
                lines += [f"    if g is not {self.bind(holder, 'leaf')}[0]:",
                          "        g = fresh(g, delivered, owned)"]
            lines += ["    delivered.add(id(g))", f"    t = {tensor}",
                      "    t.grad = make(g if t.grad is None else grad_plus(t, g), None)"]
        return lines
