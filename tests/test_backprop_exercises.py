"""The exercises of examples/backprop_exercises: the blank versions say clearly what is left to
write, the solutions pass, and a wrong answer gets its diagnosis."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np

from tinygrad_nn.cli import main as cli

FOLDER = Path(__file__).resolve().parents[1] / "examples" / "backprop_exercises"


def load(relative: str):
    path = FOLDER / relative
    name = f"exercise_{path.stem}_{path.parent.name}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as an import does: the exercise finds itself there
    spec.loader.exec_module(module)
    return module


def test_cs231n_blank_and_solved(capsys):
    exercise = load("cs231n_layers.py")
    assert exercise.main() == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(exercise.JOBS) == 5
    assert all(": not written yet (" in line and "(your turn)" in line for line in lines)
    solution = load("solutions/cs231n_layers.py")
    assert exercise.main(solution) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [job[0] for job in exercise.JOBS]
    assert all(": ok (" in line for line in lines), lines


def test_cs231n_solution_through_the_command_line(capsys):
    path = str(FOLDER / "solutions" / "cs231n_layers.py")
    assert cli(["check", "--layers", path, "--pair", "affine", "--shapes", "4x5,5x3,3"]) == 0
    assert capsys.readouterr().out.startswith("affine: ok (dx ")


def test_nielsen_blank_and_solved(capsys):
    exercise = load("nielsen_backprop.py")
    assert exercise.main() == 1
    assert capsys.readouterr().out.startswith("backprop: not written yet (Network.backprop")
    solution = load("solutions/nielsen_backprop.py")
    assert exercise.main(solution.Network) == 0
    out = capsys.readouterr().out
    assert "sizes [784, 30, 10]" in out and "OK: all 4 gradients agree" in out


def test_makemore_blank_solved_and_wrong(capsys):
    exercise = load("makemore_mlp.py")
    assert exercise.main() == 1
    assert "not written yet" in capsys.readouterr().out
    solution = load("solutions/makemore_mlp.py")
    assert exercise.main(solution.manual_gradients) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(exercise.NAMES)
    assert all("| approximate: True" in line for line in lines)

    def wrong(v, Xb, Yb):
        g = solution.manual_gradients(v, Xb, Yb)
        g["b2"] = g["logits"]  # not summed over the batch
        g["hpre"] = g["h"]  # tanh's derivative forgotten
        del g["C"]
        return g

    assert exercise.main(wrong) == 1
    out = capsys.readouterr().out
    assert "b2              | shape: yours (32, 27) vs (27,) | b2 has the broadcast shape" in out
    assert "hpre            | exact: False | approximate: False" in out
    assert "hpre is missing an activation derivative: the true gradient is yours times 1 - " \
        "tanh(hpre)²" in out
    assert out.splitlines()[-1] == "not derived yet: C"


def test_exercises_run_as_scripts():
    result = subprocess.run([sys.executable, str(FOLDER / "solutions" / "cs231n_layers.py")],
                            capture_output=True, text=True, cwd=FOLDER.parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": ok (") == 5
    assert np.all([line for line in result.stdout.splitlines()])
