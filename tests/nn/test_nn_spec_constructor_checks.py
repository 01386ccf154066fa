"""A spec's values are checked by the layer constructors (the one check, issue #10); the spec
reports the constructor's refusal as its own field's error. Each case here was checked only by
nn/spec.py before: the constructor must now refuse it directly, naming the argument, and build
must name the field."""

import pytest

from tinygrad_nn import nn
from tinygrad_nn.nn import SpecError
from tinygrad_nn.validation import BadArgument

CASES = [
    # (layer spec, the field build names, the constructor call, the argument it names)
    ({"type": "Linear", "in": 4, "out": 3, "bias": "no"}, "bias",
     lambda: nn.Linear(4, 3, bias="no"), "bias"),
    ({"type": "LeakyReLU", "negative_slope": "x"}, "negative_slope",
     lambda: nn.LeakyReLU("x"), "negative_slope"),
    ({"type": "Softmax", "axis": 1.5}, "axis", lambda: nn.Softmax(1.5), "axis"),
    ({"type": "Flatten", "end_axis": "a"}, "end_axis", lambda: nn.Flatten(end_axis="a"),
     "end_axis"),
    ({"type": "BatchNorm1d", "num_features": 3, "eps": -1}, "eps",
     lambda: nn.BatchNorm1d(3, eps=-1), "eps"),
    ({"type": "BatchNorm1d", "num_features": 3, "affine": 1}, "affine",
     lambda: nn.BatchNorm1d(3, affine=1), "affine"),
    ({"type": "Conv2d", "in": 1, "out": 2, "kernel_size": 3, "padding": -1}, "padding",
     lambda: nn.Conv2d(1, 2, 3, padding=-1), "padding"),
    ({"type": "Conv1d", "in": 1, "out": 2, "kernel_size": 3, "padding": "full"}, "padding",
     lambda: nn.Conv1d(1, 2, 3, padding="full"), "padding"),
    ({"type": "MaxPool2d", "kernel_size": 2, "dilation": 0}, "dilation",
     lambda: nn.MaxPool2d(2, dilation=0), "dilation"),
    ({"type": "AvgPool2d", "kernel_size": 2, "count_include_pad": 1}, "count_include_pad",
     lambda: nn.AvgPool2d(2, count_include_pad=1), "count_include_pad"),
    ({"type": "AvgPool2d", "kernel_size": 2, "divisor_override": 0}, "divisor_override",
     lambda: nn.AvgPool2d(2, divisor_override=0), "divisor_override"),
    ({"type": "AdaptiveAvgPool2d", "output_size": 0}, "output_size",
     lambda: nn.AdaptiveAvgPool2d(0), "output_size"),
]


@pytest.mark.parametrize("spec, field, construct, argument", CASES,
                         ids=[f"{c[0]['type']}.{c[1]}" for c in CASES])
def test_the_constructor_refuses_and_the_spec_names_the_field(spec, field, construct, argument):
    with pytest.raises(BadArgument) as error:
        construct()
    assert error.value.argument == argument and f": {argument} " in str(error.value)
    with pytest.raises(SpecError, match=f'spec field "layers\\[0\\].{field}": expected '):
        nn.build({"layers": [spec]})


def test_a_check_across_fields_names_the_layer():
    with pytest.raises(SpecError, match=r'spec field "layers\[1\]": Conv2d: in_channels \(3\) '
                       "and out_channels"):
        nn.build({"layers": [{"type": "ReLU"},
                             {"type": "Conv2d", "in": 3, "out": 4, "kernel_size": 3,
                              "groups": 2}]})


@pytest.mark.parametrize("sizes", ["784", 784, "12"])
def test_mlp_sizes_not_a_sequence_is_named_as_given(sizes):
    # "12" was read as the sizes ["1", "2"] ("sizes[0] must be a positive int, got '1'") and
    # 784 as [784]: the message names what was passed
    with pytest.raises(BadArgument, match=f"MLP: sizes must be a list of ints .*, got {sizes!r}"):
        nn.MLP(sizes)
