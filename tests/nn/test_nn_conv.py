"""Convolution layers: against torch.nn (same weights), specs, checkpoints, summary, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import io, nn

torch = pytest.importorskip("torch")


def _copy_params(ours, theirs):
    for (name, p), (tname, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == tname and p.shape == tuple(q.shape), (name, tname)
        q.data = torch.tensor(p.data)


LAYERS = [
    ("conv2d", lambda: nn.Conv2d(3, 4, 3, dtype="float64"), lambda: torch.nn.Conv2d(3, 4, 3),
     (2, 3, 7, 6)),
    ("conv2d_all", lambda: nn.Conv2d(4, 6, (3, 2), 2, 1, (2, 1), 2, dtype="float64"),
     lambda: torch.nn.Conv2d(4, 6, (3, 2), 2, 1, (2, 1), 2), (2, 4, 9, 8)),
    ("conv2d_same_nobias", lambda: nn.Conv2d(2, 3, 3, padding="same", bias=False,
                                             dtype="float64"),
     lambda: torch.nn.Conv2d(2, 3, 3, padding="same", bias=False), (2, 2, 5, 5)),
    ("conv1d", lambda: nn.Conv1d(3, 4, 3, 2, 1, dtype="float64"),
     lambda: torch.nn.Conv1d(3, 4, 3, 2, 1), (2, 3, 11)),
    ("maxpool", lambda: nn.MaxPool2d(3, 2, 1), lambda: torch.nn.MaxPool2d(3, 2, 1), (2, 3, 9, 8)),
    ("avgpool", lambda: nn.AvgPool2d(2), lambda: torch.nn.AvgPool2d(2), (2, 3, 9, 8)),
    ("adaptive", lambda: nn.AdaptiveAvgPool2d((3, 2)), lambda: torch.nn.AdaptiveAvgPool2d((3, 2)),
     (2, 3, 9, 8)),
    ("batchnorm2d", lambda: nn.BatchNorm2d(3, dtype="float64"), lambda: torch.nn.BatchNorm2d(3),
     (4, 3, 5, 6)),
]


@pytest.mark.parametrize("name,ours,theirs,shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(name, ours, theirs, shape):
    layer, reference = ours(), theirs().double()
    _copy_params(layer, reference)
    values = np.random.default_rng(0).standard_normal(shape)
    x = tg.Tensor(values, requires_grad=True)
    xt = torch.tensor(values, requires_grad=True)
    out, expected = layer(x), reference(xt)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    cot = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(cot)
    expected.backward(torch.tensor(cot))
    np.testing.assert_allclose(x.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (pname, p), q in zip(layer.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=pname)


def test_batchnorm2d_running_stats_and_eval_match_torch():
    ours, theirs = nn.BatchNorm2d(3, momentum=0.2, dtype="float64"), torch.nn.BatchNorm2d(
        3, momentum=0.2).double()
    rng = np.random.default_rng(2)
    for _ in range(3):
        x = rng.standard_normal((4, 3, 5, 2)) * 3 + 1
        ours(tg.Tensor(x))
        theirs(torch.tensor(x))
    np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_allclose(ours(tg.Tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10)


def test_batchnorm2d_is_cs231n_spatial_batchnorm():
    """Per channel over (N, H, W): the same as normalizing the (N*H*W, C) transpose."""
    x = np.random.default_rng(3).standard_normal((4, 3, 5, 2)) * 2 + 0.5
    out = nn.BatchNorm2d(3, dtype="float64")(tg.Tensor(x)).data
    flat = x.transpose(0, 2, 3, 1).reshape(-1, 3)
    normed = (flat - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-5)
    np.testing.assert_allclose(out, normed.reshape(4, 5, 2, 3).transpose(0, 3, 1, 2), rtol=1e-10)


def test_dropout2d_drops_whole_channels_and_rescales():
    layer = nn.Dropout2d(0.5, generator=0)
    x = tg.ones(8, 16, 3, 3)
    out = layer(x).data
    per_channel = out.reshape(8, 16, 9)
    assert set(np.unique(per_channel)) == {0.0, 2.0}
    assert (per_channel.min(axis=2) == per_channel.max(axis=2)).all()  # whole maps
    assert 0.3 < (per_channel[:, :, 0] == 0).mean() < 0.7
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, x.data)


def test_conv_defaults_float32_and_pytorch_init():
    layer = nn.Conv2d(4, 8, 3, groups=2, generator=0)
    assert layer.weight.dtype == np.float32 and layer.weight.shape == (8, 2, 3, 3)
    bound = 1 / np.sqrt(2 * 3 * 3)  # fan_in = in_channels/groups * kh * kw
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.8 * bound
    assert layer(tg.zeros(1, 4, 5, 5)).dtype == np.float32


def _convnet():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout2d(0.1), nn.Conv2d(4, 6, (3, 2), stride=(1, 2), groups=2), nn.AvgPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))


def test_spec_round_trip_through_json():
    net = _convnet()
    rebuilt = nn.build(json.loads(json.dumps(net.spec())))
    assert repr(rebuilt) == repr(net)
    assert [(n, p.shape) for n, p in rebuilt.named_parameters()] == [
        (n, p.shape) for n, p in net.named_parameters()]
    conv1d = nn.Sequential(nn.Conv1d(2, 3, 3, stride=2, padding=1))
    assert repr(nn.build(conv1d.spec())) == repr(conv1d)


@pytest.mark.parametrize("layer,message", [
    ({"type": "Conv2d", "in": 1, "out": 2}, "layers\\[0\\].kernel_size\": required"),
    ({"type": "Conv2d", "in": 1, "out": 2, "kernel_size": 3, "stride": 0},
     "layers\\[0\\].stride\": expected an int >= 1"),
    ({"type": "Conv2d", "in": 1, "out": 2, "kernel_size": 3, "padding": "full"},
     "or 'valid', or 'same', got"),
    ({"type": "MaxPool2d", "kernel_size": [2, 2, 2]}, "kernel_size\": expected"),
    ({"type": "Dropout2d", "p": 1.5}, "p\": expected a number in"),
])
def test_bad_spec_names_the_field(layer, message):
    with pytest.raises(nn.SpecError, match=message):
        nn.build({"layers": [layer]})


def test_checkpoint_round_trip(tmp_path):
    net = _convnet()
    net(tg.randn(4, 1, 8, 8))  # move the batchnorm running statistics off their start
    path = tmp_path / "convnet.ckpt"
    io.save(path, net)
    loaded = io.load(path).model
    assert repr(loaded) == repr(net)
    for (name, a), (_, b) in zip(net.state_dict().items(), loaded.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(getattr(a, "data", a)),
                                      np.asarray(getattr(b, "data", b)), err_msg=name)
    net.eval()
    loaded.eval()
    x = tg.randn(2, 1, 8, 8)
    np.testing.assert_array_equal(net(x).data, loaded(x).data)


def test_summary_lists_conv_layers_and_shapes():
    text = repr(tg.summary(_convnet(), (2, 1, 8, 8)))
    assert "Conv2d" in text and "(2, 4, 8, 8)" in text and "(2, 4, 4, 4)" in text
    assert "Total params: 147" in text  # 40 + 8 + (6*2*3*2 + 6) + (6*3 + 3)


@pytest.mark.parametrize("make,error,message", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, "divisible by groups"),
    (lambda: nn.Conv2d(3, 4, 0), ValueError, "Conv2d: kernel_size must be positive"),
    (lambda: nn.Conv2d(3, 4, (1, 2, 3)), ValueError, "Conv2d: kernel_size must be an int or"),
    (lambda: nn.Conv2d(3, 4, 3, padding_mode="reflect"), NotImplementedError, "padding_mode"),
    (lambda: nn.Conv1d(3, 4, (3, 3)), ValueError, "Conv1d: kernel_size must be a positive int"),
    (lambda: nn.MaxPool2d(2, ceil_mode=True), NotImplementedError, "ceil_mode"),
    (lambda: nn.Dropout2d(2.0), ValueError, "p \\(the drop probability\\) must be in"),
    (lambda: nn.BatchNorm2d(3)(tg.zeros(2, 3)), ValueError, "BatchNorm2d: expected input"),
    (lambda: nn.Conv2d(3, 4, 3)(tg.zeros(1, 2, 5, 5)), ValueError, "conv2d: input"),
])
def test_bad_layers_raise_clear_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_draw_model_shows_conv_layers():
    pytest.importorskip("graphviz")
    source = tg.viz.draw_model(_convnet(), (2, 1, 8, 8)).source
    assert "Conv2d" in source and "MaxPool2d" in source and "BatchNorm2d" in source
    assert "(4, 1, 3, 3)" in source  # the first conv's weight shape
