"""Autodiff against the hand-derived references (tinygrad_nn.compare), in float64.

Every reference gradient must equal autodiff to a relative error below 1e-10, every numerical
gradient to 1e-6, and one SGD step must match each reference's update rule. The corruption tests
show the report flags exactly the array that was broken, and nothing else.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from tinygrad_nn import Tensor, nn, ops
from tinygrad_nn.check import compare, run_check
from tinygrad_nn.compare import Report
from tinygrad_nn.compare.batch import keep_masks
from tinygrad_nn.compare.conventions import Nielsen
from tinygrad_nn.reference import cs231n, nielsen
from tinygrad_nn.transfer import ArchitectureError, cs231n_options, to_cs231n

NIELSEN_SIZES = [[2, 3, 2], [5, 4, 3, 2], [784, 30, 10]]


def nielsen_net(sizes: list[int], seed: int = 1, dtype: str = "float64") -> nn.MLP:
    return nn.MLP(sizes, activation="sigmoid", output_activation="sigmoid", init="nielsen",
                  dtype=dtype, generator=seed)


def batch(n_in: int, n_out: int, m: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs in [0, 1) (like MNIST pixels) and one-hot rows (Nielsen's vectorized_result)."""
    rng = np.random.default_rng(seed)
    x = rng.random((m, n_in))
    y = np.eye(n_out)[rng.integers(0, n_out, m)]
    return x, y


def expected_rows(model: nn.Module, activations: bool, step: bool) -> set[str]:
    params = [name for name, _ in model.named_parameters()]
    rows = {"loss", *params}
    if activations:
        rows |= {f"{name}.out" for name, layer in enumerate(model.layers)
                 if isinstance(layer, nn.Linear)}
    if step:
        rows |= {f"{name} step" for name in params}
    return rows


def assert_agrees(report: Report, rows: set[str]) -> None:
    assert report.ok, str(report)
    assert {row.name for row in report.rows} == rows, str(report)
    assert report.worst("reference") < 1e-10, str(report)


# ============================================================================================
# every reference agrees with autodiff
# ============================================================================================


@pytest.mark.parametrize("sizes", NIELSEN_SIZES, ids=lambda s: "-".join(map(str, s)))
@pytest.mark.parametrize("loss", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("lmbda", [0.0, 5.0], ids=["no_l2", "l2"])
def test_nielsen_gradients_deltas_and_step_match_autodiff(sizes, loss, lmbda):
    net = nielsen_net(sizes)
    x, y = batch(sizes[0], sizes[-1])
    report = compare(net, x, y, reference="nielsen", loss=loss, l2=lmbda, n_train=50,
                     activations=True, optimizer_step=3.0)
    assert_agrees(report, expected_rows(net, activations=True, step=True))
    assert report.worst("numeric") < 1e-6
    weight = report.row("0.weight").numeric
    # Big parameters are checked at a seeded subset, and the report says how many.
    assert weight.checked == min(64, weight.size) and weight.size == sizes[0] * sizes[1]


def test_nielsen_zero_gradients_are_judged_by_absolute_error():
    """Pixels that are 0 in every example give exactly-zero weight gradients (as MNIST does)."""
    net = nielsen_net([784, 30, 10])
    x, y = batch(784, 10)
    x[:, ::2] = 0.0
    report = compare(net, x, y, reference="nielsen", numeric_entries=200, seed=3)
    assert report.ok, str(report)


def test_integer_labels_are_one_hot_encoded_for_nielsen():
    net = nielsen_net([5, 4, 3])
    x, y = batch(5, 3)
    from_labels = compare(net, x, y.argmax(axis=1), reference="nielsen", numeric=False)
    from_onehot = compare(net, x, y, reference="nielsen", numeric=False)
    assert from_labels.ok
    assert [r.reference.b for r in from_labels.rows] == [r.reference.b for r in from_onehot.rows]


def cs231n_net(seed: int = 2) -> nn.MLP:
    net = nn.MLP([12, 10, 8, 5], activation="relu", batchnorm=True, dropout=0.3,
                 dtype="float64", generator=seed)
    rng = np.random.default_rng(seed)
    for layer in (net[1], net[5]):  # gamma = 1, beta = 0 would hide a wrong batchnorm gradient
        layer.weight.data += 0.3 * rng.standard_normal(layer.weight.shape)
        layer.bias.data += 0.3 * rng.standard_normal(layer.bias.shape)
    return net


def test_cs231n_net_with_batchnorm_dropout_and_l2_matches_autodiff():
    net = cs231n_net()
    rng = np.random.default_rng(5)
    x = rng.standard_normal((16, 12))
    labels = rng.integers(0, 5, 16)
    masks = [rng.random((16, 10)) >= 0.3, rng.random((16, 8)) >= 0.3]
    report = compare(net, x, labels, reference="cs231n", l2=0.05, dropout_masks=masks,
                     activations=True, optimizer_step=0.1)
    assert_agrees(report, expected_rows(net, activations=True, step=True))
    assert report.worst("numeric") < 1e-6
    # The masks are keep-masks, given to both sides as they are.
    loss, _ = cs231n.fc_net_loss(to_cs231n(net), x, labels, dropout_masks=masks, reg=0.05,
                                 **cs231n_options(net))
    assert report.row("loss").reference.b == loss


def test_dropout_masks_are_drawn_with_the_layers_drop_probability():
    net = cs231n_net()
    x = np.random.default_rng(0).standard_normal((400, 12))
    masks = keep_masks(net, x, None, seed=3)
    assert [m.shape for m in masks] == [(400, 10), (400, 8)]
    assert all(abs(m.mean() - 0.7) < 0.03 for m in masks)
    assert all(np.array_equal(a, b) for a, b in zip(masks, keep_masks(net, x, None, 3)))


def test_cs231n_test_mode_uses_the_running_statistics():
    net = cs231n_net()
    rng = np.random.default_rng(6)
    for _ in range(3):  # make the running statistics something other than their init
        net(Tensor(rng.standard_normal((16, 12))))
    net.eval()
    x = rng.standard_normal((8, 12))
    report = compare(net, x, rng.integers(0, 5, 8), reference="cs231n", l2=0.1,
                     activations=True)
    assert_agrees(report, expected_rows(net, activations=True, step=False))


@pytest.mark.parametrize("loss", ["quadratic", "cross_entropy"])
def test_rashid_gradients_and_mixed_train_step_match_autodiff(loss):
    net = nn.MLP([6, 5, 4], activation="sigmoid", output_activation="sigmoid", init="rashid",
                 bias=False, dtype="float64", generator=4)
    x, y = batch(6, 4, m=7)
    report = compare(net, x, 0.01 + 0.98 * y, reference="rashid", loss=loss, activations=True,
                     optimizer_step=0.3)
    # Rashid's reference exposes no per-layer errors, and the report says so.
    assert_agrees(report, expected_rows(net, activations=False, step=True))
    assert "no per-layer errors" in str(report)


# ============================================================================================
# a broken gradient is flagged, and nothing else
# ============================================================================================


def drop_sigmoid_prime_in_first_weight(original):
    """backprop_batch, but layer 0's weight gradient omits sigma'(z) (bias gradient intact)."""

    def corrupted(weights, biases, X, Y, cost=nielsen.QuadraticCost, return_deltas=False):
        nabla_b, nabla_w, deltas = original(weights, biases, X, Y, cost, return_deltas=True)
        nabla_w[0] = (weights[1].T @ deltas[1]) @ X.T
        return (nabla_b, nabla_w, deltas) if return_deltas else (nabla_b, nabla_w)

    return corrupted


def transpose_first_weight(original):
    def corrupted(weights, biases, X, Y, cost=nielsen.QuadraticCost, return_deltas=False):
        nabla_b, nabla_w, deltas = original(weights, biases, X, Y, cost, return_deltas=True)
        nabla_w[0] = nabla_w[0].T
        return (nabla_b, nabla_w, deltas) if return_deltas else (nabla_b, nabla_w)

    return corrupted


@pytest.mark.parametrize("corrupt, sizes", [(drop_sigmoid_prime_in_first_weight, [5, 4, 3, 2]),
                                            (transpose_first_weight, [3, 3, 2])])
def test_a_corrupted_reference_gradient_is_flagged_alone(monkeypatch, corrupt, sizes):
    monkeypatch.setattr(nielsen, "backprop_batch", corrupt(nielsen.backprop_batch))
    net = nielsen_net(sizes)
    x, y = batch(sizes[0], sizes[-1])
    report = compare(net, x, y, reference="nielsen", activations=True)
    assert [row.name for row in report.failures] == ["0.weight"], str(report)
    row = report.row("0.weight")
    assert not row.reference.ok and row.numeric.ok  # autodiff is right; the reference is not
    text = str(report)
    assert all(len(line) <= 100 for line in text.splitlines()), text
    assert [line.split()[-1] for line in text.splitlines() if line.startswith("0.")] == \
        ["FAIL", "ok", "ok"]  # 0.weight, 0.bias, 0.out
    words = " ".join(text.split())
    assert (f"FAILED: 1 of {len(report.rows)} rows disagree: 0.weight 0.weight: vs reference: "
            "rel err") in words
    assert "numeric agrees with autodiff: suspect the reference" in words


def test_a_broken_engine_gradient_fails_against_reference_and_numeric(monkeypatch):
    # sigma' without its (1 - s) factor: the forward pass (and the loss) stay right.
    monkeypatch.setattr(ops.Sigmoid, "backward", lambda self, g, out, x: g * out)
    net = nielsen_net([5, 4, 3])
    x, y = batch(5, 3)
    report = compare(net, x, y, reference="nielsen")
    assert report.row("loss").ok
    assert "autodiff disagrees with both: suspect the engine" in " ".join(str(report).split())
    for name, _ in net.named_parameters():
        row = report.row(name)
        assert not row.reference.ok and not row.numeric.ok, str(report)


def test_a_wrong_learning_rate_mapping_fails_only_the_steps(monkeypatch):
    # Nielsen's step is eta/m with the batch-SUMMED gradient; forgetting the /m must show.
    monkeypatch.setattr(Nielsen, "step_lr", lambda self, lr: lr)
    net = nielsen_net([5, 4, 3])
    x, y = batch(5, 3)
    report = compare(net, x, y, reference="nielsen", optimizer_step=3.0)
    assert {row.name for row in report.failures} == {f"{n} step" for n, _ in
                                                     net.named_parameters()}


def test_a_wrong_weight_decay_mapping_fails_only_the_weight_steps(monkeypatch):
    # PyTorch-style weight_decay is multiplied by lr = eta/m, so network2's lmbda/n must be
    # scaled by m; weight decay lmbda/n itself would decay m times too little.
    monkeypatch.setattr(Nielsen, "step_weight_decay", lambda self: self.l2 / self.n)
    net = nielsen_net([5, 4, 3])
    x, y = batch(5, 3)
    report = compare(net, x, y, reference="nielsen", l2=5.0, n_train=50, optimizer_step=3.0)
    assert {row.name for row in report.failures} == {"0.weight step", "2.weight step"}


# ============================================================================================
# the report, the model, the options
# ============================================================================================


def test_the_report_is_a_readable_table():
    net = nielsen_net([5, 4, 3])
    x, y = batch(5, 3)
    report = compare(net, x, y, reference="nielsen", l2=1.0, n_train=100, optimizer_step=0.5)
    text = str(report)
    lines = text.splitlines()
    assert lines[0] == "compare: 5-4-3:sigmoid,out=sigmoid,init=nielsen, float64, batch of 10"
    assert all(len(line) <= 100 for line in lines), text
    head = next(line for line in lines if line.startswith("name"))
    assert head.split() == ["name", "shape", "|", "ref", "max|diff|", "ref", "rel", "|", "num",
                            "max|diff|", "num", "rel", "checked", "|", "ok"]
    row = next(line for line in lines if line.startswith("0.weight "))
    assert "(4, 5)" in row and row.endswith("ok")
    words = " ".join(text.split())  # the header is wrapped at 100 columns
    assert "lmbda = 1, n = 100, m = 10" in words  # the L2 convention is spelled out
    assert "lr = eta/m = 0.05" in words and "weight_decay = m lmbda/n = 0.1" in words
    assert lines[-1].startswith("OK: all 9 rows agree")
    assert report.failures == [] and repr(report).endswith("ok>")


def test_compare_leaves_the_model_as_it_was():
    net = cs231n_net()
    before = net.state_dict()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 12))
    compare(net, x, rng.integers(0, 5, 6), l2=0.1, activations=True, optimizer_step=1.0)
    after = net.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)  # running stats too
    assert all(p.grad is None for p in net.parameters())


def test_the_numeric_subset_is_seeded_spread_and_reported_in_parameter_coordinates(
        monkeypatch):
    net = nielsen_net([40, 8, 3])
    x, y = batch(40, 3)
    # The module, not the function of the same name (which tinygrad_nn.check re-exports).
    compare_module = importlib.import_module("tinygrad_nn.compare.numeric")
    seen = []
    five_point = compare_module._five_point
    monkeypatch.setattr(compare_module, "_five_point",
                        lambda f, a, ix, h: seen.append((a.shape, ix)) or five_point(f, a, ix, h))
    first = compare(net, x, y, reference="nielsen", numeric_entries=10, seed=7)
    picked = [ix for shape, ix in seen if shape == (8, 40)]
    assert len(set(picked)) == 10 and max(row for row, _ in picked) > 0  # not just the start
    seen.clear()
    again = compare(net, x, y, reference="nielsen", numeric_entries=10, seed=7)
    assert [ix for shape, ix in seen if shape == (8, 40)] == picked
    row, same = first.row("0.weight").numeric, again.row("0.weight").numeric
    assert (row.checked, row.size) == (10, 320) and row.worst == same.worst
    assert row.worst in picked  # the worst entry is named by its index in the parameter


def test_architecture_and_loss_mismatches_are_clear_errors():
    x, y = batch(5, 3)
    relu = nn.MLP([5, 4, 3], activation="relu", dtype="float64")
    with pytest.raises(ArchitectureError, match=r"layer '1' \(ReLU\)"):
        compare(relu, x, y, reference="nielsen")
    with pytest.raises(ValueError, match="loss 'softmax' is not defined for reference nielsen"):
        compare(nielsen_net([5, 4, 3]), x, y, reference="nielsen", loss="softmax")
    with pytest.raises(ValueError, match=r"integer class labels of shape \(10,\)"):
        compare(relu, x, y, reference="cs231n")
    with pytest.raises(ValueError, match="unknown reference 'pytorch'"):
        compare(relu, x, y, reference="pytorch")


def test_numeric_entries_whose_stencil_crosses_a_relu_kink_are_skipped():
    net = nn.MLP([6, 5, 3], activation="relu", dtype="float64", generator=0)
    rng = np.random.default_rng(1)
    x = rng.random((8, 6))
    z = x @ net[0].weight.data.T + net[0].bias.data
    net[0].bias.data[2] -= z[0, 2] - 1e-5  # unit 2 of example 0 sits 1e-5 above the kink
    report = compare(net, x, rng.integers(0, 3, 8), reference="cs231n")
    assert report.ok, str(report)
    bias = report.row("0.bias").numeric
    assert (bias.checked, bias.size) == (4, 5)  # bias[2] moves z across 0: skipped
    assert report.row("2.weight").numeric.checked == 15  # the later layer is smooth
    assert "entries skipped: their stencil crosses a ReLU kink" in " ".join(str(report).split())


def test_a_model_no_reference_fits_is_checked_against_numeric_only():
    net = nn.MLP([5, 4, 3], activation="tanh", dtype="float64", generator=0)
    x, y = batch(5, 3)
    report = compare(net, x, np.arange(10) % 3)
    assert report.ok, str(report)
    assert all(row.reference is None and row.numeric is not None for row in report.rows)
    words = " ".join(str(report).split())
    assert "not Nielsen's, Rashid's or CS231n's network" in words
    assert "nn.functional.cross_entropy(out, labels" in words  # logits: the softmax loss
    sigmoid_out = nn.MLP([5, 4, 3], activation="tanh", output_activation="sigmoid",
                         dtype="float64", generator=0)
    report = compare(sigmoid_out, x, y)
    assert report.ok and 'quadratic_cost(out, y, reduction="sum")' in str(report)
    report = compare(sigmoid_out, x, y, loss="cross_entropy")  # binary, on sigmoid outputs
    assert report.ok and "binary_cross_entropy(out, y" in str(report)


# ============================================================================================
# run_check, for `tinygrad-nn check`
# ============================================================================================


@pytest.mark.parametrize("spec, reference, l2", [
    ("784-30-10:sigmoid,out=sigmoid,init=nielsen", "nielsen", 5.0),
    ("20-10-8-5:relu,dropout=0.5,batchnorm", "cs231n", 0.1),
    ("10-6-4:sigmoid,out=sigmoid,init=rashid,nobias", "rashid", 0.0),
    ("8-6-3:tanh", None, 0.1),
])
def test_run_check_infers_the_reference_and_passes(spec, reference, l2):
    report = run_check(spec, l2=l2)
    assert report.ok, str(report)
    header = dict(report.header)
    assert header["reference"].startswith(f"{reference}." if reference else "none")
    assert ("loss" in [row.name for row in report.rows]) == (reference is not None)
    if reference == "cs231n":
        assert header["init"].startswith("1.weight, 1.bias, 5.weight, 5.bias were all-equal")


def test_run_check_in_float32_uses_float32_thresholds():
    report = run_check("784-30-10:sigmoid,out=sigmoid,init=nielsen", dtype="float32",
                       loss="cross_entropy")
    assert report.ok, str(report)
    assert "float32" in report.title and 1e-7 < report.worst("reference") < 1e-3


def test_run_check_fails_when_the_engine_is_wrong(monkeypatch):
    monkeypatch.setattr(ops.Sigmoid, "backward", lambda self, g, out, x: g * out)
    report = run_check("5-4-3:sigmoid,out=sigmoid,init=nielsen", numeric_entries=8)
    assert not report.ok
    assert any(line.startswith(f"FAILED: {len(report.failures)} of") for line in
               str(report).splitlines())
