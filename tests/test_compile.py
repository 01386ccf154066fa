"""tg.compile: compiled training equals eager training, guards retrace, traps raise.

The equality tests train two identical copies of a network for 100 steps, one eagerly and one
through ``tg.compile``, in float64, and require every parameter, every loss and every gradient
to agree to 1e-12 relative (the rules make the same NumPy calls as the ops: in practice they
agree exactly). They cover every layer, loss and optimizer of the library.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import nn, optim

STEPS = 100
RTOL = 1e-12


def _training_step(net, opt, loss_fn, zero_grad=True):
    """The step as users write it: zero_grad (unless told not to), the loss of ``net`` on a
    batch, backward, the optimizer's step; the loss returned."""

    def step(xb, yb):
        if zero_grad:
            opt.zero_grad()
        loss = loss_fn(net(tg.Tensor.from_numpy(xb)), yb)
        loss.backward()
        opt.step()
        return loss

    return step


def _data(n=40, features=6, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features))
    labels = rng.integers(0, classes, n)
    return x, labels, np.eye(classes)[labels]


def _close(a, b, what):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(np.max(np.abs(a)), 1e-300)
    error = np.max(np.abs(a - b)) / scale if a.size else 0.0
    assert error <= RTOL, f"{what}: relative difference {error:.3e}"


def _train_both(make_model, loss_fn, make_opt, targets, *, batch=8, steps=STEPS, seed=0,
                scheduler=None, x=None):
    """Train an eager copy and a compiled copy side by side; compare after every step."""
    tg.manual_seed(seed)
    model = make_model()
    twin = copy.deepcopy(model)
    opt_e, opt_c = make_opt(model.parameters()), make_opt(twin.parameters())
    sched_e = scheduler(opt_e) if scheduler else None
    sched_c = scheduler(opt_c) if scheduler else None
    x = _data()[0] if x is None else x

    eager_step = _training_step(model, opt_e, loss_fn)
    compiled_step = tg.compile(_training_step(twin, opt_c, loss_fn))

    rng_e, rng_c = np.random.default_rng(seed + 1), None
    for step in range(steps):
        i = (step * batch) % (len(x) - batch + 1)
        xb, yb = x[i:i + batch], targets[i:i + batch]
        state = tg.default_rng().bit_generator.state
        loss_e = eager_step(xb, yb)
        tg.default_rng().bit_generator.state = state  # the same dropout draws for the twin
        loss_c = compiled_step(xb, yb)
        assert isinstance(loss_c, tg.Tensor) and loss_c.shape == loss_e.shape
        assert loss_c.dtype == loss_e.dtype
        _close(loss_e.data, loss_c.data, f"loss at step {step}")
        for (name, p), q in zip(model.named_parameters(), twin.parameters()):
            _close(p.data, q.data, f"{name} at step {step}")
            assert (p.grad is None) == (q.grad is None), name
            if p.grad is not None:
                _close(p.grad.data, q.grad.data, f"{name}.grad at step {step}")
        if sched_e:
            sched_e.step()
            sched_c.step()
    state_e, state_c = opt_e.state_dict()["state"], opt_c.state_dict()["state"]
    assert sorted(state_e) == sorted(state_c), "optimizer state: different parameters"
    for index, entries in state_e.items():
        assert sorted(entries) == sorted(state_c[index]), f"optimizer state {index}"
    del rng_e, rng_c
    return compiled_step


def _mse(out, y):
    return nn.functional.mse_loss(out, y)


def _issue_loss(out, y):
    diff = out - tg.Tensor.from_numpy(y)
    return (diff * diff).sum() * (0.5 / len(y))


def _mlp(*middle, features=6, hidden=5, classes=4):
    def make():
        return nn.Sequential(nn.Linear(features, hidden, dtype=np.float64), *middle,
                             nn.Linear(hidden, classes, dtype=np.float64))
    return make


def test_the_issues_step_compiles_to_rules_and_equals_eager():
    _, _, onehot = _data()

    def make():
        return nn.Sequential(nn.Linear(6, 5, dtype=np.float64), nn.Sigmoid(),
                             nn.Linear(5, 4, dtype=np.float64), nn.Sigmoid())

    step = _train_both(make, _issue_loss, lambda p: optim.SGD(p, lr=3.0), onehot)
    assert step.traces == 1
    ((program,),) = step._cache.values()
    used = program.rules_used
    assert used.count("Linear: rule") == 2 and used.count("Sigmoid: rule") == 2
    assert "Sub: rule" in used and "Mul: rule" in used


LAYERS = {
    "relu": lambda: [nn.ReLU()],
    "sigmoid": lambda: [nn.Sigmoid()],
    "tanh": lambda: [nn.Tanh()],
    "leaky_relu": lambda: [nn.LeakyReLU(0.1)],
    "softmax": lambda: [nn.Softmax()],
    "log_softmax": lambda: [nn.LogSoftmax()],
    "identity": lambda: [nn.Identity()],
    "flatten": lambda: [nn.Flatten()],
    "dropout": lambda: [nn.Tanh(), nn.Dropout(0.3)],
    "maxout": lambda: [nn.Maxout(5, 5, pieces=2, dtype=np.float64)],
}


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_every_layer_compiled_equals_eager(layer):
    _, _, onehot = _data()
    _train_both(_mlp(*LAYERS[layer]()), _mse, lambda p: optim.SGD(p, lr=0.1), onehot)


LOSSES = {
    "mse": (lambda out, y: nn.functional.mse_loss(out, y), "onehot"),
    "quadratic": (lambda out, y: nn.functional.quadratic_cost(out.sigmoid(), y), "onehot"),
    "cross_entropy": (lambda out, y: nn.functional.cross_entropy(out, y), "labels"),
    "cross_entropy_probs": (lambda out, y: nn.functional.cross_entropy(out, y), "onehot"),
    "nll": (lambda out, y: nn.functional.nll_loss(out.log_softmax(), y), "labels"),
    "bce_logits": (lambda out, y: nn.functional.binary_cross_entropy_with_logits(out, y),
                   "onehot"),
    "issue": (_issue_loss, "onehot"),
    "sum_squared_error": (lambda out, y: nn.functional.sum_squared_error(out, y, 0.5),
                          "onehot"),
}


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_compiled_equals_eager(loss):
    _, labels, onehot = _data()
    fn, kind = LOSSES[loss]
    _train_both(_mlp(nn.Tanh()), fn, lambda p: optim.SGD(p, lr=0.1),
                labels if kind == "labels" else onehot)


OPTIMIZERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
    "sgd_nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda p: optim.Adam(p, lr=0.01),
    "adamw": lambda p: optim.AdamW(p, lr=0.01),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01),
    "adagrad": lambda p: optim.Adagrad(p, lr=0.1),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_compiled_equals_eager(name):
    _, _, onehot = _data()
    _train_both(_mlp(nn.Sigmoid()), _mse, OPTIMIZERS[name], onehot)


def test_a_scheduler_changes_lr_without_a_retrace():
    _, _, onehot = _data()
    step = _train_both(_mlp(nn.ReLU()), _mse, lambda p: optim.SGD(p, lr=0.5), onehot,
                       scheduler=lambda o: optim.StepLR(o, step_size=7, gamma=0.5))
    assert step.traces == 1


def test_float32_compiled_equals_eager():
    x, _, onehot = _data()

    def make():
        return nn.Sequential(nn.Linear(6, 5, dtype=np.float32), nn.Sigmoid(),
                             nn.Linear(5, 4, dtype=np.float32))

    _train_both(make, _mse, lambda p: optim.SGD(p, lr=0.1), onehot.astype(np.float32),
                x=x.astype(np.float32), steps=20)


# --------------------------------------------------------------------------------------------
# guards and the trace cache
# --------------------------------------------------------------------------------------------


def _setup(loss_fn=nn.functional.mse_loss, returns=lambda loss: loss, model=None):
    """(model, opt, compiled step): plain SGD on ``model`` (by default a small float64 MLP)."""
    if model is None:
        model = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.ReLU(),
                              nn.Linear(4, 2, dtype=np.float64))
    opt = optim.SGD(model.parameters(), lr=0.1)

    @tg.compile
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return returns(loss)

    return model, opt, step


def test_one_trace_per_signature_and_a_small_cache():
    model, _, step = _setup()
    rng = np.random.default_rng(0)
    for n in (5, 5, 3, 5, 3, 3):
        step(tg.Tensor(rng.standard_normal((n, 3))), rng.standard_normal((n, 2)))
    assert step.traces == 2  # a short last batch traces once, not every epoch
    # (a float32 input to this float64 model would raise, as in PyTorch: the target changes)
    step(tg.Tensor(rng.standard_normal((5, 3))), rng.standard_normal((5, 2)).astype(np.float32))
    assert step.traces == 3  # a new dtype is a new signature


def test_eval_mode_and_a_replaced_parameter_retrace():
    model, _, step = _setup()
    x, y = tg.Tensor(np.ones((2, 3))), np.zeros((2, 2))
    step(x, y)
    step(x, y)
    model.eval()
    step(x, y)
    assert step.traces == 2
    model.train()
    step(x, y)
    assert step.traces == 2  # the train-mode trace is still cached
    model.layers[0].weight = nn.Parameter(np.ones((4, 3)))
    step(x, y)
    assert step.traces == 3
    step(x, y)
    assert step.traces == 3


def test_grad_mode_is_part_of_the_signature():
    model = nn.Linear(3, 2, dtype=np.float64)
    forward = tg.compile(lambda x: model(x))
    x = tg.Tensor(np.ones((2, 3)))
    forward(x)
    with tg.no_grad():
        forward(x)
    assert forward.traces == 2


def test_compiled_step_sees_new_parameter_values_and_inputs():
    model, _, step = _setup()
    rng = np.random.default_rng(1)
    twin = copy.deepcopy(model)
    for _ in range(3):
        x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
        step(tg.Tensor(x), y)
    for p in model.parameters():  # a value changed in place from outside, between calls
        p.data *= 0.5
    for p in twin.parameters():
        p.data[...] = 0.0
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    expected = nn.functional.mse_loss(model(tg.Tensor(x)), y).item()
    assert step(tg.Tensor(x), y).item() == expected


def test_returned_loss_is_not_overwritten_by_the_next_call():
    _, _, step = _setup()
    rng = np.random.default_rng(2)
    x, y = tg.Tensor(rng.standard_normal((4, 3))), rng.standard_normal((4, 2))
    first = step(x, y)
    value = first.item()
    for _ in range(3):
        step(x, y)
    assert first.item() == value
    assert first.ndim == 0 and not first.requires_grad


def test_a_replayed_loss_is_not_overwritten_by_the_next_call():
    # the issue's loss ends in a Mul whose rule writes a buffer reused every call: the value
    # returned must be a copy of it (the generated replay's return line), in the step's structure
    _, _, step = _setup(_issue_loss, lambda loss: (loss, [loss]))
    rng = np.random.default_rng(3)
    x, y = tg.Tensor(rng.standard_normal((4, 3))), rng.standard_normal((4, 2))
    step(x, y)
    replayed, nested = step(x, y)
    value = replayed.item()
    assert type(nested) is list and nested[0].item() == value
    assert nested[0].data is not replayed.data
    for _ in range(3):
        step(x, y)
    assert replayed.item() == value != step(x, y)[0].item()


def _eager_and_compiled_backward(loss_of):
    """A Linear(3, 2) and its copy, with a step running backward on ``loss_of(layer, x)``:
    eagerly on the model, compiled on the twin."""
    model = nn.Linear(3, 2, dtype=np.float64)
    twin = copy.deepcopy(model)

    def step_of(m):
        def step(x):
            loss_of(m, x).backward()
        return step

    return model, twin, step_of(model), tg.compile(step_of(twin))


def test_gradients_accumulate_without_zero_grad_as_eager():
    rng = np.random.default_rng(3)
    model, twin, eager, compiled = _eager_and_compiled_backward(
        lambda m, x: (m(x) * m(x)).sum())
    for _ in range(4):
        x = tg.Tensor(rng.standard_normal((5, 3)))
        eager(x)
        compiled(x)
        for p, q in zip(model.parameters(), twin.parameters()):
            _close(p.grad.data, q.grad.data, "accumulated grad")


def test_input_gradients_are_delivered():
    w = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)

    @tg.compile
    def f(x):
        (x * x + x).sum().backward()

    for k in range(3):
        x = tg.Tensor(np.full((2, 3), float(k)), requires_grad=True)
        f(x)
        np.testing.assert_array_equal(x.grad.data, 2 * x.data + 1)
    assert w.grad is None


# --------------------------------------------------------------------------------------------
# what cannot be compiled says so at trace time
# --------------------------------------------------------------------------------------------


def test_a_data_dependent_if_raises_at_trace_time():
    model = nn.Linear(3, 1, dtype=np.float64)

    @tg.compile
    def step(x):
        loss = model(x).sum()
        if loss > 0:
            loss = loss * 2.0
        return loss

    with pytest.raises(tg.TraceError, match="bool.*frozen at trace time"):
        step(tg.Tensor(np.ones((2, 3))))


def test_item_inside_the_step_raises():
    model = nn.Linear(3, 1, dtype=np.float64)
    step = tg.compile(lambda x: model(x).sum().item())
    with pytest.raises(tg.TraceError, match=r"\.item\(\)"):
        step(tg.Tensor(np.ones((2, 3))))


def test_numpy_data_made_a_tensor_inside_the_step_raises():
    model = nn.Linear(3, 2, dtype=np.float64)
    step = tg.compile(lambda x, y: nn.functional.mse_loss(model(x), tg.Tensor(y * 2.0)))
    with pytest.raises(tg.TraceError, match="from NumPy data"):
        step(tg.Tensor(np.ones((2, 3))), np.zeros((2, 2)))


def test_a_loss_that_reads_values_in_python_is_refused_not_frozen():
    # binary_cross_entropy clamps its logs with masks computed from p.data in Python (not
    # through autograd.derived): a replay would freeze them, so tracing refuses the step
    model = nn.Linear(3, 2, dtype=np.float64)
    step = tg.compile(
        lambda x, y: nn.functional.binary_cross_entropy(model(x).sigmoid(), y))
    with pytest.raises(tg.TraceError, match="compile:"):
        step(tg.Tensor(np.ones((4, 3))), np.full((4, 2), 0.5))


def _hooked_step(hook_first):
    """A compiled step over a model whose weight gets a hook zeroing its gradient: registered
    before the first call, or between the traced call and a replay."""
    model = nn.Linear(4, 3, dtype=np.float64)
    opt = optim.SGD(model.parameters(), lr=0.3)
    hook = lambda g: tg.Tensor.from_numpy(np.zeros_like(g.data))  # noqa: E731

    @tg.compile
    def step(x):
        opt.zero_grad()
        (model(x) ** 2).sum().backward()
        opt.step()

    if hook_first:
        model.weight.register_hook(hook)
    else:
        step(tg.Tensor(np.ones((2, 4))))
        model.weight.register_hook(hook)
    return model, step


@pytest.mark.parametrize("hook_first", [True, False])
def test_a_hook_on_a_parameter_is_refused_not_skipped(hook_first):
    # the replay runs no hook: it would update the weight by the gradient the hook replaced
    model, step = _hooked_step(hook_first)
    before = model.weight.data.copy()
    with pytest.raises(tg.jit.TraceError, match=r"hook \(register_hook\)"):
        step(tg.Tensor(np.ones((2, 4))))
    if not hook_first:  # the refused call changed nothing
        np.testing.assert_array_equal(model.weight.data, before)


def test_reading_a_gradient_inside_the_step_is_named():
    model = nn.Linear(4, 3, dtype=np.float64)

    @tg.compile
    def step(x):
        (model(x) ** 2).sum().backward()
        return (model.weight.grad * model.weight.grad).sum()

    with pytest.raises(tg.jit.TraceError, match=r"reads the \.grad of shape \(3, 4\)"):
        step(tg.Tensor(np.ones((2, 4))))


def test_batchnorm_is_refused_with_a_reason():
    model = nn.Sequential(nn.Linear(3, 2, dtype=np.float64), nn.BatchNorm1d(2, dtype=np.float64))
    step = tg.compile(lambda x: model(x).sum())
    with pytest.raises(tg.TraceError, match="BatchNorm1d keeps state outside the graph"):
        step(tg.Tensor(np.ones((4, 3))))


def test_bad_arguments_are_named():
    step = tg.compile(lambda x: x)
    with pytest.raises(TypeError, match="argument of type dict"):
        step({"x": 1})
    with pytest.raises(ValueError, match="cache_size"):
        tg.compile(lambda x: x, cache_size=0)


# --------------------------------------------------------------------------------------------
# each rule makes the same NumPy calls as its op: bit-for-bit, both dtypes
# --------------------------------------------------------------------------------------------

RULED = {
    "Linear": lambda x, w, b: nn.functional.linear(x, w, b),
    "Sigmoid": lambda x, w, b: (x * 8.0).sigmoid(),
    "Tanh": lambda x, w, b: x.tanh(),
    "Relu": lambda x, w, b: x.relu(),
    "Add": lambda x, w, b: x + x * 3.0,
    "Sub": lambda x, w, b: x - x * x,
    "Mul": lambda x, w, b: x * (x + 1.0),
    "Sum": lambda x, w, b: x.sum(axis=0) * x.sum(),
    "SquaredErrorSum": lambda x, w, b: nn.functional.sum_squared_error(x.tanh(), x, 0.7),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", sorted(RULED))
def test_each_rule_is_bit_for_bit_its_op(op, dtype):
    rng = np.random.default_rng(5)
    w = tg.Tensor(rng.standard_normal((4, 3)).astype(dtype), requires_grad=True)
    b = tg.Tensor(rng.standard_normal(4).astype(dtype), requires_grad=True)

    zero = optim.SGD([w, b], lr=0.0)  # its zero_grad is replayed (p.grad = None is not)

    def step(x):
        zero.zero_grad()
        out = RULED[op](x, w, b)
        (out * out).sum().backward()
        return out

    compiled = tg.compile(step)
    for k in range(3):
        x = tg.Tensor(rng.standard_normal((5, 3)).astype(dtype) * (k + 1), requires_grad=True)
        twin = tg.Tensor(x.data.copy(), requires_grad=True)
        expected = step(x)
        expected_grads = [x.grad.data] + [p.grad.data for p in (w, b) if p.grad is not None]
        got = compiled(twin)
        got_grads = [twin.grad.data] + [p.grad.data for p in (w, b) if p.grad is not None]
        np.testing.assert_array_equal(got.data, expected.data)
        for e, g in zip(expected_grads, got_grads, strict=True):
            np.testing.assert_array_equal(g, e)
    ((program,),) = compiled._cache.values()
    assert f"{op}: rule" in program.rules_used


# --------------------------------------------------------------------------------------------
# fit() compiles its step by default
# --------------------------------------------------------------------------------------------


def _fit_both(make_model, **kwargs):
    x, labels, _ = _data(n=64)
    runs = []
    for compiled in (False, True):
        tg.manual_seed(0)
        model = make_model()
        opt = optim.SGD(model.parameters(), lr=0.5)
        history = tg.train.fit(model, "cross_entropy", opt, (x, labels), epochs=3,
                               batch_size=10, seed=1, progress=False, log=None,
                               compile=compiled, **kwargs)
        runs.append((history, model))
    return runs


def test_fit_compiled_equals_fit_eager():
    def make():
        return nn.Sequential(nn.Linear(6, 8, dtype=np.float64), nn.Tanh(), nn.Dropout(0.2),
                             nn.Linear(8, 4, dtype=np.float64))

    (eager, m1), (compiled, m2) = _fit_both(make)
    for a, b in zip(eager.epochs, compiled.epochs):
        _close(a["loss"], b["loss"], "epoch loss")
        assert a["accuracy"] == b["accuracy"]
    for p, q in zip(m1.parameters(), m2.parameters()):
        _close(p.data, q.data, "parameters after fit")


def test_fit_runs_a_step_it_cannot_compile_eagerly():
    def make():
        return nn.Sequential(nn.Linear(6, 8, dtype=np.float64),
                             nn.BatchNorm1d(8, dtype=np.float64), nn.Linear(8, 4,
                                                                          dtype=np.float64))

    (eager, m1), (compiled, m2) = _fit_both(make)
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_fit_compiled_still_stops_on_a_non_finite_loss_before_the_step():
    x, labels, _ = _data(n=30)
    x[25] = np.inf  # the third mini-batch of 10 (no shuffling)
    model = nn.Linear(6, 4, dtype=np.float64)
    opt = optim.SGD(model.parameters(), lr=0.1)
    seen = []
    with pytest.raises(tg.train.NonFiniteError, match="epoch 1, step 3"):
        tg.train.fit(model, "cross_entropy", opt, (x, labels), epochs=1, batch_size=10,
                     shuffle=False, progress=False, log=None,
                     on_epoch_end=lambda r: seen.append(r))
    assert np.isfinite(model.weight.data).all()  # the last finite parameters are kept


def test_a_rule_never_overwrites_a_gradient_still_held_in_grad():
    # one use of the layer: Linear's rule writes the weight gradient into the buffer that is
    # .grad; without zero_grad the next call must add to it, not overwrite it first
    rng = np.random.default_rng(4)
    model, twin, eager, compiled = _eager_and_compiled_backward(
        lambda m, x: m(x).tanh().sum())
    for k in range(6):
        if k % 2 == 0:  # zeroed outside the step: the next replay delivers its own buffer
            model.zero_grad()
            twin.zero_grad()
        x = tg.Tensor(rng.standard_normal((5, 3)))
        eager(x)
        compiled(x)
        for p, q in zip(model.parameters(), twin.parameters()):
            _close(p.grad.data, q.grad.data, f"accumulated grad, call {k}")


def test_sum_rule_follows_a_gradient_array_that_changes_every_call():
    # the Sum rule makes its broadcast view once per gradient array: upstream of it here is an
    # op without a rule (exp), whose backward returns a fresh array on every call
    rng = np.random.default_rng(6)
    w = tg.Tensor(rng.standard_normal((4, 3)), requires_grad=True)

    def step(x):
        (x @ w.T).sum(axis=0).exp().sum().backward()

    compiled = tg.compile(step)
    for k in range(4):
        x = tg.Tensor(rng.standard_normal((5, 3)) * (k + 1))
        w.grad = None
        step(x)
        expected = w.grad.data.copy()
        w.grad = None
        compiled(x)
        np.testing.assert_array_equal(w.grad.data, expected)
    ((program,),) = compiled._cache.values()
    assert "Sum: rule" in program.rules_used and "Exp: fallback" in program.rules_used


def test_a_scalar_parameter_times_a_tensor_gets_a_scalar_gradient():
    # a 0-d operand that needs a gradient must be summed back: no rule may take it as a constant
    x, _, onehot = _data()

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(6, 4, dtype=np.float64)
            self.scale = nn.Parameter(np.array(1.5))

        def forward(self, x):
            return self.linear(x) * self.scale

    _train_both(Scaled, _mse, lambda p: optim.SGD(p, lr=0.1), onehot)


def test_relu_passes_the_gradient_of_a_nan_as_eager():
    # ops.Relu's backward is g * ~(out <= 0): a nan output passes g on (PyTorch); out > 0 would not
    def step(x):
        (x.relu() * 2.0).sum().backward()

    compiled = tg.compile(step)
    for _ in range(2):
        x = tg.Tensor(np.array([[1.0, np.nan, -1.0, 0.0]]), requires_grad=True)
        twin = tg.Tensor(x.data.copy(), requires_grad=True)
        step(x)
        compiled(twin)
        np.testing.assert_array_equal(twin.grad.data, x.grad.data)
    assert x.grad.data[0, 1] == 2.0


def test_a_graph_recorded_before_a_compiled_step_sees_the_update():
    # the compiled SGD update changes the parameters in place: as eagerly, a graph recorded
    # before it must refuse to backward instead of using the new values silently
    model, opt, step = _setup()
    x, y = tg.Tensor(np.ones((2, 3))), np.zeros((2, 2))
    step(x, y)  # the trace
    before = model(x).sum()
    step(x, y)  # a replay: the update
    with pytest.raises(RuntimeError, match="modified by an inplace|in place|inplace"):
        before.backward()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_activation_rules_equal_their_ops_at_special_values(activation, dtype):
    x_values = np.array([[0.0, -0.0, np.nan, -np.inf, np.inf, -800.0, 800.0, -1e-300,
                          1e-300, -30.0, 30.0, -1.5]], dtype=dtype)

    def step(x):
        getattr(x, activation)().sum().backward()
        return getattr(x, activation)()

    compiled = tg.compile(step)
    with np.errstate(all="ignore"):
        for _ in range(2):  # the trace, then a replay
            x = tg.Tensor(x_values.copy(), requires_grad=True)
            twin = tg.Tensor(x_values.copy(), requires_grad=True)
            expected, got = step(x), compiled(twin)
            np.testing.assert_array_equal(got.data, expected.data)
            np.testing.assert_array_equal(twin.grad.data, x.grad.data)
    ((program,),) = compiled._cache.values()
    assert f"{activation.capitalize()}: rule" in program.rules_used


def test_a_compiled_sigmoid_underflows_to_zero_under_seterr_raise_as_eager():
    # exp(-1000) = 0 is the right answer: the replay must not raise where eager does not
    x = tg.Tensor(np.array([-1000.0, 0.0, 3.0, np.nan]), requires_grad=True)

    def step(t):
        y = t.sigmoid()
        y.sum().backward()
        return y

    compiled = tg.compile(step)
    with np.errstate(under="raise"):
        eager = step(x).data
        for _ in range(3):
            np.testing.assert_array_equal(compiled(x).data, eager)
    assert compiled.traces == 1


class _ChangeOptions:
    """A 'scheduler' for _train_both that changes SGD's options after some steps: the replay's
    inline update (plain SGD only) must hand over to the optimizer's own step."""

    def __init__(self, opt, at=5, **options):
        self.opt, self.at, self.options, self.count = opt, at, options, 0

    def step(self):
        self.count += 1
        if self.count == self.at:
            for group in self.opt.param_groups:
                group.update(self.options)


@pytest.mark.parametrize("options", [dict(momentum=0.9), dict(weight_decay=0.01),
                                     dict(maximize=True)])
def test_sgd_options_changed_after_the_trace_are_honoured(options):
    _, _, onehot = _data()
    step = _train_both(_mlp(nn.Sigmoid()), _mse, lambda p: optim.SGD(p, lr=0.1), onehot,
                       scheduler=lambda o: _ChangeOptions(o, **options))
    assert step.traces == 1


def test_an_sgd_parameter_list_changed_after_the_trace_is_honoured():
    # the replay's update names the traced parameters: a list edited in place must be updated
    # as it is now. Here the first layer is frozen by putting tensors the model does not use
    # (no gradient: not updated) in its place, the list's length unchanged.
    def freeze_first_layer(opt):
        class Freeze(_ChangeOptions):
            def step(self):
                self.count += 1
                if self.count == 5:
                    params = self.opt.param_groups[0]["params"]
                    for i in (0, 1):
                        self.opt.state.pop(params[i], None)
                        params[i] = tg.Tensor(np.zeros(params[i].shape), requires_grad=True)
        return Freeze(opt)

    _, _, onehot = _data()
    _train_both(_mlp(nn.Sigmoid()), _mse, lambda p: optim.SGD(p, lr=0.1), onehot,
                scheduler=freeze_first_layer)


def test_compiled_sgd_update_is_generated_inline():
    _, _, step = _setup()
    x, y = tg.Tensor(np.ones((2, 3))), np.zeros((2, 2))
    step(x, y)
    ((program,),) = step._cache.values()
    assert "subtract(data, multiply(grad, lr" in program.source


class _StopsY(tg.autograd.Function):
    """x * y whose backward gives y no gradient (None), as a custom op may."""

    def forward(self, x, y):
        return x * y

    def backward(self, g, out, x, y):
        return g * y, None


def test_a_rule_whose_output_gets_no_gradient_is_skipped_as_eagerly():
    # y = sigmoid(w) (a rule) feeds an op returning None for y: the rule's backward must not
    # run on a None gradient, and w.grad stays None, as eagerly
    def step(x, w):
        y = w.sigmoid()
        _StopsY.apply(x, y).sum().backward()
        return y

    compiled = tg.compile(step)
    for _ in range(3):
        x, w = (tg.Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
                for _ in range(2))
        x2, w2 = (tg.Tensor(t.data.copy(), requires_grad=True) for t in (x, w))
        step(x, w)
        compiled(x2, w2)
        assert w.grad is None and w2.grad is None
        np.testing.assert_array_equal(x2.grad.data, x.grad.data)
    assert compiled.traces == 1


# --------------------------------------------------------------------------------------------
# fold_lr (opt-in): the backward seeded with lr, p.grad holds lr * gradient
# --------------------------------------------------------------------------------------------


def _fold_pair(zero_grad=True, groups=None, steps=STEPS):
    """An eager step and a compiled(fold_lr=True) twin of issue #14's step (a StepLR halving
    lr every 7 steps); yields after each step (lr used, eager model, compiled model)."""
    _, _, onehot = _data()
    x = _data()[0]
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5, dtype=np.float64), nn.Sigmoid(),
                          nn.Linear(5, 4, dtype=np.float64), nn.Sigmoid())
    twin = copy.deepcopy(model)

    def make_opt(net):
        if groups is None:
            return optim.SGD(net.parameters(), lr=3.0)
        return optim.SGD([{"params": net[0].parameters(), "lr": groups[0]},
                          {"params": net[2].parameters(), "lr": groups[1]}], lr=3.0)

    opt_e, opt_c = make_opt(model), make_opt(twin)
    sched_e, sched_c = (optim.StepLR(o, step_size=7, gamma=0.5) for o in (opt_e, opt_c))
    eager = _training_step(model, opt_e, _issue_loss, zero_grad)
    compiled = tg.compile(_training_step(twin, opt_c, _issue_loss, zero_grad), fold_lr=True)
    for step in range(steps):
        i = (step * 8) % (len(x) - 8 + 1)
        lr = opt_e.param_groups[0]["lr"]
        loss_e, loss_c = eager(x[i:i + 8], onehot[i:i + 8]), compiled(x[i:i + 8], onehot[i:i + 8])
        _close(loss_e.data, loss_c.data, f"loss at step {step}")
        for p, q in zip(model.parameters(), twin.parameters()):
            _close(p.data, q.data, f"parameter at step {step}")
        yield step, lr, model, twin, compiled
        sched_e.step()
        sched_c.step()
    assert compiled.traces == 1


def test_fold_lr_trains_as_eager_with_lr_times_the_gradient_in_grad():
    for step, lr, model, twin, compiled in _fold_pair():
        replayed = compiled
        for p, q in zip(model.parameters(), twin.parameters()):
            # the traced first call is eager: its .grad is the gradient itself
            _close(p.grad.data * (lr if step else 1.0), q.grad.data, f"grad at step {step}")
    ((program,),) = replayed._cache.values()
    assert program.folded is not None and "subtract(data, grad, out=data)" in program.source


@pytest.mark.parametrize("case", ["no zero_grad (accumulating)", "two lrs"])
def test_fold_lr_runs_unfolded_where_it_cannot_fold(case):
    pair = (_fold_pair(zero_grad=False) if case.startswith("no")
            else _fold_pair(groups=(3.0, 1.5)))
    for step, _, model, twin, _ in pair:
        for p, q in zip(model.parameters(), twin.parameters()):
            _close(p.grad.data, q.grad.data, f"grad at step {step}")


def test_fold_lr_needs_every_parameter_of_the_sgd_to_get_its_gradient_here():
    # a parameter outside the graph with a .grad set outside the step (not zeroed: the step
    # zeroes the model's gradients only) is updated by lr * grad: no fold may drop its lr
    def run(compiled):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 4, dtype=np.float64), nn.Sigmoid())
        extra = tg.Tensor(np.ones(3), requires_grad=True)
        extra.grad = tg.Tensor(np.full(3, 0.5))
        opt = optim.SGD([*model.parameters(), extra], lr=0.1)

        def step(xb, yb):
            model.zero_grad()
            loss = _issue_loss(model(tg.Tensor.from_numpy(xb)), yb)
            loss.backward()
            opt.step()
            return loss

        step = tg.compile(step, fold_lr=True) if compiled else step
        x, _, onehot = _data()
        for i in range(5):
            step(x[i:i + 8], onehot[i:i + 8])
        return [p.data for p in model.parameters()] + [extra.data]

    for eager, replayed in zip(run(False), run(True)):
        _close(eager, replayed, "parameter")


class _SignOfGradient(tg.autograd.Function):
    """The identity, with sign(g) as its gradient: a backward not linear in g."""

    def forward(self, x):
        return x.copy()

    def backward(self, g, out, x):
        return np.sign(g)


def test_fold_lr_never_scales_the_gradient_into_a_users_function():
    # sign(lr * g) is not lr * sign(g): a folded seed would change what this backward returns
    def run(compiled):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 3, dtype=np.float64), nn.Tanh())
        opt = optim.SGD(model.parameters(), lr=0.3)

        def step(xb):
            opt.zero_grad()
            out = _SignOfGradient.apply(model(tg.Tensor.from_numpy(xb)))
            loss = (out * out).sum()
            loss.backward()
            opt.step()
            return loss

        step = tg.compile(step, fold_lr=True) if compiled else step
        for _ in range(4):
            step(np.linspace(-1.0, 1.0, 8).reshape(2, 4))
        return [p.data for p in model.parameters()]

    for eager, replayed in zip(run(False), run(True)):
        _close(eager, replayed, "parameter")


# --------------------------------------------------------------------------------------------
# the sum of squares (float64): one vdot, the square never made
# --------------------------------------------------------------------------------------------


def _issue_step_source(dtype):
    _, _, step = _setup(_issue_loss, model=nn.Sequential(nn.Linear(3, 4, dtype=dtype),
                                                          nn.Sigmoid()))
    step(np.ones((2, 3), dtype=dtype), np.zeros((2, 4), dtype=dtype))
    ((program,),) = step._cache.values()
    return program.source


def test_a_float64_sum_of_squares_is_one_vdot_and_float32_keeps_the_engines_sum():
    assert "vdot(" in _issue_step_source(np.float64)  # equality: the issue-step test above
    assert "vdot(" not in _issue_step_source(np.float32)


def test_a_square_read_twice_or_summed_by_column_is_computed():
    # the peephole applies only to a square that its full Sum alone reads
    def twice(out, y):
        diff = out - tg.Tensor.from_numpy(y)
        square = diff * diff
        return square.sum() * 0.5 + square.sum(axis=0).sum()

    def mean_too(out, y):
        diff = out - tg.Tensor.from_numpy(y)
        square = diff * diff
        return square.sum() + square.mean()

    def by_column(out, y):
        diff = out - tg.Tensor.from_numpy(y)
        return (diff * diff).sum(axis=0).tanh().sum()

    _, _, onehot = _data()
    for loss in (twice, mean_too, by_column):
        _train_both(_mlp(nn.Sigmoid()), loss, lambda p: optim.SGD(p, lr=0.1), onehot, steps=5)


def test_a_square_returned_by_the_step_is_computed():
    # read once by its Sum and once by the returned structure: it must be made
    w = tg.Tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), requires_grad=True)

    def step(x):
        y = x * w
        square = y * y
        square.sum().backward()
        return square

    compiled = tg.compile(step)
    x = np.arange(6.0).reshape(2, 3)
    for _ in range(3):
        np.testing.assert_array_equal(compiled(x).data, (x * w.data) ** 2)
