"""Issue #14's targets from a saved run (``python -m benchmarks ... --json run.json``).

    python -m benchmarks.issue14 run.json

Every ratio pairs two backends' epochs from the same interleaved repeat (A B C A B C ...), so a
load spike hits both sides of a ratio; each line shows the median of those per-repeat ratios and
their range, on wall time and on process CPU time (CPU time does not count waiting for a core).
"""

from __future__ import annotations

import json
import statistics
import sys
from typing import Any


def _paired(case: dict[str, Any], a: str, b: str, key: str) -> tuple[float, float, float] | None:
    results = {r["backend"]: r for r in case["results"]}
    if a not in results or b not in results or not results[a][key] or not results[b][key]:
        return None
    ratios = [x / y for x, y in zip(results[a][key], results[b][key])]
    return statistics.median(ratios), min(ratios), max(ratios)


def _fmt(r: tuple[float, float, float] | None) -> str:
    return "n/a" if r is None else f"{r[0]:.2f}x [{r[1]:.2f}-{r[2]:.2f}]"


ROWS = [  # (case, backend, versus, target, "<=" or ">=")
    ("784-30-10/mb10/float64", "api", "numpy", 1.3, "<="),
    ("784-30-10/mb10/float64", "api-compiled", "numpy", 0.95, "<="),
    ("784-100-10/mb128/float64", "api-compiled", "numpy", 1.0, "<="),
    ("784-100-10/mb128/float64", "api", "numpy", 1.05, "<="),
    ("784-30-10/mb10/float32", "torch", "api-compiled", 5.0, ">="),
]


def report(runs: list[dict[str, Any]]) -> str:
    lines = []
    for run in runs:
        env = run.get("env", {})
        lines.append(f"threads={env.get('threads')}  "
                     + "  ".join(f"{k}={v}" for k, v in env.items() if k != "threads"))
        cases = {c["case"]: c for c in run.get("cases", [])}
        lines.append("case | backend / versus | wall: median [range] | cpu: median [range] | "
                     "target")
        for name, a, b, target, sense in ROWS:
            if name not in cases:
                continue
            wall = _paired(cases[name], a, b, "times")
            cpu = _paired(cases[name], a, b, "cpu_times")
            met = wall is not None and (wall[0] <= target if sense == "<=" else wall[0] >= target)
            lines.append(f"{name} | {a} / {b} | {_fmt(wall)} | {_fmt(cpu)} | {sense} {target}x "
                         f"{'met' if met else 'NOT met'} (wall median)")
        for name, case in cases.items():
            for backend in ("api", "api-compiled", "tinygrad", "torch"):
                wall = _paired(case, backend, "numpy", "times")
                cpu = _paired(case, backend, "numpy", "cpu_times")
                if wall is not None:
                    lines.append(f"  {name} {backend} / numpy: wall {_fmt(wall)}, cpu {_fmt(cpu)}")
        perop = run.get("perop")
        if perop:
            lines.append(f"per-op fwd+bwd (us): {json.dumps(perop.get('ops', perop))[:600]}")
    return "\n".join(lines)


if __name__ == "__main__":
    data = json.load(open(sys.argv[1]))
    print(report(data if isinstance(data, list) else data.get("runs", [data])))
