"""Initializers: the right distributions, in place, reproducible with a seed."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import nn
from tinygrad_nn.nn import init

FAN_OUT, FAN_IN = 300, 400  # 120,000 samples: sample std is within ~0.5% of the true std


def weight(dtype=np.float64):
    return nn.Parameter(np.zeros((FAN_OUT, FAN_IN), dtype))


def assert_normal(values, std, mean=0.0):
    assert abs(values.mean() - mean) < 4 * std / math.sqrt(values.size) + 1e-12
    assert abs(values.std() / std - 1) < 0.02


def assert_zero(values):
    np.testing.assert_array_equal(values, 0.0)


def assert_uniform(values, bound):
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.99 * bound and values.max() > 0.99 * bound
    assert abs(values.std() / (bound / math.sqrt(3)) - 1) < 0.02  # std of U(-b, b)


@pytest.mark.parametrize("fill, check", [
    (lambda t: init.normal_(t, 2.0, 3.0), lambda v: assert_normal(v, 3.0, 2.0)),
    (lambda t: init.uniform_(t, -0.5, 0.5), lambda v: assert_uniform(v, 0.5)),
    (init.xavier_uniform_,
     lambda v: assert_uniform(v, math.sqrt(6 / (FAN_IN + FAN_OUT)))),
    (init.xavier_normal_, lambda v: assert_normal(v, math.sqrt(2 / (FAN_IN + FAN_OUT)))),
    (lambda t: init.kaiming_normal_(t, nonlinearity="relu"),
     lambda v: assert_normal(v, math.sqrt(2 / FAN_IN))),
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"),
     lambda v: assert_normal(v, math.sqrt(2 / FAN_OUT))),
    (init.kaiming_uniform_, lambda v: assert_uniform(v, math.sqrt(6 / FAN_IN))),
], ids=["normal", "uniform", "xavier_uniform", "xavier_normal", "kaiming_normal",
        "kaiming_normal_fan_out", "kaiming_uniform"])
def test_tensor_initializer_statistics(fill, check):
    tg.manual_seed(0)
    w = weight()
    assert fill(w) is w  # in place, returns the tensor
    check(w.data)


@pytest.mark.parametrize("name, weight_check, bias_check", [
    ("pytorch", lambda v: assert_uniform(v, FAN_IN ** -0.5),
     lambda v: assert_uniform(v, FAN_IN ** -0.5)),
    ("nielsen", lambda v: assert_normal(v, FAN_IN ** -0.5), lambda v: assert_normal(v, 1.0)),
    ("nielsen_large", lambda v: assert_normal(v, 1.0), lambda v: assert_normal(v, 1.0)),
    ("rashid", lambda v: assert_normal(v, FAN_IN ** -0.5), assert_zero),
    ("xavier", lambda v: assert_uniform(v, math.sqrt(6 / (FAN_IN + FAN_OUT))),
     assert_zero),
    ("kaiming", lambda v: assert_normal(v, math.sqrt(2 / FAN_IN)), assert_zero),
])
def test_layer_schemes_by_name(name, weight_check, bias_check):
    # a real (300, 400) layer's bias has 300 entries; a long one gives tight statistics
    w, b = weight(), nn.Parameter(np.full(20_000, 7.0))
    init.get_scheme(name)(w, b, 0)
    weight_check(w.data)
    bias_check(b.data)


def test_nielsen_chapter_3_and_rashid_use_the_same_weight_distribution():
    a, b = weight(), weight()
    init.nielsen_default_(a, None, generator=5)
    init.rashid_(b, None, generator=5)
    np.testing.assert_array_equal(a.data, b.data)


def test_pytorch_linear_matches_torchs_bound_formula():
    # PyTorch: kaiming_uniform_(a=sqrt(5)) -> bound = gain * sqrt(3 / fan_in), gain^2 = 2/(1+5)
    gain = math.sqrt(2.0 / (1 + 5))
    w = weight()
    init.pytorch_linear_(w, generator=1)
    assert_uniform(w.data, gain * math.sqrt(3.0 / FAN_IN))


def test_seeds_are_reproducible_and_dtype_independent():
    a, b = weight(), weight(np.float32)
    init.normal_(a, generator=42)
    init.normal_(b, generator=np.random.default_rng(42))
    np.testing.assert_array_equal(a.data.astype(np.float32), b.data)
    assert b.dtype == np.float32
    tg.manual_seed(9)
    c = init.xavier_uniform_(weight())
    tg.manual_seed(9)
    d = init.xavier_uniform_(weight())
    np.testing.assert_array_equal(c.data, d.data)
    assert not np.array_equal(c.data, init.xavier_uniform_(weight()).data)


def test_constant_initializers_and_writes_in_place():
    w = weight()
    array = w.data
    init.normal_(w, generator=0)
    assert w.data is array  # in place: anything holding the array sees the new values
    assert np.all(init.ones_(w).data == 1)
    assert np.all(init.zeros_(w).data == 0)
    assert np.all(init.constant_(w, 0.5).data == 0.5)


def test_errors():
    with pytest.raises(ValueError, match=r"need a weight with at least 2 dims, got shape \(3,\)"):
        init.xavier_uniform_(nn.Parameter(np.zeros(3)))
    with pytest.raises(ValueError, match="unknown scheme 'he'; allowed: pytorch, nielsen"):
        init.get_scheme("he")
    with pytest.raises(TypeError, match="generator must be"):
        init.normal_(weight(), generator="seed")
    with pytest.raises(ValueError, match="unknown nonlinearity 'gelu'"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_normal_(weight(), mode="fan")
