"""Module mechanics: finding state by walking attributes, modes, state_dict, hooks, repr."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import nn
from tinygrad_nn.nn import Buffer, Module, Parameter, StateDictError


class Block(Module):
    """A module holding state in every kind of place the walk must look."""

    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 4)
        self.scale = Parameter(np.ones(4, dtype=np.float32))  # the layers' dtype
        self.layers = [nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)]
        self.heads = {"a": nn.Linear(2, 1), "b": nn.Linear(2, 1, bias=False)}
        self.pair = (Parameter(np.zeros(2, dtype=np.float32)), nn.BatchNorm1d(2))
        self.not_state = tg.Tensor([1.0, 2.0])  # a plain Tensor is not a parameter
        self.numbers = [1, 2, 3]

    def forward(self, x):
        x = self.first(x) * self.scale
        for layer in self.layers:
            x = layer(x)
        return self.heads["a"](self.pair[1](x + self.pair[0]))


def names(pairs):
    return [name for name, _ in pairs]


def test_named_parameters_walks_attributes_in_order_with_dotted_names():
    assert names(Block().named_parameters()) == [
        "first.weight", "first.bias", "scale",
        "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
        "heads.a.weight", "heads.a.bias", "heads.b.weight",
        "pair.0", "pair.1.weight", "pair.1.bias",
    ]
    block = Block()
    assert [id(p) for p in block.parameters()] == [id(p) for _, p in block.named_parameters()]
    assert all(isinstance(p, Parameter) and p.requires_grad for p in block.parameters())


def test_buffers_are_found_and_kept_apart_from_parameters():
    block = Block()
    assert names(block.named_buffers()) == [
        "pair.1.running_mean", "pair.1.running_var", "pair.1.num_batches_tracked"]
    assert not any(isinstance(b, Parameter) for b in block.buffers())
    assert "pair.1.running_mean" not in names(block.named_parameters())


def test_register_buffer_wraps_values_as_buffers():
    layer = nn.Linear(2, 2)
    layer.register_buffer("counts", np.zeros(3, np.int64))
    layer.register_buffer("empty", None)
    assert isinstance(layer.counts, Buffer) and layer.empty is None
    assert [n for n, _ in layer.named_buffers()] == ["counts"]
    assert "counts" in layer.state_dict() and "counts" not in dict(layer.named_parameters())


def test_children_and_modules():
    block = Block()
    assert names(block.named_children()) == [
        "first", "layers.0", "layers.1", "layers.2", "heads.a", "heads.b", "pair.1"]
    assert names(block.named_modules()) == [
        "", "first", "layers.0", "layers.1", "layers.2", "heads.a", "heads.b", "pair.1"]
    assert list(block.modules())[0] is block
    assert list(block.children())[0] is block.first
    seq = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    assert names(seq.named_modules()) == ["", "0", "1", "1.0", "1.1"]
    assert names(seq.named_parameters()) == ["0.weight", "0.bias", "1.1.weight", "1.1.bias"]


def test_shared_parameters_and_modules_are_listed_once():
    class Tied(Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Linear(3, 3)
            self.decoder = nn.Linear(3, 3)
            self.decoder.weight = self.encoder.weight  # tied weights
            self.again = self.encoder  # the same module twice

    tied = Tied()
    assert names(tied.named_parameters()) == ["encoder.weight", "encoder.bias", "decoder.bias"]
    assert names(tied.named_modules()) == ["", "encoder", "decoder"]
    assert names(tied.named_children()) == ["encoder", "decoder"]
    assert list(tied.state_dict()) == ["encoder.weight", "encoder.bias", "decoder.bias"]


def test_reference_cycles_do_not_loop():
    parent = nn.Sequential(nn.Linear(2, 2))
    child = parent[0]
    child.owner = parent  # a back reference
    assert names(parent.named_parameters()) == ["0.weight", "0.bias"]
    assert len(list(parent.modules())) == 2


def test_typo_raises_attribute_error_with_a_suggestion():
    layer = nn.Linear(2, 3)
    with pytest.raises(AttributeError, match=r"no attribute 'wieght'; did you mean 'weight'"):
        layer.wieght  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'anything'"):
        Block().anything  # noqa: B018
    assert getattr(layer, "missing", "default") == "default"
    assert layer.bias is not None and nn.Linear(2, 3, bias=False).bias is None


def test_train_and_eval_propagate_to_every_module():
    block = Block()
    assert block.eval() is block
    assert all(not m.training for m in block.modules())
    assert not block.layers[1].training and not block.pair[1].training
    block.train()
    assert all(m.training for m in block.modules())
    block.train(False)
    assert not block.heads["b"].training


def test_zero_grad_sets_grads_to_none_or_zeros():
    layer = nn.Linear(3, 2)
    layer(tg.randn(4, 3)).sum().backward()
    assert layer.weight.grad is not None
    layer.zero_grad(set_to_none=False)
    assert np.all(layer.weight.grad.data == 0) and layer.weight.grad.shape == (2, 3)
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None


def test_requires_grad_freezes_parameters():
    layer = nn.Linear(3, 2).requires_grad_(False)
    assert not any(p.requires_grad for p in layer.parameters())
    assert not layer(tg.randn(2, 3)).requires_grad


def test_parameter_must_be_floating():
    with pytest.raises(TypeError, match="only floating-point"):
        Parameter(np.array([1, 2]))
    p = Parameter(np.array([1.0], dtype=np.float64))
    assert p.dtype == np.float64 and p.requires_grad and p.is_leaf


def test_to_double_converts_floats_and_keeps_integer_buffers():
    block = Block().double()
    assert all(p.dtype == np.float64 for p in block.parameters())
    bn = block.pair[1]
    assert bn.running_mean.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64
    out = block(tg.randn(5, 3, dtype=np.float64))
    assert out.dtype == np.float64


def test_forgetting_super_init_still_works():
    class Bare(Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

        def forward(self, x):
            return self.layer(x)

    bare = Bare()
    assert bare.training and bare(tg.randn(1, 2)).shape == (1, 2)
    bare.register_forward_hook(lambda m, i, o: None)
    assert names(bare.named_parameters()) == ["layer.weight", "layer.bias"]


def test_custom_module_has_no_spec():
    with pytest.raises(TypeError, match="Block has no declarative spec"):
        Block().spec()


def test_forward_is_required():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        Module()(1)


# --------------------------------------------------------------------------------------------
# state_dict / load_state_dict
# --------------------------------------------------------------------------------------------


def test_state_dict_holds_copies_of_parameters_and_buffers():
    block = Block()
    state = block.state_dict()
    assert list(state) == names(block._named_state())
    assert "pair.1.running_var" in state and "scale" in state
    state["scale"][:] = 7.0
    assert np.all(block.scale.data == 1.0)  # a copy, not the model's array


def test_state_dict_round_trip_reproduces_outputs():
    tg.manual_seed(1)
    source, target = Block(), Block()
    x = tg.randn(6, 3)
    source.train()(x)  # move the running stats away from their initial values
    source.eval()
    target.eval()
    assert not np.allclose(source(x).data, target(x).data)
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(source(x).data, target(x).data)
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items(),
                                 strict=True):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_load_state_dict_writes_in_place():
    layer = nn.Linear(2, 2)
    weight_array = layer.weight.data
    layer.load_state_dict({"weight": np.ones((2, 2), np.float32),
                           "bias": np.zeros(2, np.float32)})
    assert layer.weight.data is weight_array and np.all(weight_array == 1)


def snapshot(module):
    return {k: v.copy() for k, v in module.state_dict().items()}


def assert_unchanged(module, before):
    after = module.state_dict()
    assert list(after) == list(before)
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)


@pytest.mark.parametrize("change, expected", [
    (lambda s: s.pop("layers.2.weight"), r'"layers\.2\.weight": missing from the state'),
    (lambda s: s.__setitem__("layers.9.weight", np.ones(3)),
     r'"layers\.9\.weight": unexpected \(not in the model\)'),
    (lambda s: s.__setitem__("layers.2.weight", np.ones((3, 4), np.float32)),
     r'"layers\.2\.weight": shape \(3, 4\) in the state, shape \(2, 4\) in the model'),
    (lambda s: s.__setitem__("layers.2.bias", np.ones(2, np.float64)),
     r'"layers\.2\.bias": dtype float64 in the state, dtype float32 in the model'),
])
def test_load_state_dict_rejects_bad_states_and_changes_nothing(change, expected):
    model = Block()
    state = {k: v + 1 for k, v in Block().state_dict().items()}  # differs from model everywhere
    change(state)
    before = snapshot(model)
    with pytest.raises(StateDictError, match=expected) as info:
        model.load_state_dict(state)
    assert "nothing was loaded" in str(info.value)
    assert_unchanged(model, before)  # keys before the bad one were not written either


def test_load_state_dict_reports_every_problem_at_once():
    model = Block()
    state = model.state_dict()
    state["first.weight"] = np.ones((4, 4), np.float32)
    del state["scale"]
    state["extra"] = np.ones(1)
    with pytest.raises(StateDictError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "3 problem(s)" in message
    for key in ('"first.weight": shape (4, 4) in the state, shape (4, 3)', '"scale": missing',
                '"extra": unexpected'):
        assert key in message


def test_load_state_dict_non_strict_returns_missing_and_unexpected():
    model = nn.Linear(2, 3)
    result = model.load_state_dict({"weight": np.full((3, 2), 5.0, np.float32),
                                    "extra": np.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert np.all(model.weight.data == 5.0)
    with pytest.raises(StateDictError, match=r"shape \(2, 2\) in the state, shape \(3, 2\)"):
        model.load_state_dict({"weight": np.ones((2, 2), np.float32)}, strict=False)


def test_load_state_dict_accepts_tensors_and_rejects_non_mappings():
    model = nn.Linear(2, 1)
    model.load_state_dict({"weight": tg.Tensor(np.ones((1, 2), np.float32)),
                           "bias": tg.Tensor(np.zeros(1, np.float32))})
    assert np.all(model.weight.data == 1)
    with pytest.raises(TypeError, match="expected a mapping"):
        model.load_state_dict([("weight", np.ones((1, 2)))])


# --------------------------------------------------------------------------------------------
# hooks
# --------------------------------------------------------------------------------------------


def test_forward_hook_sees_inputs_and_output_and_can_be_removed():
    layer = nn.Linear(2, 2)
    calls = []
    handle = layer.register_forward_hook(lambda m, inputs, out: calls.append((m, inputs, out)))
    x = tg.randn(3, 2)
    out = layer(x)
    assert len(calls) == 1
    module, inputs, output = calls[0]
    assert module is layer and inputs[0] is x and output is out
    handle.remove()
    handle.remove()  # idempotent
    layer(x)
    assert len(calls) == 1


def test_forward_hook_can_replace_the_output_and_pre_hook_runs_first():
    layer = nn.Identity()
    order = []
    layer.register_forward_pre_hook(lambda m, inputs: order.append("pre"))
    with layer.register_forward_hook(lambda m, inputs, out: out * 2.0):
        assert layer(tg.Tensor([1.0])).item() == 2.0
    assert layer(tg.Tensor([1.0])).item() == 1.0  # the context manager removed it
    assert order == ["pre", "pre"]


def test_hooks_on_every_module_see_the_nested_order():
    model = nn.MLP([2, 3, 1], activation="tanh")
    seen = []
    for name, module in model.named_modules():
        module.register_forward_hook(lambda m, i, o, name=name: seen.append(name))
    model(tg.randn(4, 2))
    assert seen == ["0", "1", "2", ""]


# --------------------------------------------------------------------------------------------
# repr
# --------------------------------------------------------------------------------------------


def test_repr_is_nested_like_pytorch():
    model = nn.Sequential(nn.Linear(784, 30), nn.Sigmoid(),
                          nn.Sequential(nn.Dropout(0.5), nn.Linear(30, 10, bias=False)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=30, bias=True)\n"
        "  (1): Sigmoid()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.5)\n"
        "    (1): Linear(in_features=30, out_features=10, bias=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.BatchNorm1d(4)) == (
        "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)")
    assert repr(Buffer([1.0])).startswith("Buffer(Tensor(")
