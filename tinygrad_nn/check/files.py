"""Check the layer pairs in a learner's file: the library side of ``tinygrad-nn check --layers``.

    tinygrad-nn check --layers my_layers.py --pair affine --shapes 4x5,5x3,3

finds ``affine_forward`` and ``affine_backward`` in ``my_layers.py``, draws seeded standard
normal inputs of those shapes, runs ``check.layer`` and prints one line per pair.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .layer import layer
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
    """``check.layer(pair_forward, pair_backward, *inputs, **kwargs)`` on seeded inputs."""
    forward = getattr(module, f"{pair}_forward", None)
    backward = getattr(module, f"{pair}_backward", None)
    if not callable(forward) or not callable(backward):
        found = ", ".join(pairs_in(module)) or "none"
        raise LookupError(f"--pair {pair}: {module.__name__} has no {pair}_forward and "
                          f"{pair}_backward (pairs found: {found})")
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal(shape) for shape in shapes]
    return layer(forward, backward, *inputs, seed=seed, **(kwargs or {}))


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
