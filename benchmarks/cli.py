"""``python -m benchmarks``: choose what to run, start one worker per thread setting, report.

The grid cases and the extras are chosen with ``--cases``, a comma-separated list of
shell-style patterns over the case names (``784-30-10/mb10/float64``, ``*/float32``, ...) and
the words ``grid`` (every case), ``perop``, ``chain``, ``memory``, ``micro`` (those three) and
``full`` (same as ``--full``). The extras run in the worker of the first thread setting.

Exit status: 1 when a backend fails the correctness gate, else 0 (targets missed do not fail
the run: they are for the report).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import report
from .timing import thread_env
from .training import GRID

EXTRAS = ("perop", "chain", "memory", "full")
ROOT = Path(__file__).resolve().parent.parent

DEFAULTS = {
    "cases": "grid,micro",
    "repeats": 5,
    "threads": "1,2",
    "train_size": 10_000,
    "test_size": 10_000,
    "perop_calls": 2000,
    "perop_repeats": 7,
    "chain_length": 100_000,
    "growth_steps": 10_000,
    "full_epochs": 30,
    "full_train_size": 50_000,
}
QUICK = {
    "cases": "784-30-10/mb10/float64,784-30-10/mb128/float32,micro",
    "repeats": 1,
    "threads": "1",
    "train_size": 1000,
    "test_size": 1000,
    "perop_calls": 200,
    "perop_repeats": 1,
    "chain_length": 10_000,
    "growth_steps": 300,
    "full_epochs": 2,
    "full_train_size": 2000,
}


HELP = """\
Train Nielsen's sigmoid MLP (quadratic cost, plain SGD, eta 3.0) in tinygrad_nn (raw engine, and
nn.Sequential + optim.SGD), hand-written vectorized NumPy (the floor), PyTorch CPU and the
per-example textbook loop, with the same data, initial weights and shuffles. Reports seconds per
epoch (medians of interleaved repeats), ratios vs NumPy from the same process, the correctness
gate, micro-benchmarks, and the targets."""

EXAMPLES = """\
examples:
  python -m benchmarks --quick                            smoke run (seconds)
  python -m benchmarks                                    the grid + micro-benchmarks (minutes)
  python -m benchmarks --cases '784-30-10/*,perop' --threads 1
  python -m benchmarks --full --cases full                Nielsen chapter 1, 30 epochs"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=HELP,
        epilog=EXAMPLES,
    )
    p.add_argument("--quick", action="store_true", help="smoke run: tiny data, 1 repeat, 1 thread")
    p.add_argument(
        "--cases",
        help=f"comma-separated patterns/words (default {DEFAULTS['cases']!r}); "
        f"grid cases: {', '.join(c.name for c in GRID)}; extras: {', '.join(EXTRAS)}, micro",
    )
    p.add_argument(
        "--backends",
        help="comma-separated backends (default: all registered; "
        "numpy is always added as the floor)",
    )
    p.add_argument("--repeats", type=int, help="interleaved repeats per case (default 5)")
    p.add_argument("--threads", help="comma-separated BLAS/torch thread counts (default '1,2')")
    p.add_argument("--epochs", type=int, default=1, help="timed epochs per repeat (default 1)")
    p.add_argument("--train-size", type=int, help="training images per grid epoch (default 10000)")
    p.add_argument("--test-size", type=int, help="test images for the accuracy (default 10000)")
    p.add_argument(
        "--full",
        action="store_true",
        help="also run Nielsen's chapter 1 (50,000 images, 30 epochs, m=10, eta=3.0)",
    )
    p.add_argument("--full-epochs", type=int, help="epochs of the full run (default 30)")
    p.add_argument("--full-train-size", type=int, help="images in the full run (default 50000)")
    p.add_argument("--perop-calls", type=int, help="calls per per-op timing loop (default 2000)")
    p.add_argument("--perop-repeats", type=int, help="repeats of the per-op loops (default 7)")
    p.add_argument("--chain-length", type=int, help="ops in the backward chain (default 100000)")
    p.add_argument(
        "--growth-steps", type=int, help="steps of the memory-growth run (default 10000)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed for weights and shuffles (default 0)")
    p.add_argument(
        "--synthetic", action="store_true", help="use synthetic data even if MNIST exists"
    )
    p.add_argument("--json", metavar="PATH", help="also write all results as JSON")
    p.add_argument("--report", metavar="PATH", help="only print the report of a saved --json file")
    args = p.parse_args(argv)
    base = QUICK if args.quick else DEFAULTS
    for key, value in base.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def select(spec: str, full: bool) -> tuple[list[str], list[str]]:
    """Grid case names and extras named by ``spec`` (patterns and words, comma-separated)."""
    cases: list[str] = []
    extras: list[str] = ["full"] if full else []
    for token in (t.strip() for t in spec.split(",")):
        if not token:
            continue
        if token == "micro":
            extras += ["perop", "chain", "memory"]
        elif token in EXTRAS:
            extras.append(token)
        else:
            pattern = "*" if token == "grid" else token
            matched = [c.name for c in GRID if fnmatch.fnmatch(c.name, pattern)]
            if not matched:
                raise SystemExit(
                    f"--cases: {token!r} matches no case; cases are "
                    f"{', '.join(c.name for c in GRID)}; extras {', '.join(EXTRAS)}"
                )
            cases += [m for m in matched if m not in cases]
    return cases, list(dict.fromkeys(extras))


def run_worker(config: dict[str, Any]) -> dict[str, Any]:
    """Run one thread setting in a fresh interpreter with the thread variables set."""
    with tempfile.TemporaryDirectory() as tmp:
        config_path, out_path = Path(tmp) / "config.json", Path(tmp) / "out.json"
        config_path.write_text(json.dumps(config))
        command = [sys.executable, "-m", "benchmarks.worker", str(config_path), str(out_path)]
        done = subprocess.run(command, env=thread_env(config["threads"]), cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"benchmark worker (threads={config['threads']}) failed")
        return json.loads(out_path.read_text())


def main(argv: list[str] | None = None) -> int:
    # convolution benchmarks (issue #17): ``python -m benchmarks conv [options]``, in conv.py
    words = sys.argv[1:] if argv is None else list(argv)
    if words[:1] == ["conv"]:
        from . import conv

        return conv.main(words[1:])
    args = parse_args(argv)
    if args.report:
        runs = json.loads(Path(args.report).read_text())
        print(report.render(runs))
        return 1 if report.gate_failures(runs) else 0
    cases, extras = select(args.cases, args.full)
    threads = [int(t) for t in str(args.threads).split(",")]
    backends = args.backends.split(",") if args.backends else None
    runs = []
    for i, t in enumerate(threads):
        config = {
            "threads": t,
            "cases": cases,
            "extras": extras if i == 0 else [],
            "backends": backends,
            "repeats": args.repeats,
            "epochs": args.epochs,
            "n_train": args.train_size,
            "n_test": args.test_size,
            "seed": args.seed,
            "synthetic": args.synthetic,
            "perop_calls": args.perop_calls,
            "perop_repeats": args.perop_repeats,
            "chain_length": args.chain_length,
            "growth_steps": args.growth_steps,
            "full_epochs": args.full_epochs,
            "full_n_train": args.full_train_size,
        }
        runs.append(run_worker(config))
    print(report.render(runs))
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=1))
    return 1 if report.gate_failures(runs) else 0
