"""Declarative specs: dict, compact string, JSON and TOML files; round trips; invalid specs."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import nn
from tinygrad_nn.nn import SpecError, build

NIELSEN = {"sizes": [784, 30, 10], "activation": "sigmoid", "output_activation": "sigmoid",
           "init": "nielsen"}


def shapes(model):
    return [(name, p.shape) for name, p in model.named_parameters()]


def assert_same_architecture(a, b):
    assert repr(a) == repr(b)
    assert shapes(a) == shapes(b)
    assert [(n, t.shape) for n, t in a.named_buffers()] == [
        (n, t.shape) for n, t in b.named_buffers()]
    assert a.spec() == b.spec()


EVERY_LAYER = nn.Sequential(
    nn.Flatten(), nn.Linear(12, 8, bias=False, init="xavier"), nn.BatchNorm1d(8, momentum=None),
    nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Maxout(8, 6, pieces=3), nn.ReLU(), nn.Tanh(),
    nn.Sigmoid(), nn.Identity(), nn.Linear(6, 4),
    nn.BatchNorm1d(4, eps=1e-3, momentum=0.2, affine=False, track_running_stats=False),
    nn.Sequential(nn.Softmax(axis=-1), nn.LogSoftmax(axis=1)),
    nn.MLP([4, 5, 3], activation="tanh", dropout=0.1, batchnorm=True, bias=False),
)


@pytest.mark.parametrize("model", [
    nn.MLP([784, 30, 10], activation="sigmoid", output_activation="sigmoid", init="nielsen"),
    nn.MLP([784, 100, 50, 10], dropout=0.5, batchnorm=True, init="kaiming"),
    nn.MLP([2, 1], output_activation="log_softmax", bias=False),
    EVERY_LAYER,
    nn.Linear(3, 2),
    nn.BatchNorm1d(5),
], ids=["nielsen", "mlp-dropout-bn", "mlp-single", "every-layer", "linear", "batchnorm"])
def test_build_of_spec_rebuilds_the_architecture(model, tmp_path):
    assert_same_architecture(build(model.spec()), model)
    # the spec is plain JSON data: it survives a file round trip unchanged
    path = tmp_path / "model.json"
    nn.save_spec(model, path)
    assert json.loads(path.read_text()) == model.spec()
    assert_same_architecture(build(path), model)
    assert_same_architecture(build(str(path)), model)
    assert_same_architecture(build(model), model)


def test_dict_forms_with_and_without_type():
    model = build(NIELSEN)
    assert isinstance(model, nn.MLP)
    assert [type(m).__name__ for m in model] == ["Linear", "Sigmoid", "Linear", "Sigmoid"]
    assert model.spec() == {"type": "MLP", "sizes": [784, 30, 10], "activation": "sigmoid",
                            "output_activation": "sigmoid", "dropout": 0.0, "batchnorm": False,
                            "bias": True, "init": "nielsen"}
    layers = build({"layers": [{"type": "Linear", "in": 784, "out": 30}, {"type": "sigmoid"},
                               {"type": "linear", "in": 30, "out": 10}]})
    assert isinstance(layers, nn.Sequential) and len(layers) == 3
    assert shapes(layers) == [("0.weight", (30, 784)), ("0.bias", (30,)),
                              ("2.weight", (10, 30)), ("2.bias", (10,))]
    assert isinstance(build({"type": "ReLU"}), nn.ReLU)


@pytest.mark.parametrize("text, expected", [
    ("784-30-10:sigmoid,out=sigmoid,init=nielsen", NIELSEN),
    ("784-100-10", {"sizes": [784, 100, 10]}),
    ("784-100-10:relu,dropout=0.5,batchnorm",
     {"sizes": [784, 100, 10], "activation": "relu", "dropout": 0.5, "batchnorm": True}),
    (" 2 - 10 - 2 : tanh , nobias , out = softmax ",
     {"sizes": [2, 10, 2], "activation": "tanh", "bias": False, "output_activation": "softmax"}),
    ("4-3:activation=leaky_relu,bias=false,batchnorm=false,output_activation=none",
     {"sizes": [4, 3], "activation": "leaky_relu", "bias": False, "batchnorm": False,
      "output_activation": None}),
])
def test_compact_strings(text, expected):
    assert_same_architecture(build(text), build(expected))


@pytest.mark.parametrize("model", [
    nn.MLP([784, 30, 10], activation="sigmoid", output_activation="sigmoid", init="nielsen"),
    nn.MLP([784, 100, 10], dropout=0.5, batchnorm=True, bias=False),
    nn.MLP([3, 2]),
])
def test_spec_to_string_round_trip(model):
    text = nn.spec_to_string(model)
    assert_same_architecture(build(text), model)
    assert nn.spec_to_string(build(text)) == text


def test_spec_to_string_examples_and_layer_lists():
    assert nn.spec_to_string(NIELSEN) == "784-30-10:sigmoid,out=sigmoid,init=nielsen"
    assert nn.spec_to_string("784-100-10:dropout=0.5,batchnorm") == (
        "784-100-10:relu,dropout=0.5,batchnorm")
    with pytest.raises(SpecError, match="only the MLP form has a compact string"):
        nn.spec_to_string(EVERY_LAYER)


def test_toml_file_written_by_hand(tmp_path):
    path = tmp_path / "net.toml"
    path.write_text(
        '# Nielsen network2\n'
        'sizes = [784, 30, 10]\n'
        'activation = "sigmoid"\n'
        'output_activation = "sigmoid"\n'
        'init = "nielsen"\n'
    )
    assert_same_architecture(build(path), build(NIELSEN))
    layers = tmp_path / "layers.toml"
    layers.write_text(
        '[[layers]]\ntype = "Linear"\nin = 4\nout = 3\n\n'
        '[[layers]]\ntype = "BatchNorm1d"\nnum_features = 3\nmomentum = "none"\n\n'
        '[[layers]]\ntype = "ReLU"\n'
    )
    model = build(layers)
    assert isinstance(model[1], nn.BatchNorm1d) and model[1].momentum is None


def test_files_with_a_model_section(tmp_path):
    toml = tmp_path / "config.toml"
    toml.write_text('[model]\nsizes = [2, 10, 2]\nactivation = "tanh"\n\n'
                    '[optim]\nname = "sgd"\nlr = 0.1\n')
    assert_same_architecture(build(toml), build("2-10-2:tanh"))
    js = tmp_path / "config.json"
    js.write_text(json.dumps({"model": "2-10-2:tanh", "epochs": 5}))
    assert_same_architecture(build(js), build("2-10-2:tanh"))


def test_build_passes_dtype_and_generator():
    a = build("5-4-3:dropout=0.5", dtype=np.float64, generator=0)
    b = build("5-4-3:dropout=0.5", dtype=np.float64, generator=0)
    assert all(p.dtype == np.float64 for p in a.parameters())
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    x = tg.ones(8, 5, dtype=np.float64)
    np.testing.assert_array_equal(a(x).data, b(x).data)  # same dropout masks too
    c = build("5-4-3", generator=1)
    assert not np.array_equal(c[0].weight.data, a[0].weight.data.astype(np.float32))


def test_mlp_spec_falls_back_to_layers_after_editing():
    model = nn.MLP([3, 4, 2])
    model.append(nn.Softmax())
    spec = model.spec()
    assert spec["type"] == "Sequential" and spec["layers"][-1] == {"type": "Softmax", "axis": -1}
    assert_same_architecture(build(spec), nn.Sequential(*model))


def test_custom_init_callable_is_left_out_of_the_spec():
    def custom(weight, bias, generator):
        nn.init.ones_(weight)

    assert "init" not in nn.Linear(2, 3, init=custom).spec()
    assert "init" not in nn.MLP([2, 3], init=custom).spec()


# --------------------------------------------------------------------------------------------
# invalid specs: the message names the field and what is allowed
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec, message", [
    ({"sizes": [784, 30, 10], "activation": "sigmod"},
     'spec field "activation": unknown value "sigmod"; allowed: relu, sigmoid, tanh, '
     "leaky_relu, identity"),
    ("784-30-10:sigmod", 'spec field "activation": unknown value "sigmod"; allowed: relu'),
    ({"sizes": [784]}, 'spec field "sizes": expected a list of at least 2 positive ints'),
    ({"sizes": [784, -3, 10]}, 'spec field "sizes": expected a list of at least 2 positive'),
    ({"sizes": [2, 3], "activaton": "relu"},
     'spec field "activaton": unknown field for MLP; allowed: type, sizes, activation'),
    ({"sizes": [2, 3], "dropout": 1.0}, 'spec field "dropout": expected a number in '
     "[0.0, 1.0), got 1.0"),
    ({"sizes": [2, 3], "batchnorm": "yes"}, 'spec field "batchnorm": expected true or false, '
     'got "yes"'),
    ({"sizes": [2, 3], "init": "glorot"}, 'spec field "init": unknown value "glorot"; allowed: '
     "pytorch, nielsen, nielsen_large, rashid, xavier"),
    ({"sizes": [2, 3], "output_activation": "soft"},
     'spec field "output_activation": unknown value "soft"; allowed: relu, sigmoid, tanh, '
     "leaky_relu, identity, softmax, log_softmax, none"),
    ({"layers": [{"type": "Linear", "in": 4, "out": 3}, {"type": "LSTM"}]},
     'spec field "layers[1].type": unknown value "LSTM"; allowed: Linear, Maxout'),
    ({"layers": [{"type": "Linear", "in": 4}]},
     'spec field "layers[0].out": required for Linear (a positive int)'),
    ({"layers": [{"type": "Linear", "in": 4.5, "out": 3}]},
     'spec field "layers[0].in": expected a positive int, got 4.5'),
    ({"layers": [{"type": "Linear", "in": True, "out": 3}]},
     'spec field "layers[0].in": expected a positive int, got true'),
    ({"layers": [{"type": "ReLU", "inplace": True}]},
     'spec field "layers[0].inplace": unknown field for ReLU; allowed: type (no other fields)'),
    ({"layers": [{"type": "Sequential", "layers": [{"type": "Dropout", "p": 2}]}]},
     'spec field "layers[0].layers[0].p": expected a number in [0.0, 1.0], got 2'),
    ({"layers": [{"type": "BatchNorm1d", "num_features": 3, "momentum": 1.5}]},
     'spec field "layers[0].momentum": expected a number in [0, 1], or none'),
    ({"layers": "Linear"}, 'spec field "layers": expected a list of layer specs, got "Linear"'),
    ({"layers": [], "name": "x"}, 'spec field "name": unknown field for Sequential'),
    ({"layers": ["relu"]}, 'spec field "layers[0]": expected a table/object, got "relu"'),
    ({"activation": "relu"}, 'spec field "type": missing'),
    ("784x30x10", 'spec field "sizes": expected sizes joined by \'-\' like 784-30-10'),
    ("784:relu", 'spec field "sizes": expected sizes joined by'),
    ("784-30:act=relu", 'spec field "act": unknown option in the spec string'),
    ("784-30:dropout=half", 'spec field "dropout": expected a number'),
    ("784-30:bias=maybe", 'spec field "bias": expected true or false'),
    (42, "spec: expected a dict, a compact string"),
])
def test_invalid_specs_name_the_field_and_what_is_allowed(spec, message):
    with pytest.raises(SpecError) as info:
        build(spec)
    assert message in str(info.value)


def test_invalid_files(tmp_path):
    with pytest.raises(SpecError, match="does not exist"):
        build(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SpecError, match="invalid JSON"):
        build(bad)
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("sizes = [1, 2")
    with pytest.raises(SpecError, match="invalid TOML"):
        build(bad_toml)
    yaml = tmp_path / "net.yaml"
    yaml.write_text("sizes: [1, 2]")
    with pytest.raises(SpecError, match="unknown extension '.yaml'; allowed: .json, .toml"):
        build(yaml)
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]")
    with pytest.raises(SpecError, match="expected a table/object, got list"):
        build(listing)
    field = tmp_path / "field.toml"  # a value the constructor refuses: the file and the field
    field.write_text('[[layers]]\ntype = "BatchNorm1d"\nnum_features = 3\nmomentum = 1.5\n')
    with pytest.raises(SpecError, match=r"spec file '.*field.toml': spec field "
                       r'"layers\[0\].momentum": expected a number in \[0, 1\]'):
        build(field)
    with pytest.raises(SpecError, match=r"spec file '.*field.toml': spec field"):
        build(str(field))
    compact = tmp_path / "compact.json"  # a compact string in a file: the file is named too
    compact.write_text('"2-x-2"')
    with pytest.raises(SpecError, match=r"spec file '.*compact.json': spec field \"sizes\""):
        build(compact)
    with pytest.raises(SpecError, match="only .json is written"):
        nn.save_spec(NIELSEN, tmp_path / "x.toml")
