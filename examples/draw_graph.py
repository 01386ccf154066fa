"""Draw the computation graph of a small MLP after backward(), with its gradients.

    python examples/draw_graph.py                      # mlp_graph.svg + mlp_graph_collapsed.svg
    python examples/draw_graph.py docs/img/mlp_graph.svg

An MLP [4, 8, 3] with sigmoid hidden units, cross-entropy on a batch of 5. The full drawing has
one dashed cluster per module; the collapsed one draws each layer as a single node. Without
Graphviz's `dot` program the .dot text is written instead, with a hint on installing it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import tinygrad_nn as tg
from tinygrad_nn import nn, viz
from tinygrad_nn.nn import functional as F


def main(argv: list[str] | None = None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="mlp_graph.svg",
                        help="output file; its suffix picks the format (svg, png, pdf, dot)")
    parser.add_argument("--values", action="store_true", help="also show value statistics")
    args = parser.parse_args(argv)

    tg.manual_seed(0)
    model = nn.MLP([4, 8, 3], activation="sigmoid")
    x = tg.randn(5, 4)
    y = np.array([0, 2, 1, 2, 0])

    # The hooks record which module ran which op; trace before backward(), which frees the graph.
    with viz.capture(model) as cap:
        loss = F.cross_entropy(model(x), y)
    graph = viz.trace(loss, capture=cap)
    loss.backward()  # the traced graph keeps the tensors: their .grad now shows on the drawing

    print(viz.summary(model, (5, 4)))
    path = Path(args.path)
    if path.is_dir():  # a directory: the default file name inside it
        path = path / "mlp_graph.svg"
    collapsed_path = path.with_name(f"{path.stem}_collapsed{path.suffix}")
    written = [
        viz.render(viz.draw_graph(graph, show_values=args.values, title="MLP [4, 8, 3]"), path),
        viz.render(viz.draw_graph(graph, collapse=True, title="collapsed"), collapsed_path),
    ]
    for p in written:
        print(f"wrote {p}")
    return written


if __name__ == "__main__":
    main()
