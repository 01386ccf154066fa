"""The report: results as Markdown tables (readable in a terminal, pasteable into docs), and the
targets of the "Fast by design" issue with PASS/FAIL.

Every ratio is between numbers measured in the same process, interleaved (see ``timing``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

Run = dict[str, Any]

# (the target's wording, its limit) -- in one place so the report and the docs agree
TARGETS = {
    "mb10": ("tinygrad / numpy, 784-30-10/mb10/float64", 1.3),
    "mb128": ("tinygrad / numpy, 784-100-10/mb128/float64", 1.1),
    "float32": ("torch / tinygrad, {case} (tinygrad faster by)", 1.3),
    "perop": ("per-op forward+backward, {op} (us)", 4.0),
    "backward": ("fixed cost of one backward() (us)", 10.0),
    "chain": ("backward through a {length:,}-op chain (s)", 1.0),
    "memory": ("peak memory per step, tinygrad / numpy, {case}", 1.5),
    "growth": ("memory growth over {steps:,} steps, tinygrad (KiB)", 64.0),
    "full": ("full Nielsen run, tinygrad training time (s)", 20.0),
}


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table with columns padded to line up in plain text too."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def _num(x: float | None, fmt: str, suffix: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return format(x, fmt) + suffix


def header(runs: Sequence[Run]) -> str:
    env, data, config = runs[0]["env"], runs[0]["data"], runs[0]["config"]
    loads = ", ".join(
        f"{r['env']['loadavg_start']:.1f}/{r['env']['loadavg_end']:.1f}" for r in runs
    )
    lines = [
        f"machine: {env['processor']}, os.cpu_count() = {env['cpu_count']}; "
        f"Python {env['python']}, NumPy {env['numpy']}, torch {env['torch'] or 'not installed'}",
        f"BLAS: {env['blas']}; {env.get('engine', 'engine version not recorded')}",
        f"load average (1 min) at start/end of each thread setting: {loads} "
        f"on {env['cpu_count']} cores",
        f"data: {data['source']}; grid epoch = the first {data['n_train']:,} training images "
        f"(a subset of the 50,000), accuracy on {data['n_test']:,} test images",
        f"timing: median seconds per epoch over {config['repeats']} interleaved repeats "
        "(backends in turn: A B C D A B C D ...); ratios within the same process; "
        "'cpu' = the same on process CPU time (immune to other processes stealing the cores); "
        f"thread settings: {', '.join(str(r['env']['threads']) for r in runs)}",
    ]
    return "\n".join("- " + line for line in lines)


def grid_section(run: Run) -> str:
    rows = []
    for case in run["cases"]:
        for i, r in enumerate(case["results"]):
            rows.append(
                [
                    case["case"] if i == 0 else "",
                    r["backend"],
                    _num(r["median"], ".4f"),
                    _num(r["spread"] * 100, ".0f", "%"),
                    _num(r["ratio"], ".2f", "x"),
                    _num(r["cpu_ratio"], ".2f", "x"),
                    _num(r["accuracy"], ".4f"),
                    _num(r["weight_diff"], ".1e"),
                    r["gate"],
                ]
            )
    headers = ["case", "backend", "s/epoch", "spread", "vs numpy", "cpu vs numpy", "test acc"]
    headers += ["max dW (rel)", "gate"]
    return f"### Training grid, {run['env']['threads']} thread(s)\n\n" + table(headers, rows)


def perop_section(perop: dict) -> str:
    fws = perop["frameworks"]
    rows = []
    for op in next(iter(fws.values()))["wall"]["ops"]:  # the ops the run measured
        row = [op]
        for fw in fws.values():
            wall, cpu = fw["wall"]["ops"][op], fw["cpu"]["ops"][op]
            row += [_num(wall["fwd_bwd_us"], ".2f"), _num(cpu["fwd_bwd_us"], ".2f")]
            row += [_num(wall["fwd_us"], ".2f")]
        rows.append(row)
    row = ["backward() fixed"]
    for fw in fws.values():
        row += [_num(fw["wall"]["backward_fixed_us"], ".2f")]
        row += [_num(fw["cpu"]["backward_fixed_us"], ".2f"), ""]
    rows.append(row)
    headers = [f"op ({perop['size']}x{perop['size']} float64)"]
    for name in fws:
        headers += [f"{name} fwd+bwd us", "(cpu)", f"{name} fwd us"]
    return (
        f"### Per-op overhead (medians of {perop['repeats']} x {perop['calls']} calls)\n\n"
        + table(headers, rows)
    )


def chain_section(chain: dict) -> str:
    rows = []
    for fw, c in chain["frameworks"].items():
        result = c["error"] or ("ok" if c.get("grad_correct") else "WRONG GRADIENT")
        rows.append(
            [
                fw,
                _num(c["forward_s"], ".3f"),
                _num(c["backward_s"], ".3f"),
                _num(c["backward_cpu_s"], ".3f"),
                result,
            ]
        )
    title = f"### Backward through a {chain['length']:,}-op chain (y = x * c * c * ...)\n\n"
    headers = ["framework", "build forward (s)", "backward (s)", "backward cpu (s)", "result"]
    return title + table(headers, rows)


def memory_section(memory: list[dict], growth: dict) -> str:
    rows = []
    for m in memory:
        b = m["backends"]
        numpy_peak = b["numpy"]["peak_bytes"]
        for name, v in b.items():
            kib, ratio = v["peak_bytes"] / 1024, v["peak_bytes"] / numpy_peak
            rows.append([m["case"], name, f"{kib:.1f}", f"{ratio:.2f}x"])
    grows = []
    for name, v in growth["backends"].items():
        samples = " ".join(f"{s / 1024:.0f}" for s in v["live_samples"])
        grows.append([name, f"{v['growth_bytes'] / 1024:.1f}", samples])
    return (
        "### Peak memory per training step (tracemalloc, above what was live before the step)\n\n"
        + table(["case", "backend", "peak KiB", "vs numpy"], rows)
        + f"\n\n### Memory growth over {growth['steps']:,} steps ({growth['case']}): live bytes "
        "after gc.collect(), end minus start; samples every 10% without collecting\n\n"
        + table(["backend", "growth KiB", "live samples KiB"], grows)
    )


def full_section(full: dict) -> str:
    b = full["backends"]
    names = list(b)
    rows = []
    for e in range(len(b[names[0]]["accuracy"])):
        row: list[Any] = [e + 1]
        for n in names:
            row += [f"{b[n]['accuracy'][e] * 100:.2f}", f"{b[n]['seconds'][e]:.2f}"]
            if n != "numpy":
                row += [f"{b[n]['weight_diff'][e]:.0e}"]
        rows.append(row)
    for label, key in (("total s", "total_seconds"), ("total cpu s", "total_cpu_seconds")):
        row = [label]
        for n in names:
            row += ["", f"{b[n][key]:.1f}"] + ([""] if n != "numpy" else [])
        rows.append(row)
    headers = ["epoch"]
    for n in names:
        headers += [f"{n} test %", f"{n} s"] + (["dW vs numpy"] if n != "numpy" else [])
    c = full["case"]
    title = (
        f"### Full Nielsen chapter-1 run: {full['n_train']:,} images, {c['epochs']} epochs, "
        f"m={c['batch']}, eta={c['eta']}, sizes {c['sizes']}, {c['dtype']}"
    )
    gates = "; ".join(f"{n}: {b[n]['gate']}" for n in names)
    return f"{title}\n\n{table(headers, rows)}\n\ngate: {gates}"


def _result(run: Run, case: str, backend: str) -> dict | None:
    for c in run["cases"]:
        if c["case"] == case:
            for r in c["results"]:
                if r["backend"] == backend and not r["gate"].startswith("skipped"):
                    return r
    return None


def targets(runs: Sequence[Run]) -> list[list[str]]:
    """[target, threads, measured (wall), measured (cpu), limit, PASS/FAIL] per measured target;
    PASS/FAIL is judged on the wall clock."""
    rows: list[list[str]] = []

    def add(
        text: str,
        threads: str,
        wall: float,
        cpu: float | None,
        limit: float,
        at_least: bool = False,
    ) -> None:
        ok = wall >= limit if at_least else wall <= limit
        sign = ">=" if at_least else "<="
        rows.append(
            [
                text,
                threads,
                f"{wall:.3g}",
                _num(cpu, ".3g"),
                f"{sign} {limit:g}",
                "PASS" if ok else "FAIL",
            ]
        )

    for run in runs:
        t = str(run["env"]["threads"])
        for key, case in (
            ("mb10", "784-30-10/mb10/float64"),
            ("mb128", "784-100-10/mb128/float64"),
        ):
            r = _result(run, case, "tinygrad")
            if r:
                add(TARGETS[key][0], t, r["ratio"], r["cpu_ratio"], TARGETS[key][1])
        for c in run["cases"]:
            tg, th = _result(run, c["case"], "tinygrad"), _result(run, c["case"], "torch")
            if c["case"].endswith("float32") and tg and th:
                text, limit = TARGETS["float32"]
                wall, cpu = th["median"] / tg["median"], th["cpu_median"] / tg["cpu_median"]
                add(text.format(case=c["case"]), t, wall, cpu, limit, at_least=True)
    extras = {
        k: run[k]
        for run in runs
        for k in ("perop", "chain", "memory", "growth", "full")
        if k in run
    }
    t0 = str(runs[0]["env"]["threads"])
    tg = extras.get("perop", {}).get("frameworks", {}).get("tinygrad")
    if tg:
        for op in tg["wall"]["ops"]:
            wall, cpu = tg["wall"]["ops"][op]["fwd_bwd_us"], tg["cpu"]["ops"][op]["fwd_bwd_us"]
            add(TARGETS["perop"][0].format(op=op), t0, wall, cpu, TARGETS["perop"][1])
        wall, cpu = tg["wall"]["backward_fixed_us"], tg["cpu"]["backward_fixed_us"]
        add(TARGETS["backward"][0], t0, wall, cpu, TARGETS["backward"][1])
    chain = extras.get("chain", {}).get("frameworks", {}).get("tinygrad")
    if chain:
        text = TARGETS["chain"][0].format(length=extras["chain"]["length"])
        if chain["error"] or not chain.get("grad_correct"):
            rows.append([text, t0, chain["error"] or "wrong gradient", "-", "<= 1", "FAIL"])
        else:
            add(text, t0, chain["backward_s"], chain["backward_cpu_s"], TARGETS["chain"][1])
    for m in extras.get("memory", []):
        b = m["backends"]
        if "tinygrad" in b:
            ratio = b["tinygrad"]["peak_bytes"] / b["numpy"]["peak_bytes"]
            add(TARGETS["memory"][0].format(case=m["case"]), t0, ratio, None, TARGETS["memory"][1])
    growth = extras.get("growth", {}).get("backends", {}).get("tinygrad")
    if growth:
        text = TARGETS["growth"][0].format(steps=extras["growth"]["steps"])
        add(text, t0, growth["growth_bytes"] / 1024, None, TARGETS["growth"][1])
    full = extras.get("full", {}).get("backends", {}).get("tinygrad")
    if full:
        text = TARGETS["full"][0]
        add(text, t0, full["total_seconds"], full["total_cpu_seconds"], TARGETS["full"][1])
    return rows


def gate_failures(runs: Sequence[Run]) -> list[str]:
    """Every backend that failed the correctness gate, as 'threads/case/backend: why'."""
    failures = []
    for run in runs:
        for c in run["cases"]:
            for r in c["results"]:
                if r["gate"].startswith("FAIL"):
                    failures.append(
                        f"{run['env']['threads']}t {c['case']} {r['backend']}: {r['gate']}"
                    )
        for name, b in run.get("full", {}).get("backends", {}).items():
            if b["gate"].startswith("FAIL"):
                failures.append(f"full run {name}: {b['gate']}")
    return failures


def render(runs: Sequence[Run]) -> str:
    parts = ["## tinygrad_nn benchmarks", header(runs)]
    parts += [grid_section(run) for run in runs if run["cases"]]
    for run in runs:
        if "perop" in run:
            parts.append(perop_section(run["perop"]))
        if "chain" in run:
            parts.append(chain_section(run["chain"]))
        if "memory" in run:
            parts.append(memory_section(run["memory"], run["growth"]))
        if "full" in run:
            parts.append(full_section(run["full"]))
    rows = targets(runs)
    if rows:
        headers = ["target", "threads", "measured", "(cpu)", "target", "status"]
        parts.append("### Targets (judged on wall time)\n\n" + table(headers, rows))
    failures = gate_failures(runs)
    parts.append(
        "correctness gate: "
        + (
            "PASS (every backend agrees with the NumPy floor)"
            if not failures
            else "FAIL\n  " + "\n  ".join(failures)
        )
    )
    return "\n\n".join(parts)
