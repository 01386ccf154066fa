"""``tinygrad-nn export`` and ``export_checkpoint``: a saved checkpoint becomes an ONNX model
and a torch.export program that compute what the model computes (eval mode)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import nn, optim
from tinygrad_nn.cli import main
from tinygrad_nn.export import export_checkpoint


def _saved(tmp_path: Path, dtype: type = np.float32) -> tuple[Path, nn.Module]:
    model = nn.build("6-8-3:relu,batchnorm,dropout=0.2", dtype=dtype, generator=0)
    for step in range(2):
        model(tg.Tensor(np.random.default_rng(step).normal(size=(16, 6)).astype(dtype)))
    path = tmp_path / "model.safetensors"
    tg.save(path, model, optim.SGD(model.parameters(), lr=0.1))
    return path, model.eval()


def _x(dtype: type = np.float32, n: int = 5) -> np.ndarray:
    return np.random.default_rng(7).normal(size=(n, 6)).astype(dtype)


def test_cli_export_onnx(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ort = pytest.importorskip("onnxruntime")
    path, model = _saved(tmp_path)
    assert main(["export", str(path), "--to", "onnx"]) == 0
    target = tmp_path / "model.onnx"
    assert f"wrote {target}" in capsys.readouterr().out
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": _x()})[0]
    np.testing.assert_allclose(got, model(tg.Tensor(_x())).data, rtol=1e-6, atol=1e-6)


def test_cli_export_torch_program(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    torch = pytest.importorskip("torch")
    path, model = _saved(tmp_path, np.float64)
    out = tmp_path / "elsewhere.pt2"
    assert main(["export", str(path), "--to", "torch", "--out", str(out)]) == 0
    program = torch.export.load(str(out)).module()
    for n in (1, 9):  # the batch size is dynamic
        got = program(torch.from_numpy(_x(np.float64, n))).detach().numpy()
        np.testing.assert_allclose(got, model(tg.Tensor(_x(np.float64, n))).data, rtol=0,
                                   atol=1e-12)


def test_export_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path, _ = _saved(tmp_path)
    assert main(["export", str(path), "--to", "keras"]) == 2
    assert "invalid choice: 'keras'" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nope.safetensors"), "--to", "onnx"]) == 1
    assert "nope.safetensors: no such file" in capsys.readouterr().err
    raw = tmp_path / "raw.safetensors"
    tg.save(raw, {"w": np.ones(2)})
    with pytest.raises(ValueError, match="holds a state dict, not a model"):
        export_checkpoint(raw, "onnx")


def test_a_convnet_needs_its_input_shape(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    ort = pytest.importorskip("onnxruntime")
    model = nn.build({"layers": [{"type": "Conv2d", "in": 1, "out": 3, "kernel_size": 3},
                                 {"type": "ReLU"}, {"type": "MaxPool2d", "kernel_size": 2},
                                 {"type": "Flatten"}, {"type": "Linear", "in": 27, "out": 2}]},
                     dtype=np.float32, generator=0).eval()
    path = tmp_path / "cnn.safetensors"
    tg.save(path, model)
    assert main(["export", str(path), "--to", "onnx"]) == 1
    assert "cannot tell the input shape of Sequential" in capsys.readouterr().err
    assert main(["export", str(path), "--to", "onnx", "--input-shape", "1,8,8"]) == 0
    session = ort.InferenceSession(str(tmp_path / "cnn.onnx"),
                                   providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(size=(4, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(session.run(None, {"input": x})[0], model(tg.Tensor(x)).data,
                               rtol=1e-6, atol=1e-6)
    assert main(["export", str(path), "--to", "onnx", "--input-shape", "1,x"]) == 2
    assert "--input-shape: expected integers" in capsys.readouterr().err


def test_a_shape_the_onnx_graph_refuses_is_one_line(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    """An MLP's Linear is a Gemm (2-D only): one sample of shape (1, 6) gives a 3-D input the
    ONNX checker refuses; the CLI prints one line naming the shape, not onnx's traceback."""
    pytest.importorskip("onnx")  # the quick suite runs without the export extras
    path = tmp_path / "model.safetensors"
    tg.save(path, nn.build("6-8-3:relu", generator=0))
    assert main(["export", str(path), "--to", "onnx", "--input-shape", "1,6"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "to_onnx: input_shape (None, 1, 6)" in err[0] and "Gemm" in err[0]
    assert not (tmp_path / "model.onnx").exists()
