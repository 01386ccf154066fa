"""export.to_onnx: the graph passes onnx.checker and ONNX Runtime computes what the model
computes in eval mode (float32: 1e-6; float64: 1e-12 where the runtime has double kernels)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import nn
from tinygrad_nn.export import to_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _models(dtype: Any) -> dict[str, nn.Module]:
    return {
        "mlp": nn.build("6-9-5-3:tanh,batchnorm,dropout=0.3,out=sigmoid", dtype=dtype,
                        generator=1),
        "layers": nn.build({"layers": [
            {"type": "Flatten"}, {"type": "Maxout", "in": 6, "out": 5, "pieces": 3},
            {"type": "LeakyReLU", "negative_slope": 0.2}, {"type": "Linear", "in": 5, "out": 4},
            {"type": "BatchNorm1d", "num_features": 4, "affine": False}, {"type": "ReLU"},
            {"type": "Linear", "in": 4, "out": 3, "bias": False}, {"type": "Identity"},
            {"type": "Softmax"}, {"type": "LogSoftmax"}]}, dtype=dtype, generator=2),
    }


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


@pytest.mark.parametrize("name", ["mlp", "layers"])
@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-6), (np.float64, 1e-12)],
                         ids=["float32", "float64"])
def test_onnx_runtime_matches_the_model(tmp_path: Path, name: str, dtype: Any, tol: float
                                        ) -> None:
    model = _models(dtype)[name]
    for step in range(3):  # running statistics away from their initial values
        model(tg.Tensor(np.random.default_rng(step).normal(size=(32, 6)).astype(dtype)))
    model.eval()
    path = tmp_path / "model.onnx"
    proto = to_onnx(model, path, input_shape=(None, 6))
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    assert proto.graph.input[0].type.tensor_type.elem_type == \
        onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    for batch in (1, 17):  # the batch size is dynamic
        x = np.random.default_rng(batch).normal(size=(batch, 6)).astype(dtype)
        expected = model(tg.Tensor(x)).data
        got = _run(path, x)
        assert got.dtype == dtype and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


def test_unsupported_layers_and_shapes_are_named(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"layer model\[1\] \(BatchNorm1d without running "
                                        r"statistics"):
        to_onnx(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2, track_running_stats=False)),
                tmp_path / "m.onnx", (None, 2))
    with pytest.raises(ValueError, match=r"input_shape must be \(batch, features...\)"):
        to_onnx(nn.Linear(2, 2), tmp_path / "m.onnx", (2,))
    assert not (tmp_path / "m.onnx").exists()


def _convnets(dtype: Any) -> dict[str, tuple[nn.Module, tuple[int, ...]]]:
    return {
        "conv2d": (nn.Sequential(
            nn.Conv2d(3, 4, 3, padding=1, dtype=dtype, generator=0),
            nn.BatchNorm2d(4, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 6, (3, 2), stride=(1, 2), groups=2, bias=False, dtype=dtype,
                      generator=1), nn.Dropout2d(0.2),
            nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False), nn.Tanh(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3, dtype=dtype, generator=2)),
            (3, 8, 8)),
        "conv1d same": (nn.Sequential(
            nn.Conv1d(2, 4, 3, padding="same", dtype=dtype, generator=0), nn.Sigmoid(),
            nn.Conv1d(4, 2, 2, stride=2, dilation=2, dtype=dtype, generator=1), nn.Flatten()),
            (2, 9)),
    }


@pytest.mark.parametrize("name", ["conv2d", "conv1d same"])
@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-6), (np.float64, 1e-12)],
                         ids=["float32", "float64"])
def test_onnx_runtime_matches_a_convnet(tmp_path: Path, name: str, dtype: Any, tol: float
                                        ) -> None:
    model, sample = _convnets(dtype)[name]
    model(tg.Tensor(np.random.default_rng(0).normal(size=(8, *sample)).astype(dtype)))
    model.eval()
    path = tmp_path / "convnet.onnx"
    to_onnx(model, path, input_shape=(None, *sample))
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - a runtime without double kernels for some op
        if dtype == np.float64 and "NOT_IMPLEMENTED" in str(e):
            pytest.skip(f"onnxruntime has no float64 kernel: {str(e).splitlines()[0][:160]}")
        raise
    for batch in (1, 5):
        x = np.random.default_rng(batch).normal(size=(batch, *sample)).astype(dtype)
        got = session.run(None, {"input": x})[0]
        np.testing.assert_allclose(got, model(tg.Tensor(x)).data, rtol=tol, atol=tol)
