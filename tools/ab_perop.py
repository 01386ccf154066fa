"""Per-op overhead of two checkouts, interleaved: ``benchmarks.micro.per_op`` in alternating
subprocesses, one per checkout per round, so both see the same machine load.

    python tools/ab_perop.py BEFORE_DIR AFTER_DIR [--rounds 9] [--calls 2000]

Each directory must hold ``tinygrad_nn`` and ``benchmarks``. Prints, per measurement, the median
microseconds of each side over the rounds, the median of the per-round ratios after/before, and
the range of those ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

PROBE = """
import json
from benchmarks.micro import per_op
r = per_op(["tinygrad_nn"], calls={calls}, repeats=1)["frameworks"]["tinygrad_nn"]["cpu"]
out = {{"backward()": r["backward_fixed_us"]}}
for name, v in r["ops"].items():
    out[name + " fwd+bwd"] = v["fwd_bwd_us"]
    out[name + " fwd"] = v["fwd_us"]
print(json.dumps(out))
"""


def run(directory: str, calls: int) -> dict[str, float]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONPATH=directory)
    out = subprocess.run([sys.executable, "-c", PROBE.format(calls=calls)], cwd=directory,
                         env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    samples: dict[str, list[tuple[float, float]]] = {}
    for i in range(args.rounds):
        first, second = (args.before, args.after) if i % 2 == 0 else (args.after, args.before)
        results = {first: run(first, args.calls), second: run(second, args.calls)}
        for key in results[args.before]:
            samples.setdefault(key, []).append((results[args.before][key],
                                                results[args.after][key]))
    print(f"per-op overhead, CPU us, medians of {args.rounds} interleaved rounds "
          f"({args.calls} calls each)")
    print(f"{'measurement':24s} {'before':>8s} {'after':>8s} {'after/before':>12s}  ratio range")
    for key, pairs in samples.items():
        b = statistics.median(p[0] for p in pairs)
        a = statistics.median(p[1] for p in pairs)
        ratios = [p[1] / p[0] for p in pairs if p[0] > 0]
        r = statistics.median(ratios)
        print(f"{key:24s} {b:8.2f} {a:8.2f} {r:12.3f}  [{min(ratios):.3f}, {max(ratios):.3f}]")


if __name__ == "__main__":
    main()
