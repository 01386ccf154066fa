"""Issue #12's layers and functions against torch.nn in float64 (forward and gradients), plus
nn.utils and utils.data."""

from __future__ import annotations

import numpy as np
import pytest
from op_helpers import helper_test_op, torch

import tinygrad_nn as tg
import tinygrad_nn.nn.functional as F
from tinygrad_nn import nn
from tinygrad_nn.utils.data import DataLoader, Dataset, TensorDataset, random_split

TF = None if torch is None else torch.nn.functional
LABELS = np.array([2, 0, 1, 1])

# (id, shapes, torch function, tinygrad function, input range); one call per case
CASES = [
    ("l1_loss", [(4, 3), (4, 3)], lambda a, b: TF.l1_loss(a, b), lambda a, b: F.l1_loss(a, b)),
    ("l1_loss_sum", [(4, 3), (4, 3)], lambda a, b: TF.l1_loss(a, b, reduction="sum"),
     lambda a, b: F.l1_loss(a, b, reduction="sum")),
    ("smooth_l1", [(4, 3), (4, 3)], lambda a, b: TF.smooth_l1_loss(a, b, beta=0.7),
     lambda a, b: F.smooth_l1_loss(a, b, beta=0.7)),
    ("huber_none", [(4, 3), (4, 3)], lambda a, b: TF.huber_loss(a, b, "none", delta=0.8),
     lambda a, b: F.huber_loss(a, b, "none", delta=0.8)),
    ("mse_none", [(4, 3), (4, 3)], lambda a, b: TF.mse_loss(a, b, reduction="none"),
     lambda a, b: F.mse_loss(a, b, reduction="none")),
    ("mse_sum", [(4, 3), (4, 3)], lambda a, b: TF.mse_loss(a, b, reduction="sum"),
     lambda a, b: F.mse_loss(a, b, reduction="sum")),
    ("mse_mean", [(4, 3), (4, 3)], lambda a, b: TF.mse_loss(a, b),
     lambda a, b: F.mse_loss(a, b)),
    ("kl_div_batchmean", [(4, 3), (4, 3)],
     lambda a, b: TF.kl_div(a.log_softmax(1), b.softmax(1), reduction="batchmean"),
     lambda a, b: F.kl_div(a.log_softmax(1), b.softmax(1), reduction="batchmean")),
    ("kl_div_log_target", [(4, 3), (4, 3)],
     lambda a, b: TF.kl_div(a.log_softmax(1), b.log_softmax(1), log_target=True),
     lambda a, b: F.kl_div(a.log_softmax(1), b.log_softmax(1), log_target=True)),
    ("nll_loss", [(4, 3)], lambda a: TF.nll_loss(a.log_softmax(1), torch.tensor(LABELS)),
     lambda a: F.nll_loss(a.log_softmax(1), LABELS)),
    ("layer_norm", [(4, 3, 5), (3, 5), (3, 5)],
     lambda x, w, b: TF.layer_norm(x, (3, 5), w, b), lambda x, w, b: F.layer_norm(x, (3, 5), w, b)),
    ("embedding", [(5, 3)], lambda w: TF.embedding(torch.tensor([[0, 4], [4, 4]]), w),
     lambda w: F.embedding(np.array([[0, 4], [4, 4]]), w)),
    ("softplus_f", [(4, 3)], lambda a: TF.softplus(a * 10), lambda a: F.softplus(a * 10)),
]


@pytest.mark.parametrize("name, shapes, torch_fn, tg_fn", CASES, ids=[c[0] for c in CASES])
def test_function_matches_torch(name, shapes, torch_fn, tg_fn):
    if torch is None:
        pytest.skip("torch is not installed")
    helper_test_op(shapes, torch_fn, tg_fn, second_order=True)


def test_one_hot_is_int64_like_torch():
    got = F.one_hot(tg.tensor([2, 0]), num_classes=4)
    assert got.dtype == np.int64 and got.tolist() == [[0, 0, 1, 0], [1, 0, 0, 0]]
    assert F.one_hot(np.array([1, 0])).shape == (2, 2)


LAYERS = [
    ("GELU", lambda: nn.GELU(), lambda: torch.nn.GELU()),
    ("GELU_tanh", lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    ("SiLU", lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    ("ELU", lambda: nn.ELU(0.5), lambda: torch.nn.ELU(0.5)),
    ("Softplus", lambda: nn.Softplus(2.0, 1.0), lambda: torch.nn.Softplus(2.0, 1.0)),
    ("Unflatten", lambda: nn.Unflatten(1, (2, 3)), lambda: torch.nn.Unflatten(1, (2, 3))),
    ("LayerNorm", lambda: nn.LayerNorm(6, dtype=np.float64), lambda: torch.nn.LayerNorm(6)),
    ("Identity", lambda: nn.Identity(), lambda: torch.nn.Identity()),
    ("Tanh", lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    ("LogSoftmax", lambda: nn.LogSoftmax(1), lambda: torch.nn.LogSoftmax(1)),
]


@pytest.mark.parametrize("name, ours, theirs", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(name, ours, theirs):
    if torch is None:
        pytest.skip("torch is not installed")
    x = np.random.default_rng(0).uniform(-2, 2, (4, 6))
    layer, ref = ours(), theirs().double()
    helper_test_op([x.shape], lambda t: ref(t), lambda t: layer(t), arrays=[x])


def test_embedding_layer_and_module_containers():
    emb = nn.Embedding(10, 3, generator=0)
    out = emb(np.array([[1, 1], [9, 0]]))
    assert out.shape == (2, 2, 3)
    out.sum().backward()
    assert emb.weight.grad.data[1].tolist() == [2.0, 2.0, 2.0]  # repeated index accumulates

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
            self.heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})

        def forward(self, x):
            for block in self.blocks:
                x = block(x).relu()
            return self.heads["a"](x), self.heads["b"](x)

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names[:2] == ["blocks.0.weight", "blocks.0.bias"] and "heads.b.bias" in names
    assert len(net.blocks) == 2 and list(net.heads) == ["a", "b"]
    a, b = net(tg.ones(3, 2))
    assert a.shape == (3, 1) and b.shape == (3, 3)
    with pytest.raises(TypeError, match="expected a Module"):
        nn.ModuleList([3])


def test_float32_module_fed_float64_says_how_to_fix_it():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    x64 = tg.Tensor(np.ones((2, 3)))  # an ndarray keeps its float64
    assert x64.dtype == np.float64
    with pytest.raises(TypeError, match=r"Linear: the input is float64 but the layer's "
                                        r"parameters are float32.*x\.float\(\).*model\.double"):
        model(x64)
    assert model(x64.float()).dtype == np.float32
    assert model.double()(x64).dtype == np.float64
    with pytest.raises(TypeError, match="LayerNorm"):
        nn.LayerNorm(3)(x64)


def test_forward_hooks_and_buffers():
    layer = nn.Linear(2, 2, generator=0)
    seen = []
    handle = layer.register_forward_hook(lambda m, inputs, out: seen.append(out.shape))
    layer(tg.ones(1, 2))
    handle.remove()
    layer(tg.ones(1, 2))
    assert seen == [(1, 2)]
    layer.register_buffer("steps", np.zeros(1))
    assert [n for n, _ in layer.named_buffers()] == ["steps"]


def test_nn_utils():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (sum(p.numel() for p in model.parameters()),)
    nn.utils.vector_to_parameters(vec * 0 + 1, model.parameters())
    assert all((p.data == 1).all() for p in model.parameters())
    model(tg.ones(4, 3)).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    assert float(total) > 0.5
    assert np.sqrt(sum((p.grad.data**2).sum() for p in model.parameters())) <= 0.5 + 1e-6
    nn.utils.clip_grad_value_(model.parameters(), 0.01)
    assert max(abs(p.grad.data).max() for p in model.parameters()) <= 0.01


def test_utils_data():
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    ds = TensorDataset(x, y)
    assert len(ds) == 10 and ds[3][1].item() == 3
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=0)
    batches = list(loader)
    assert len(loader) == 3 and [len(b[0]) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate([b[1].data for b in batches]).tolist()) == list(range(10))
    again = [b[1].tolist() for b in DataLoader(ds, batch_size=4, shuffle=True, generator=0)]
    assert again == [b[1].tolist() for b in batches]  # an int generator repeats the order
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    train, val = random_split(ds, [0.8, 0.2], generator=1)
    assert len(train) == 8 and len(val) == 2
    assert not set(train.indices) & set(val.indices)

    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return tg.tensor([float(i)]), i * i

    xb, yb = next(iter(DataLoader(Squares(), batch_size=3)))
    assert xb.shape == (3, 1) and yb.tolist() == [0, 1, 4]
