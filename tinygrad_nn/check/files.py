"""Check the layer pairs in a learner's file: the library side of ``tinygrad-nn check --layers``.

    tinygrad-nn check --layers my_layers.py --pair affine --shapes 4x5,5x3,3

finds ``affine_forward`` and ``affine_backward`` in ``my_layers.py``, draws seeded standard
normal inputs of those shapes, runs ``check.layer`` and prints one line per pair. A name with no
pair but a function of its own (``softmax_loss``) is a CS231n loss, ``loss, dx = f(x, y)``,
checked with ``check.loss`` on scores of the one shape given and random class labels.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .layer import layer, loss
from .report import Report


def load_module(path: str | Path) -> ModuleType:
    """Import a learner's Python file by path (it may import NumPy, never tinygrad_nn)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"--layers: no such file: {path}")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"--layers: {path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pairs_in(module: ModuleType) -> list[str]:
    """The names ``p`` with both ``p_forward`` and ``p_backward`` defined in ``module``."""
    return sorted(name[:-len("_forward")] for name in vars(module)
                  if name.endswith("_forward") and callable(getattr(module, name))
                  and callable(getattr(module, name[:-len("_forward")] + "_backward", None)))


def parse_shapes(text: str) -> list[tuple[int, ...]]:
    """``"4x5,5x3,3"`` -> [(4, 5), (5, 3), (3,)]."""
    shapes = []
    for part in text.split(","):
        try:
            shape = tuple(int(s) for s in part.strip().split("x"))
        except ValueError:
            shape = ()
        if not shape or any(s <= 0 for s in shape):
            raise ValueError(f"--shapes: {part.strip()!r} in {text!r} is not a shape; write "
                             "each input's shape as sizes joined by x, inputs separated by "
                             "commas: 4x5,5x3,3")
        shapes.append(shape)
    return shapes


def check_pair(module: ModuleType, pair: str, shapes: list[tuple[int, ...]], *, seed: int = 0,
               kwargs: dict[str, Any] | None = None) -> Report:
    """``check.layer(pair_forward, pair_backward, *inputs, **kwargs)`` on seeded inputs, or
    ``check.loss(pair, scores, labels)`` for a loss function."""
    forward = getattr(module, f"{pair}_forward", None)
    backward = getattr(module, f"{pair}_backward", None)
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal(shape) for shape in shapes]
    if callable(forward) and callable(backward):
        return layer(forward, backward, *inputs, seed=seed, **(kwargs or {}))
    f = getattr(module, pair, None)
    if callable(f) and len(shapes) == 1 and len(shapes[0]) == 2:
        labels = rng.integers(0, shapes[0][1], shapes[0][0])
        return loss(f, inputs[0], labels, seed=seed, **(kwargs or {}))
    found = ", ".join(pairs_in(module)) or "none"
    raise LookupError(f"--pair {pair}: {module.__name__} has no {pair}_forward and "
                      f"{pair}_backward (pairs found: {found}), nor a loss function {pair}(x, y) "
                      "with one 2-D shape")


def one_line(pair: str, report: Report) -> str:
    """``affine: ok (dx 1.2e-16, dw 0.0e+00, db 0.0e+00)`` or ``affine: WRONG dw: <why>``."""
    numeric_only = any("central differences only" in n for n in report.notes)
    tag = " [central differences only: autodiff cannot run the forward]" if numeric_only else ""
    if report.ok:
        errors = ", ".join(
            f"{r.name} {r.vs_autodiff if r.autodiff is not None else r.vs_numeric:.1e}"
            for r in report.rows)
        return f"{pair}: ok ({errors}){tag}"
    causes = "; ".join(r.diagnosis.message if r.diagnosis else f"{r.name} is wrong"
                       for r in report.failures)
    return f"{pair}: WRONG {causes}{tag}"


def check_pairs(module: ModuleType, jobs: Sequence[tuple[str, list[tuple[int, ...]],
                                                        dict[str, Any]]],
                seed: int = 0) -> tuple[list[str], bool]:
    """One line per ``(pair, shapes, kwargs)`` job and whether all agree; an error in the
    learner's code is that pair's line (``affine: ERROR ...``), the others still run."""
    lines, ok = [], True
    for pair, shapes, kwargs in jobs:
        try:
            report = check_pair(module, pair, shapes, seed=seed, kwargs=kwargs)
        except NotImplementedError as e:  # an exercise's blank
            lines.append(f"{pair}: not written yet ({str(e).splitlines()[0]})")
            ok = False
            continue
        except Exception as e:  # noqa: BLE001  (the learner's code: one line, then the next)
            lines.append(f"{pair}: ERROR {type(e).__name__}: {str(e).splitlines()[0]}")
            ok = False
            continue
        lines.append(one_line(pair, report))
        ok = ok and report.ok
    return lines, ok
