"""export.to_torch / from_torch / optimizer_to_torch: identical outputs (float64, 1e-12) in
train and eval mode, identical running statistics, identical continued training, names that
match the checkpoint file, and errors naming an unsupported layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import nn, optim
from tinygrad_nn.export import from_torch, optimizer_to_torch, to_torch

torch = pytest.importorskip("torch")


def _x(shape: tuple[int, ...] = (16, 5), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape)


def _ours(model: nn.Module, x: np.ndarray) -> np.ndarray:
    return model(tg.Tensor(x)).data


def _theirs(module: Any, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


MODELS = {
    "mlp batchnorm": lambda: nn.build("5-7-4-3:tanh,batchnorm,out=sigmoid", dtype=np.float64,
                                      generator=1),
    "layers": lambda: nn.build({"layers": [
        {"type": "Flatten"}, {"type": "Maxout", "in": 5, "out": 6, "pieces": 3},
        {"type": "LeakyReLU", "negative_slope": 0.2}, {"type": "Linear", "in": 6, "out": 4},
        {"type": "BatchNorm1d", "num_features": 4, "momentum": None},
        {"type": "ReLU"}, {"type": "Linear", "in": 4, "out": 3, "bias": False},
        {"type": "Identity"}, {"type": "LogSoftmax"}]}, dtype=np.float64, generator=2),
    "softmax, bn without affine": lambda: nn.Sequential(
        nn.Linear(5, 4, dtype=np.float64, generator=3),
        nn.BatchNorm1d(4, affine=False, dtype=np.float64), nn.Sigmoid(), nn.Softmax()),
}


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_outputs_and_running_stats_are_identical_in_train_and_eval(make: Any) -> None:
    model = make()
    module = to_torch(model)
    assert list(module.state_dict()) == list(model.state_dict())
    for step in range(3):  # training mode: batch statistics, running statistics updated
        x = _x(seed=step)
        assert module.training and model.training
        np.testing.assert_allclose(_theirs(module, x), _ours(model, x), rtol=0, atol=1e-12)
    for key, value in module.state_dict().items():
        np.testing.assert_allclose(value.numpy(), model.state_dict()[key], rtol=0, atol=1e-12,
                                   err_msg=key)
    model.eval()
    module.eval()
    x = _x(seed=9)
    np.testing.assert_allclose(_theirs(module, x), _ours(model, x), rtol=0, atol=1e-12)
    back = from_torch(module)
    assert not back.training
    np.testing.assert_allclose(_ours(back, x), _theirs(module, x), rtol=0, atol=1e-12)
    assert all(np.array_equal(back.state_dict()[k], v.numpy())
               for k, v in module.state_dict().items())


def test_dropout_exports_as_dropout() -> None:
    model = nn.Sequential(nn.Linear(5, 40, dtype=np.float64, generator=0), nn.Tanh(),
                          nn.Dropout(0.3))
    module = to_torch(model)
    assert isinstance(module[2], torch.nn.Dropout) and module[2].p == 0.3
    x = _x()
    model.eval()
    expected = _ours(model, x)
    trained = _theirs(module, x)  # train mode: each output dropped, or scaled by 1 / (1 - p)
    kept = trained != 0
    assert 0.5 < kept.mean() < 0.9
    np.testing.assert_allclose(trained[kept], expected[kept] / 0.7, rtol=1e-12)
    module.eval()
    np.testing.assert_allclose(_theirs(module, x), expected, rtol=0, atol=1e-12)


def test_from_torch_takes_a_model_built_in_pytorch() -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.BatchNorm1d(8),
                                 torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(8, 2),
                                 torch.nn.LogSoftmax(dim=1)).double().eval()
    model = from_torch(module)
    x = _x()
    np.testing.assert_allclose(_ours(model, x), _theirs(module, x), rtol=0, atol=1e-12)


def test_unsupported_layers_are_named() -> None:
    class Custom(nn.Module):
        def forward(self, x: tg.Tensor) -> tg.Tensor:
            return x

    with pytest.raises(TypeError, match=r"layer model\[1\] \(Custom\) is not supported"):
        to_torch(nn.Sequential(nn.Linear(2, 2), Custom()))
    with pytest.raises(TypeError, match=r"layer module\[0\] \(Conv3d\) is not supported"):
        from_torch(torch.nn.Sequential(torch.nn.Conv3d(1, 1, 1)))


def test_the_checkpoint_file_loads_into_the_exported_module(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    model = MODELS["layers"]()
    model(tg.Tensor(_x()))  # running statistics away from their initial values
    opt = optim.Adam(model.parameters(), lr=0.01)
    path = tmp_path / "m.safetensors"
    tg.save(path, model, opt)
    module = to_torch(nn.build(model.spec(), dtype=np.float64, generator=5))
    tensors = {k: v for k, v in load_file(str(path)).items() if not k.startswith("optimizer.")}
    module.load_state_dict(tensors, strict=True)
    module.eval()
    model.eval()
    np.testing.assert_allclose(_theirs(module, _x(seed=4)), _ours(model, _x(seed=4)), rtol=0,
                               atol=1e-12)


def _loss_ours(model: nn.Module, step: int) -> tg.Tensor:
    rng = np.random.default_rng(100 + step)
    return nn.functional.cross_entropy(model(tg.Tensor(rng.normal(size=(16, 5)))),
                                       tg.Tensor(rng.integers(0, 3, size=16)))


def _loss_theirs(module: Any, step: int) -> Any:
    rng = np.random.default_rng(100 + step)
    x = torch.from_numpy(rng.normal(size=(16, 5)))
    return torch.nn.functional.cross_entropy(module(x), torch.from_numpy(
        rng.integers(0, 3, size=16)))


OPTIMIZERS = {
    "sgd nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                        weight_decay=1e-3),
    "sgd dampening": lambda p: optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.2),
    "adam amsgrad": lambda p: optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=1e-3),
    "adamw": lambda p: optim.AdamW(p, lr=0.01, betas=(0.8, 0.99)),
    "rmsprop centered": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.05, lr_decay=0.01),
}


@pytest.mark.parametrize("make_opt", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_training_continues_identically_in_pytorch(make_opt: Any) -> None:
    # NOTE: no bias before BatchNorm: its true gradient is 0, so it would get rounding noise,
    # which Adam-like optimizers scale up to full-size steps that differ between libraries.
    model = nn.build({"layers": [{"type": "Linear", "in": 5, "out": 7, "bias": False},
                                 {"type": "BatchNorm1d", "num_features": 7}, {"type": "Tanh"},
                                 {"type": "Linear", "in": 7, "out": 3}]},
                     dtype=np.float64, generator=1)
    params = list(model.parameters())
    opt = make_opt([{"params": params[:2]}, {"params": params[2:]}])
    opt.param_groups[1]["lr"] *= 0.5
    for step in range(3):
        opt.zero_grad()
        _loss_ours(model, step).backward()
        opt.step()
    module = to_torch(model)
    torch_opt = optimizer_to_torch(opt, model, module)
    assert type(torch_opt).__name__ == type(opt).__name__
    for step in range(3, 13):
        opt.zero_grad()
        _loss_ours(model, step).backward()
        opt.step()
        torch_opt.zero_grad()
        _loss_theirs(module, step).backward()
        torch_opt.step()
    for key, value in module.state_dict().items():
        np.testing.assert_allclose(value.numpy(), model.state_dict()[key], rtol=1e-10,
                                   atol=1e-12, err_msg=key)


def test_optimizer_parameters_must_belong_to_the_model() -> None:
    model = MODELS["mlp batchnorm"]()
    stranger = nn.Parameter(np.ones(2))
    opt = optim.SGD([*model.parameters(), stranger], lr=0.1)
    with pytest.raises(ValueError, match="a parameter of group 0 is not in the model"):
        optimizer_to_torch(opt, model, to_torch(model))


CONV_MODELS = {
    "conv2d": (lambda: nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, dtype=np.float64, generator=0),
        nn.BatchNorm2d(4, dtype=np.float64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, (3, 2), stride=(1, 2), groups=2, bias=False, dtype=np.float64,
                  generator=1),
        nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False), nn.Tanh(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3, dtype=np.float64, generator=2)),
        (4, 3, 8, 8)),
    "conv1d": (lambda: nn.Sequential(
        nn.Conv1d(2, 4, 3, padding="same", dtype=np.float64, generator=0), nn.Sigmoid(),
        nn.Conv1d(4, 2, 2, stride=2, dilation=2, dtype=np.float64, generator=1), nn.Flatten()),
        (3, 2, 9)),
}


@pytest.mark.parametrize("case", CONV_MODELS.values(), ids=CONV_MODELS.keys())
def test_convnets_are_identical_in_train_and_eval(case: Any) -> None:
    make, shape = case
    model = make()
    module = to_torch(model)
    assert list(module.state_dict()) == list(model.state_dict())
    for step in range(2):
        x = _x(shape, seed=step)
        np.testing.assert_allclose(_theirs(module, x), _ours(model, x), rtol=0, atol=1e-12)
    model.eval()
    module.eval()
    x = _x(shape, seed=5)
    np.testing.assert_allclose(_theirs(module, x), _ours(model, x), rtol=0, atol=1e-12)
    back = from_torch(module)
    np.testing.assert_allclose(_ours(back, x), _ours(model, x), rtol=0, atol=1e-12)
    assert repr(back) == repr(model)


def test_dropout2d_exports_as_dropout2d() -> None:
    module = to_torch(nn.Sequential(nn.Dropout2d(0.25)))
    assert isinstance(module[0], torch.nn.Dropout2d) and module[0].p == 0.25
    assert isinstance(from_torch(module)[0], nn.Dropout2d)
    with pytest.raises(TypeError, match=r"layer module\[0\] \(MaxPool2d\) is not supported"):
        from_torch(torch.nn.Sequential(torch.nn.MaxPool2d(2, ceil_mode=True)))


def test_weights_pytorch_saved_as_safetensors_load_here(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    from tinygrad_nn import checkpoint

    torch.manual_seed(3)
    module = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.BatchNorm1d(6),
                                 torch.nn.Tanh(), torch.nn.Linear(6, 2)).double()
    module(torch.from_numpy(_x()))  # running statistics away from 0 and 1
    module.eval()
    path = tmp_path / "from_pytorch.safetensors"
    save_file(module.state_dict(), str(path), metadata={"format": "pt"})
    model = nn.build("5-6-2:tanh,batchnorm", dtype=np.float64).eval()
    model.load_state_dict(checkpoint.load_state_dict(path))
    np.testing.assert_allclose(_ours(model, _x(seed=2)), _theirs(module, _x(seed=2)), rtol=0,
                               atol=1e-12)
    with pytest.raises(checkpoint.CheckpointError, match="not a tinygrad_nn checkpoint"):
        tg.load(path)  # no spec, no checksums: only as a state dict
