"""The tinygrad-nn command line: in-process through main([...]), and a few runs as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_nn import io, ops
from tinygrad_nn.cli import main

SUBCOMMANDS = ("demo", "train", "check", "graph", "summary")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tinygrad-nn: error: "), err
    assert "Traceback" not in err


# ---------------------------------------------------------------------------------------------
# help
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [*SUBCOMMANDS, None])
def test_help_everywhere(capsys, command):
    argv = ["--help"] if command is None else [command, "--help"]
    code, out, err = run(capsys, *argv)
    assert code == 0 and err == ""
    assert out.startswith("usage: tinygrad-nn")
    if command is None:
        assert all(name in out for name in SUBCOMMANDS)
    else:
        assert f"tinygrad-nn {command}" in out and "--" in out


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("tinygrad-nn 0.")


# ---------------------------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------------------------


def test_demo_trains_draws_and_checks(capsys, tmp_path):
    out_dir = tmp_path / "demo"
    code, out, err = run(capsys, "demo", "--out", str(out_dir), "--epochs", "10")
    assert code == 0, err
    drawn = list(out_dir.glob("graph.*"))
    assert [p.suffix for p in drawn] in ([".svg"], [".dot"])
    if drawn[0].suffix == ".svg":
        assert drawn[0].read_text().lstrip().startswith(("<?xml", "<svg"))
    assert "final: train accuracy" in out
    test_acc = float(out.split("test accuracy ")[1].split("%")[0])
    assert test_acc >= 85.0
    assert "autodiff vs Nielsen's hand-derived backprop vs numeric" in out
    assert "ref rel" in out and "num rel" in out and "OK: all" in out
    ckpt = io.load(out_dir / "model.safetensors")
    assert ckpt.model.spec()["sizes"] == [2, 16, 16, 2]


# ---------------------------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------------------------


def test_train_on_moons_prints_epochs_and_saves(capsys, tmp_path):
    save, history = tmp_path / "moons.safetensors", tmp_path / "history.json"
    code, out, err = run(capsys, "train", "--dataset", "moons", "--epochs", "2",
                         "--optimizer", "adam", "--lr", "0.01", "--save", str(save),
                         "--history", str(history), "--no-progress")
    assert code == 0, err
    assert "Epoch 0: " in out and "Epoch 1: " in out and " / 100" in out
    assert "test accuracy:" in out
    ckpt = io.load(save)
    assert ckpt.model.spec()["sizes"] == [2, 16, 16, 2] and ckpt.extra["epoch"] == 2
    assert len(json.loads(history.read_text())["epochs"]) == 2


def test_train_quadratic_gets_a_sigmoid_output_with_a_note(capsys):
    code, out, err = run(capsys, "train", "--dataset", "xor", "--spec", "2-8-2:sigmoid",
                         "--init", "nielsen_large", "--loss", "quadratic", "--lr", "3.0",
                         "--batch-size", "10", "--epochs", "1", "--quiet")
    assert code == 0
    assert "note: quadratic cost" in err and "sigmoid" in err
    assert "784" not in out and "test accuracy:" in out
    # out=none keeps raw outputs, and then there is no note
    code, out, err = run(capsys, "train", "--dataset", "xor", "--spec", "2-8-2:sigmoid,out=none",
                         "--loss", "quadratic", "--epochs", "1", "--quiet")
    assert code == 0 and err == ""


@pytest.mark.parametrize("suffix", ["toml", "json"])
def test_train_from_a_config_file_and_the_command_line_wins(capsys, tmp_path, suffix):
    config = tmp_path / f"run.{suffix}"
    if suffix == "toml":
        config.write_text('model = "2-6-3:tanh"\ndataset = "spirals"\nepochs = 2\n'
                          'batch-size = 16\n[optimizer]\nname = "sgd"\nlr = 0.5\n'
                          "momentum = 0.9\n")
    else:
        config.write_text(json.dumps({"model": {"sizes": [2, 6, 3], "activation": "tanh"},
                                      "dataset": "spirals", "epochs": 2, "batch_size": 16,
                                      "optimizer": {"name": "sgd", "lr": 0.5,
                                                    "momentum": 0.9}}))
    code, out, err = run(capsys, "train", "--config", str(config), "--epochs", "3",
                         "--no-progress")
    assert code == 0, err
    assert "2-6-3:tanh" in out and "sgd lr 0.5" in out
    assert "Epoch 2: " in out and "Epoch 3: " not in out


def test_train_schedules_and_early_stopping(capsys):
    code, out, err = run(capsys, "train", "--dataset", "circles", "--epochs", "4",
                         "--schedule", "step:1:0.5", "--early-stopping", "2", "--no-progress")
    assert code == 0, err
    assert "Epoch 0: " in out


@pytest.mark.slow
def test_train_expresses_nielsens_book_run(capsys, mnist_path):
    code, out, err = run(capsys, "train", "--spec", "784-30-10:sigmoid", "--init",
                         "nielsen_large", "--loss", "quadratic", "--optimizer", "sgd", "--lr",
                         "3.0", "--batch-size", "10", "--epochs", "1", "--limit", "10000",
                         "--data", str(mnist_path), "--no-progress")
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith("Epoch 0: "))
    correct = int(line.split()[2])
    assert line.split()[3:5] == ["/", "10000"]
    assert correct > 8000  # 10,000 images, one epoch: far above chance (~85%)


# ---------------------------------------------------------------------------------------------
# check
# ---------------------------------------------------------------------------------------------


def test_check_passes_on_a_good_spec(capsys):
    code, out, err = run(capsys, "check", "--spec", "6-5-4:sigmoid,out=sigmoid,init=nielsen",
                         "--batch-size", "4")
    assert code == 0, err
    assert "nielsen" in out and "OK: all" in out and "FAIL" not in out


def test_check_fails_and_exits_1_when_a_gradient_is_wrong(capsys, monkeypatch):
    def wrong(self, g, out, x):
        return g * out  # drops the (1 - s) factor of sigmoid's derivative

    monkeypatch.setattr(ops.Sigmoid, "backward", wrong)
    code, out, err = run(capsys, "check", "--spec", "6-5-4:sigmoid,out=sigmoid,init=nielsen",
                         "--batch-size", "4")
    assert code == 1
    assert "FAILED" in out and "FAIL" in out


def test_check_cs231n_and_numeric_only(capsys):
    code, out, _ = run(capsys, "check", "--spec", "5-7-3:relu,batchnorm", "--batch-size", "6")
    assert code == 0 and "cs231n" in out
    code, out, _ = run(capsys, "check", "--spec", "3-4-2:tanh", "--reference", "none",
                       "--batch-size", "3", "--no-step")
    assert code == 0 and "numerical gradients only" in out


# ---------------------------------------------------------------------------------------------
# graph and summary
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["g.svg", "g.dot"])
def test_graph_writes_the_file(capsys, tmp_path, name):
    path = tmp_path / name
    code, out, err = run(capsys, "graph", "--spec", "4-5-3:sigmoid", "--loss", "quadratic",
                         "--batch-size", "3", "--out", str(path))
    assert code == 0, err
    written = path if path.exists() else path.with_suffix(".dot")
    text = written.read_text()
    assert "digraph" in text or "<svg" in text
    assert f"wrote {written}" in out


def test_graph_of_the_module_tree(capsys, tmp_path):
    path = tmp_path / "model.dot"
    code, _, _ = run(capsys, "graph", "--spec", "4-5-3:relu,batchnorm", "--model", "--out",
                     str(path))
    assert code == 0 and "BatchNorm1d" in path.read_text()


def test_summary(capsys):
    code, out, _ = run(capsys, "summary", "--spec", "784-30-10:sigmoid")
    assert code == 0
    assert "Total params: 23,860" in out and "(1, 784)" in out
    code, out, _ = run(capsys, "summary", "--spec", '{"sizes": [3, 4, 2]}', "--input-shape",
                       "5,3")
    assert code == 0 and "(5, 4)" in out


# ---------------------------------------------------------------------------------------------
# user errors: one line on stderr, the right exit status, no traceback
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, status, words", [
    (["train", "--spec", "2-x-2", "--dataset", "moons"], 2, "spec"),
    (["train", "--spec", "2-8-2:swish", "--dataset", "moons"], 2, "activation"),
    (["train", "--spec", "784-30-10", "--dataset", "moons"], 2, "784 inputs"),
    (["train", "--spec", '{"sizes": [2, 4', "--dataset", "moons"], 2, "invalid JSON"),
    (["train", "--spec", "missing.json", "--dataset", "moons"], 1, "does not exist"),
    (["train", "--config", "missing.toml"], 1, "does not exist"),
    (["train", "--dataset", "moons", "--lr", "abc"], 2, "--lr"),
    (["train", "--dataset", "moons", "--lr", "-1"], 2, "--lr"),
    (["train", "--dataset", "moons", "--epochs", "0"], 2, "--epochs"),
    (["train", "--dataset", "imagenet"], 2, "invalid choice"),
    (["train", "--dataset", "moons", "--schedule", "sometimes"], 2, "--schedule"),
    (["train", "--dataset", "moons", "--optimizer", "adam", "--momentum", "0.9"], 2,
     "momentum"),
    (["check", "--spec", "4-6-3:relu", "--reference", "nielsen"], 2, "Sigmoid"),
    (["graph", "--out", "graph.jpg"], 2, "suffix"),
    (["summary", "--spec", "3-4-2", "--input-shape", "a,b"], 2, "--input-shape"),
    (["summary"], 2, "--spec"),
    (["fly"], 2, "invalid choice"),
    ([], 2, "required"),
])
def test_user_errors(capsys, argv, status, words):
    code, out, err = run(capsys, *argv)
    assert code == status
    assert_one_line_error(err)
    assert words in err


def test_missing_mnist_without_download(capsys, tmp_path):
    code, _, err = run(capsys, "train", "--data", str(tmp_path), "--no-download")
    assert code == 1
    assert_one_line_error(err)
    assert "MNIST not found" in err and "--data DIR" in err


def test_missing_mnist_with_no_network(capsys, tmp_path, monkeypatch):
    from tinygrad_nn.data import mnist

    def offline(*args, **kwargs):
        raise OSError("    http://example/...: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(mnist, "_fetch_verified", offline)
    code, _, err = run(capsys, "train", "--data", str(tmp_path / "empty"))
    assert code == 1
    assert_one_line_error(err)
    assert "downloading failed" in err


def test_bad_config_file_values(capsys, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('dataset = "moons"\nepochs = "many"\n')
    code, _, err = run(capsys, "train", "--config", str(config))
    assert code == 2 and "epochs" in err
    assert_one_line_error(err)
    config.write_text('dataset = "moons"\ncolour = "blue"\n')
    code, _, err = run(capsys, "train", "--config", str(config))
    assert code == 2 and "colour" in err
    config.write_text("this is not toml")
    code, _, err = run(capsys, "train", "--config", str(config))
    assert code == 2
    assert_one_line_error(err)


# ---------------------------------------------------------------------------------------------
# as a subprocess: the module entry point and a real exit status
# ---------------------------------------------------------------------------------------------


def _subprocess(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygrad_nn", *argv], capture_output=True,
                          text=True, timeout=120)


def test_subprocess_check_and_help():
    result = _subprocess("check", "--spec", "3-4-2:sigmoid,out=sigmoid", "--batch-size", "3")
    assert result.returncode == 0, result.stderr
    assert "OK: all" in result.stdout
    result = _subprocess("--help")
    assert result.returncode == 0 and "demo" in result.stdout


def test_subprocess_user_error_is_one_line():
    result = _subprocess("train", "--spec", "2-x-2", "--dataset", "moons")
    assert result.returncode == 2
    assert_one_line_error(result.stderr)
    assert result.stdout == ""


def test_subprocess_train_writes_a_loadable_checkpoint(tmp_path):
    save = tmp_path / "xor.safetensors"
    result = _subprocess("train", "--dataset", "xor", "--epochs", "1", "--save", str(save))
    assert result.returncode == 0, result.stderr
    ckpt = io.load(save)
    x = np.zeros((1, 2), dtype=np.float32)
    from tinygrad_nn import Tensor

    assert ckpt.model(Tensor(x)).shape == (1, 2)


def test_a_bad_spec_is_reported_before_any_data_is_read(capsys, monkeypatch):
    from tinygrad_nn import cli

    def no_data(*args, **kwargs):
        raise AssertionError("the dataset was loaded before the spec was checked")

    monkeypatch.setattr(cli, "load_dataset", no_data)
    assert cli.main(["train", "--spec", "78x-1"]) == 2
    assert 'spec field "sizes"' in capsys.readouterr().err


def test_missing_mnist_counts_the_missing_files(tmp_path, capsys):
    from tinygrad_nn import cli

    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    assert cli.main(["train", "--data", str(tmp_path), "--no-download", "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert "3 of 4 files missing" in err and err.count("\n") == 1
