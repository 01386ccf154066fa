"""The layers of a model: ``summary`` (a torchinfo-like table) and the shape probe behind it and
``draw_model`` (architecture.py).

Both read the module tree (``named_modules``, ``named_parameters``); output shapes come from one
forward pass on a random batch with forward hooks (``viz.capture``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor, get_default_dtype
from .graph import Capture, ModuleLike, capture, module_parents
from .notebook import esc, html_table

ShapeLike = Sequence[int]


def _input_shapes(input_shape: ShapeLike | Sequence[ShapeLike]) -> list[tuple[int, ...]]:
    """One shape, or a list of shapes for a model with several inputs."""
    if len(input_shape) > 0 and all(isinstance(s, (int, np.integer)) for s in input_shape):
        return [tuple(int(s) for s in input_shape)]  # type: ignore[union-attr]
    return [tuple(int(d) for d in s) for s in input_shape]  # type: ignore[union-attr]


def _default_dtype(model: ModuleLike) -> np.dtype:
    """The dtype of the model's first parameter, else the library default."""
    for _, p in model.named_parameters():
        return p.dtype
    return get_default_dtype()


def run_forward(
    model: ModuleLike, input_shape: ShapeLike | Sequence[ShapeLike], dtype: Any = None,
    record: bool = False,
) -> Capture:
    """Call ``model`` once on a random batch (zeros for integer dtypes) and record every module
    call. Runs in eval mode: a shape probe must not update batchnorm's running statistics or
    draw dropout masks. Every module's mode is restored afterwards. Under ``no_grad`` unless
    ``record`` (then the ops are recorded, for tracing the data flow)."""
    dtype = np.dtype(dtype) if dtype is not None else _default_dtype(model)
    rng = np.random.default_rng(0)  # not the library's generator: summary must not perturb it
    inputs = [
        Tensor(rng.standard_normal(s).astype(dtype) if dtype.kind == "f" else np.zeros(s, dtype))
        for s in _input_shapes(input_shape)
    ]
    modes = [(m, m.training) for _, m in model.named_modules() if hasattr(m, "training")]
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad() if not record else contextlib.nullcontext(), capture(model) as cap:
            model(*inputs)  # type: ignore[operator]
    finally:
        for m, mode in modes:
            m.training = mode
    return cap


def own_parameters(model: ModuleLike) -> tuple[dict[str, list[tuple[str, Tensor]]], list[str]]:
    """({module name: [(attribute, parameter)]}, module names in order): each parameter under
    the module that holds it directly."""
    names = [name for name, _ in model.named_modules()]
    known = set(names)
    own: dict[str, list[tuple[str, Tensor]]] = {name: [] for name in names}
    for full, p in model.named_parameters():
        owner, _, attr = full.rpartition(".")
        while owner not in known:  # a parameter in a plain list: "blocks.0" -> "blocks"
            owner, _, head = owner.rpartition(".")
            attr = f"{head}.{attr}"
        own[owner].append((attr, p))
    return own, names


def _shapes_text(shapes: Sequence[tuple[int, ...]]) -> str:
    return ", ".join(str(s) for s in shapes) if shapes else "--"


class Summary(str):
    """The text of ``summary``: a ``str`` (print it, compare it) that also shows itself as a
    table in Jupyter and as the table, not a quoted one-liner, at the Python prompt."""

    rows: list[tuple[str, str, str]]
    footer: list[str]

    def __new__(cls, text: str, rows: list[tuple[str, str, str]] | None = None,
                footer: list[str] | None = None) -> Summary:
        self = super().__new__(cls, text)
        self.rows, self.footer = rows or [("Layer (type)", "Output Shape", "Param #")], footer or []
        return self

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        # an em space per nesting level: HTML would collapse the text's plain spaces
        body = [(title.replace("  ", "\u2003"), shape, count)
                for title, shape, count in self.rows[1:]]
        footer = "<br>".join(esc(line) for line in self.footer)
        return (html_table(self.rows[0], body)
                + f'<div style="font-family:monospace;font-size:12px">{footer}</div>')


def summary(
    model: ModuleLike, input_shape: ShapeLike | Sequence[ShapeLike], dtype: Any = None
) -> Summary:
    """A table of the model's layers: name (type), output shape, parameters; then the totals.

    ``input_shape`` includes the batch axis, e.g. ``(1, 784)``; pass a list of shapes for a
    model taking several inputs. ``dtype`` is the input's dtype (default: the parameters').
    A row counts the parameters its module holds directly, so the column sums to the total.
    """
    cap = run_forward(model, input_shape, dtype)
    own, names = own_parameters(model)
    parents = module_parents(names)
    calls: dict[str, list[tuple[int, ...]]] = {}
    n_calls: dict[str, int] = {}
    for call in cap.calls:
        calls.setdefault(call.name, [tuple(t.shape) for t in call.outputs])
        n_calls[call.name] = n_calls.get(call.name, 0) + 1
    modules = dict(model.named_modules())

    rows = [("Layer (type)", "Output Shape", "Param #")]
    for name in names:
        depth, parent = 0, parents[name]
        while parent is not None:
            depth, parent = depth + 1, parents[parent]
        kind = type(modules[name]).__name__
        title = kind if name == "" else f"{name} ({kind})"
        shape = _shapes_text(calls.get(name, []))
        if n_calls.get(name, 0) > 1:
            shape += f" x{n_calls[name]} calls"
        count = sum(p.data.size for _, p in own[name])
        rows.append(("  " * depth + title, shape, f"{count:,}" if count else "--"))

    params = [p for _, p in model.named_parameters()]
    total = sum(p.data.size for p in params)
    trainable = sum(p.data.size for p in params if p.requires_grad)
    size_mb = sum(p.data.nbytes for p in params) / 2**20
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    line_width = sum(widths) + 4

    def fmt(row: tuple[str, str, str]) -> str:
        return f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}"

    dtype_name = np.dtype(dtype) if dtype is not None else _default_dtype(model)
    shapes = ", ".join(str(s) for s in _input_shapes(input_shape))
    footer = [
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        f"Params size (MB): {size_mb:.2f}",
        f"Input shape: {shapes} {dtype_name}",
    ]
    lines = ["=" * line_width, fmt(rows[0]), "=" * line_width]
    lines += [fmt(r) for r in rows[1:]]
    lines += ["=" * line_width, *footer, "=" * line_width]
    return Summary("\n".join(lines), rows, footer)
