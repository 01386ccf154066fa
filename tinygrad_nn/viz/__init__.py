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
