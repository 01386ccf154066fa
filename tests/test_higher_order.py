"""Second derivatives (grad of grad) against PyTorch's double backward, in float64."""

from __future__ import annotations

import numpy as np
import pytest
from op_helpers import make_inputs

import tinygrad_nn as tg
from tinygrad_nn.nn import functional as F

torch = pytest.importorskip("torch")

CASES = [
    ("mul", [(3,), (3,)], lambda a, b: a * b),
    ("div", [(3,), (3,)], lambda a, b: a / b),
    ("pow", [(3,), (3,)], lambda a, b: a**b),
    ("pow_scalar", [(3,)], lambda a: a**3),
    ("exp", [(3,)], lambda a: a.exp()),
    ("log", [(3,)], lambda a: a.log()),
    ("sqrt", [(3,)], lambda a: a.sqrt()),
    ("tanh", [(3,)], lambda a: a.tanh()),
    ("sigmoid", [(3,)], lambda a: a.sigmoid()),
    ("relu_mul", [(3,), (3,)], lambda a, b: (a * b).relu() * a),
    ("matmul", [(2, 3), (3, 4)], lambda a, b: a @ b),
    ("matmul_vec", [(3,), (3, 2)], lambda a, b: a @ b),
    ("softmax", [(2, 4)], lambda a: a.softmax(-1)),
    ("log_softmax", [(2, 4)], lambda a: a.log_softmax(-1)),
    ("max_sum", [(2, 4), (2, 4)], lambda a, b: (a * b).amax(1)),
    ("linear", [(2, 3), (4, 3), (4,)], lambda x, w, b: F.linear(x, w, b).tanh()),
    ("getitem", [(4, 3)], lambda a: (a * a)[[0, 0, 2]]),
    ("reshape_permute", [(2, 3)], lambda a: (a * a).T.reshape(6)),
    ("broadcast", [(2, 1), (3,)], lambda a, b: (a * b).exp()),
    ("cat", [(2,), (3,)], lambda a, b: tg.cat([a * a, b.exp()])),
]

TORCH = {
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "pow_scalar": lambda a: a**3,
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
    "sqrt": lambda a: a.sqrt(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu_mul": lambda a, b: (a * b).relu() * a,
    "matmul": lambda a, b: a @ b,
    "matmul_vec": lambda a, b: a @ b,
    "softmax": lambda a: a.softmax(-1),
    "log_softmax": lambda a: a.log_softmax(-1),
    "max_sum": lambda a, b: (a * b).amax(1),
    "linear": lambda x, w, b: torch.nn.functional.linear(x, w, b).tanh(),
    "getitem": lambda a: (a * a)[[0, 0, 2]],
    "reshape_permute": lambda a: (a * a).T.reshape(6),
    "broadcast": lambda a, b: (a * b).exp(),
    "cat": lambda a, b: torch.cat([a * a, b.exp()]),
}


@pytest.mark.parametrize("name, shapes, fn", CASES, ids=[c[0] for c in CASES])
def test_grad_of_grad_matches_torch(name, shapes, fn):
    """d/dx <u, J(x)^T v> for random u, v: exercises every op's backward under create_graph."""
    values = make_inputs(shapes, 0.5, 2.0, seed=3)
    rng = np.random.default_rng(4)
    ts = [tg.Tensor(x, requires_grad=True) for x in values]
    out = fn(*ts)
    v = rng.standard_normal(out.shape)
    grads = tg.grad(out, ts, grad_outputs=v, create_graph=True)
    us = [rng.standard_normal(x.shape) for x in values]
    scalar = sum((g * tg.Tensor(u)).sum() for g, u in zip(grads, us))
    second = tg.grad(scalar, ts, allow_unused=True)

    ps = [torch.tensor(x, requires_grad=True) for x in values]
    pout = TORCH[name](*ps)
    pgrads = torch.autograd.grad(pout, ps, torch.tensor(v), create_graph=True)
    pscalar = sum((g * torch.tensor(u)).sum() for g, u in zip(pgrads, us))
    psecond = torch.autograd.grad(pscalar, ps, allow_unused=True)
    for i, (g, p) in enumerate(zip(grads, pgrads)):
        np.testing.assert_allclose(g.data, p.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"first derivative, input {i}")
    for i, (s, p) in enumerate(zip(second, psecond)):
        expected = np.zeros(values[i].shape) if p is None else p.numpy()
        actual = np.zeros(values[i].shape) if s is None else s.data
        np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-11,
                                   err_msg=f"second derivative, input {i}")


def test_hessian_of_a_small_mlp_loss_matches_torch():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((5, 3)), rng.standard_normal((2, 3))
    y = rng.standard_normal((5, 2))

    def hessian(loss_fn, grad_fn, make):
        p = make(w)
        (g,) = grad_fn(loss_fn(p), p)
        return g

    tw = tg.Tensor(w, requires_grad=True)
    (g,) = tg.grad(((F.linear(tg.Tensor(x), tw).sigmoid() - tg.Tensor(y)) ** 2).sum(), tw,
                   create_graph=True)
    rows = [tg.grad(g.reshape(-1)[i], tw, retain_graph=True)[0].data.reshape(-1)
            for i in range(w.size)]
    pw = torch.tensor(w, requires_grad=True)
    ploss = ((torch.nn.functional.linear(torch.tensor(x), pw).sigmoid() - torch.tensor(y)) ** 2)
    expected = torch.autograd.functional.hessian(
        lambda q: ((torch.nn.functional.linear(torch.tensor(x), q).sigmoid() - torch.tensor(y))
                   ** 2).sum(), pw.detach())
    assert ploss.requires_grad
    np.testing.assert_allclose(np.stack(rows), expected.reshape(w.size, w.size).numpy(),
                               rtol=1e-9, atol=1e-12)


def test_fused_squared_error_second_derivative():
    x = tg.Tensor([1.0, -2.0, 0.5], dtype=np.float64, requires_grad=True)
    y = tg.Tensor([0.5, 0.5, 0.5], dtype=np.float64, requires_grad=True)
    (gx,) = tg.grad(F.sum_squared_error(x.tanh(), y, 0.5), x, create_graph=True)
    (hx,) = tg.grad(gx.sum(), x)
    px = torch.tensor(x.data, requires_grad=True)
    pgx = torch.autograd.grad(0.5 * ((px.tanh() - torch.tensor(y.data)) ** 2).sum(), px,
                              create_graph=True)[0]
    (phx,) = torch.autograd.grad(pgx.sum(), px)
    np.testing.assert_allclose(hx.data, phx.numpy(), rtol=1e-12)
