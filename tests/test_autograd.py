"""The engine's invariants: accumulation, graph freeing, deep graphs, grad mode, errors, dtypes."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn.autograd import Function
from tinygrad_nn.gradcheck import GradcheckError

# --------------------------------------------------------------------------------------------
# the classic regressions (micrograd PR #64, tinygrad #119): accumulate, never overwrite
# --------------------------------------------------------------------------------------------


def test_x_times_x():
    x = tg.Tensor(3.0, requires_grad=True)
    (x * x).backward()
    assert x.grad.item() == 6.0


def test_x_plus_x_times_x():
    x = tg.Tensor(3.0, requires_grad=True)
    ((x + x) * x).backward()  # d/dx 2x^2 = 4x
    assert x.grad.item() == 12.0


def test_b_is_a_plus_a_c_is_b_plus_b():
    a = tg.Tensor(-4.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_diamond():
    a = tg.Tensor(2.0, requires_grad=True)
    b = tg.Tensor(5.0, requires_grad=True)
    x = a + b
    y = x * a  # y = a^2 + ab: dy/da = 2a + b, dy/db = a
    y.backward()
    assert a.grad.item() == 9.0
    assert b.grad.item() == 2.0


def test_same_tensor_twice_in_one_op_with_broadcasting():
    x = tg.Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    (x.T * x).sum().backward()  # sum_ij x_i x_j = (sum x)^2 -> 2 * sum(x) for every entry
    assert x.grad.tolist() == [[12.0, 12.0, 12.0]]


def test_gradients_accumulate_across_backward_calls():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]


def test_retain_graph_allows_a_second_backward_and_accumulates():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_second_backward_without_retain_graph_raises():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_graph_is_freed_after_backward():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = h.sum()
    y.backward()
    assert h._ctx.parents is None and y._ctx.parents is None


def test_deep_chain_of_100000_ops_is_iterative():
    assert sys.getrecursionlimit() < 100_000
    x = tg.Tensor(1.0, dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0  # two ops per step: 200,000 nodes
    y.backward()
    assert x.grad.item() == 1.0


def test_leaf_gradients_never_alias_each_other():
    a = tg.Tensor([1.0, 2.0], requires_grad=True)
    b = tg.Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # Add hands the same gradient array to both inputs
    assert not np.shares_memory(a.grad.data, b.grad.data)
    a.grad.data *= 10  # an in-place update of one gradient must not touch the other
    assert b.grad.tolist() == [1.0, 1.0]


def test_leaf_gradient_does_not_alias_the_users_gradient_array():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([1.0, 1.0], dtype=np.float32)
    x.backward(seed)
    seed[0] = 99.0
    assert x.grad.tolist() == [1.0, 1.0]


def test_retain_grad_keeps_intermediate_gradients():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3).retain_grad()
    g = x * 5
    (h * h + g).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]
    assert g.grad is None


def test_no_gradient_is_computed_for_inputs_that_do_not_need_one():
    calls = []

    class Spy(Function):
        __slots__ = ()

        def forward(self, x, w):
            return x * w

        def backward(self, g, out, x, w):
            calls.append(self.needs_input_grad)
            return (g * w if self.needs_input_grad[0] else None,
                    g * x if self.needs_input_grad[1] else None)

    data = tg.Tensor(np.ones(3))
    w = tg.Tensor(np.ones(3), requires_grad=True)
    Spy.apply(data, w).sum().backward()
    assert calls == [(False, True)]
    assert data.grad is None


def test_a_gradient_an_op_returns_anyway_never_reaches_an_input_without_requires_grad():
    # Add and Sub hand the gradient to both inputs whatever needs_input_grad says: the engine
    # must drop the term for a constant, never give it a .grad (PyTorch leaves it None)
    x = tg.Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    c = tg.Tensor([3.0, 4.0], dtype=np.float64)
    for y in (x + c, c + x, x - c, (x * 2.0) + c):
        y.sum().backward()
    assert c.grad is None
    assert np.array_equal(x.grad.data, [5.0, 5.0])


def test_unused_branch_gets_no_gradient():
    x = tg.Tensor([1.0], requires_grad=True)
    y = tg.Tensor([2.0], requires_grad=True)
    _ = y * 2
    (x * 3).sum().backward()
    assert y.grad is None


# --------------------------------------------------------------------------------------------
# grad mode
# --------------------------------------------------------------------------------------------


def test_no_grad_records_nothing():
    x = tg.Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        y = x * 2
    assert not y.requires_grad and y._ctx is None


def test_no_grad_as_decorator_and_enable_grad_inside():
    x = tg.Tensor([1.0], requires_grad=True)

    @tg.no_grad()
    def f():
        inner = x * 2
        with tg.enable_grad():
            recorded = x * 2
        return inner, recorded

    inner, recorded = f()
    assert not inner.requires_grad and recorded.requires_grad
    assert tg.is_grad_enabled()


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError), tg.no_grad():
        raise ZeroDivisionError
    assert tg.is_grad_enabled()


# --------------------------------------------------------------------------------------------
# functional grad and higher order
# --------------------------------------------------------------------------------------------


def test_grad_does_not_touch_dot_grad():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    (gx,) = tg.grad((x * x).sum(), x)
    assert gx.tolist() == [2.0, 4.0]
    assert x.grad is None


def test_grad_reports_unused_inputs():
    x = tg.Tensor([1.0], requires_grad=True)
    z = tg.Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="input 1 .* not used"):
        tg.grad((x * 2).sum(), [x, z], retain_graph=True)
    assert tg.grad((x * 2).sum(), [x, z], allow_unused=True)[1] is None


def test_grad_with_respect_to_an_intermediate():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (gh,) = tg.grad((h * h).sum(), h)
    assert gh.tolist() == [6.0, 12.0]


def test_second_derivative_of_a_cubic():
    x = tg.Tensor(2.0, dtype=np.float64, requires_grad=True)
    (g,) = tg.grad(x**3, x, create_graph=True)  # 3x^2 = 12
    (h,) = tg.grad(g, x, create_graph=True)  # 6x = 12
    (t,) = tg.grad(h, x)  # 6
    assert (g.item(), h.item(), t.item()) == (12.0, 12.0, 6.0)


def test_backward_with_create_graph_gives_differentiable_grad():
    x = tg.Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    (x * x * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad  # 3x^2, itself a function of x
    penalty = (x.grad * x.grad).sum()  # sum 9x^4 -> d = 36 x^3
    x.grad = None
    penalty.backward()
    np.testing.assert_allclose(x.grad.data, [36.0, 288.0])


def test_hessian_vector_product_matches_finite_differences():
    rng = np.random.default_rng(0)
    w0, v = rng.standard_normal(4), rng.standard_normal(4)
    A = rng.standard_normal((4, 4))

    def loss(w):
        return ((tg.Tensor(A) @ w).tanh() ** 2).sum() + (w * w * w).sum()

    w = tg.Tensor(w0, requires_grad=True)
    (g,) = tg.grad(loss(w), w, create_graph=True)
    (hvp,) = tg.grad((g * tg.Tensor(v)).sum(), w)

    def gradient_at(point):
        p = tg.Tensor(point, requires_grad=True)
        return tg.grad(loss(p), p)[0].data

    eps = 1e-6
    numeric = (gradient_at(w0 + eps * v) - gradient_at(w0 - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hvp.data, numeric, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------------------------
# gradcheck itself
# --------------------------------------------------------------------------------------------


class WrongSquare(Function):
    """x**2 with a deliberately wrong gradient (x instead of 2x)."""

    __slots__ = ()

    def forward(self, x):
        return x * x

    def backward(self, g, out, x):
        return g * x


def test_gradcheck_fails_on_a_wrong_gradient_and_says_where():
    x = tg.Tensor([1.0, -2.0, 3.0], dtype=np.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"(?s)3 element\(s\).*input 0, element \(2,\)"):
        tg.gradcheck(lambda t: WrongSquare.apply(t), x)
    assert tg.gradcheck(lambda t: WrongSquare.apply(t), x, raise_exception=False) is False


def test_gradcheck_passes_a_right_gradient_and_refuses_float32():
    x = tg.Tensor([1.0, -2.0, 3.0], dtype=np.float64, requires_grad=True)
    assert tg.gradcheck(lambda t: t * t, x)
    with pytest.raises(ValueError, match="float64"):
        tg.gradcheck(lambda t: t * t, tg.Tensor([1.0], requires_grad=True))


# --------------------------------------------------------------------------------------------
# dtypes
# --------------------------------------------------------------------------------------------


def test_python_data_becomes_float32_or_int64_like_torch():
    assert tg.Tensor([1.0, 2.0]).dtype == np.float32
    assert tg.Tensor(2.5).dtype == np.float32
    assert tg.Tensor([1, 2]).dtype == np.int64
    assert tg.Tensor(np.ones(2)).dtype == np.float64  # ndarrays keep their dtype


def test_set_default_dtype():
    try:
        tg.set_default_dtype(np.float64)
        assert tg.Tensor([1.0]).dtype == np.float64 and tg.randn(2).dtype == np.float64
    finally:
        tg.set_default_dtype(np.float32)
    with pytest.raises(TypeError, match="floating"):
        tg.set_default_dtype(np.int32)


def test_python_scalars_do_not_promote():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    for y in (x * 2.0, 2.0 * x, x / 3, x**2, 1 - x, x + 1e3):
        assert y.dtype == np.float32


def test_mixed_dtypes_promote_and_gradients_keep_each_inputs_dtype():
    a = tg.Tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    b = tg.Tensor([3.0, 4.0], dtype=np.float64, requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_astype_is_differentiable():
    x = tg.Tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, 3.0]


def test_constructors():
    tg.manual_seed(0)
    a = tg.randn(2, 3)
    tg.manual_seed(0)
    assert np.array_equal(a.data, tg.randn((2, 3)).data)
    assert tg.zeros(2, 3).shape == (2, 3) and tg.ones(4).data.sum() == 4
    assert tg.arange(5).dtype == np.int64 and tg.arange(0.0, 1.0, 0.25).shape == (4,)
    assert tg.zeros_like(a).shape == a.shape and tg.rand(3).data.max() < 1
    assert tg.randn(2, dtype=np.float64, requires_grad=True).requires_grad


def test_repr_and_detach():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "Tensor([1., 2.], requires_grad=True)"
    assert "grad_fn=<Mul>" in repr(x * 2)
    assert "dtype=float64" in repr(tg.Tensor(np.ones(1)))
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf


# --------------------------------------------------------------------------------------------
# bad input: a clear error that names the op and the shapes, never a wrong answer
# --------------------------------------------------------------------------------------------


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating-point.*int64"):
        tg.Tensor([1, 2], requires_grad=True)


def test_backward_on_non_scalar_needs_gradient():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*shape \(2,\)"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_on_a_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.Tensor([1.0]).sum().backward()


def test_broadcast_mismatch_names_op_and_shapes():
    a, b = tg.ones(3, 4), tg.ones(5, 6)
    with pytest.raises(ValueError, match=r"add: .*\(3, ?4\).*\(5, ?6\)"):
        _ = a + b


def test_matmul_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 6\) do not align"):
        _ = tg.ones(3, 4) @ tg.ones(5, 6)
    with pytest.raises(ValueError, match="matmul.*0-D"):
        _ = tg.ones(3) @ tg.Tensor(2.0)


def test_unsupported_index_type_says_what_is_supported():
    x = tg.ones(3, 4)
    with pytest.raises(TypeError, match="unsupported index type float.*supported: int, slice"):
        _ = x[1.5]
    with pytest.raises(TypeError, match="ints or bools"):
        _ = x[np.array([0.5])]
    with pytest.raises(IndexError, match="getitem"):
        _ = x[7]


def test_bad_axis_and_reshape_name_the_op():
    x = tg.ones(2, 3)
    with pytest.raises(ValueError, match="sum: axis 2 is out of range"):
        x.sum(2)
    with pytest.raises(ValueError, match="reshape: .*(4,)"):
        x.reshape(4)
    with pytest.raises(ValueError, match="cat: tensor 1 has shape"):
        tg.cat([x, tg.ones(3)])


def test_bad_data_type_is_rejected():
    with pytest.raises(TypeError, match="cannot make a tensor.*<U1"):
        tg.Tensor(["a", "b"])


def test_nan_and_inf_are_never_silently_turned_into_numbers():
    x = tg.Tensor([-1.0, 0.0, 1.0], dtype=np.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        y = x.log()
        assert np.isnan(y.data[0]) and np.isneginf(y.data[1])
        y.sum().backward()
    assert np.isinf(x.grad.data[1])
    z = tg.Tensor([np.nan, 1.0], requires_grad=True)
    z.relu().sum().backward()
    out = tg.Tensor([np.nan, 2.0]).relu()
    assert np.isnan(out.data[0])


def test_create_graph_records_even_inside_no_grad():
    """As in PyTorch, create_graph decides whether the backward pass is recorded."""
    x = tg.Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = (x * x * x).sum()
    with tg.no_grad():
        (g,) = tg.grad(y, x, create_graph=True)
    assert g.requires_grad
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h.data, [6.0, 12.0])


def test_zero_dim_leaves_get_tensor_gradients():
    """NumPy returns scalars from ops on 0-d arrays; .grad must still be a 0-d Tensor."""
    s = tg.Tensor(np.float64(3.0), requires_grad=True)
    x = tg.Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    (s * s + (x * s).sum()).backward()
    assert isinstance(s.grad, tg.Tensor) and s.grad.shape == () and s.grad.item() == 9.0
    (gs,) = tg.grad((s * s), s)
    assert isinstance(gs, tg.Tensor) and isinstance(gs.data, np.ndarray)


def test_numpy_scalars_keep_their_dtype():
    assert tg.Tensor(np.float64(1.5)).dtype == np.float64
    assert tg.Tensor(np.float32(1.5)).dtype == np.float32
