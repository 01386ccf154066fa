"""Bad-input table, part 6: the command line. Every bad invocation exits non-zero with ONE line
on stderr naming the option, file or field (no traceback), and a diverged run is a failure."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from bad_input_table import check, good, params

from tinygrad_nn.cli import main

TMP: Path = Path(".")


@pytest.fixture(autouse=True)
def _tmp(tmp_path):
    global TMP
    TMP = tmp_path


def _file(name: str, content: bytes | str) -> str:
    path = TMP / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


def run(*args: str):
    def call():
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([a.replace("{tmp}", str(TMP)) for a in args])
        return code, err.getvalue()
    return call


def run_config(name: str, content: bytes | str, *args: str):
    def call():
        return run("train", "--config", _file(name, content), "--quiet", "--no-progress",
                   *args)()
    return call


def run_spec(name: str, content: bytes | str, *args: str, command: str = "train"):
    def call():  # the file is written at call time, into the test's tmp_path
        more = ("--dataset", "moons", "--quiet", "--no-progress") if command == "train" else ()
        return run(command, "--spec", _file(name, content), *more, *args)()
    return call


def fails(*says: str, code: int | None = None):
    """Exit status non-zero (or ``code``), exactly one stderr line, naming every ``says``."""
    def ok(result) -> bool:
        status, err = result
        lines = err.strip().splitlines()
        return (status != 0 and (code is None or status == code) and len(lines) == 1
                and lines[0].startswith("tinygrad-nn: error:") and all(s in err for s in says))
    return ok


MOONS = ("--dataset", "moons", "--quiet", "--no-progress", "--epochs", "1")
ROWS = [
    good("cli spec conflicting activations", run("train", "--spec", "2-8-2:relu,sigmoid",
                                                 *MOONS), fails("activation", "twice")),
    good("cli spec out twice", run("train", "--spec", "2-8-2:out=sigmoid,out=none", *MOONS),
         fails("output_activation", "twice")),
    good("cli spec unknown option", run("train", "--spec", "2-8-2:colour=red", *MOONS),
         fails("colour")),
    good("cli spec float size", run("train", "--spec", "2-8.5-2", *MOONS), fails("sizes")),
    good("cli spec huge sizes", run("train", "--spec", "2-100000000-100000000-2", *MOONS),
         fails("memory")),
    good("cli spec file invalid utf-8", run_spec("s.json", b"\xff\xfe{"), fails("s.json",
                                                                                 "UTF-8")),
    good("cli spec file deeply nested", run_spec("s.json", "[" * 100_000), fails("s.json",
                                                                                "nested")),
    good("cli spec file bad json", run_spec("s.json", "{"), fails("s.json", "invalid JSON")),
    good("cli spec file list", run_spec("s.json", "[1, 2]"), fails("s.json", "list")),
    # a field the constructor refuses: the line names the file and the field (issue #10 review)
    good("cli spec file bad field", run_spec("s.json", json.dumps(
        {"layers": [{"type": "Linear", "in": 2, "out": 2, "bias": 1}]})),
        fails("s.json", "layers[0].bias")),
    good("cli spec file bad size", run_spec("s.toml", "sizes = [2, 0, 2]\n"),
         fails("s.toml", '"sizes"')),
    # the model is built before the data is read: a bad value is named, not the missing data
    good("cli spec bad value before data", run("train", "--spec", '{"sizes": [784, 0, 10]}',
                                               "--data", "{tmp}/nomnist", "--no-download"),
         fails('"sizes"')),
    good("cli check spec file bad field", run_spec("k.json", json.dumps(
        {"sizes": [2, 2], "dropout": 1}), command="check"), fails("k.json", '"dropout"')),
    good("cli spec file missing", run("train", "--spec", "{tmp}/nope.json", *MOONS),
         fails("nope.json")),
    good("cli config nesterov 'false'", run_config("c.json", json.dumps(
        {"dataset": "moons", "nesterov": "false", "momentum": 0.9, "epochs": 1})),
        fails("nesterov")),
    good("cli config no_download 'no'", run_config("c.json", json.dumps(
        {"dataset": "moons", "no_download": "no"})), fails("no_download")),
    good("cli config epochs string", run_config("c.toml", 'epochs = "3"\ndataset = "moons"\n'),
         fails("epochs", "'3'")),
    good("cli config lr string", run_config("c.json", json.dumps({"dataset": "moons",
                                                                  "lr": "0.1"})), fails("lr")),
    good("cli config lr inf", run_config("c.toml", 'lr = inf\ndataset = "moons"\n'),
         fails("lr", "inf")),
    good("cli config lr nan", run_config("c.toml", 'lr = nan\ndataset = "moons"\n'),
         fails("lr", "nan")),
    good("cli config invalid utf-8", run_config("c.json", b"\xff{"), fails("c.json", "UTF-8")),
    good("cli config deeply nested", run_config("c.json", "[" * 100_000), fails("c.json",
                                                                                "nested")),
    good("cli config bad toml", run_config("c.toml", "lr = = 1"), fails("c.toml")),
    good("cli config unknown suffix", run_config("c.yaml", "lr: 1"), fails("c.yaml")),
    good("cli config dataset unknown", run_config("c.json", json.dumps({"dataset": "imagenet"})),
         fails("dataset", "imagenet")),
    good("cli lr 1e30 diverges: exit 1, one line, epoch and step",
         run("train", *MOONS, "--lr", "1e30", "--epochs", "2"),
         fails("epoch 1", "step", "diverged", code=1)),
    good("cli lr nan", run("train", *MOONS, "--lr", "nan"), fails("--lr")),
    good("cli lr inf", run("train", *MOONS, "--lr", "inf"), fails("lr")),
    good("cli momentum nan", run("train", *MOONS, "--momentum", "nan"), fails("--momentum")),
    good("cli batch size 0", run("train", *MOONS, "--batch-size", "0"), fails("--batch-size")),
    good("cli epochs 2.5", run("train", *MOONS, "--epochs", "2.5"), fails("--epochs")),
    good("cli schedule step:0", run("train", *MOONS, "--schedule", "step:0"),
         fails("step_size")),
    good("cli schedule exp:-1", run("train", *MOONS, "--schedule", "exp:-1"), fails("gamma")),
    good("cli schedule exp:nan", run("train", *MOONS, "--schedule", "exp:nan"),
         fails("gamma")),
    good("cli test fraction 1.5", run("train", *MOONS, "--test-fraction", "1.5"),
         fails("--test-fraction")),
    good("cli noise nan", run("train", *MOONS, "--noise", "nan"), fails("--noise")),
    good("cli save into a missing directory, before training",
         run("train", *MOONS, "--save", "{tmp}/missing/x.safetensors"),
         fails("save", "missing", "does not exist")),
    good("cli save to a directory", run("train", *MOONS, "--save", "{tmp}"),
         fails("save", "directory")),
    good("cli history into a missing directory", run("train", *MOONS, "--history",
                                                     "{tmp}/missing/h.json"),
         fails("history", "does not exist")),
    good("cli summary huge input shape", run("summary", "--spec", "4-8-3", "--input-shape",
                                             "100000000000,100000000000"),
         fails("--input-shape")),
    # no size at all, or a size below 1: refused, not replaced by the default (review #10)
    good("cli summary empty input shape", run("summary", "--spec", "4-8-3", "--input-shape",
                                              ","), fails("--input-shape", "','")),
    good("cli summary zero input shape", run("summary", "--spec", "4-8-3", "--input-shape",
                                             "0,4"), fails("--input-shape", "'0,4'")),
    good("cli export empty input shape", run("export", "{tmp}/none.safetensors", "--to", "onnx",
                                             "--input-shape", ","), fails("--input-shape")),
    good("cli unknown command", run("trian"), fails("trian")),
    good("cli unknown option", run("train", "--lr-rate", "1"), fails("--lr-rate")),
    good("cli data directory missing", run("train", "--data", "{tmp}/nomnist", "--no-download",
                                           "--quiet"), fails("nomnist")),
]


@params(ROWS)
def test_bad_input_cli(row):
    check(row)
