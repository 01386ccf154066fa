"""Rashid's three-layer network reference: the book's update against the gradients it descends."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from refcheck_numeric import numeric_gradient

from tinygrad_nn.reference import rashid
from tinygrad_nn.reference.cs231n import rel_error


def make_case(n_in: int, n_hidden: int, n_out: int, m: int, seed: int):
    """Book-style data: inputs in [0.01, 1], targets in [0.01, 0.99]; weights from init_weights."""
    rng = np.random.default_rng(seed)
    wih, who = rashid.init_weights(n_in, n_hidden, n_out, rng)
    inputs = rng.uniform(0.01, 1.0, size=(n_in, m))
    targets = rng.uniform(0.01, 0.99, size=(n_out, m))
    return wih, who, inputs, targets


def test_init_weights_shapes_scale_and_draw_order():
    wih, who = rashid.init_weights(400, 300, 10, np.random.default_rng(0))
    assert wih.shape == (300, 400) and who.shape == (10, 300)
    # std = 1 / sqrt(incoming links): the book's pow(self.inodes, -0.5) and pow(self.hnodes, -0.5).
    assert wih.std() == pytest.approx(400**-0.5, rel=0.02)
    assert who.std() == pytest.approx(300**-0.5, rel=0.05)

    wih, who = rashid.init_weights(3, 4, 2, np.random.default_rng(1))
    rng = np.random.default_rng(1)
    np.testing.assert_array_equal(wih, rng.normal(0.0, 3**-0.5, (4, 3)))
    np.testing.assert_array_equal(who, rng.normal(0.0, 4**-0.5, (2, 4)))


def test_query_reads_a_list_as_one_column_and_a_matrix_as_columns():
    wih, who, inputs, _ = make_case(3, 4, 2, 5, 2)
    manual = 1.0 / (1.0 + np.exp(-(who @ (1.0 / (1.0 + np.exp(-(wih @ inputs)))))))
    np.testing.assert_allclose(rashid.query(wih, who, inputs), manual, rtol=1e-15)
    one = rashid.query(wih, who, list(inputs[:, 0]))
    assert one.shape == (2, 1)
    np.testing.assert_allclose(one, manual[:, [0]], rtol=1e-15)


@pytest.mark.parametrize("m", [1, 4])
def test_gradients_match_numeric_quadratic_loss(m):
    wih, who, inputs, targets = make_case(3, 5, 4, m, 3)
    dwih, dwho = rashid.gradients(wih, who, inputs, targets)

    def f() -> float:
        return rashid.loss(wih, who, inputs, targets)

    assert rel_error(dwih, numeric_gradient(f, wih)) < 1e-7
    assert rel_error(dwho, numeric_gradient(f, who)) < 1e-7


@pytest.mark.parametrize("m", [1, 4])
def test_cross_entropy_gradients_match_numeric(m):
    wih, who, inputs, targets = make_case(3, 5, 4, m, 4)
    dwih, dwho = rashid.cross_entropy_gradients(wih, who, inputs, targets)

    def f() -> float:
        return rashid.cross_entropy_loss(wih, who, inputs, targets)

    assert rel_error(dwih, numeric_gradient(f, wih)) < 1e-7
    assert rel_error(dwho, numeric_gradient(f, who)) < 1e-7


def test_train_step_is_the_books_update_written_out():
    wih, who, inputs, targets = make_case(3, 3, 3, 1, 5)
    x = [1.0, 0.5, -1.5]
    t = list(targets[:, 0])
    new_wih, new_who = rashid.train_step(wih, who, x, t, 0.3)

    # The book's `train`, line by line.
    i = np.array(x, ndmin=2).T
    tt = np.array(t, ndmin=2).T
    h = 1.0 / (1.0 + np.exp(-(wih @ i)))
    o = 1.0 / (1.0 + np.exp(-(who @ h)))
    e = tt - o
    e_hidden = who.T @ e
    np.testing.assert_allclose(new_who, who + 0.3 * ((e * o * (1 - o)) @ h.T), rtol=1e-14)
    np.testing.assert_allclose(new_wih, wih + 0.3 * ((e_hidden * h * (1 - h)) @ i.T), rtol=1e-14)


@settings(max_examples=40, deadline=None)
@given(
    n_in=st.integers(1, 6),
    n_hidden=st.integers(1, 6),
    n_out=st.integers(1, 6),
    m=st.integers(1, 4),
    lr=st.floats(0.01, 1.0),
    seed=st.integers(0, 2**16),
)
def test_train_step_equals_minus_lr_times_gradients(n_in, n_hidden, n_out, m, lr, seed):
    """who: gradient of 1/2||t - o||^2. wih: gradient of the cross-entropy (the book drops o')."""
    wih, who, inputs, targets = make_case(n_in, n_hidden, n_out, m, seed)
    new_wih, new_who = rashid.train_step(wih, who, inputs, targets, lr)
    _, dwho = rashid.gradients(wih, who, inputs, targets)
    ce_dwih, _ = rashid.cross_entropy_gradients(wih, who, inputs, targets)
    np.testing.assert_allclose(new_who, who - lr * dwho, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(new_wih, wih - lr * ce_dwih, rtol=1e-12, atol=1e-15)


def test_wih_update_is_not_the_quadratic_gradient():
    """The book's hidden error who.T @ e lacks the output's o * (1 - o): a known departure."""
    wih, who, inputs, targets = make_case(4, 5, 3, 1, 6)
    lr = 0.5
    new_wih, _ = rashid.train_step(wih, who, inputs, targets, lr)
    dwih, _ = rashid.gradients(wih, who, inputs, targets)
    step = (wih - new_wih) / lr
    assert rel_error(step, dwih) > 0.5
    # With a single output unit (and one example) the two differ by exactly the factor o * (1 - o).
    wih1, who1, inputs1, targets1 = make_case(4, 5, 1, 1, 7)
    new_wih1, _ = rashid.train_step(wih1, who1, inputs1, targets1, lr)
    dwih1, _ = rashid.gradients(wih1, who1, inputs1, targets1)
    o = rashid.query(wih1, who1, inputs1)[0, 0]
    np.testing.assert_allclose(o * (1 - o) * (wih1 - new_wih1) / lr, dwih1, rtol=1e-12)


def test_train_step_does_not_modify_its_inputs_and_reduces_the_loss():
    wih, who, inputs, targets = make_case(3, 4, 2, 1, 8)
    saved = [wih.copy(), who.copy(), inputs.copy(), targets.copy()]
    new_wih, new_who = rashid.train_step(wih, who, inputs, targets, 0.1)
    for before, after in zip(saved, [wih, who, inputs, targets], strict=True):
        np.testing.assert_array_equal(before, after)
    before_loss = rashid.loss(wih, who, inputs, targets)
    assert rashid.loss(new_wih, new_who, inputs, targets) < before_loss


def test_rejects_three_dimensional_inputs():
    wih, who, _, _ = make_case(2, 2, 2, 1, 9)
    with pytest.raises(ValueError, match="rashid"):
        rashid.query(wih, who, np.ones((2, 1, 1)))
