"""Shared test settings: hypothesis profile, paths to the real data, optional PyTorch."""

from __future__ import annotations

import os

# One BLAS/OpenMP thread per test process, set before NumPy or torch is imported: the suite runs
# in parallel workers (pytest -n 2), and threaded BLAS on top of that oversubscribes the cores
# (seen here: a (100, 784) @ (784, 100) product up to 100x slower). Users can still override it.
for _variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402  (after the thread settings above)
from hypothesis import HealthCheck, settings  # noqa: E402

# Deadlines make property tests flaky on a loaded 2-core CI machine; the example count is the
# knob that bounds their run time.
settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO_ROOT = Path(__file__).resolve().parents[1]


def mnist_dir() -> Path | None:
    """The real MNIST directory: $TINYGRAD_NN_MNIST, else ../shared/data/mnist, else None."""
    candidates = [os.environ.get("TINYGRAD_NN_MNIST"), REPO_ROOT.parent / "shared/data/mnist"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "train-images-idx3-ubyte.gz").exists():
            return Path(candidate)
    return None


@pytest.fixture
def mnist_path() -> Path:
    path = mnist_dir()
    if path is None:
        pytest.skip("real MNIST not found (set TINYGRAD_NN_MNIST or place ../shared/data/mnist)")
    return path
