"""Training benchmarks: the same network, seed, data, weights and shuffles in every backend.

``run_case`` times one grid case (sizes x mini-batch x dtype) with interleaved repeats and then
applies the correctness gate; ``run_full`` is Nielsen's chapter-1 run (30 epochs) with the test
accuracy after every epoch.

The correctness gate compares every backend with the NumPy floor after the timed epoch(s):
the final weights (max |W - W_numpy| relative to max |W_numpy|) and the test accuracy. In
float64 the backends run the same arithmetic up to summation order, so the weights agree to
~1e-12; in float32 rounding differences grow during training, so only closeness is asked for.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from . import timing
from .backends import Backend, create
from .data import Dataset, Params, accuracy, init_params, shuffles

REFERENCE = "numpy"

# dtype -> (max relative weight difference, max accuracy difference) vs the NumPy floor
GATE_TOLERANCE = {
    "float64": (1e-8, 0.001),
    "float32": (3e-2, 0.005),
}
# the full run's accuracy curves may differ by this much per epoch (see ``run_full``)
FULL_CURVE_TOLERANCE = 0.01


@dataclass(frozen=True)
class Case:
    """One cell of the grid: layer sizes, mini-batch size m and float dtype."""

    sizes: tuple[int, ...]
    batch: int
    dtype: str

    @property
    def name(self) -> str:
        arch = "-".join(map(str, self.sizes))
        return f"{arch}/mb{self.batch}/{self.dtype}"


GRID = [
    Case(sizes, batch, dtype)
    for sizes, batch, dtype in itertools.product(
        [(784, 30, 10), (784, 100, 10)], [10, 128], ["float64", "float32"]
    )
] + [Case((784, 1024, 1024, 10), 256, "float32")]  # BLAS-bound (issue #14)


@dataclass
class BackendResult:
    """One backend in one case: its epoch times and how it compares with the floor."""

    backend: str
    times: list[float] = field(default_factory=list)  # wall seconds per epoch, one per repeat
    cpu_times: list[float] = field(default_factory=list)  # CPU seconds per epoch
    median: float = float("nan")
    cpu_median: float = float("nan")
    spread: float = float("nan")
    ratio: float = float("nan")  # median / the NumPy floor's median, same process
    cpu_ratio: float = float("nan")  # the same on CPU time
    accuracy: float = float("nan")
    accuracy_diff: float = float("nan")  # |accuracy - the floor's accuracy|
    weight_diff: float = float("nan")
    gate: str = "ok"  # "ok", "FAIL: why" or "skipped: why"


def shuffled(
    x: np.ndarray, y: np.ndarray, orders: Sequence[np.ndarray]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The training set in each epoch's order, gathered once (the copy is not timed)."""
    return [(x[order], y[order]) for order in orders]


def train_epochs(
    backend: Backend,
    epochs: Sequence[tuple[np.ndarray, np.ndarray]],
    batch: int,
    eta: float,
) -> None:
    """Nielsen's SGD loop over pre-shuffled epochs: mini-batches of ``batch`` rows, each one step
    with lr = eta / len(mini-batch).

    NOTE: the shuffle itself (gathering 10,000-50,000 rows) is done beforehand and not timed: it
    is the same for every backend and would only dilute the ratios.
    """
    with np.errstate(over="ignore"):
        for xs, ys in epochs:
            for k in range(0, len(xs), batch):
                xb, yb = xs[k : k + batch], ys[k : k + batch]
                backend.step(xb, yb, eta / len(xb))


def weight_difference(params: Params, reference: Params) -> float:
    """max |W - W_ref| over all weights and biases, relative to max |W_ref|."""
    diff = max(
        float(np.max(np.abs(p - r)))
        for pr, rr in zip(params, reference, strict=True)
        for p, r in zip(pr, rr, strict=True)
    )
    scale = max(float(np.max(np.abs(r))) for rr in reference for r in rr)
    return diff / max(scale, 1e-300)


def gate(result: BackendResult, dtype: str) -> str:
    weight_tol, acc_tol = GATE_TOLERANCE[dtype]
    problems = []
    if not result.weight_diff <= weight_tol:
        problems.append(f"weights differ by {result.weight_diff:.1e} > {weight_tol:.0e}")
    if not result.accuracy_diff <= acc_tol:
        problems.append(f"accuracy differs by {result.accuracy_diff:.4f} > {acc_tol}")
    return "FAIL: " + "; ".join(problems) if problems else "ok"


def _with_reference(backends: Sequence[str]) -> list[str]:
    return [REFERENCE] + [b for b in backends if b != REFERENCE]


def run_case(
    case: Case,
    data: Dataset,
    backends: Sequence[str],
    repeats: int,
    epochs: int = 1,
    eta: float = 3.0,
    seed: int = 0,
    warmup_steps: int = 20,
) -> list[BackendResult]:
    """Time ``epochs`` epochs per backend, interleaved over ``repeats``; then gate each one.

    Every repeat starts from the same initial weights and uses the same shuffles, so each repeat
    does identical arithmetic and the weights after the last one are what the gate checks.
    """
    x, y = data.x_train, data.y_train
    params0 = init_params(list(case.sizes), seed)
    epoch_data = shuffled(x, y, shuffles(len(x), epochs, seed))
    results = {name: BackendResult(name) for name in _with_reference(backends)}
    runners: dict[str, Backend] = {}
    warmup = [(x[: warmup_steps * case.batch], y[: warmup_steps * case.batch])]
    for name, result in results.items():
        reason = create(name).unavailable()
        if reason:
            result.gate = f"skipped: {reason}"
            continue
        runner = runners[name] = create(name)
        runner.setup(params0, case.dtype)  # warm-up: first-call costs stay out of the timings
        train_epochs(runner, warmup, case.batch, eta)

    def timed(runner: Backend) -> Callable[[], timing.Sample]:
        def run() -> timing.Sample:
            runner.setup(params0, case.dtype)
            return timing.measure(lambda: train_epochs(runner, epoch_data, case.batch, eta))

        return run

    samples = timing.interleaved({n: timed(r) for n, r in runners.items()}, repeats)
    reference = runners[REFERENCE].weights()
    ref_accuracy = accuracy(reference, data.x_test, data.labels_test)
    for name in runners:
        result = results[name]
        result.times = [s.wall / epochs for s in samples[name]]
        result.cpu_times = [s.cpu / epochs for s in samples[name]]
        result.median = timing.median(result.times)
        result.cpu_median = timing.median(result.cpu_times)
        result.spread = timing.spread(result.times)
    for name, runner in runners.items():
        result = results[name]
        result.ratio = result.median / results[REFERENCE].median
        result.cpu_ratio = result.cpu_median / results[REFERENCE].cpu_median
        weights = runner.weights()
        result.accuracy = accuracy(weights, data.x_test, data.labels_test)
        result.accuracy_diff = abs(result.accuracy - ref_accuracy)
        result.weight_diff = weight_difference(weights, reference)
        result.gate = gate(result, case.dtype)
    return list(results.values())


def run_full(
    data: Dataset,
    backends: Sequence[str],
    epochs: int = 30,
    batch: int = 10,
    eta: float = 3.0,
    sizes: tuple[int, ...] = (784, 30, 10),
    dtype: str = "float64",
    seed: int = 0,
) -> dict:
    """Nielsen chapter 1: ``epochs`` epochs, test accuracy after each, epochs interleaved.

    Returns, per backend and epoch, the training seconds (wall and CPU; evaluation not timed),
    the test accuracy and the weight difference from the NumPy floor, plus a gate.

    NOTE: SGD with eta = 3 is chaotic: last-bit differences (a tanh-form sigmoid, another
    summation order) grow about a millionfold over the first 50,000 images (measured: 3e-14
    relative after 10,000 images, 3e-8 after 50,000, 0.1-0.4 after a few epochs), so two correct
    implementations soon follow different, equally good trajectories. Weight agreement is the
    grid's gate (10,000 images); here the gate asks for the same first-epoch accuracy (within the
    float64 accuracy tolerance) and every later epoch within ``FULL_CURVE_TOLERANCE``.
    """
    data = data.astype(dtype)
    params0 = init_params(list(sizes), seed)
    orders = shuffles(len(data.x_train), epochs, seed)
    runners = {}
    skipped = {}
    for name in _with_reference(backends):
        reason = create(name).unavailable()
        if reason:
            skipped[name] = reason
            continue
        runners[name] = create(name)
        runners[name].setup(params0, dtype)
    keys = ("seconds", "cpu_seconds", "accuracy", "weight_diff")
    curves: dict[str, dict[str, list[float]]] = {n: {k: [] for k in keys} for n in runners}
    for order in orders:
        epoch_data = shuffled(data.x_train, data.y_train, [order])
        for name, runner in runners.items():
            sample = timing.measure(lambda r=runner, e=epoch_data: train_epochs(r, e, batch, eta))
            curves[name]["seconds"].append(sample.wall)
            curves[name]["cpu_seconds"].append(sample.cpu)
        reference = runners[REFERENCE].weights()
        for name, runner in runners.items():
            weights = runner.weights()
            curves[name]["accuracy"].append(accuracy(weights, data.x_test, data.labels_test))
            curves[name]["weight_diff"].append(weight_difference(weights, reference))
    _, acc_tol = GATE_TOLERANCE[dtype]
    summary = {}
    for name, curve in curves.items():
        diffs = [
            abs(a - r)
            for a, r in zip(curve["accuracy"], curves[REFERENCE]["accuracy"], strict=True)
        ]
        worst = max(diffs)
        problems = []
        if not diffs[0] <= acc_tol:
            problems.append(f"epoch-1 accuracy differs by {diffs[0]:.4f} > {acc_tol}")
        if not worst <= FULL_CURVE_TOLERANCE:
            problems.append(f"accuracy curve differs by up to {worst:.4f}")
        summary[name] = {
            **curve,
            "total_seconds": sum(curve["seconds"]),
            "total_cpu_seconds": sum(curve["cpu_seconds"]),
            "max_accuracy_diff": worst,
            "gate": "FAIL: " + "; ".join(problems) if problems else "ok",
        }
    return {
        "case": asdict(Case(sizes, batch, dtype)) | {"epochs": epochs, "eta": eta},
        "n_train": len(data.x_train),
        "backends": summary,
        "skipped": skipped,
    }
