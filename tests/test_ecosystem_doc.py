"""The Python code blocks of docs/ecosystem.md run, in order, in one namespace: a model trained
here on real MNIST predicts the same digits in tinygrad_nn, in PyTorch (via to_torch and via
the safetensors file) and in ONNX Runtime; a search on a local Dask cluster gives the trials
of the sequential search. Skipped only when real MNIST is absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from doc_blocks import run_python_blocks

DOC = Path(__file__).resolve().parents[1] / "docs" / "ecosystem.md"


@pytest.mark.slow
def test_ecosystem_doc_code_blocks_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       mnist_path: Path, capsys: pytest.CaptureFixture) -> None:
    for module in ("torch", "onnx", "onnxruntime", "distributed"):
        pytest.importorskip(module)
    monkeypatch.setenv("TINYGRAD_NN_MNIST", str(mnist_path))
    monkeypatch.chdir(tmp_path)
    blocks, _ = run_python_blocks(DOC)
    assert len(blocks) == 4
    out = capsys.readouterr().out
    assert "all four agree on 10000 test images" in out
    accuracy = float(out.split("accuracy ")[1].split("%")[0])
    assert accuracy > 90.0, out
    assert {p.name for p in tmp_path.iterdir()} >= {"mnist.safetensors", "mnist.onnx"}
