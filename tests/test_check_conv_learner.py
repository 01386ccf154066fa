"""A learner's CS231n conv_backward_naive checked through tinygrad_nn.check.layer: the
reference passes, deliberately broken versions are caught and diagnosed.

NOTE: the naive forward pads with np.pad and writes into np.zeros, which the engine's NumPy
dispatch cannot record, so check.layer compares with central differences (and says so)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn import check
from tinygrad_nn.reference import cs231n_conv

CONV_PARAM = {"stride": 2, "pad": 1}


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((4, 3, 3, 3)), \
        rng.standard_normal(4)


def _check(backward):
    return check.layer(cs231n_conv.conv_forward_naive, backward, *_data(),
                       conv_param=CONV_PARAM)


def test_the_reference_conv_backward_passes():
    report = _check(cs231n_conv.conv_backward_naive)
    assert report.ok, str(report)
    assert [row.name for row in report.rows] == ["dx", "dw", "db"]
    assert all(row.vs_numeric < 1e-7 for row in report.rows)


def _flipped_kernel(dout, cache):
    """The Theano/true-convolution confusion: dw returned flipped."""
    dx, dw, db = cs231n_conv.conv_backward_naive(dout, cache)
    return dx, dw[:, :, ::-1, ::-1], db


def _db_averaged(dout, cache):
    """db averaged over the batch instead of summed: off by the constant factor N."""
    dx, dw, db = cs231n_conv.conv_backward_naive(dout, cache)
    return dx, dw, db / dout.shape[0]


def _crop_forgotten(dout, cache):
    """dx cut from the padded gradient's top-left corner instead of from inside the padding."""
    x, w, b, conv_param = cache
    pad = conv_param["pad"]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw, db = cs231n_conv.conv_backward_naive(dout, (x_pad, w, b, {**conv_param, "pad": 0}))
    return dx_pad[:, :, : x.shape[2], : x.shape[3]], dw, db


@pytest.mark.parametrize("backward,wrong", [(_flipped_kernel, "dw"), (_db_averaged, "db"),
                                            (_crop_forgotten, "dx")])
def test_broken_conv_backward_is_caught(backward, wrong):
    report = _check(backward)
    assert not report.ok
    assert [row.name for row in report.failures] == [wrong]
    assert "WRONG" in str(report)


def test_a_constant_factor_is_diagnosed():
    report = _check(_db_averaged)
    diagnosis = report.row("db").diagnosis
    assert diagnosis.kind == "factor:1/batch" and "do not divide by N" in diagnosis.message
