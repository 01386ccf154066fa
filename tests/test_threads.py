"""BLAS threads per product size (tinygrad_nn/threads.py): checked on NumPy's BLAS itself.

Each scenario runs in a fresh interpreter with OPENBLAS_NUM_THREADS=2, so "all cores" means 2
whatever the machine or the test runner set, and nothing leaks into other tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = """
import numpy as np
from threadpoolctl import threadpool_info
import tinygrad_nn as tg
import tinygrad_nn.nn as nn

tg.threads._load = lambda: 1.0  # a quiet machine: the load is this process alone

def blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"
            and "numpy" in i["filepath"]][0]

def step(batch, width):
    layer = nn.Linear(784, width, dtype=np.float64)
    x = tg.Tensor(np.ones((batch, 784)))
    layer(x).sum().backward()
    return blas_threads()
"""


def run(body: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "TINYGRAD_NN_NUM_THREADS"}
    environment.update(PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="2", **env)
    code = PRELUDE + textwrap.dedent(body)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=environment, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_small_products_one_thread_large_all_cores():
    out = run("""
        print(step(10, 30), step(256, 1024), step(10, 30), tg.threads.max_threads())
    """)
    assert out == "1 2 1 2"


def test_large_products_leave_the_cores_other_processes_keep_busy():
    # the load average counts this process too: 2.3 means one other core busy, 0.4 idle
    out = run("""
        tg.threads._load = lambda: 2.3
        busy = step(256, 1024), tg.threads.free_cores()
        tg.threads._load = lambda: 0.4
        tg.threads._free = (0.0, 1)  # the load is read again after a second: now
        print(*busy, step(256, 1024), step(10, 30), tg.threads.free_cores())
    """)
    assert out == "1 1 2 1 2"


def test_set_num_threads_overrides_and_none_restores_the_policy():
    out = run("""
        tg.set_num_threads(2)
        a = step(10, 30)
        tg.set_num_threads(1)
        b = step(256, 1024)
        tg.set_num_threads(None)
        print(a, b, step(10, 30), step(256, 1024), tg.get_num_threads())
    """)
    assert out == "2 1 1 2 2"


def test_environment_variable_fixes_the_count():
    assert run("print(step(10, 30), step(256, 1024))", TINYGRAD_NN_NUM_THREADS="2") == "2 2"


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_rejects_non_positive_ints(bad):
    import tinygrad_nn as tg

    with pytest.raises(ValueError, match="set_num_threads"):
        tg.set_num_threads(bad)


def test_bad_environment_variable_names_it():
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TINYGRAD_NN_NUM_THREADS": "many"}
    result = subprocess.run([sys.executable, "-c", "import tinygrad_nn"], capture_output=True,
                            text=True, env=environment, cwd=ROOT, timeout=120)
    assert result.returncode != 0
    assert "TINYGRAD_NN_NUM_THREADS='many'" in result.stderr
