"""Issue #12's acceptance table: PyTorch snippets, run unchanged against torch and tinygrad_nn.

Each snippet is written once, against ``M`` (the library: torch or tinygrad_nn), ``F``
(``M.nn.functional``) and ``nn``; it leaves its result in ``out``. In float64 the two libraries
must agree to 1e-12 (values, gradients, shapes and dtypes), or ours must fail with a message
saying what to write instead (the ``says`` column, checked). Inputs: ``x``, ``y`` (3x4, require
grad), ``v`` (4,), ``m`` (4x4), ``p`` (3x4, positive), ``lbl`` (3 class labels), ``idx``.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tg

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(12)
X, Y = RNG.uniform(-2, 2, (3, 4)), RNG.uniform(-2, 2, (3, 4))
V, MAT, P = RNG.uniform(-2, 2, 4), RNG.uniform(-2, 2, (4, 4)), RNG.uniform(0.1, 2, (3, 4))

# (name, code, says): says=None means "agrees with torch"; else ours raises and says this
SNIPPETS = [
    # creation and dtypes
    ("tensor_list", "out = M.tensor([[1.0, 2.0], [3.0, 4.0]])", None),
    ("tensor_float64", "out = M.tensor([1.5, 2.0], dtype=M.float64)", None),
    ("zeros", "out = M.zeros(2, 3)", None),
    ("ones_tuple", "out = M.ones((2, 3), dtype=M.float64)", None),
    ("full", "out = M.full((2, 2), 7.0)", None),
    ("eye", "out = M.eye(3)", None),
    ("arange_int", "out = M.arange(5)", None),
    ("arange_float", "out = M.arange(0.0, 1.0, 0.25)", None),
    ("linspace", "out = M.linspace(0, 1, 5)", None),
    ("zeros_like", "out = M.zeros_like(x)", None),
    ("ones_like", "out = M.ones_like(x)", None),
    ("randn_shape", "out = M.randn(2, 3).shape", None),
    ("randint_dtype", "r = M.randint(0, 10, (3,)); out = (r.dtype == M.int64, r.shape)", None),
    ("from_numpy", "a = np.arange(3.0); t = M.from_numpy(a); a[0] = 5.0; out = t", None),
    ("as_tensor", "out = M.as_tensor(np.array([1, 2]))", None),
    ("dtype_compare", "out = (x.dtype == M.float64, x.float().dtype == M.float32)", None),
    ("to_dtype", "out = x.to(M.float32)", None),
    ("to_cpu", "out = x.to('cpu')", None),
    ("long", "out = (x * 3).long()", None),
    ("type_as", "out = M.ones(2).type_as(x)", None),
    ("new_zeros", "out = x.new_zeros(2, 3)", None),
    ("new_full", "out = x.new_full((2,), 3.5)", None),
    ("manual_seed", "M.manual_seed(0); out = M.rand(3).shape", None),
    # arithmetic and elementwise
    ("add_mul", "out = x * 2 + y / 3 - 1", None),
    ("pow", "out = x.pow(2) + x ** 3", None),
    ("square_sqrt", "out = p.sqrt() + x.square()", None),
    ("exp_log", "out = M.exp(x) + M.log(p)", None),
    ("trig", "out = M.sin(x) * M.cos(y) + M.tanh(x)", None),
    ("relu_sigmoid", "out = M.relu(x) + M.sigmoid(y)", None),
    ("clamp", "out = x.clamp(-1, 1) + M.clamp(y, min=0)", None),
    ("abs_sign", "out = x.abs() + x.sign()", None),
    ("log1p_expm1", "out = p.log1p() + x.expm1()", None),
    ("floor_round", "out = (x * 3).floor() + (x * 3).round()", None),
    ("logaddexp", "out = M.logaddexp(x, y)", None),
    ("maximum", "out = M.maximum(x, y) - M.minimum(x, y)", None),
    ("where", "out = M.where(x > 0, x, y)", None),
    ("comparison", "out = (x > y).float().sum()", None),
    ("matmul", "out = x @ m", None),
    ("mm_mv", "out = (x.mm(m), m.mv(v))", None),
    ("dot_outer", "out = (v.dot(v), M.outer(v, v))", None),
    ("einsum", "out = M.einsum('ij,jk->ik', x, m)", None),
    # reductions
    ("sum_dim", "out = x.sum(dim=0)", None),
    ("sum_keepdim", "out = x.sum(1, keepdim=True)", None),
    ("sum_tuple", "out = x.sum(dim=(0, 1))", None),
    ("mean_dim", "out = x.mean(dim=-1)", None),
    ("max_all", "out = x.max()", None),
    ("max_dim", "out = x.max(dim=1)", None),
    ("max_dim_unpack", "values, indices = x.max(1); out = (values, indices)", None),
    ("min_keepdim", "out = x.min(0, keepdim=True).values", None),
    ("max_binary", "out = M.max(x, y)", None),
    ("amax", "out = x.amax(dim=(0, 1))", None),
    ("argmax", "out = x.argmax(dim=1)", None),
    ("var_default", "out = x.var()", None),
    ("var_dim", "out = x.var(dim=1, keepdim=True)", None),
    ("std_unbiased_false", "out = x.std(0, unbiased=False)", None),
    ("std_correction", "out = x.std(dim=1, correction=0)", None),
    ("prod", "out = x.prod(1)", None),
    ("cumsum", "out = x.cumsum(dim=1)", None),
    ("logsumexp", "out = x.logsumexp(dim=1)", None),
    ("norm", "out = (x.norm(), x.norm(p=1, dim=1), x.norm(float('inf')))", None),
    ("softmax", "out = F.softmax(x, dim=1) + x.log_softmax(dim=1)", None),
    # shapes
    ("view", "out = x.view(2, 6)", None),
    ("view_neg", "out = x.reshape(-1)", None),
    ("permute_transpose", "out = (x.t(), x.transpose(0, 1), x.unsqueeze(0).permute(2, 0, 1))",
     None),
    ("squeeze", "out = x.unsqueeze(1).squeeze(1)", None),
    ("flatten", "out = x.unsqueeze(0).flatten(1)", None),
    ("flatten_dims", "out = (x.unsqueeze(dim=0).flatten(start_dim=1), "
     "nn.Flatten(start_dim=0)(x), x.unsqueeze(-1).squeeze(dim=-1))", None),
    ("expand", "out = v.expand(3, 4)", None),
    ("repeat", "out = x.repeat(2, 1)", None),
    ("flip_roll", "out = (x.flip(0), x.roll(1, 1))", None),
    ("cat_stack", "out = (M.cat([x, y], dim=0), M.stack([x, y], dim=1))", None),
    ("split_chunk", "out = (x.split(2, dim=1), x.chunk(3, dim=0))", None),
    ("narrow", "out = x.narrow(1, 1, 2)", None),
    ("tril_triu_diag", "out = (m.tril(), m.triu(1), M.diag(m), M.diag(v), m.trace())", None),
    ("index", "out = x[1:, ::2]", None),
    ("gather", "out = x.gather(1, M.tensor([[0, 1], [2, 2], [3, 0]]))", None),
    ("index_select", "out = x.index_select(0, M.tensor([2, 0]))", None),
    ("masked_fill", "out = x.masked_fill(x < 0, 0.0)", None),
    ("pad", "out = F.pad(x, (1, 2))", None),
    # autograd
    ("backward", "(x * y).sum().backward(); out = x.grad", None),
    ("grad_zero_", "(x * 2).sum().backward(); x.grad.zero_(); out = x.grad", None),
    ("autograd_grad", "(g,) = M.autograd.grad((x ** 3).sum(), x); out = g", None),
    ("double_grad", "(g,) = M.autograd.grad((x ** 3).sum(), x, create_graph=True); "
     "(h,) = M.autograd.grad(g.sum(), x); out = h", None),
    ("no_grad", "with M.no_grad():\n    z = x * 2\nout = z.requires_grad", None),
    ("detach", "out = (x.detach().requires_grad, (x * 2).detach())", None),
    ("retain_grad", "z = x * 2; z.retain_grad(); z.sum().backward(); out = z.grad", None),
    ("register_hook", "z = x * 2; z.register_hook(lambda g: g * 10); z.sum().backward(); "
     "out = x.grad", None),
    ("inplace_leaf", "x.add_(1)", "no_grad"),
    ("inplace_saved", "z = x * 2; w = z * z; z.add_(1); w.sum().backward()",
     "modified by an inplace operation"),
    ("inplace_under_no_grad", "with M.no_grad():\n    x.mul_(2)\nout = x", None),
    ("clone", "z = x.clone(); z.sum().backward(); out = x.grad", None),
    # nn, losses, optim
    ("mse_loss", "out = F.mse_loss(x, y)", None),
    ("mse_loss_sum", "out = F.mse_loss(x, y, reduction='sum')", None),
    ("l1_smooth_huber", "out = (F.l1_loss(x, y), F.smooth_l1_loss(x, y), F.huber_loss(x, y))",
     None),
    ("cross_entropy", "out = F.cross_entropy(x, lbl)", None),
    ("nll_loss", "out = F.nll_loss(F.log_softmax(x, dim=1), lbl)", None),
    ("one_hot", "out = F.one_hot(lbl, num_classes=4)", None),
    ("gelu_silu", "out = (F.gelu(x), F.silu(x), F.elu(x), F.softplus(x))", None),
    ("layer_norm", "out = F.layer_norm(x, (4,))", None),
    ("linear_double", "nn_ = nn.Linear(4, 2).double(); out = nn_(x).shape", None),
    ("float_model_double_input", "layer = nn.Linear(4, 2); layer(x)", "x.float()"),
    ("module_list_names", "ml = nn.ModuleList([nn.Linear(2, 2)]); "
     "out = [k for k, _ in ml.named_parameters()]", None),
    ("sequential_names", "s = nn.Sequential(nn.Linear(2, 3), nn.ReLU()); "
     "out = list(s.state_dict().keys())", None),
    ("sgd_step", "w = M.tensor([1.0, -2.0], dtype=M.float64, requires_grad=True); "
     "opt = M.optim.SGD([w], lr=0.1, momentum=0.9); (w * w).sum().backward(); opt.step(); "
     "out = w.detach()", None),
    ("step_lr", "w = M.zeros(1, requires_grad=True); opt = M.optim.SGD([w], lr=1.0); "
     "s = M.optim.lr_scheduler.StepLR(opt, 2, 0.5)\nfor _ in range(5):\n    opt.step(); s.step()\n"
     "out = s.get_last_lr()", None),
    ("clip_grad_norm", "(x * y).sum().backward(); "
     "out = (M.nn.utils.clip_grad_norm_([x], 1.0), x.grad)", None),
    ("cuda", "x.cuda()", "CPU only"),
    ("torch_dtype_passed", "x.to(torch.float32)", "tg.float32"),
    ("max_tuple_dim", "x.max(dim=(0, 1))", "amax"),
]


def _inputs(M):
    def t(a, grad=False):
        return M.tensor(a, dtype=M.float64, requires_grad=grad)
    return {"M": M, "F": M.nn.functional, "nn": M.nn, "np": np, "torch": torch,
            "x": t(X, True), "y": t(Y, True), "v": t(V), "m": t(MAT), "p": t(P),
            "lbl": M.tensor([1, 3, 0])}


def _plain(value):
    """Results of both libraries as nested lists/tuples of NumPy arrays and Python values."""
    if isinstance(value, torch.Tensor):
        return value.detach().numpy()
    if isinstance(value, tg.Tensor):
        return np.asarray(value.data)  # NOTE: ops on 0-d data may hold a NumPy scalar
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, torch.dtype):
        return str(value).replace("torch.", "")
    if isinstance(value, torch.Size):
        return tuple(value)
    return value


def _assert_same(ours, theirs, where="out"):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs), f"{where}: {ours} vs {theirs}"
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same(a, b, f"{where}[{i}]")
    elif isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray), f"{where}: {type(ours)} vs an array"
        assert ours.shape == theirs.shape, f"{where}: shape {ours.shape} vs {theirs.shape}"
        assert ours.dtype == theirs.dtype, f"{where}: dtype {ours.dtype} vs {theirs.dtype}"
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, err_msg=where)
    else:
        assert ours == theirs, f"{where}: {ours!r} vs {theirs!r}"


def test_the_table_has_at_least_80_snippets():
    assert len(SNIPPETS) >= 80


@pytest.mark.parametrize("name, code, says", SNIPPETS, ids=[s[0] for s in SNIPPETS])
def test_snippet(name, code, says):
    theirs_ns, ours_ns = _inputs(torch), _inputs(tg)
    if says is not None:
        with pytest.raises((TypeError, ValueError, RuntimeError)) as info:
            exec(code, ours_ns)
        assert says in str(info.value), f"the error does not say what to write: {info.value}"
        return
    exec(code, theirs_ns)
    exec(code, ours_ns)
    _assert_same(_plain(ours_ns["out"]), _plain(theirs_ns["out"]))
