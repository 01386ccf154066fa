"""Weight transfer between tinygrad_nn models and the references' layouts (tinygrad_nn.transfer).

The layouts are checked against the references themselves: a model and its transferred weights
must compute the same outputs, so a transposed or misplaced array cannot pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nn import Tensor, nn
from tinygrad_nn.compare.batch import fix_dropout_masks
from tinygrad_nn.reference import cs231n, nielsen, rashid
from tinygrad_nn.transfer import (
    ArchitectureError,
    cs231n_options,
    from_cs231n,
    from_nielsen,
    from_rashid,
    to_cs231n,
    to_nielsen,
    to_rashid,
)


def nielsen_net(sizes, seed=0, dtype="float64"):
    return nn.MLP(sizes, activation="sigmoid", output_activation="sigmoid", init="nielsen",
                  dtype=dtype, generator=seed)


def rashid_net(sizes=(6, 5, 4), seed=0):
    return nn.MLP(list(sizes), activation="sigmoid", output_activation="sigmoid", init="rashid",
                  bias=False, dtype="float64", generator=seed)


def cs231n_net(seed=0, **kw):
    net = nn.MLP([7, 6, 5, 3], activation="relu", dtype="float64", generator=seed, **kw)
    rng = np.random.default_rng(seed)
    for p in net.parameters():
        p.data += 0.1 * rng.standard_normal(p.shape)  # no symmetric gamma = 1, beta = 0
    return net


X = np.random.default_rng(9).random((8, 7))


def test_nielsen_layout_reproduces_the_model():
    net = nielsen_net([7, 5, 3])
    weights, biases = to_nielsen(net)
    assert [w.shape for w in weights] == [(5, 7), (3, 5)]
    assert [b.shape for b in biases] == [(5, 1), (3, 1)]
    np.testing.assert_allclose(nielsen.feedforward(weights, biases, X.T).T,
                               net(Tensor(X)).data, rtol=1e-14)


def test_cs231n_layout_reproduces_the_model_in_train_and_test_mode():
    net = cs231n_net(batchnorm=True, dropout=0.25)
    params = to_cs231n(net)
    assert sorted(params) == sorted(["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2",
                                     "beta2", "W3", "b3"])
    np.testing.assert_array_equal(params["W1"], net[0].weight.data.T)
    np.testing.assert_array_equal(params["gamma2"], net[5].weight.data)
    masks = [np.random.default_rng(1).random((8, n)) >= 0.25 for n in (6, 5)]
    fix_dropout_masks(net, masks)  # net[3] and net[7]
    options = cs231n_options(net)
    assert options["keep_prob"] == 0.75 and options["normalization"] == "batchnorm"
    assert options["bn_params"][0]["momentum"] == pytest.approx(0.9)  # PyTorch's 0.1
    scores, _ = cs231n.fc_net_forward(params, X, dropout_masks=masks, **options)
    np.testing.assert_allclose(scores, net(Tensor(X)).data, rtol=1e-12)
    net.eval()
    options = cs231n_options(net)
    assert options["mode"] == "test"
    np.testing.assert_array_equal(options["bn_params"][1]["running_var"],
                                  net[5].running_var.data)
    scores, _ = cs231n.fc_net_forward(params, X, **options)
    np.testing.assert_allclose(scores, net(Tensor(X)).data, rtol=1e-12)


def test_rashid_layout_reproduces_the_model():
    net = rashid_net()
    wih, who = to_rashid(net)
    assert (wih.shape, who.shape) == ((5, 6), (4, 5))
    x = X[:, :6]
    np.testing.assert_allclose(rashid.query(wih, who, x.T).T, net(Tensor(x)).data, rtol=1e-14)


def test_round_trips_copy_in_both_directions():
    source, target = nielsen_net([4, 3, 2], seed=1), nielsen_net([4, 3, 2], seed=2)
    weights, biases = to_nielsen(source)
    from_nielsen(target, weights, biases)
    for (name, p), q in zip(source.named_parameters(), target.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    weights[0][0, 0] += 1.0  # the model must not share memory with the lists, either way
    assert target[0].weight.data[0, 0] != weights[0][0, 0]
    assert source[0].weight.data[0, 0] != weights[0][0, 0]

    a, b = cs231n_net(seed=1, batchnorm=True), cs231n_net(seed=2, batchnorm=True)
    from_cs231n(b, to_cs231n(a))
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))

    r1, r2 = rashid_net(seed=1), rashid_net(seed=2)
    from_rashid(r2, *to_rashid(r1))
    assert all(np.array_equal(p.data, q.data) for p, q in zip(r1.parameters(), r2.parameters()))


def test_from_reference_writes_in_place_and_casts_to_the_model_dtype():
    net = nielsen_net([4, 3, 2], dtype="float32")
    array = net[0].weight.data
    weights, biases = to_nielsen(nielsen_net([4, 3, 2], seed=5))
    assert weights[0].dtype == np.float64  # references run in float64
    from_nielsen(net, weights, biases)
    assert net[0].weight.data is array and array.dtype == np.float32
    np.testing.assert_allclose(array, weights[0], rtol=1e-7)


def test_shape_mismatches_name_the_layer_and_both_shapes_and_copy_nothing():
    net = nielsen_net([4, 3, 2])
    before = net.state_dict()
    weights, biases = to_nielsen(nielsen_net([4, 5, 2]))
    with pytest.raises(ArchitectureError) as info:
        from_nielsen(net, weights, biases)
    message = str(info.value)
    assert "weights[0] has shape (5, 4) but layer '0' (Linear 4 -> 3) needs (3, 4)" in message
    assert "biases[0] has shape (5, 1)" in message and "nothing was copied" in message
    assert all(np.array_equal(v, net.state_dict()[k]) for k, v in before.items())
    with pytest.raises(ArchitectureError, match=r"1 weight matrices and 2 bias columns for a "
                                                r"model with 2 Linear layers \('0', '2'\)"):
        from_nielsen(net, weights[:1], biases)
    params = to_cs231n(cs231n_net())
    params["W2"] = params["W2"].T
    with pytest.raises(ArchitectureError, match=r"W2 has shape \(5, 6\) but layer '2' "
                                                r"\(Linear 6 -> 5\) needs \(6, 5\)"):
        from_cs231n(cs231n_net(), params)
    with pytest.raises(ArchitectureError, match="gamma1 has no place in this model"):
        from_cs231n(cs231n_net(), {**to_cs231n(cs231n_net()), "gamma1": np.ones(6)})


@pytest.mark.parametrize("build, convert, message", [
    (lambda: nn.MLP([4, 3, 2], activation="relu", output_activation="sigmoid"), to_nielsen,
     r"layer '1' \(ReLU\) is where Nielsen's network has a Sigmoid"),
    (lambda: nn.MLP([4, 3, 2], activation="sigmoid"), to_nielsen,
     r"a Sigmoid is missing after layer '2' \(Linear 3 -> 2\)"),
    (lambda: nn.MLP([4, 3, 2], activation="sigmoid", output_activation="sigmoid", bias=False),
     to_nielsen, r"layer '0' \(Linear 4 -> 3\) has no bias"),
    (lambda: nn.MLP([4, 3, 2], activation="sigmoid", output_activation="sigmoid"), to_rashid,
     r"layer '0' \(Linear 4 -> 3\) has a bias; Rashid's network has none"),
    (lambda: nn.MLP([4, 3, 3, 2], activation="sigmoid", output_activation="sigmoid",
                    bias=False), to_rashid, "exactly 2 Linear layers"),
    (lambda: nn.MLP([4, 3, 2], activation="relu", output_activation="softmax"), to_cs231n,
     r"layer '3' \(Softmax\) follows the output layer '2'"),
    (lambda: nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Linear(3, 3),
                           nn.ReLU(), nn.Linear(3, 2)), to_cs231n,
     r"hidden block of layer '3' \(Linear 3 -> 3\) differs"),
    (lambda: nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(5, 2), nn.Sigmoid()),
     to_nielsen, r"layer '2' \(Linear 5 -> 2\) takes 5 inputs but layer '0' \(Linear 4 -> 3\)"),
    (lambda: nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(5, 2)), to_cs231n,
     r"layer '2' \(Linear 5 -> 2\) takes 5 inputs"),
    (lambda: nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Dropout(0.2), nn.Linear(3, 3),
                           nn.ReLU(), nn.Dropout(0.5), nn.Linear(3, 2)), to_cs231n,
     r"different p \[0.2, 0.5\]; CS231n's net has one keep_prob"),
])
def test_architecture_mismatches_name_the_layer(build, convert, message):
    with pytest.raises(ArchitectureError, match=message):
        convert(build())


def test_nested_sequentials_are_flattened_with_their_parameter_names():
    net = nn.Sequential(nn.Sequential(nn.Linear(4, 3), nn.Sigmoid()),
                        nn.Sequential(nn.Linear(3, 2), nn.Sigmoid()))
    weights, _ = to_nielsen(net)
    np.testing.assert_array_equal(weights[1], dict(net.named_parameters())["1.0.weight"].data)
