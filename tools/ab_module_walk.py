"""Module walks (parameters, named_modules, state_dict, zero_grad) of two checkouts, interleaved
in alternating subprocesses, so both see the same machine load.

    python tools/ab_module_walk.py BEFORE_DIR AFTER_DIR [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

PROBE = """
import json, timeit
from tinygrad_nn import nn
models = {"mlp": nn.MLP([784, 30, 10]),
          "deep_bn": nn.MLP([64, 64, 64, 64, 64, 10], batchnorm=True, dropout=0.1)}
calls = {"parameters": lambda m: list(m.parameters()),
         "named_modules": lambda m: list(m.named_modules()),
         "state_dict": lambda m: m.state_dict(), "zero_grad": lambda m: m.zero_grad()}
out = {}
for name, model in models.items():
    for what, call in calls.items():
        best = min(timeit.repeat(lambda: call(model), number=1000, repeat=5))
        out[name + " " + what] = best / 1000 * 1e6
print(json.dumps(out))
"""


def run(directory: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=directory, OPENBLAS_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=directory, env=env,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    pairs: dict[str, list[tuple[float, float]]] = {}
    for i in range(args.rounds):
        order = (args.before, args.after) if i % 2 == 0 else (args.after, args.before)
        results = {d: run(d) for d in order}
        for key in results[args.before]:
            pairs.setdefault(key, []).append((results[args.before][key],
                                              results[args.after][key]))
    print(f"module walks, us per call (best of 5), medians of {args.rounds} interleaved rounds")
    print(f"{'measurement':24s} {'before':>8s} {'after':>8s} {'after/before':>12s}  range")
    for key, values in pairs.items():
        before = statistics.median(v[0] for v in values)
        after = statistics.median(v[1] for v in values)
        ratios = [v[1] / v[0] for v in values]
        print(f"{key:24s} {before:8.2f} {after:8.2f} {statistics.median(ratios):12.3f}  "
              f"[{min(ratios):.3f}, {max(ratios):.3f}]")


if __name__ == "__main__":
    main()
