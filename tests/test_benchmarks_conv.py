"""Smoke test of ``python -m benchmarks conv``: it runs, every backend agrees, the table has its
ratios. (The measured figures are in docs/benchmarks.md; timing assertions would be flaky.)"""

from __future__ import annotations

import pytest

from benchmarks import cli, conv

pytest.importorskip("torch")


def test_conv_benchmark_quick_run_agrees_and_reports(capsys):
    assert cli.main(["conv", "--quick"]) == 0
    text = capsys.readouterr().out
    assert "| 20x5x5 on 1x28x28 | 2 |" in text and "| 40x5x5 on 20x12x12 | 2 |" in text
    assert "tinygrad_nn / torch" in text and "naive / tinygrad_nn" in text


def test_conv_benchmark_disagreement_fails(monkeypatch, capsys):
    """The gate has been seen to fail: a wrong weight gradient makes the run exit 1."""
    real = conv._tinygrad

    def broken(x, w, g):
        step = real(x, w, g)

        def wrong():
            grad = step()
            grad.data *= 1.01
            return grad

        return wrong

    monkeypatch.setattr(conv, "_tinygrad", broken)
    assert conv.main(["--quick", "--no-naive"]) == 1
    assert "backends disagree" in capsys.readouterr().out
