"""Notebooks run in a real Jupyter kernel (nbclient): the example notebooks execute without an
error, their drawing cells produce SVG/HTML, and every object the library returns displays
usefully as a cell's last expression in a fresh kernel (no ``%matplotlib inline``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "examples" / "notebooks"


def execute(nb, timeout: int = 300, cwd: Path = REPO):
    """Run every cell in a fresh kernel (in ``cwd``) that imports this repository's code."""
    env_path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    os.environ["PYTHONPATH"] = env_path  # the kernel is a child process: it inherits this
    # NOTE: generous timeouts: a loaded 2-core CI machine can take a while to start a kernel
    client = nbclient.NotebookClient(nb, timeout=timeout, startup_timeout=180,
                                     kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def outputs(cell) -> dict[str, str]:
    """{mime type: data} over a cell's display outputs (execute_result and display_data)."""
    found: dict[str, str] = {}
    for out in cell.get("outputs", []):
        if out["output_type"] in ("execute_result", "display_data"):
            found.update(out["data"])
    return found


DISPLAY_CELLS = {
    # source of the cell: (mime type that must be there, text it must contain)
    "import numpy as np\nimport tinygrad_nn as tg\nfrom tinygrad_nn import nn, optim, viz\n"
    "from tinygrad_nn.nn import functional as F\nfrom tinygrad_nn.train import fit\n"
    "tg.manual_seed(0)\nmodel = nn.MLP([4, 8, 3], activation='sigmoid')\n"
    "x, y = tg.randn(5, 4), np.array([0, 2, 1, 2, 0])\n"
    "with viz.capture(model) as cap:\n    loss = F.cross_entropy(model(x), y)\n"
    "graph = viz.trace(loss, capture=cap)\nloss.backward()\ncap": ("text/plain", "Capture"),
    "graph": ("image/svg+xml", "<svg"),
    "viz.draw_graph(graph)": ("image/svg+xml", "<svg"),
    "viz.draw_model(model, (5, 4))": ("image/svg+xml", "<svg"),
    "viz.summary(model, (5, 4))": ("text/html", "Total params: 67"),
    "flow = viz.GradientFlow()\nflow.record(model)\nflow": ("image/png", ""),
    "viz.plot_gradient_flow(flow)": ("image/png", ""),
    "X = np.random.default_rng(0).standard_normal((40, 4)).astype('float32')\n"
    "h = fit(model, 'cross_entropy', optim.SGD(model.parameters(), lr=0.1),\n"
    "        (X, (X[:, 0] > 0).astype('int64')), epochs=2, log=None, plot=True)\nh":
        ("text/html", "<polyline"),
    "from tinygrad_nn.check import compare\n"
    "compare(nn.MLP([4, 3, 2]), X[:3], np.array([0, 1, 1]), loss='cross_entropy')":
        ("text/html", "OK: all"),
    "viz.plot_history(h)": ("image/png", ""),
    "from tinygrad_nn import check\n"
    "check.layer(lambda x: (2 * x, x), lambda d, x: 2 * d, np.ones(3))": ("text/html", "OK"),
    "steps = viz.backward_steps((tg.Tensor(2.0, requires_grad=True) * 3.0).exp())\nsteps":
        ("text/html", "iframe"),
    "steps[1]": ("image/svg+xml", "Exp"),
    "viz.to_html(graph)": ("text/html", "iframe"),
    "loss": ("text/plain", "Tensor"),
    "from tinygrad_nn.data import DataLoader\nDataLoader(X, batch_size=8)":
        ("text/plain", "DataLoader(40 examples in 5 batches of 8, shuffle=False"),
    "optim.SGD(model.parameters(), lr=0.1)": ("text/plain", "lr: 0.1"),
    "model": ("text/plain", "Linear"),
}


def test_every_returned_object_displays_usefully_in_a_fresh_kernel():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in DISPLAY_CELLS]
    execute(nb)
    for cell, (mime, text) in zip(nb.cells, DISPLAY_CELLS.values()):
        found = outputs(cell)
        assert mime in found, f"{cell.source!r} displayed only {sorted(found)}"
        assert text in found[mime], f"{cell.source!r}: {text!r} not in its {mime}"
    fit_cell = next(c for c in nb.cells if "plot=True" in c.source)  # one figure, updated
    shown = [o for o in fit_cell.outputs
             if o["output_type"] == "display_data" and "image/png" in o["data"]]
    assert len(shown) == 1  # (the progress bars are display outputs too, with ipywidgets)


def test_fit_shows_a_progress_widget_in_a_notebook():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("tqdm")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import numpy as np\nfrom tinygrad_nn import nn, optim\nfrom tinygrad_nn.train import fit\n"
        "X = np.random.default_rng(0).standard_normal((40, 2)).astype('float32')\n"
        "m = nn.MLP([2, 3, 2])\n"
        "h = fit(m, 'cross_entropy', optim.SGD(m.parameters(), lr=0.1), (X, (X[:, 0] > 0)"
        ".astype('int64')), epochs=1, log=None)")]
    execute(nb)
    assert "application/vnd.jupyter.widget-view+json" in outputs(nb.cells[0])


def test_a_drawing_without_dot_shows_dot_text_not_a_traceback():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import os\nos.environ['PATH'] = ''\n"
        "import tinygrad_nn as tg\nfrom tinygrad_nn import viz\n"
        "a = tg.Tensor(2.0, requires_grad=True)\nviz.draw_graph(a * a)")]
    execute(nb)
    found = outputs(nb.cells[0])
    assert "image/svg+xml" not in found
    assert "apt-get install graphviz" in found["text/html"] and "digraph" in found["text/html"]
    assert not [o for o in nb.cells[0].outputs if o["output_type"] == "error"]


NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("*.ipynb"))


def test_the_example_notebooks_are_there_and_stored_without_outputs():
    names = [p.name for p in NOTEBOOK_FILES]
    assert names == ["01_first_graph.ipynb", "02_nielsen_ch1_training.ipynb",
                     "03_check_your_backprop.ipynb", "04_backward_step_by_step.ipynb"]
    for path in NOTEBOOK_FILES:
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_example_notebook_runs_and_draws(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    execute(nb, cwd=tmp_path)  # raises on any error; files it writes land in tmp_path
    drawings = [c for c in nb.cells if "drawing" in c.metadata.get("tags", [])]
    assert drawings, f"{path.name} has no drawing cells"
    for cell in drawings:
        found = outputs(cell)
        assert {"image/svg+xml", "text/html"} & set(found), (
            f"{path.name}: {cell.source!r} displayed only {sorted(found)}")
