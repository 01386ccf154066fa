"""Every layer and loss against PyTorch in float64: forward values and gradients (1e-10)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import nn
from tinygrad_nn.compare.batch import fix_dropout_masks
from tinygrad_nn.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
TOL = {"rtol": 1e-10, "atol": 1e-10}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """PyTorch's thread pool costs ~0.1 s per tiny batch_norm call on a 2-core machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def to_torch(module, torch_module):
    """Copy our parameters and buffers into a PyTorch module (the names are PyTorch's)."""
    state = {k: torch.from_numpy(v.copy()) for k, v in module.state_dict().items()}
    torch_module.double().load_state_dict(state)  # double first: loading casts to its dtype
    return torch_module


def compare(ours, theirs, params, torch_params, x_data, seed=0):
    """Run both on x_data, backprop the same random cotangent, compare output and all grads."""
    x = tg.Tensor(x_data, requires_grad=True)
    tx = torch.tensor(x_data, requires_grad=True)
    out, tout = ours(x), theirs(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TOL)
    v = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(v)
    tout.backward(torch.from_numpy(v))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), **TOL)
    for (name, p), tp in zip(params, torch_params, strict=True):
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), err_msg=name, **TOL)


def data(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


# --------------------------------------------------------------------------------------------
# layers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make, make_torch, shape", [
    (lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (4, 5)),
    (lambda: nn.Linear(5, 3, bias=False), lambda: torch.nn.Linear(5, 3, bias=False), (4, 5)),
    (lambda: nn.Linear(5, 3), lambda: torch.nn.Linear(5, 3), (2, 4, 5)),
    (nn.ReLU, torch.nn.ReLU, (4, 5)),
    (nn.Sigmoid, torch.nn.Sigmoid, (4, 5)),
    (nn.Tanh, torch.nn.Tanh, (4, 5)),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2), (4, 5)),
    (nn.Softmax, lambda: torch.nn.Softmax(dim=-1), (4, 5)),
    (lambda: nn.Softmax(axis=0), lambda: torch.nn.Softmax(dim=0), (4, 5)),
    (nn.LogSoftmax, lambda: torch.nn.LogSoftmax(dim=-1), (4, 5)),
    (nn.Identity, torch.nn.Identity, (4, 5)),
    (nn.Flatten, torch.nn.Flatten, (2, 3, 4)),
    (lambda: nn.BatchNorm1d(5), lambda: torch.nn.BatchNorm1d(5), (6, 5)),
    (lambda: nn.BatchNorm1d(3), lambda: torch.nn.BatchNorm1d(3), (4, 3, 5)),
    (lambda: nn.BatchNorm1d(5, affine=False), lambda: torch.nn.BatchNorm1d(5, affine=False),
     (6, 5)),
    (lambda: nn.MLP([5, 7, 6, 3], activation="tanh", batchnorm=True),
     lambda: torch.nn.Sequential(
         torch.nn.Linear(5, 7), torch.nn.BatchNorm1d(7), torch.nn.Tanh(),
         torch.nn.Linear(7, 6), torch.nn.BatchNorm1d(6), torch.nn.Tanh(), torch.nn.Linear(6, 3)),
     (8, 5)),
], ids=["linear", "linear-nobias", "linear-3d", "relu", "sigmoid", "tanh", "leaky_relu",
        "softmax", "softmax-axis0", "log_softmax", "identity", "flatten", "batchnorm",
        "batchnorm-3d", "batchnorm-noaffine", "mlp-batchnorm"])
def test_layer_matches_torch(make, make_torch, shape):
    layer = make().double()
    # move BatchNorm's affine parameters off (1, 0) so their gradients are tested non-trivially
    for name, p in layer.named_parameters():
        p.data[...] = data(*p.shape, seed=hash(name) % 100)
    theirs = to_torch(layer, make_torch())
    compare(layer, theirs, list(layer.named_parameters()), list(theirs.parameters()),
            data(*shape))


def test_layers_match_torch_at_the_kink_zero():
    x = np.array([[-1.0, 0.0, 2.0]])
    for ours, theirs in [(nn.ReLU(), torch.nn.ReLU()), (nn.LeakyReLU(0.1),
                                                        torch.nn.LeakyReLU(0.1))]:
        compare(ours, theirs, [], [], x)


def test_batchnorm_eval_matches_torch():
    bn = nn.BatchNorm1d(4).double()
    bn.running_mean.data[...] = data(4, seed=2)
    bn.running_var.data[...] = data(4, seed=3) ** 2 + 0.5
    bn.weight.data[...] = data(4, seed=4)
    theirs = to_torch(bn, torch.nn.BatchNorm1d(4))
    bn.eval()
    theirs.eval()
    compare(bn, theirs, list(bn.named_parameters()), list(theirs.parameters()), data(3, 4))


@pytest.mark.parametrize("momentum", [0.1, 0.3, None])
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batchnorm_running_stats_match_torch_over_several_steps(momentum, shape):
    bn = nn.BatchNorm1d(3, momentum=momentum).double()
    theirs = torch.nn.BatchNorm1d(3, momentum=momentum).double()
    for step in range(5):
        bn.train()
        theirs.train()
        x = data(*shape, seed=10 + step) * (step + 1) + step
        np.testing.assert_allclose(bn(tg.Tensor(x)).data,
                                   theirs(torch.from_numpy(x)).detach().numpy(), **TOL)
        for name, value in theirs.state_dict().items():
            np.testing.assert_allclose(bn.state_dict()[name], value.numpy(), err_msg=name,
                                       rtol=1e-13)
        bn.eval()
        theirs.eval()
        x = data(*shape, seed=20 + step)
        np.testing.assert_allclose(bn(tg.Tensor(x)).data,
                                   theirs(torch.from_numpy(x)).detach().numpy(), **TOL)
    assert int(bn.num_batches_tracked.data) == 5


def test_dropout_with_a_fixed_mask_matches_torchs_inverted_scaling():
    mask = np.random.default_rng(0).random((4, 5)) > 0.3
    drop = nn.Dropout(0.3)
    fix_dropout_masks(drop, [mask])
    compare(drop, lambda tx: tx * torch.from_numpy(mask) / 0.7, [], [], data(4, 5))


def test_maxout_matches_torch_composition():
    layer = nn.Maxout(5, 3, pieces=4).double()
    w = torch.tensor(layer.weight.data, requires_grad=True)
    b = torch.tensor(layer.bias.data, requires_grad=True)
    compare(layer, lambda tx: TF.linear(tx, w, b).view(6, 3, 4).amax(-1),
            list(layer.named_parameters()), [w, b], data(6, 5))


def test_torch_state_dict_loads_into_the_same_architecture():
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6),
                                 torch.nn.ReLU(), torch.nn.Linear(6, 2)).double()
    theirs.train()
    theirs(torch.randn(5, 4, dtype=torch.float64))  # non-trivial running stats
    ours = nn.MLP([4, 6, 2], batchnorm=True).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    ours.eval()
    theirs.eval()
    x = data(3, 4)
    np.testing.assert_allclose(ours(tg.Tensor(x)).data,
                               theirs(torch.from_numpy(x)).detach().numpy(), **TOL)


def test_init_gains_match_torch():
    for name, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                        ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert nn.init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param), rel=1e-12)


# --------------------------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------------------------

LOGITS = data(6, 4, seed=5) * 3
LABELS = np.array([0, 3, 1, 3, 2, 2])
PROBS = np.random.default_rng(6).dirichlet(np.ones(4), size=6)
P = np.random.default_rng(7).uniform(0.02, 0.98, (6, 4))
Y = np.random.default_rng(8).uniform(size=(6, 4))


def torch_target(target):
    return torch.from_numpy(np.asarray(target))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ours, theirs, x, target", [
    (F.mse_loss, TF.mse_loss, LOGITS, Y),
    (F.cross_entropy, TF.cross_entropy, LOGITS, LABELS),
    (F.cross_entropy, TF.cross_entropy, LOGITS, PROBS),
    (lambda x, t, reduction: F.cross_entropy(x, t, reduction, label_smoothing=0.15),
     lambda x, t, reduction: TF.cross_entropy(x, t, reduction=reduction, label_smoothing=0.15),
     LOGITS, LABELS),
    (lambda x, t, reduction: F.cross_entropy(x, t, reduction, label_smoothing=0.15),
     lambda x, t, reduction: TF.cross_entropy(x, t, reduction=reduction, label_smoothing=0.15),
     LOGITS, PROBS),
    (F.cross_entropy, TF.cross_entropy, LOGITS, Y),  # soft targets that do not sum to 1
    (F.cross_entropy_composed, TF.cross_entropy, LOGITS, LABELS),
    (F.nll_loss, TF.nll_loss, np.log(PROBS), LABELS),
    (F.binary_cross_entropy, TF.binary_cross_entropy, P, Y),
    (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, LOGITS, Y),
    (lambda x, t, reduction: F.binary_cross_entropy_with_logits(
        x, t, reduction, pos_weight=np.array([1.0, 2.0, 0.5, 3.0])),
     lambda x, t, reduction: TF.binary_cross_entropy_with_logits(
        x, t, reduction=reduction, pos_weight=torch.tensor([1.0, 2.0, 0.5, 3.0],
                                                            dtype=torch.float64)),
     LOGITS, Y),
    (F.quadratic_cost,
     lambda x, t, reduction: {"mean": lambda z: z.mean(), "sum": lambda z: z.sum(),
                              "none": lambda z: z}[reduction](0.5 * ((x - t) ** 2).sum(1)),
     LOGITS, Y),
], ids=["mse", "ce-labels", "ce-probs", "ce-labels-smoothing", "ce-probs-smoothing",
        "ce-unnormalized", "ce-composed", "nll", "bce", "bce-logits", "bce-logits-pos_weight",
        "quadratic"])
def test_loss_matches_torch(ours, theirs, x, target, reduction):
    compare(lambda t: ours(t, target, reduction=reduction),
            lambda t: theirs(t, torch_target(target), reduction=reduction), [], [], x)


def test_cross_entropy_gradient_wrt_probability_targets_matches_torch():
    q = tg.Tensor(PROBS, requires_grad=True)
    tq = torch.tensor(PROBS, requires_grad=True)
    F.cross_entropy(tg.Tensor(LOGITS), q, label_smoothing=0.2).backward()
    TF.cross_entropy(torch.from_numpy(LOGITS), tq, label_smoothing=0.2).backward()
    np.testing.assert_allclose(q.grad.data, tq.grad.numpy(), **TOL)


def test_unbatched_cross_entropy_matches_torch():
    compare(lambda t: F.cross_entropy(t, np.array(2)),
            lambda t: TF.cross_entropy(t, torch.tensor(2)), [], [], LOGITS[0])


def test_bce_clamp_matches_torch_forward_at_zero_and_one():
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-50])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    ours = F.binary_cross_entropy(tg.Tensor(p), y, reduction="none").data
    theirs = TF.binary_cross_entropy(torch.from_numpy(p), torch.from_numpy(y), reduction="none")
    np.testing.assert_allclose(ours, theirs.numpy(), **TOL)
