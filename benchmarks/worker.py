"""One benchmark process for one thread setting: ``python -m benchmarks.worker CONFIG OUT``.

The command line (``benchmarks.cli``) starts one of these per thread count, with the BLAS thread
variables already in its environment (they only take effect if set before NumPy is imported, which
is why this is a separate process). It reads the JSON config, runs what it asks for, and writes a
JSON result; progress goes to stderr.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import sys
from dataclasses import asdict
from typing import Any


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def environment(threads: int) -> dict[str, Any]:
    """The machine and library versions, for the report header."""
    import numpy as np

    from . import timing

    info: dict[str, Any] = {
        "threads": threads,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": timing.blas_info(),
        # NOTE: on a shared machine other processes steal cores; the 1-minute load average at the
        # start and end of the run says how quiet it was (interleaving protects the ratios).
        "loadavg_start": os.getloadavg()[0],
        "engine": engine_fingerprint(),
    }
    try:
        import torch

        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    except ImportError:
        info["torch"] = None
    return info


def engine_fingerprint() -> str:
    """Which engine was measured: a short hash of tinygrad_nn's sources (it changes between
    commits and with uncommitted edits, which a commit id alone would not show)."""
    import hashlib
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "tinygrad_nn"
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.read_bytes())
    return f"tinygrad_nn sources sha256 {digest.hexdigest()[:12]}"


def run(config: dict[str, Any]) -> dict[str, Any]:
    """Run the grid cases and extras that ``config`` names; return JSON-able results."""
    from . import micro, timing, training
    from .backends import BACKENDS
    from .data import load

    threads = config["threads"]
    timing.set_torch_threads(threads)
    backends = config.get("backends") or list(BACKENDS)
    synthetic_only = config.get("synthetic", False)
    data = load(config["n_train"], config["n_test"], synthetic_only)
    # NOTE: torch's import leaves ~10^5 objects for the cycle collector; freezing them keeps every
    # gc.collect() (before each timing, in the memory runs) and automatic collection cheap, so
    # what is timed is the backends' own garbage, not torch's import-time heap.
    gc.freeze()
    out: dict[str, Any] = {
        "env": environment(threads),
        "data": {"source": data.source, "n_train": len(data.x_train), "n_test": len(data.x_test)},
        "config": config,
        "cases": [],
    }
    by_dtype = {}
    for name in config["cases"]:
        case = next(c for c in training.GRID if c.name == name)
        if case.dtype not in by_dtype:
            by_dtype[case.dtype] = data.astype(case.dtype)
        log(f"[threads={threads}] {case.name}: {config['repeats']} interleaved repeats ...")
        results = training.run_case(
            case,
            by_dtype[case.dtype],
            backends,
            repeats=config["repeats"],
            epochs=config.get("epochs", 1),
            eta=config.get("eta", 3.0),
            seed=config.get("seed", 0),
        )
        out["cases"].append({"case": case.name, "results": [asdict(r) for r in results]})
    frameworks = [b for b in ("tinygrad", "torch") if b in backends and _available(b)]
    memory_backends = [b for b in ("numpy", "tinygrad") if _available(b)]
    extras = config.get("extras", [])
    if "perop" in extras and frameworks:
        log(f"[threads={threads}] per-op overhead ...")
        out["perop"] = micro.per_op(
            frameworks, calls=config["perop_calls"], repeats=config["perop_repeats"]
        )
    if "chain" in extras and frameworks:
        log(f"[threads={threads}] {config['chain_length']}-op chain ...")
        out["chain"] = micro.chain(frameworks, length=config["chain_length"])
    if "memory" in extras:
        log(f"[threads={threads}] memory per step and growth ...")
        out["memory"] = [
            micro.peak_step_memory(memory_backends, case, data)
            for case in (
                training.Case((784, 30, 10), 10, "float64"),
                training.Case((784, 100, 10), 128, "float64"),
            )
        ]
        out["growth"] = micro.memory_growth(
            memory_backends,
            training.Case((784, 30, 10), 10, "float64"),
            data,
            config["growth_steps"],
        )
    if "full" in extras:
        full_data = load(config["full_n_train"], config["n_test"], synthetic_only)
        log(f"[threads={threads}] full Nielsen run: {config['full_epochs']} epochs ...")
        # NOTE: the per-example loop is left out of the full run unless asked for by name: it
        # would take minutes per epoch on 50,000 images and adds nothing to the accuracy curve.
        full_backends = [b for b in backends if b != "loop" or config.get("backends")]
        out["full"] = training.run_full(
            full_data, full_backends, epochs=config["full_epochs"], seed=config.get("seed", 0)
        )
    out["env"]["loadavg_end"] = os.getloadavg()[0]
    return out


def _available(name: str) -> bool:
    from .backends import BACKENDS

    return name in BACKENDS and BACKENDS[name].unavailable() is None


def main(argv: list[str] | None = None) -> None:
    config_path, out_path = argv if argv is not None else sys.argv[1:]
    with open(config_path) as f:
        config = json.load(f)
    result = run(config)
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
