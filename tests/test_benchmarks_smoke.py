"""Smoke tests for the benchmark harness (``benchmarks/``): it runs, and its correctness gate bites.

No timing assertions: timings on a shared CI machine mean nothing. The benchmarks themselves live
in ``benchmarks/``, never here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # NOTE: `benchmarks` is not installed; it runs from the repo
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import backends, report, training  # noqa: E402
from benchmarks.backends import NumpyBackend  # noqa: E402
from benchmarks.cli import main, select  # noqa: E402
from benchmarks.data import init_params, synthetic  # noqa: E402


class WrongDerivativeBackend(NumpyBackend):
    """The floor with a classic bug: sigmoid'(z) computed as a * a instead of a * (1 - a)."""

    def step(self, x: np.ndarray, y: np.ndarray, lr: float) -> None:
        activations = [x]
        for w, b in self.params:
            activations.append(1.0 / (1.0 + np.exp(-(activations[-1] @ w.T + b))))
        delta = (activations[-1] - y) * activations[-1] ** 2
        for layer in range(len(self.params) - 1, -1, -1):
            w, b = self.params[layer]
            a_prev = activations[layer]
            dw, db = delta.T @ a_prev, delta.sum(axis=0)
            delta = (delta @ w) * a_prev * (1 - a_prev)
            w -= lr * dw
            b -= lr * db


@pytest.fixture(scope="module")
def tiny_data():
    return synthetic(n_train=300, n_test=200, seed=1)


@pytest.fixture
def wrong_backend(monkeypatch):
    monkeypatch.setitem(backends.BACKENDS, "wrong", WrongDerivativeBackend)
    return "wrong"


def _gates(results):
    return {r.backend: r.gate for r in results}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_real_backend_passes_the_gate(tiny_data, dtype):
    case = training.Case((784, 16, 10), 10, dtype)
    results = training.run_case(case, tiny_data.astype(dtype), list(backends.BACKENDS), repeats=1)
    for r in results:
        assert r.gate == "ok" or r.gate.startswith("skipped"), (r.backend, r.gate)
    assert _gates(results)["numpy"] == "ok"
    assert all(r.median > 0 for r in results if r.gate == "ok")


def test_gate_flags_a_wrong_backend(tiny_data, wrong_backend):
    case = training.Case((784, 16, 10), 10, "float64")
    results = training.run_case(case, tiny_data, ["numpy", wrong_backend], repeats=1)
    gates = _gates(results)
    assert gates["numpy"] == "ok"
    assert gates[wrong_backend].startswith("FAIL: weights differ")
    run = {
        "env": {"threads": 1},
        "cases": [{"case": case.name, "results": [vars(r) for r in results]}],
    }
    assert any(wrong_backend in f for f in report.gate_failures([run]))


def test_backends_start_from_identical_weights():
    params = init_params([784, 16, 10], seed=3)
    for name in backends.BACKENDS:
        if backends.BACKENDS[name].unavailable():
            continue
        backend = backends.create(name)
        backend.setup(params, "float64")
        for (w, b), (w0, b0) in zip(backend.weights(), params, strict=True):
            np.testing.assert_array_equal(w, w0)
            np.testing.assert_array_equal(b, b0)


def test_case_selection():
    cases, extras = select("784-30-10/*/float64,micro", full=True)
    assert cases == ["784-30-10/mb10/float64", "784-30-10/mb128/float64"]
    assert extras == ["full", "perop", "chain", "memory"]
    with pytest.raises(SystemExit):
        select("no-such-case", full=False)


def test_command_line_quick_run(tmp_path):
    out = tmp_path / "results.json"
    command = [
        sys.executable,
        "-m",
        "benchmarks",
        "--quick",
        "--synthetic",
        "--cases",
        "784-30-10/mb10/float64,perop,chain,memory",
        "--train-size",
        "200",
        "--test-size",
        "200",
        "--perop-calls",
        "20",
        "--chain-length",
        "500",
        "--growth-steps",
        "50",
        "--full",
        "--full-epochs",
        "2",
        "--full-train-size",
        "200",
        "--json",
        str(out),
    ]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "correctness gate: PASS" in done.stdout
    (run,) = json.loads(out.read_text())
    assert [c["case"] for c in run["cases"]] == ["784-30-10/mb10/float64"]
    assert {"memory", "growth", "full"} <= set(run)
    assert all(b["gate"] == "ok" for b in run["full"]["backends"].values())
    assert len(run["full"]["backends"]["numpy"]["accuracy"]) == 2
    assert main(["--report", str(out)]) == 0  # re-rendering a saved run needs no re-run
    if not backends.BACKENDS["tinygrad"].unavailable():
        assert {"perop", "chain"} <= set(run)
        assert "### Targets" in done.stdout


def test_eager_cost_mirror_makes_the_engines_numpy_calls():
    # benchmarks.eager_cost splits the eager step into the engine's NumPy work and its Python
    # by replaying the engine's NumPy calls by hand: three steps of each must give the same
    # weights bit for bit, or the split measures something else (seen failing with the
    # sigmoid derivative multiplied in another order)
    from benchmarks import eager_cost

    rng = np.random.default_rng(1)
    x, y = rng.random((5, 784)), np.eye(10)[rng.integers(0, 10, 5)]
    params = init_params([784, 7, 10], seed=3)
    api = backends.create("api")
    api.setup(params, "float64")
    mirror = [(w.copy(), b.copy()) for w, b in params]
    for _ in range(3):
        api.step(x, y, 0.5)
        eager_cost.engine_numpy_step(mirror)(x, y, 0.5)
    for (w, b), (mw, mb) in zip(api.weights(), mirror, strict=True):
        assert np.array_equal(w, mw) and np.array_equal(b, mb)
    eager_cost.main(["--batch", "4", "--hidden", "5", "--rounds", "1"])


def test_compile_gap_straight_line_step_is_the_replay():
    # benchmarks/compile_gap.py times the replay against its NumPy calls written out; the
    # comparison means something only while the two compute bit-for-bit the same weights
    command = [sys.executable, "-m", "benchmarks.compile_gap", "--rounds", "1", "--breakdown"]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "bit-for-bit equal: True" in done.stdout
    assert "straight, floor_loss" in done.stdout
