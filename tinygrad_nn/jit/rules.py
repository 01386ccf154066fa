"""Replay rules: an op's forward and backward as lines of NumPy calls into preallocated buffers.

A rule makes exactly the NumPy calls the op's ``Function`` makes, in the same order, with
``out=`` where the Function allocates: a replay is then bit-for-bit the eager computation
(tests/test_compile.py checks 100 training steps to 1e-12). The one exception: a float64
``x * x`` read only by its whole ``Sum`` is one ``vdot`` (the loss value to rounding; gradients
unchanged). A rule declines (returns None) for
cases it does not cover (broadcasting operands, mixed dtypes, batched inputs), and the op falls
back to its Function's own forward and backward.

Each rule is ``rule(program, op) -> (forward lines, backward builder) | None``: Python source
lines of the function program.py generates, naming the slots as ``vals[n]`` and ``grads[n]``,
NumPy's functions by the names ``Program.names`` gives them, and every array or object of the
rule's own by a name from ``program.bind``. The backward builder gets the number of gradient
terms per slot (``terms``) and returns the backward's lines, which run with ``g`` the output's
gradient (skipped when it has none). Fused here: Linear's product and bias (forward), its three
gradients (backward); the activations' derivatives from their outputs; ``x * x``'s two gradient
terms, and its whole sum as a ``vdot``; plain SGD's update, written out per parameter, and its
form for compile's opt-in ``fold_lr`` (the backward seeded with lr, ``p -= grad``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import ops
from ..optim import SGD

if TYPE_CHECKING:
    from .program import Program
    from .trace import OpRecord

Built = tuple[list[str], Callable[[dict[int, int]], list[str]]] | None


def _uniform(op: OpRecord) -> bool:
    """All operands of one float dtype and one shape: no broadcasting, no promotion."""
    first_shape, first_dtype = op.shapes[0]
    return (first_dtype.kind == "f" and op.out_dtype == first_dtype
            and all(shape == first_shape and dtype == first_dtype for shape, dtype in op.shapes))


def _elementwise(op: OpRecord) -> bool:
    """Operands of the output's float dtype and shape, or 0-d ones that need no gradient (a
    Python scalar lifted to a tensor): no broadcast is ever summed back."""
    dtype = op.out_dtype
    if dtype is None or dtype.kind != "f":
        return False
    return all(d == dtype and (s == op.out_shape or (s == () and not need))
               for (s, d), need in zip(op.shapes, op.needs))


# --------------------------------------------------------------------------------------------
# Linear: x @ w.T + b
# --------------------------------------------------------------------------------------------


def linear(program: Program, op: OpRecord) -> Built:
    (x_shape, dtype), (w_shape, w_dtype) = op.shapes[0], op.shapes[1]
    has_bias = len(op.ins) == 3
    if (len(x_shape) != 2 or dtype.kind != "f" or w_dtype != dtype or op.out_dtype != dtype
            or (has_bias and op.shapes[2][1] != dtype)):
        return None
    ix, iw = op.ins[0], op.ins[1]
    ib = op.ins[2] if has_bias else -1
    o = op.out
    out = program.bind(program.buffer(op.out_shape, dtype), "out")
    work = x_shape[0] * w_shape[0] * w_shape[1]
    forward = [f"fit({work})", f"dot(vals[{ix}], vals[{iw}].T, out={out})"]
    if has_bias:
        forward.append(f"add({out}, vals[{ib}], out={out})")
    forward.append(f"vals[{o}] = {out}")

    def backward(terms: dict[int, int]) -> list[str]:
        body = [f"fit({work})"]
        if op.needs[0]:
            gx = program.gradient_target(ix, terms, x_shape, dtype)
            body += program.route(ix, f"dot(g, vals[{iw}], out={gx})")
        if op.needs[1]:
            gw = program.gradient_target(iw, terms, w_shape, dtype)
            body += program.route(iw, f"dot(g.T, vals[{ix}], out={gw})")
        if has_bias and op.needs[2]:
            gb = program.gradient_target(ib, terms, op.shapes[2][0], dtype)
            body += program.route(ib, f"reduce(g, axis=0, out={gb})")
        return program.when_gradient(o, body)

    return forward, backward


# --------------------------------------------------------------------------------------------
# activations: y = f(x) into one buffer, the derivative from the output
# --------------------------------------------------------------------------------------------


def _activation(scratch: tuple[Any, ...], forward: Callable[..., Any],
                backward: Callable[..., Any]) -> Callable[[Program, OpRecord], Built]:
    """A rule for an elementwise ``y = f(x)``: ``forward(x, out, zero, one, *tmp)`` fills
    ``out``, ``backward(g, out, target, zero, one, *tmp)`` returns the input's gradient written
    into ``target``. ``scratch`` lists the dtypes of the temporaries (None: the op's dtype); the
    forward and the backward of one op share them (the backward runs after the forward is done
    with them). ``zero`` and ``one`` are 0-d arrays of the op's dtype: the same values as the
    Python scalars the op writes (NumPy casts those to the array's dtype), with ~0.2 us less of
    NumPy's scalar handling per call."""

    def rule(program: Program, op: OpRecord) -> Built:
        if not _uniform(op):
            return None
        ix, o = op.ins[0], op.out
        shape, dtype = op.shapes[0]
        out = program.bind(program.buffer(shape, dtype), "out")
        tmp = [program.bind(program.buffer(shape, dtype if kind is None else kind), "tmp")
               for kind in scratch]
        constants = (f"{program.bind(np.zeros((), dtype), 'zero')}, "
                     f"{program.bind(np.ones((), dtype), 'one')}")
        rest = "".join(f", {name}" for name in tmp)
        call_forward = f"{program.bind(forward, 'forward')}(vals[{ix}], {out}, {constants}{rest})"

        def build_backward(terms: dict[int, int]) -> list[str]:
            target = program.gradient_target(ix, terms, shape, dtype)
            derivative = program.bind(backward, "backward")
            return program.when_gradient(o, program.route(
                ix, f"{derivative}(g, {out}, {target}, {constants}{rest})"))

        return [call_forward, f"vals[{o}] = {out}"], build_backward

    return rule


def _sigmoid_backward(g: Any, out: Any, target: Any, zero: Any, one: Any, spare: Any) -> Any:
    gx = np.multiply(g, out, out=target)  # g * s * (1 - s)
    np.subtract(one, out, out=spare)
    gx *= spare
    return gx


def _tanh_backward(g: Any, out: Any, target: Any, zero: Any, one: Any, spare: Any) -> Any:
    np.multiply(out, out, out=spare)  # g * (1 - t * t)
    np.subtract(one, spare, out=spare)
    return np.multiply(g, spare, out=target)


def _relu_backward(g: Any, out: Any, target: Any, zero: Any, one: Any, mask: Any) -> Any:
    np.less_equal(out, zero, out=mask)  # g where not (out <= 0): relu'(0) = 0, a nan passes g on
    np.logical_not(mask, out=mask)
    return np.multiply(g, mask, out=target)


sigmoid = _activation((None,), lambda x, out, zero, one, e: ops.sigmoid_into(x, out, e),
                      _sigmoid_backward)
tanh = _activation((None,), lambda x, out, zero, one, spare: np.tanh(x, out=out),
                   _tanh_backward)
relu = _activation((np.bool_,), lambda x, out, zero, one, mask: np.maximum(x, zero, out=out),
                   _relu_backward)


# --------------------------------------------------------------------------------------------
# reductions and the fused squared error
# --------------------------------------------------------------------------------------------


def sum_(program: Program, op: OpRecord) -> Built:
    """ops.Sum: the same ``np.add.reduce`` into a buffer; its gradient a broadcast view of
    ``g``, made once per gradient array (the engine fills a copy with the same values)."""
    ((shape, dtype),) = op.shapes
    axis, keepdims = op.static_kwargs.get("axis"), op.static_kwargs.get("keepdims")
    if dtype.kind != "f" or op.out_dtype != dtype or not isinstance(keepdims, bool):
        return None
    ix, o = op.ins[0], op.out
    out = program.bind(program.buffer(op.out_shape, dtype), "out")
    kept = None if axis is None or keepdims else ops.keepdims_shape(shape, axis)
    forward = [f"vals[{o}] = reduce(vals[{ix}], axis={program.bind(axis, 'axis')}, "
               f"keepdims={keepdims}, out={out})"]
    square = program.squares.get(ix)
    if square is not None:  # the sum of x * x, which was not computed: see _sums_square
        forward = [f"vals[{o}] = asarray(vdot(vals[{square}], vals[{square}]))"]

    def backward(terms: dict[int, int]) -> list[str]:
        made = program.bind([None, None], "made")  # [the g the view was made from, the view]
        source = "g" if kept is None else f"g.reshape({program.bind(kept, 'kept')})"
        return program.when_gradient(o, [
            f"if g is not {made}[0]:",
            f"    {made}[:] = [g, broadcast_to({source}, {program.bind(shape, 'shape')})]",
            *program.route(ix, f"{made}[1]")])

    return forward, backward


def squared_error_sum(program: Program, op: OpRecord) -> Built:
    """ops.SquaredErrorSum: scale * vdot(x - y, x - y); d = (g * 2 scale) * (x - y), negated
    for y. The difference is kept from the forward (the engine computes it again)."""
    if len(op.ins) != 2 or not _uniform(op) or op.out_shape != ():
        return None
    ix, iy, o = op.ins[0], op.ins[1], op.out
    shape, dtype = op.shapes[0]
    scale = program.bind(op.static_kwargs["scale"], "scale")
    diff = program.bind(program.buffer(shape, dtype), "diff")
    forward = [f"subtract(vals[{ix}], vals[{iy}], out={diff})",
               f"vals[{o}] = asarray({scale} * vdot({diff}, {diff}))"]

    def backward(terms: dict[int, int]) -> list[str]:
        need_x, need_y = op.needs
        tx = program.gradient_target(ix, terms, shape, dtype) if need_x else None
        ty = program.gradient_target(iy, terms, shape, dtype) if need_y else None
        target = tx if tx is not None else program.bind(program.buffer(shape, dtype), "own")
        body = [f"gx = multiply(g * (2.0 * {scale}), {diff}, out={target})"]
        if tx is not None:
            body += program.route(ix, "gx")
        if ty is not None:
            body += program.route(iy, f"negative(gx, out={ty})")
        return program.when_gradient(o, body)

    return forward, backward


# --------------------------------------------------------------------------------------------
# elementwise arithmetic on same-shaped operands (or a 0-d constant)
# --------------------------------------------------------------------------------------------

# an input's gradient as source: {x}, {y} the operands' slots, {target} where it is written
_SAME = "g"  # the engine hands the same array on; delivery copies where it must
_NEGATED = "negative(g, out={target})"
_TIMES_Y = "multiply(g, vals[{y}], out={target})"
_TIMES_X = "multiply(g, vals[{x}], out={target})"


def _binary(ufunc: str, grad_x: str, grad_y: str) -> Any:
    """A rule for ``x (op) y`` (``ufunc`` a name in Program.names) whose gradients, the
    templates ``grad_x`` and ``grad_y``, need no broadcast.

    ``x * x`` (one slot twice, and no other use of it) gets its two terms as ``t + t`` with
    ``t = g * x``: what the engine computes, one product fewer."""

    def rule(program: Program, op: OpRecord) -> Built:
        if not _elementwise(op):
            return None
        ix, iy, o = op.ins[0], op.ins[1], op.out
        shape, dtype = op.out_shape, op.out_dtype
        out = program.bind(program.buffer(shape, dtype), "out")
        forward = [f"vals[{o}] = {ufunc}(vals[{ix}], vals[{iy}], out={out})"]
        if ufunc == "multiply" and ix == iy and _sums_square(program, op):
            program.squares[o] = ix
            forward = []

        def backward(terms: dict[int, int]) -> list[str]:
            if (ix == iy and op.needs[0] and terms.get(ix) == 2
                    and grad_x == _TIMES_Y and grad_y == _TIMES_X):
                return _square_backward(program, ix, o, shape, dtype)
            body = []
            for slot, need, template in ((ix, op.needs[0], grad_x), (iy, op.needs[1], grad_y)):
                if need:  # a target only where the template writes one (not _SAME's g)
                    target = (program.gradient_target(slot, terms, shape, dtype)
                              if "{target}" in template else None)
                    body += program.route(slot, template.format(x=ix, y=iy, target=target))
            return program.when_gradient(o, body)

        return forward, backward

    return rule


def _sums_square(program: Program, op: OpRecord) -> bool:
    """``x * x`` in float64 read only by a full ``Sum``: the Sum computes ``vdot(x, x)`` and
    the square is never made (one NumPy call for two). NOTE: not the same bits as the engine's
    pairwise sum, the same value to rounding (a sum of squares does not cancel: 1e-12 relative
    holds with room); float32 keeps the engine's arithmetic. The gradient is unchanged."""
    readers = program.readers.get(op.out, [])
    reader = readers[0] if len(readers) == 1 else None
    return (op.out_dtype == np.float64 and program.uses.get(op.out) == 1
            and reader is not None and reader.cls is ops.Sum and reader.out_shape == ())


def _square_backward(program: Program, ix: int, o: int, shape: tuple[int, ...],
                     dtype: Any) -> list[str]:
    term = program.bind(program.buffer(shape, dtype), "term")
    target = program.gradient_target(ix, {ix: 1}, shape, dtype)  # both terms: one gradient
    return program.when_gradient(o, [f"t = multiply(g, vals[{ix}], out={term})",
                              *program.route(ix, f"add(t, t, out={target})", only=True)])


RULES: dict[type, Callable[[Program, OpRecord], Built]] = {
    ops.Linear: linear,
    ops.Sigmoid: sigmoid,
    ops.Tanh: tanh,
    ops.Relu: relu,
    ops.Sum: sum_,
    ops.SquaredErrorSum: squared_error_sum,
    ops.Add: _binary("add", _SAME, _SAME),
    ops.Sub: _binary("subtract", _SAME, _NEGATED),
    ops.Mul: _binary("multiply", _TIMES_Y, _TIMES_X),
}


# --------------------------------------------------------------------------------------------
# the optimizer step
# --------------------------------------------------------------------------------------------


def sgd_parts(program: Program, optimizer: Any) -> tuple[str, list[str], list[str]] | None:
    """Plain SGD (no momentum, weight decay, maximize) as source, made once per program:
    ``changed``, an expression true when the groups, their parameter lists or options are no
    longer the traced plain ones (then the optimizer's own ``step()`` must run); ``update``,
    per parameter SGD._update's ``p -= lr * grad`` into a buffer of ours, then the version bump,
    each group's lr read on every call (schedulers are honoured); ``folded``, the same with
    the gradient already scaled by lr (``p -= grad``: compile's opt-in ``fold_lr``). None for
    any other optimizer."""
    if type(optimizer) is not SGD:
        return None
    made = program.sgd_source.get(id(optimizer))
    if made is not None:
        return made
    owner = program.bind(optimizer, "optimizer")
    members, group_names, param_names = optimizer_members(program, optimizer)
    changed = [members]
    update, folded = [], []
    for group, g, names in zip(optimizer.param_groups, group_names, param_names):
        changed += [f'{g}["momentum"] != 0', f'{g}["weight_decay"] != 0', f'{g}["maximize"]']
        update.append(f'lr = {g}["lr"]')
        for p, param in zip(group["params"], names):
            scratch = program.bind(np.empty_like(p.data), "scratch")
            start = [f"grad = {param}.grad", "if grad is not None:",
                     "    grad = grad.data", f"    data = {param}.data",
                     "    if grad.shape != data.shape:",
                     f"        raise shape_error({owner}, grad, data)"]
            update += [*start, f"    subtract(data, multiply(grad, lr, out={scratch}), out=data)",
                       f"    bump({param})"]
            folded += [*start, "    subtract(data, grad, out=data)", f"    bump({param})"]
    program.sgd_source[id(optimizer)] = made = (" or ".join(changed), update, folded)
    return made


def optimizer_members(program: Program, optimizer: Any) -> tuple[str, list[str], list[list[str]]]:
    """An expression true when the optimizer's groups or their parameter lists are no longer
    the traced ones (identity and length), and the names bound to the groups and parameters;
    made once per program and optimizer."""
    key = ("members", id(optimizer))
    made = program.sgd_source.get(key)
    if made is not None:
        return made
    groups = optimizer.param_groups
    name = program.bind(groups, "groups")
    changed = [f"len({name}) != {len(groups)}"]
    group_names, param_names = [], []
    for i, group in enumerate(groups):
        g, params = program.bind(group, "group"), group["params"]
        listed = program.bind(params, "params")
        changed += [f"{name}[{i}] is not {g}", f'{g}["params"] is not {listed}',
                    f"len({listed}) != {len(params)}"]
        names = [program.bind(p, "param") for p in params]
        changed += [f"{listed}[{j}] is not {param}" for j, param in enumerate(names)]
        group_names.append(g)
        param_names.append(names)
    program.sgd_source[key] = made = (" or ".join(changed), group_names, param_names)
    return made


def sgd(program: Program, optimizer: Any, folded: bool = False) -> list[str] | None:
    """The lines of plain SGD's step (see sgd_parts), None for another optimizer. ``folded``:
    the backward before may have seeded with lr (then ``folded`` is true in the replay)."""
    parts = sgd_parts(program, optimizer)
    if parts is None:
        return None
    changed, update, scaled = parts
    lines = ["if folded:", *(f"    {line}" for line in scaled)] if folded else []
    lines += [f"{'elif' if folded else 'if'} {changed}:",
              f"    {program.bind(optimizer.step, 'step')}()",
              "else:", *(f"    {line}" for line in update)]
    return lines


def fold_condition(program: Program, optimizer: Any, leaves: list[Any]) -> tuple[str, str]:
    """For compile's opt-in ``fold_lr``: an expression true when this call may seed the
    backward with lr (plain SGD as traced, one lr for all groups, and no gradient to accumulate
    into: every leaf's ``.grad`` is None), and the lr as source."""
    changed = sgd_parts(program, optimizer)[0]
    groups = optimizer_members(program, optimizer)[1]
    lr = f'{groups[0]}["lr"]'
    same = [f'{g}["lr"] == {lr}' for g in groups[1:]]
    empty = [f"{program.bind(t, 'leaf_tensor')}.grad is None" for t in leaves]
    return " and ".join([f"not ({changed})", *same, *empty]), lr


