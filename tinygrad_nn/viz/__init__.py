"""See the computation: trace and draw graphs, draw and summarize models, watch gradient flow.

    >>> from tinygrad_nn import viz                                    # doctest: +SKIP
    >>> with viz.capture(model) as cap:
    ...     loss = cross_entropy(model(x), y)
    >>> graph = viz.trace(loss, capture=cap)      # before backward(): it frees the graph
    >>> loss.backward()
    >>> viz.render(viz.draw_graph(graph), "graph.svg")

``trace`` needs only NumPy; drawing needs the ``graphviz`` Python package, and writing SVG/PNG/PDF
needs Graphviz's ``dot`` program (without it ``render`` writes the ``.dot`` text and says how to
install it). ``plot_gradient_flow`` needs matplotlib (``pip install tinygrad_nn[plot]``).

The files, in the order data flows: graph.py (trace, capture: the graph as data), collapse.py
(smaller views), describe.py (a node's numbers in words), draw.py (draw_graph, render),
drawing.py (the Drawing a notebook displays, with or without ``dot``), architecture.py
(draw_model), model.py (summary), steps.py (backward_steps), page.py (to_html: the offline
HTML page), gradflow.py and training.py (matplotlib figures), notebook.py (HTML pieces and the
Jupyter hooks).
"""

from ..autograd import GraphFreedError
from .architecture import draw_model
from .collapse import collapse_chains, collapse_modules
from .describe import describe, tooltip
from .draw import (
    GraphTooLargeError,
    GraphvizMissingWarning,
    draw_graph,
    grad_flag,
    grad_stats,
    render,
)
from .gradflow import GradientFlow, plot_gradient_flow
from .graph import (
    Capture,
    Edge,
    Graph,
    ModuleCall,
    ModuleInfo,
    Node,
    Stats,
    array_stats,
    capture,
    trace,
)
from .model import Summary, run_forward, summary
from .notebook import GRAPHVIZ_HINT
from .page import Page, to_html
from .steps import BackwardSteps, backward_steps
from .training import LivePlot, plot_history

__all__ = [
    "trace", "capture", "draw_graph", "render", "draw_model", "summary", "run_forward",
    "GradientFlow", "plot_gradient_flow", "plot_history", "LivePlot", "Summary",
    "collapse_modules", "collapse_chains",
    "grad_stats", "array_stats", "Graph", "Node", "Edge", "ModuleInfo", "ModuleCall", "Capture",
    "Stats", "grad_flag", "GraphFreedError", "GraphTooLargeError", "GraphvizMissingWarning",
    "GRAPHVIZ_HINT", "describe", "tooltip", "to_html", "Page", "backward_steps",
    "BackwardSteps",
]
