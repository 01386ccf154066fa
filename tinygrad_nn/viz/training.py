"""Training curves: ``plot_history`` (loss and accuracy per epoch of a ``fit`` run),
``LivePlot``, which redraws them after every epoch in the notebook cell running ``fit``, and
``progress_bar``, the bar ``fit`` and ``random_search`` show."""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Any

from . import notebook
from .notebook import in_notebook, inline

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def progress_bar(show: bool, iterable: Any, desc: str, unit: str = "batch",
                 total: int | None = None) -> Any:
    """tqdm.auto's bar over ``iterable`` (a widget in Jupyter, text in a terminal); None when
    ``show`` is False, stderr is neither a terminal nor a notebook, or tqdm (the optional
    "progress" extra) is not installed."""
    if not show or not (sys.stderr.isatty() or notebook.in_notebook()):  # looked up now
        return None
    try:
        import tqdm  # noqa: F401  (the optional "progress" extra)
    except ImportError:
        return None
    with warnings.catch_warnings():  # without ipywidgets tqdm.auto warns, then uses text
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm
    # NOTE: tqdm.auto's bar (tqdm.asyncio) calls iter() on its iterable when it is made and
    # again when it is iterated, and every iter() of a DataLoader starts a new epoch (a new
    # shuffle): so the bar gets one iterator, and the length on the side
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    iterator = None if iterable is None else iter(iterable)  # None: a bar updated by hand
    return tqdm(iterator, desc=desc, leave=False, unit=unit, total=total)


def plot_history(history: Any, title: str | None = None) -> Figure:
    """Loss (left) and accuracy (right, when recorded) against epoch, train and validation.

    ``history`` is a ``train.History`` (or anything with ``.epochs``, a list of records).
    Returns a matplotlib Figure that displays inline in Jupyter. Needs matplotlib.
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError as e:
        raise ImportError("plot_history needs matplotlib: pip install tinygrad_nn[plot]") from e

    records = list(history.epochs)
    if not records:
        raise ValueError("plot_history: the history has no epochs yet")
    panels = [("loss", ("loss", "val_loss"))]
    if "accuracy" in records[0]:
        panels.append(("accuracy", ("accuracy", "val_accuracy")))
    fig = Figure(figsize=(4.2 * len(panels), 3), layout="constrained")
    epochs = [r["epoch"] for r in records]
    for i, (name, keys) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for key, style in zip(keys, ("o-", "s--")):
            if key in records[0]:
                ax.plot(epochs, [r[key] for r in records], style, markersize=3,
                        label="validation" if key.startswith("val") else "train")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return inline(fig)


class LivePlot:
    """Redraws ``plot_history`` in place after each epoch (``fit(..., plot=True)``).

    In Jupyter the figure lives in one display slot of the running cell, updated each epoch.
    Elsewhere there is no cell to draw into: it warns once and draws nothing (call
    ``plot_history(history)`` after training instead).
    """

    def __init__(self, title: str | None = None):
        self.title = title
        self.handle: Any = None
        self.updates = 0
        self.active = in_notebook()
        if not self.active:
            warnings.warn(
                "fit(plot=True): a live plot needs a Jupyter notebook; outside one, call "
                "viz.plot_history(history) after fit", UserWarning, stacklevel=3,
            )

    def update(self, history: Any) -> None:
        if not self.active:
            return
        from IPython.display import display

        fig = plot_history(history, self.title)
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)
        self.updates += 1
