"""Gradient flow: per-layer gradient norms during training, and the figure of Nielsen's chapter 5.

Nielsen measures "the speed of learning" of layer l as the norm of dC/db for that layer and
shows it shrinking layer by layer towards the input of a deep sigmoid network (the vanishing
gradient problem). ``GradientFlow.record(model)`` after each ``backward()`` (or once per epoch)
collects those norms; ``plot_gradient_flow`` draws them, one line per layer, on a log scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from .graph import ParamsLike, named_tensors
from .notebook import figure_png, inline

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Which = Literal["all", "weight", "bias"]


class GradientFlow:
    """Records the gradient norm of every layer each time ``record`` is called.

    >>> flow = GradientFlow(which="bias")          # Nielsen's ||dC/db|| per layer
    >>> # for each epoch: ...; loss.backward(); flow.record(model, step=epoch)
    >>> # plot_gradient_flow(flow, "flow.png")

    A layer is the module holding the parameters ("0", "layers.2"); its norm combines the
    selected parameters: sqrt(sum of squared gradient entries). ``which`` picks the
    parameters: "all", "weight" or "bias" (by attribute name).
    """

    def __init__(self, which: Which = "all"):
        if which not in ("all", "weight", "bias"):
            raise ValueError(
                f'GradientFlow: which must be "all", "weight" or "bias", got {which!r}'
            )
        self.which = which
        self.steps: list[float] = []
        self.history: dict[str, list[float]] = {}

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"GradientFlow(which={self.which!r}, {len(self.steps)} steps, layers {self.layers})"

    def _repr_png_(self) -> bytes | None:
        """In Jupyter a GradientFlow shows its plot (once something is recorded)."""
        return figure_png(plot_gradient_flow(self)) if self.steps else None

    @property
    def layers(self) -> list[str]:
        return list(self.history)

    def norms(self, model: ParamsLike) -> dict[str, float]:
        """{layer: gradient norm} now, for the layers whose selected parameters have a grad."""
        squares: dict[str, float] = {}
        for name, p in named_tensors(model):
            layer, _, attr = name.rpartition(".")
            if self.which != "all" and attr != self.which:
                continue
            if p.grad is None:
                continue
            g = np.asarray(p.grad.data, dtype=np.float64)
            squares[layer] = squares.get(layer, 0.0) + float(np.dot(g.ravel(), g.ravel()))
        return {layer: math.sqrt(s) for layer, s in squares.items()}

    def record(self, model: ParamsLike, step: float | None = None) -> dict[str, float]:
        """Append the current norms (call after ``backward()``, before ``zero_grad()``).

        ``step`` is the x coordinate (e.g. the epoch); by default the number of records so far.
        A layer without a gradient this time gets NaN, so every list stays aligned with steps.
        """
        norms = self.norms(model)
        if not norms:
            raise RuntimeError(
                "GradientFlow.record: no parameter has a gradient; call it after backward() "
                "and before zero_grad()"
            )
        for layer in norms:
            if layer not in self.history:
                self.history[layer] = [math.nan] * len(self.steps)
        for layer, values in self.history.items():
            values.append(norms.get(layer, math.nan))
        self.steps.append(len(self.steps) if step is None else step)
        return norms


def plot_gradient_flow(
    history: GradientFlow | Mapping[str, Sequence[float]],
    path: str | Path | None = None,
    *,
    steps: Sequence[float] | None = None,
    title: str = "Gradient flow: speed of learning per layer",
    xlabel: str = "epoch",
    ylabel: str = "gradient norm (log scale)",
    dpi: int = 120,
) -> Figure:
    """Draw one line per layer (gradient norm against step, log y axis); save it if ``path``.

    ``history`` is a GradientFlow or {layer: [norm per step]}. Returns the matplotlib Figure
    (it displays inline in Jupyter). Needs matplotlib: ``pip install tinygrad_nn[plot]``.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(
            "plot_gradient_flow needs matplotlib: pip install tinygrad_nn[plot]"
        ) from e

    if isinstance(history, GradientFlow):
        steps = history.steps if steps is None else steps
        history = history.history
    if not history:
        raise ValueError("plot_gradient_flow: the history is empty (record some steps first)")
    # NOTE: a Figure made directly, not through pyplot: no global state, no GUI backend needed
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for i, (layer, values) in enumerate(history.items()):
        xs = list(steps) if steps is not None else list(range(len(values)))
        if len(xs) != len(values):
            raise ValueError(
                f"plot_gradient_flow: layer {layer!r} has {len(values)} values for {len(xs)} steps"
            )
        ax.plot(xs, values, marker="o", markersize=3, label=f"layer {i + 1} ({layer or 'model'})")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi)
    return inline(fig)
