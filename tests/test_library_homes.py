"""The facts the command line used to keep to itself, now library functions with one home each:
optimizer and scheduler factories, datasets by name, the config reader, one-hot losses, the
weights that weight decay applies to, a model's input/output sizes."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn import nn, optim
from tinygrad_nn.config import read_document
from tinygrad_nn.data import load_dataset
from tinygrad_nn.nn.layers import in_out_features
from tinygrad_nn.nn.module import split_weights


def test_get_optimizer_decays_the_weights_only_and_defaults_the_lr():
    model = nn.MLP([3, 5, 2])
    sgd = optim.get_optimizer(model, "sgd", weight_decay=0.1, momentum=0.9)
    weights, others = split_weights(model.parameters())
    assert [p.ndim for p in weights] == [2, 2] and [p.ndim for p in others] == [1, 1]
    assert [g["weight_decay"] for g in sgd.param_groups] == [0.1, 0.0]
    assert [len(g["params"]) for g in sgd.param_groups] == [2, 2]
    assert sgd.param_groups[0]["lr"] == 0.1 and sgd.param_groups[0]["momentum"] == 0.9
    adam = optim.get_optimizer(model.parameters(), "adam")
    assert isinstance(adam, optim.Adam) and adam.param_groups[0]["lr"] == 1e-3
    with pytest.raises(ValueError, match="momentum and nesterov apply to sgd, not adam"):
        optim.get_optimizer(model, "adam", momentum=0.9)
    with pytest.raises(ValueError, match="unknown optimizer 'lion'"):
        optim.get_optimizer(model, "lion")


def test_get_scheduler_reads_the_compact_strings():
    opt = optim.get_optimizer(nn.MLP([3, 2]), "sgd", lr=1.0)
    step = optim.get_scheduler(opt, "step:2:0.5")
    assert isinstance(step, optim.StepLR) and (step.step_size, step.gamma) == (2, 0.5)
    assert isinstance(optim.get_scheduler(opt, "plateau"), optim.ReduceLROnPlateau)
    assert optim.get_scheduler(opt, "none") is None and optim.get_scheduler(opt, None) is None
    for bad in ("sometimes", "step", "exp:x"):
        with pytest.raises(ValueError, match=repr(bad)):
            optim.get_scheduler(opt, bad)


def test_load_dataset_takes_plain_arguments(tmp_path):
    splits = load_dataset("moons", n_samples=100, test_fraction=0.2, validation=True, limit=10,
                          dtype="float64", seed=1)
    (X, y), (X_val, _), (X_test, _) = splits["train"], splits["val"], splits["test"]
    assert X.shape == (10, 2) and X.dtype == np.float64 and y.dtype.kind in "iu"
    assert len(X_test) == 20 and len(X_val) == 16
    assert load_dataset("xor", n_samples=50)["val"] is None
    with pytest.raises(ValueError, match="unknown dataset 'iris'"):
        load_dataset("iris")
    with pytest.raises(FileNotFoundError, match="MNIST not found .*downloading was off"):
        load_dataset("mnist", data_dir=tmp_path, download=False)


def test_read_document_reads_json_and_toml_and_names_the_file(tmp_path):
    (tmp_path / "a.json").write_text('{"lr": 0.5}')
    (tmp_path / "a.toml").write_text('lr = 0.5\n[optimizer]\nname = "sgd"\n')
    assert read_document(tmp_path / "a.json") == {"lr": 0.5}
    assert read_document(tmp_path / "a.toml") == {"lr": 0.5, "optimizer": {"name": "sgd"}}
    (tmp_path / "bad.toml").write_text("lr = = 1")
    with pytest.raises(ValueError, match="config file .*bad.toml.*invalid TOML"):
        read_document(tmp_path / "bad.toml", "config file")
    with pytest.raises(ValueError, match="unknown extension '.yaml'"):
        (tmp_path / "a.yaml").write_text("lr: 1")
        read_document(tmp_path / "a.yaml")
    with pytest.raises(FileNotFoundError, match="spec file .*missing.json' does not exist"):
        read_document(tmp_path / "missing.json", "spec file")


def test_which_losses_take_one_hot_targets():
    assert [nn.takes_one_hot(n) for n in ("quadratic", "mse", "bce", "bce-with-logits")] == [
        True] * 4
    assert not nn.takes_one_hot("cross-entropy") and not nn.takes_one_hot("nll")
    assert nn.takes_one_hot(nn.MSELoss()) and not nn.takes_one_hot(nn.CrossEntropyLoss())
    assert nn.takes_one_hot(nn.functional.quadratic_cost)
    assert not nn.takes_one_hot(nn.functional.cross_entropy)


def test_in_out_features_from_the_first_and_last_linear():
    assert in_out_features(nn.MLP([784, 30, 10])) == (784, 10)
    assert in_out_features(nn.Sequential(nn.Sequential(nn.Linear(3, 4)), nn.ReLU(),
                                         nn.Linear(4, 2))) == (3, 2)
    with pytest.raises(ValueError, match="Sequential has no Linear layer"):
        in_out_features(nn.Sequential(nn.ReLU()))
