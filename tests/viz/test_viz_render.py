"""viz.render: real SVG/PNG when Graphviz's dot is installed, the .dot fallback and its hint
when it is not (simulated)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from viz_helpers import Traced, traced_mlp

from tinygrad_nn import viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot not installed")


@pytest.fixture
def mlp() -> Traced:
    return traced_mlp()


@needs_dot
def test_render_svg_png_pdf(mlp: Traced, tmp_path: Path) -> None:
    drawing = viz.draw_graph(mlp.graph)
    svg = viz.render(drawing, tmp_path / "g.svg")
    assert svg == tmp_path / "g.svg"
    text = svg.read_text()
    assert "<svg" in text and "0.weight" in text and "(8, 4) float32" in text
    assert text.count('class="cluster"') == 4
    assert viz.render(drawing, tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert viz.render(drawing, tmp_path / "g", format="pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "g.pdf").exists()  # the suffix is added when the path has none


@needs_dot
def test_render_a_graph_and_the_jupyter_svg(mlp: Traced, tmp_path: Path) -> None:
    path = viz.render(mlp.graph, tmp_path / "sub" / "graph")  # a Graph, default svg
    assert path.name == "graph.svg" and "<svg" in path.read_text()
    bundle = viz.draw_graph(mlp.graph)._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_render_dot_text_needs_no_program(
    mlp: Traced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    drawing = viz.draw_graph(mlp.graph)
    path = viz.render(drawing, tmp_path / "g.dot")
    assert path.read_text() == drawing.source
    assert viz.render(drawing, tmp_path / "h.gv").read_text() == drawing.source


def test_missing_dot_writes_dot_and_hints(
    mlp: Traced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    drawing = viz.draw_graph(mlp.graph)
    with pytest.warns(viz.GraphvizMissingWarning) as caught:
        path = viz.render(drawing, tmp_path / "g.svg")
    assert path == tmp_path / "g.dot" and path.read_text() == drawing.source
    assert not (tmp_path / "g.svg").exists()
    message = str(caught[0].message)
    assert "\n" not in message and viz.GRAPHVIZ_HINT in message
    assert "apt-get install graphviz" in message and "brew install graphviz" in message


def test_missing_dot_on_path_is_caught_from_graphviz_too(
    mlp: Traced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # which() claims dot exists, but PATH has no dot: graphviz raises ExecutableNotFound
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: "/usr/bin/dot")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.warns(viz.GraphvizMissingWarning, match="conda install graphviz"):
        path = viz.render(viz.draw_graph(mlp.graph), tmp_path / "g.png")
    assert path.suffix == ".dot" and path.read_text().startswith("digraph")


def test_unknown_format(mlp: Traced, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="svg, png, pdf, dot"):
        viz.render(viz.draw_graph(mlp.graph), tmp_path / "g.svg", format="jpeg")
