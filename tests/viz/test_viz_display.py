"""How the library's objects display: readable text at the prompt, HTML/SVG/PNG in Jupyter, and
no traceback when Graphviz's ``dot`` is missing. (The real-kernel check is test_notebooks.py.)"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from viz_helpers import traced_mlp

import tinygrad_nn as tg
from tinygrad_nn import nn, optim, viz
from tinygrad_nn.compare.report import Comparison, Report, Row
from tinygrad_nn.train import History, fit

PNG = b"\x89PNG"


def _report(bad: bool) -> Report:
    good = Comparison(1e-12, 1e-13, 1e-10, 1e-8, 6, 6, (0,), 1.0, 1.0)
    wrong = Comparison(0.5, 0.3, 1e-10, 1e-8, 6, 6, (1, 2), 1.5, 1.0)
    rows = [Row("0.weight", "gradient", (2, 3), reference=good),
            Row("0.bias", "gradient", (3,), reference=wrong if bad else good)]
    return Report("compare: MLP", [("model", "MLP [3, 2]")], rows)


def _history(n: int = 3) -> History:
    return History([{"epoch": i + 1, "loss": 1.0 / (i + 1), "accuracy": 0.5 + 0.1 * i,
                     "lr": 0.1, "time": 0.01} for i in range(n)])


class _Pretty:
    """IPython's pretty printer, reduced to what _repr_pretty_ uses."""

    def __init__(self) -> None:
        self.out = ""

    def text(self, s: str) -> None:
        self.out += s


def _pretty(obj) -> str:
    p = _Pretty()
    obj._repr_pretty_(p, False)
    return p.out


def test_summary_is_a_str_that_shows_its_table():
    s = viz.summary(nn.MLP([4, 8, 3]), (2, 4))
    assert isinstance(s, str) and s.startswith("=")
    assert repr(s) == str(s) == _pretty(s)  # not a quoted one-line string
    page = s._repr_html_()
    assert page.count("<tr>") == 1 + len(s.rows) - 1  # the head and one row per module
    assert "0 (Linear)" in page and "Total params: 67" in page


def test_report_html_highlights_failures_and_pretty_shows_the_table():
    ok, failed = _report(False), _report(True)
    assert "FAILED" not in ok._repr_html_() and "ffd6d6" not in ok._repr_html_()
    page = failed._repr_html_()
    assert page.count("ffd6d6") == 1  # exactly the failing row is highlighted
    assert "0.bias" in page and "FAILED: 1 of 2" in page
    assert _pretty(failed) == str(failed) and "FAIL" in _pretty(failed)


def test_history_text_and_html():
    h = _history()
    text = str(h)
    assert text.splitlines()[0].split() == ["epoch", "loss", "accuracy", "lr", "time"]
    assert "70.00%" in text and text.endswith("3 epochs")
    assert repr(h).startswith("History(3 epochs; last: loss 0.3333")
    page = h._repr_html_()
    assert page.count("<polyline") == 2 and "loss: 1 &rarr; <b>0.3333</b>" in page
    assert "accuracy: 50.00% &rarr; <b>70.00%</b>" in page
    long = _history(30)._repr_html_()
    assert "..." in long and long.count("<tr>") == 1 + 11  # head, 5 first, gap, 5 last
    assert "no epochs" in History()._repr_html_() and str(History()).startswith("History: no")


def test_graph_repr_and_display():
    graph = traced_mlp().graph
    assert repr(graph) == "Graph(14 nodes: 10 tensors, 4 ops; 13 edges; roots t8)"
    bundle = graph._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")


def test_too_large_graph_displays_the_advice_not_a_traceback():
    y = tg.ones(2, requires_grad=True)
    for _ in range(1000):  # 1,000 ops: over draw_graph's default max_nodes of 2,000
        y = y * 0.999
    bundle = viz.trace(y.sum())._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "collapse=True" in bundle["text/plain"]


def test_drawing_without_dot_shows_dot_text_and_hint(monkeypatch):
    drawing = viz.draw_graph(traced_mlp().graph)
    monkeypatch.setenv("PATH", "")  # hide Graphviz's dot
    bundle = drawing._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert "apt-get install graphviz" in bundle["text/html"]
    assert "digraph tinygrad_nn" in bundle["text/html"] and "->" in bundle["text/plain"]
    assert "nodes" in repr(drawing)


def test_drawing_falls_back_when_graphviz_raises(monkeypatch):
    import graphviz

    drawing = viz.draw_graph(traced_mlp().graph)

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "_repr_mimebundle_", missing)
    assert "install Graphviz" in drawing._repr_mimebundle_()["text/plain"]


def test_figures_display_without_pyplot():
    pytest.importorskip("matplotlib")
    flow = viz.GradientFlow()
    assert flow._repr_png_() is None  # nothing recorded yet: IPython falls back to the repr
    t = traced_mlp()
    flow.record(t.model)
    assert flow._repr_png_().startswith(PNG) and "1 steps" in repr(flow)
    assert viz.plot_gradient_flow(flow)._repr_png_().startswith(PNG)
    assert viz.plot_history(_history())._repr_png_().startswith(PNG)


def _moons_fit(**kw):
    X = np.random.default_rng(0).standard_normal((40, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.MLP([2, 4, 2])
    return fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), (X, y),
               epochs=2, batch_size=8, log=None, **kw)


def test_fit_bar_in_a_notebook(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    monkeypatch.setattr("tinygrad_nn.viz.notebook.in_notebook", lambda: True)
    _moons_fit()
    assert "epoch 1/2" in capsys.readouterr().err  # stderr is no terminal here: notebook only


def test_fit_live_plot_outside_a_notebook_warns_once():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = _moons_fit(plot=True)
    assert len(history) == 2
    assert [str(w.message) for w in caught if "live plot" in str(w.message)] == [
        "fit(plot=True): a live plot needs a Jupyter notebook; outside one, call "
        "viz.plot_history(history) after fit"]


def test_live_plot_updates_one_display_slot(monkeypatch):
    pytest.importorskip("matplotlib")
    pytest.importorskip("IPython")
    import IPython.display

    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj))

    def display(obj, display_id=False):
        shown.append(("display", obj))
        return Handle()

    monkeypatch.setattr("tinygrad_nn.viz.training.in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    _moons_fit(plot=True)
    assert [kind for kind, _ in shown] == ["display", "update"]
    assert all(fig._repr_png_().startswith(PNG) for _, fig in shown)
