"""Layers without PyTorch: shapes, semantics, gradcheck, Dropout statistics, BatchNorm rules."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import nn


def double_input(*shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return tg.Tensor(data, requires_grad=True)


# --------------------------------------------------------------------------------------------
# Linear, Maxout
# --------------------------------------------------------------------------------------------


def test_linear_computes_x_w_transpose_plus_b_with_pytorch_layout():
    layer = nn.Linear(3, 2, dtype=np.float64)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    x = np.random.default_rng(0).standard_normal((5, 3))
    expected = x @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(tg.Tensor(x)).data, expected, rtol=1e-14)
    assert nn.Linear(3, 2, bias=False, dtype=np.float64)(tg.Tensor(x)).shape == (5, 2)


def test_linear_uses_the_fused_primitive():
    out = nn.Linear(3, 2)(double_input(4, 3).float())
    assert type(out.grad_fn).__name__ == "Linear"


def test_linear_is_reproducible_with_a_generator_and_default_dtype():
    a = nn.Linear(5, 4, generator=3)
    b = nn.Linear(5, 4, generator=np.random.default_rng(3))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert a.weight.dtype == tg.get_default_dtype()
    tg.manual_seed(11)
    c = nn.Linear(5, 4)
    tg.manual_seed(11)
    d = nn.Linear(5, 4)
    np.testing.assert_array_equal(c.weight.data, d.weight.data)
    assert not np.array_equal(a.weight.data, c.weight.data)


def test_linear_rejects_bad_sizes_and_inputs():
    with pytest.raises(ValueError, match="Linear: in_features must be a positive int, got 0"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match=r"input \(2, 4\) does not match weight \(3, 5\)"):
        nn.Linear(5, 3)(tg.randn(2, 4))


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Linear(4, 3, dtype=np.float64), (5, 4)),
    (lambda: nn.Linear(4, 3, bias=False, dtype=np.float64), (2, 4)),
    (lambda: nn.Maxout(4, 3, pieces=2, dtype=np.float64), (5, 4)),
    (lambda: nn.BatchNorm1d(3, dtype=np.float64), (6, 3)),
    (lambda: nn.BatchNorm1d(3, dtype=np.float64), (4, 3, 2)),
    (lambda: nn.LeakyReLU(0.2), (4, 3)),
    (lambda: nn.Softmax(axis=0), (4, 3)),
    (lambda: nn.LogSoftmax(), (4, 3)),
    (lambda: nn.Tanh(), (4, 3)),
    (lambda: nn.Sigmoid(), (4, 3)),
    (lambda: nn.Flatten(), (2, 3, 2)),
])
def test_layer_gradients_pass_gradcheck(make, shape):
    layer = make()
    x = double_input(*shape, seed=1)
    assert tg.gradcheck(lambda x, *params: layer(x), x, *layer.parameters())


def test_maxout_takes_the_max_over_each_units_pieces():
    layer = nn.Maxout(3, 2, pieces=4, dtype=np.float64)
    assert layer.weight.shape == (8, 3)
    x = np.random.default_rng(2).standard_normal((5, 3))
    z = x @ layer.weight.data.T + layer.bias.data
    expected = z.reshape(5, 2, 4).max(axis=-1)
    np.testing.assert_allclose(layer(tg.Tensor(x)).data, expected, rtol=1e-14)


# --------------------------------------------------------------------------------------------
# activations and shape layers
# --------------------------------------------------------------------------------------------


def test_activation_layers_match_numpy():
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    t = tg.Tensor(x)
    np.testing.assert_allclose(nn.ReLU()(t).data, np.maximum(x, 0))
    np.testing.assert_allclose(nn.Sigmoid()(t).data, 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(nn.Tanh()(t).data, np.tanh(x))
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(t).data, np.where(x > 0, x, 0.1 * x))
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(nn.Softmax()(t).data, e / e.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(nn.LogSoftmax()(t).data,
                               np.log(e / e.sum(axis=1, keepdims=True)), atol=1e-14)
    assert nn.Identity()(t) is t
    assert nn.Flatten()(tg.zeros(2, 3, 4)).shape == (2, 12)
    assert nn.Flatten(0, 1)(tg.zeros(2, 3, 4)).shape == (6, 4)


# --------------------------------------------------------------------------------------------
# Sequential and MLP
# --------------------------------------------------------------------------------------------


def test_sequential_indexing_len_iteration_and_names():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers and seq[0] is layers[0] and seq[-1] is layers[2]
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == layers[1:]
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert list(nn.Sequential(layers)) == layers  # a list works too
    x = tg.randn(4, 2)
    np.testing.assert_array_equal(seq(x).data, layers[2](layers[1](layers[0](x))).data)
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and "3" in dict(seq.named_children())
    with pytest.raises(TypeError, match="Sequential: layer 1 is a ufunc, not a Module"):
        nn.Sequential(nn.ReLU(), np.tanh)


def test_mlp_structure_and_defaults():
    model = nn.MLP([4, 8, 8, 3])
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [(m.in_features, m.out_features) for m in model.linears] == [(4, 8), (8, 8), (8, 3)]
    assert model.sizes == [4, 8, 8, 3]
    full = nn.MLP([4, 8, 3], activation="tanh", output_activation="softmax", dropout=0.25,
                  batchnorm=True, bias=False)
    assert [type(m).__name__ for m in full] == [
        "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear", "Softmax"]
    assert all(m.bias is None for m in full.linears) and full[3].p == 0.25


def test_mlp_is_nielsens_network_with_sigmoid_on_every_layer():
    tg.manual_seed(0)
    model = nn.MLP([784, 30, 10], activation="sigmoid", output_activation="sigmoid",
                   init="nielsen")
    assert [type(m).__name__ for m in model] == ["Linear", "Sigmoid", "Linear", "Sigmoid"]
    # network2's default init: weights N(0, 1/fan_in), biases N(0, 1)
    assert abs(model.linears[0].weight.data.std() - 784 ** -0.5) < 0.002
    assert abs(model.linears[1].weight.data.std() - 30 ** -0.5) < 0.03
    out = model(tg.randn(2, 784))
    assert out.shape == (2, 10) and np.all((out.data > 0) & (out.data < 1))
    # activation alone does not put a sigmoid on the output
    assert type(nn.MLP([784, 30, 10], activation="sigmoid")[-1]).__name__ == "Linear"


def test_mlp_rejects_bad_arguments():
    with pytest.raises(ValueError, match='MLP: activation "sigmod" is unknown; allowed: relu'):
        nn.MLP([2, 3], activation="sigmod")
    with pytest.raises(ValueError, match="output_activation \"soft\" is unknown"):
        nn.MLP([2, 3, 1], output_activation="soft")
    with pytest.raises(ValueError, match="at least an input and an output"):
        nn.MLP([2])
    with pytest.raises(ValueError, match="dropout"):
        nn.MLP([2, 3, 1], dropout=1.0)
    with pytest.raises(ValueError, match="init: unknown scheme 'glorot'"):
        nn.MLP([2, 3, 1], init="glorot")


def test_mlp_with_a_custom_init_callable():
    def ones(weight, bias, generator):
        nn.init.ones_(weight)
        if bias is not None:
            nn.init.zeros_(bias)

    model = nn.MLP([3, 2], init=ones)
    assert np.all(model[0].weight.data == 1) and np.all(model[0].bias.data == 0)


# --------------------------------------------------------------------------------------------
# Dropout
# --------------------------------------------------------------------------------------------


def test_dropout_drops_a_fraction_p_and_keeps_the_mean():
    drop = nn.Dropout(0.3, generator=0)
    x = tg.ones(400, 500)
    out = drop(x).data
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.3) < 0.005  # 200,000 Bernoulli draws: std 0.001
    assert np.allclose(out[out != 0], 1 / 0.7)
    assert abs(out.mean() - 1.0) < 0.01  # inverted dropout preserves the expectation


def test_dropout_is_the_identity_in_eval_and_for_p_zero():
    x = tg.randn(5, 5)
    drop = nn.Dropout(0.5)
    drop.eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.all(nn.Dropout(1.0)(x).data == 0)


def test_dropout_gradient_is_the_scaled_mask():
    drop = nn.Dropout(0.5, generator=1)
    x = tg.randn(4, 6, requires_grad=True)
    out = drop(x)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, (out.data != 0) * 2.0)


def test_dropout_is_reproducible_with_a_seed_and_takes_a_fixed_mask():
    x = tg.ones(10, 10)
    a, b = nn.Dropout(0.5, generator=7)(x), nn.Dropout(0.5, generator=7)(x)
    np.testing.assert_array_equal(a.data, b.data)
    tg.manual_seed(3)
    c = nn.Dropout(0.5)(x)
    tg.manual_seed(3)
    np.testing.assert_array_equal(c.data, nn.Dropout(0.5)(x).data)
    mask = np.arange(100).reshape(10, 10) % 3 == 0
    np.testing.assert_array_equal(nn.functional.dropout(x, 0.5, mask=mask).data, mask * 2.0)
    with pytest.raises(ValueError, match=r"mask shape \(2, 2\) does not match input shape"):
        nn.functional.dropout(x, 0.5, mask=np.ones((2, 2)))
    with pytest.raises(ValueError, match="drop probability"):
        nn.Dropout(1.5)


def test_functional_dropout():
    x = tg.ones(3, 3)
    assert nn.functional.dropout(x, 0.5, training=False) is x
    out = nn.functional.dropout(x, 0.25, mask=np.eye(3))
    np.testing.assert_allclose(out.data, np.eye(3) / 0.75)


# --------------------------------------------------------------------------------------------
# BatchNorm1d (the PyTorch comparison is in test_nn_torch.py)
# --------------------------------------------------------------------------------------------


def test_batchnorm_training_normalizes_with_biased_variance():
    bn = nn.BatchNorm1d(3, eps=0.0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((8, 3)) * [1.0, 5.0, 0.1] + [0.0, 3.0, -2.0]
    out = bn(tg.Tensor(x)).data
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-12)  # ddof=0: biased


def test_batchnorm_running_stats_weight_the_new_batch_and_use_unbiased_variance():
    bn = nn.BatchNorm1d(2, momentum=0.1, dtype=np.float64)
    rng = np.random.default_rng(1)
    mean, var = np.zeros(2), np.ones(2)
    for _ in range(3):
        x = rng.standard_normal((5, 2)) * 2 + 1
        bn(tg.Tensor(x))
        mean = 0.9 * mean + 0.1 * x.mean(axis=0)
        var = 0.9 * var + 0.1 * x.var(axis=0, ddof=1)
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-14)
    np.testing.assert_allclose(bn.running_var.data, var, rtol=1e-14)
    assert int(bn.num_batches_tracked.data) == 3
    bn.eval()
    x = rng.standard_normal((4, 2))
    expected = (x - mean) / np.sqrt(var + bn.eps)
    np.testing.assert_allclose(bn(tg.Tensor(x)).data, expected, rtol=1e-12)
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-14)  # eval does not update


def test_batchnorm_cumulative_average_when_momentum_is_none():
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [np.random.default_rng(i).standard_normal((4, 2)) for i in range(3)]
    for x in batches:
        bn(tg.Tensor(x))
    np.testing.assert_allclose(bn.running_mean.data,
                               np.mean([x.mean(axis=0) for x in batches], axis=0), rtol=1e-13)


def test_batchnorm_without_running_stats_or_affine():
    bn = nn.BatchNorm1d(2, affine=False, track_running_stats=False)
    assert bn.weight is None and bn.running_mean is None
    assert list(bn.parameters()) == [] and list(bn.buffers()) == []
    bn.eval()
    out = bn(tg.randn(6, 2) * 4.0 + 1.0).data  # eval still uses batch statistics
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-5)


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3\).*got \(4, 2\)"):
        nn.BatchNorm1d(3)(tg.randn(4, 2))
    with pytest.raises(ValueError, match="more than 1 value per feature"):
        nn.BatchNorm1d(3)(tg.randn(1, 3))
    bn = nn.BatchNorm1d(3).eval()
    assert bn(tg.randn(1, 3)).shape == (1, 3)  # a single example is fine in eval
