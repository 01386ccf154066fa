"""fit in a terminal (its progress bar shown) trains exactly as fit without one.

tqdm.auto's bar called iter() twice on the DataLoader it wrapped, and each iter() is a new
epoch's shuffle: in a terminal every epoch used the next epoch's order. The bar only appears on
a terminal, so the run happens in a subprocess whose stderr is a pseudo-terminal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys
import numpy as np
import tinygrad_nn as tg
from tinygrad_nn import nn, optim

rng = np.random.default_rng(0)
X, labels = rng.random((200, 20)), rng.integers(0, 3, 200)
model = nn.build("20-5-3:sigmoid,out=sigmoid", dtype=np.float64, generator=0)
history = tg.train.fit(model, "quadratic", optim.SGD(model.parameters(), lr=3.0), (X, labels),
                       epochs=3, batch_size=10, seed=0, progress=sys.argv[1] == "bar", log=None)
print("stderr is a terminal:", sys.stderr.isatty(), file=sys.stdout)
print("losses:", [repr(r["loss"]) for r in history.epochs], file=sys.stdout)
"""


def _run(progress: str, terminal: bool) -> str:
    pytest.importorskip("tqdm")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    stderr = None
    if terminal:
        pty = pytest.importorskip("pty")
        main, child = pty.openpty()
        stderr = child
    try:
        done = subprocess.run([sys.executable, "-c", SCRIPT, progress], stdout=subprocess.PIPE,
                              stderr=stderr, text=True, env=env, cwd=ROOT, timeout=120)
    finally:
        if terminal:
            os.close(child)
            os.close(main)
    assert done.returncode == 0
    return done.stdout


def test_fit_with_its_bar_in_a_terminal_trains_as_without():
    plain = _run("none", terminal=False)
    shown = _run("bar", terminal=True)
    assert "stderr is a terminal: True" in shown  # the bar was really drawn
    assert plain.splitlines()[-1] == shown.splitlines()[-1]
