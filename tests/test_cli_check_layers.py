"""``tinygrad-nn check --layers FILE --pair NAME --shapes ...``: one line per pair, exit 1 on any
disagreement, 2 on a bad command line; the logic is tinygrad_nn.check.files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygrad_nn.check import files
from tinygrad_nn.cli import main

LAYERS = str(Path(__file__).with_name("learner_layers.py"))

BROKEN = '''
import numpy as np

def affine_forward(x, w, b):
    return x.dot(w) + b, (x, w, b)

def affine_backward(dout, cache):
    x, w, b = cache
    return dout.dot(w.T), x.T.dot(dout), dout  # db not summed over the batch

def sigmoid_forward(x):
    out = 1 / (1 + np.exp(-x))
    return out, out

def sigmoid_backward(dout, cache):
    return dout  # the derivative forgotten
'''


def test_correct_pairs_one_line_each_and_exit_0(capsys):
    code = main(["check", "--layers", LAYERS, "--pair", "affine", "--shapes", "4x5,5x3,3",
                 "--pair", "relu", "--shapes", "3x4"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert len(lines) == 2
    assert lines[0].startswith("affine: ok (dx ") and lines[1].startswith("relu: ok (dx ")


def test_a_loss_function_by_name(capsys):
    code = main(["check", "--layers", LAYERS, "--pair", "softmax_loss", "--pair", "svm_loss",
                 "--shapes", "5x4"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and lines[0].startswith("softmax_loss: ok (dx ")
    assert lines[1].startswith("svm_loss: ok (dx ")


def test_kwargs_reach_the_forward(capsys):
    code = main(["check", "--layers", LAYERS, "--pair", "batchnorm", "--shapes", "6x4,4,4",
                 "--kwargs", '{"bn_param": {"mode": "train"}}'])
    assert code == 0 and capsys.readouterr().out.startswith("batchnorm: ok")


def test_wrong_pairs_are_diagnosed_and_exit_1(capsys, tmp_path):
    path = tmp_path / "my_layers.py"
    path.write_text(BROKEN)
    code = main(["check", "--layers", str(path), "--pair", "affine", "--pair", "sigmoid",
                 "--shapes", "4x5,5x3,3", "--shapes", "4x3"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith("affine: WRONG db has the broadcast shape (4, 3)")
    assert lines[1].startswith("sigmoid: WRONG dx is missing an activation derivative")


@pytest.mark.parametrize("argv, status, message", [
    (["--pair", "affine", "--shapes", "4x"], 2, "--shapes: '4x' in '4x' is not a shape"),
    (["--pair", "affine", "--pair", "relu", "--shapes", "4x5", "--shapes", "1", "--shapes", "2"],
     2, "2 --pair but 3 --shapes"),
    (["--pair", "affine", "--shapes", "4x5", "--kwargs", "{oops"], 2, "Expecting property name"),
])
def test_bad_command_lines_are_one_line_errors(capsys, argv, status, message):
    assert main(["check", "--layers", LAYERS, *argv]) == status
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err


def test_a_missing_file_and_a_missing_pair(capsys, tmp_path):
    assert main(["check", "--layers", str(tmp_path / "nope.py"), "--pair", "affine",
                 "--shapes", "4x5"]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["check", "--layers", LAYERS, "--pair", "conv", "--shapes", "2x3x5x5"]) == 1
    assert capsys.readouterr().out == (
        "conv: ERROR LookupError: --pair conv: learner_layers has no conv_forward and "
        "conv_backward (pairs found: affine, batchnorm, dropout, layernorm, relu, sigmoid, "
        "tanh), nor a loss function conv(x, y) with one 2-D shape\n")
    assert main(["check", "--pair", "affine", "--shapes", "4x5"]) == 2


def test_the_library_side():
    assert files.parse_shapes("4x5, 5x3,3") == [(4, 5), (5, 3), (3,)]
    module = files.load_module(LAYERS)
    report = files.check_pair(module, "affine", [(4, 5), (5, 3), (3,)], seed=1)
    assert report.ok and files.one_line("affine", report).startswith("affine: ok")
