"""Break the engine on purpose, one mutation at a time, and require the tests to notice.

A test that cannot fail proves nothing: each mutation below is a real bug an engine can have
(a wrong formula, a wrong convention at a kink, overwritten accumulation, a leaked graph). The
script copies the package into a temporary directory, applies one mutation, runs the engine's
tests there, and fails if any mutation survives.

    python .ci/mutations.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ["tests/test_ops.py", "tests/test_autograd.py", "tests/test_higher_order.py",
         "tests/test_properties.py", "tests/test_threads.py", "tests/test_engine_tape.py"]
OPS12, API12 = ["tests/test_ops_pytorch.py"], ["tests/test_pytorch_api.py"]  # issue #12's tests

# (file, original text, mutated text, what the bug is[, the tests that must catch it: TESTS])
MUTATIONS = [
    ("ops.py", "gx = g * y if", "gx = g * x if", "Mul: wrong input in the gradient"),
    ("ops.py", "            return gx, gx\n", "            return gx, None\n",
     "Mul: x * x gets one term of its gradient, not both"),
    ("ops.py", "        gx *= 1.0 - out  # in place", "        pass  # in place",
     "Sigmoid: dropped s(1 - s)"),
    ("ops.py", "    out = np.sign(x, out=out)\n", "    out = -np.sign(x, out=out)\n",
     "Sigmoid: the numerator of the overflow-free form on the wrong side of 0"),
    ("ops.py", "    except FloatingPointError:\n", "    except ZeroDivisionError:\n",
     "Sigmoid: exp(-1000)'s underflow escapes under np.seterr(under='raise')"),
    ("ops.py", "share = is_max / is_max.sum(axis=self.axis, keepdims=True)", "share = is_max",
     "Max: ties get the full gradient each"),
    ("ops.py", "tie = 0.5 * (winner == loser)", "tie = 0.0 * (winner == loser)",
     "Maximum: ties not split"),
    ("ops.py", "return g * ~(_array(out) <= 0)", "return g * ~(_array(x) < 0)",
     "Relu: relu'(0) = 1"),
    ("ops.py", "gb = np.add.reduce(g2, axis=0) if", "gb = np.mean(g2, axis=0) if",
     "Linear: bias grad averaged"),
    ("ops.py", "np.add.at(result, index, g)", "result[index] = g",
     "Getitem: repeated indices overwrite"),
    ("ops.py", "return g - _exp(out) * g.sum(", "return g - out * g.sum(",
     "LogSoftmax: log-probabilities used as probabilities"),
    ("ops.py", "(yv >= 0), out * _log(x))", "(yv >= 0), out * x)",
     "Pow: wrong exponent gradient"),
    ("ops.py", "gy = -g * out / y if", "gy = g * out / y if", "Div: sign of the divisor grad"),
    ("ops.py", "        return a.expand(shape)\n", "        return a * 1.0\n",
     "create_graph: Sum backward not broadcast"),
    ("ops.py", "return g / (out * 2.0)", "return g / out", "Sqrt: factor 2 missing"),
    ("ops.py", "inside &= xv >= self.lo", "inside &= xv > self.lo",
     "Clip: no gradient at the bounds (torch.clamp passes it)"),
    ("ops.py", "gx = gx.reshape(gx.shape[:-2] + (gx.shape[-1],))",
     "gx = gx.reshape(gx.shape[-1:])", "Matmul: batched vector gradient not reduced"),
    ("ops.py", "gx = (g * (2.0 * self.scale)) * (x - y)", "gx = (g * self.scale) * (x - y)",
     "SquaredErrorSum: factor 2 missing"),
    ("ops.py", "return g * c * x ** (c - 1)", "return g * x ** (c - 1)",
     "PowScalar: factor c missing"),
    ("ops.py", "gx = g @ y.T if self.needs_input_grad[0] else None",
     "gx = (g @ y.T) * 0.5 if self.needs_input_grad[0] else None",
     "Matmul: 2-D fast path wrong under create_graph"),
    ("ops.py", "gx = np.dot(g, y.T) if self.needs_input_grad[0] else None",
     "gx = np.dot(g, y) if self.needs_input_grad[0] else None", "Matmul: 2-D fast path wrong"),
    ("autograd.py", "    i = max([r._ctx.pos", "    i = -1 + max([r._ctx.pos",
     "engine: the tape walk skips the root's op"),
    ("autograd.py", "owner.g = owner.g + pg\n", "owner.g = pg\n",
     "engine: an op's gradient overwritten, not accumulated"),
    ("autograd.py", "entry[1] = entry[1] + pg", "entry[1] = pg",
     "engine: a leaf's gradient overwritten, not accumulated"),
    ("autograd.py", "                    pending += 1\n", "                    pass\n",
     "engine: an op that starts waiting is not counted (the walk stops early)"),
    ("autograd.py", "if pg is None or not p._requires_grad:", "if pg is None:",
     "engine: gradients delivered to inputs that do not require grad"),
    ("autograd.py", "                    pg = fit_gradient(pg, data, ctx)\n",
     "                    pass\n",
     "engine: gradients not reduced/cast to their input's shape and dtype"),
    ("autograd.py", "t._ctx.pos = len(live)", "t._ctx.pos = len(live) // 2",
     "engine: compaction renumbers the tape wrongly"),
    ("autograd.py", "_compact_at = max(1024, 2 * len(live))", "_compact_at = 1 << 62",
     "engine: the tape grows without bound"),
    ("autograd.py", "            t._ctx.g = None\n", "            pass\n",
     "engine: a failed pass leaves gradients behind"),
    ("autograd.py", "if owner.parents is None:\n                        raise _freed(owner)\n",
     "if False:\n                        raise _freed(owner)\n",
     "engine: backward through a freed graph is not an error"),
    ("autograd.py", "if s == 1 and gs != 1)", "if False)",
     "engine: size-1 broadcast axes not reduced"),
    ("autograd.py", "ctx.parents = ctx.inputs = None  # free", "pass  # free",
     "engine: graph never freed"),
    ("autograd.py", "g = g.copy()  # views", "pass  # views", "engine: leaf grads alias"),
    ("autograd.py", "return np.array(data, dtype=root.dtype)",
     "return np.asarray(data, dtype=root.dtype)", "engine: user's gradient array becomes .grad"),
    ("autograd.py", "previous_mode, _grad_enabled = _grad_enabled, create_graph",
     "previous_mode = _grad_enabled", "engine: backward pass recorded without create_graph"),
    ("threads.py", "(1 if work < THRESHOLD else free_cores())", "(1 if work < 0 else free_cores())",
     "BLAS threads: small products spread over every core"),
    ("threads.py", "n = _fixed if _fixed is not None else", "n = _fixed if False else",
     "BLAS threads: set_num_threads ignored"),
    ("tensor.py", "dtype = like.dtype if like.dtype.kind == \"f\" else",
     "dtype = np.float64 if like.dtype.kind == \"f\" else", "scalars promote float32 tensors"),
    ("gradcheck.py", "numeric = (plus - minus) / (2 * eps)", "numeric = (plus - minus) / eps",
     "gradcheck: wrong central difference"),
    # --- #12: the ops PyTorch users reach for, and in-place safety ---
    ("ops.py", "return -g * (x.sin()", "return g * (x.sin()", "Cos: sign of the gradient",
     OPS12),
    ("ops.py", "return g / (x + 1.0)", "return g / x", "Log1p: gradient of log instead", OPS12),
    ("ops.py", "return g * (out + 1.0)", "return g * out", "Expm1: gradient from exp(x) - 1",
     OPS12),
    ("ops.py", "g * (2.0 / math.sqrt(math.pi))", "g * (1.0 / math.sqrt(math.pi))",
     "Erf: factor 2 missing", OPS12),
    ("ops.py", "        return g * 0.0\n", "        return g\n",
     "sign/floor/round: identity gradient instead of 0", OPS12),
    ("ops.py", "return np.flip(np.cumsum(np.flip(g, self.axis), axis=self.axis), self.axis)",
     "return np.cumsum(g, axis=self.axis)", "Cumsum: forward cumsum as its own adjoint", OPS12),
    ("ops.py", "grads.append(grad if mask is None else grad * mask)", "grads.append(grad)",
     "Einsum: repeated subscripts (trace, diagonal) not masked", OPS12),
    ("autograd.py", "if _last_bump > ctx.seq:  # something", "if False:  # something",
     "in-place: saved tensors modified after recording not detected", API12),
    ("autograd.py", "if _grad_enabled and t.requires_grad and t._ctx is None:", "if False:",
     "in-place: a leaf requiring grad modified in place", API12),
    ("optim/optimizer.py", "bump_version(p)  # p changed", "pass  # p changed",
     "in-place: optimizer steps do not bump versions", API12),
    ("autograd.py", "        del recent[: Versions.KEEP // 2]\n", "        pass\n",
     "in-place: the version history grows by one entry per optimizer step", API12),
    ("autograd.py", "    if held.shape != t.shape or held.dtype != t.dtype:\n", "    if False:\n",
     "engine: a .grad of another shape, assigned from outside, broadcast into the sum",
     ["tests/test_bad_input_autograd.py"]),
    ("jit/program.py",
     '                          "t.grad = make(g if t.grad is None else grad_plus(t, g), None)"]',
     '                          "t.grad = make(g if t.grad is None else t.grad.data + g, None)"]',
     "compile: the replay broadcasts a gradient into a .grad of another shape",
     ["tests/test_bad_input_autograd.py"]),
    ("optim/optimizer.py", "if grad.shape != p.data.shape:", "if False:",
     "optimizer: a gradient of another shape than its parameter broadcast into it",
     ["tests/optim/test_optimizer_behaviour.py"]),
    ("jit/rules.py", '"    if grad.shape != data.shape:",', '"    if False:",',
     "compile: the generated SGD step takes a gradient of another shape",
     ["tests/optim/test_optimizer_behaviour.py"]),
    # --- #13: NumPy dispatch and tinygrad_nn.check (the learner's backprop) ---
    ("numpy_dispatch.py", "np.subtract: _binary(lambda x, y: x - y)",
     "np.subtract: _binary(lambda x, y: y - x)", "NumPy dispatch: subtract's operands swapped",
     ["tests/test_numpy_dispatch.py"]),
    ("numpy_dispatch.py", "    _repoint_consumers(t, old)\n", "    pass\n",
     "setitem: ops recorded before a write see the written value",
     ["tests/test_numpy_dispatch.py"]),
    ("numpy_dispatch.py", "if _strict and t.requires_grad", "if False and t.requires_grad",
     "tracing: a Tensor silently converted to an ndarray", ["tests/test_numpy_dispatch.py"]),
    ("check/diagnose.py", "    m = np.asarray(manual, dtype=np.float64)\n",
     "    return Diagnosis('unknown', 'disabled')\n", "check: diagnosis disabled",
     ["tests/test_check_diagnosis.py"]),
    ("check/diagnose.py", "np.isclose(size, n, rtol=1e-6)", "np.isclose(size, n + 1, rtol=1e-6)",
     "check: the batch-size factor not recognized", ["tests/test_check_diagnosis.py"]),
    ("check/diagnose.py", "if close(m * d, t):", "if close(m, t * d):",
     "check: missing and extra activation derivative confused",
     ["tests/test_check_diagnosis.py"]),
    ("check/report.py", "return bool(self.vs_autodiff <= AUTODIFF_RTOL)", "return True",
     "check: the verdict ignores autodiff", ["tests/test_check_diagnosis.py"]),
    ("check/layer.py", "result[index] = (plus - minus) / (2 * H)",
     "result[index] = (plus - minus) / H", "check.layer: wrong central difference",
     ["tests/test_check_learner.py"]),
    ("check/layer.py", "kink = np.abs(right - left) > 1e-3 *",
     "kink = 0 * np.abs(right - left) > 1e-3 *",
     "check.layer: kinks not detected (a correct ReLU backward fails at x == 0)",
     ["tests/test_check_learner.py"]),
    ("check/report.py", "inside = (self.manual >= lo - slack) & (self.manual <= hi + slack)",
     "inside = self.manual == self.manual", "check: any value accepted at a kink",
     ["tests/test_check_learner.py"]),
    ("check/network.py", "for r in reversed(rows):  # from the output", "for r in rows:",
     "check.network: first wrong layer counted from the input",
     ["tests/test_check_diagnosis.py"]),
    # viz (#15): the pictures must not lie either
    ("viz/steps.py", "so_far[src] = g if src not in so_far else so_far[src] + g",
     "so_far[src] = g", "backward_steps: contributions overwritten, not accumulated",
     ["tests/viz/test_viz_steps.py"]),
    ("viz/steps.py", "for node in reversed(ops):", "for node in ops:",
     "backward_steps: frames from the leaves to the loss", ["tests/viz/test_viz_steps.py"]),
    ("viz/draw.py", "if stats.rms < VANISHING_RMS:", "if stats.norm < VANISHING_RMS:",
     "draw: vanishing judged by the norm, which grows with size", ["tests/viz/test_viz_draw.py"]),
    ("viz/graph.py", 'labels = getattr(fn, "labels", None)', "labels = None",
     "trace: integer targets y not drawn", ["tests/viz/test_viz_draw.py"]),
    # checkpoints, search (#16)
    ("checkpoint/safetensors_file.py",
     'if tensor_checksum(key, array) != checksums["tensors"][key]:', "if False:",
     "checkpoint: tensor checksums not compared (flipped bits load)",
     ["tests/test_checkpoint.py::test_bad_file_is_refused_and_nothing_changes"]),
    ("checkpoint/restore.py", "    if declared > stored:", "    if False:",
     "checkpoint: a spec built before its size is checked (900M-parameter bomb)",
     ["tests/test_checkpoint_bombs.py::test_a_1_kb_file_whose_spec_declares_900m_parameters"
      "_is_refused_before_building"]),
    ("checkpoint/npz_file.py", "        if total > budget:", "        if False:",
     "checkpoint: an .npz member decompressed before its size is checked (4 GiB bomb)",
     ["tests/test_checkpoint_bombs.py::test_a_small_npz_expanding_to_4_gib_is_refused_unread"]),
    ("checkpoint/__init__.py",
     "    check_model(path, model, tensors)\n    if optimizer is not None:",
     "    if optimizer is not None:",
     "checkpoint: a file for another architecture not checked before assigning",
     ["tests/test_checkpoint.py::test_file_for_another_architecture_is_refused"]),
    ("search.py", 'return Trial(params, math.nan, stage, None, f"{type(e).__name__}: {e}")',
     "raise", "search: one failed trial loses the whole search",
     ["tests/test_search.py::test_a_failed_trial_is_reported_and_the_others_kept"]),
]

# convolution and pooling (issue #17), caught by their own tests
CONV_TESTS = ["tests/test_conv_ops.py"]
MUTATIONS += [
    ("ops.py", "image[:, p * dh: p * dh + sh * (oh - 1) + 1: sh,",
     "image[:, p: p + sh * (oh - 1) + 1: sh,", "col2im: dilation ignored in the input gradient",
     CONV_TESTS),
    ("ops.py", "return (_columns(g, geo.groups) @ cols.transpose(0, 2, 1)).reshape(w_shape)",
     "return (_columns(g, geo.groups) @ cols.transpose(0, 2, 1)).reshape(w_shape[::-1]).T",
     "Conv2d: weight gradient transposed (filters swapped with offsets)", CONV_TESTS),
    ("ops.py", "gg = _conv(x, u, geo) if self.needs_input_grad[1] else None",
     "gg = _conv(x, u, geo) * 0.0 if self.needs_input_grad[1] else None",
     "Conv2dWeight: no gradient to g (double backward wrong)", CONV_TESTS),
    ("ops.py", "better = candidate > out\n", "better = candidate >= out\n",
     "MaxPool2d: ties go to the last maximum, not the first (PyTorch)", CONV_TESTS),
    ("ops.py", "view += g_t * (arg_t == k)", "np.copyto(view, g_t, where=arg_t == k)",
     "MaxPool2d: overlapping windows overwrite instead of accumulating", CONV_TESTS),
]

# tg.compile (issue #14): a broken rule or replay must be caught by the compiled-vs-eager tests
COMPILE_TESTS = ["tests/test_compile.py"]
MUTATIONS += [
    ("jit/rules.py", "    gx *= spare\n", "    pass\n",
     "compile: Sigmoid rule drops (1 - s) from the derivative", COMPILE_TESTS),
    ("jit/rules.py", 'f"reduce(g, axis=0, out={gb})"', 'f"multiply(g[0], 1.0, out={gb})"',
     "compile: Linear rule's bias gradient from the first example only", COMPILE_TESTS),
    ("jit/rules.py", '_TIMES_Y = "multiply(g, vals[{y}], out={target})"',
     '_TIMES_Y = "multiply(g, vals[{x}], out={target})"',
     "compile: Mul rule multiplies by the wrong input", COMPILE_TESTS),
    ("jit/rules.py", "update.append(f'lr = {g}[\"lr\"]')",
     "update.append(f'lr = {owner}.defaults[\"lr\"]')",
     "compile: SGD rule ignores the scheduler's lr", COMPILE_TESTS),
    ("jit/program.py", "                grads[s] = pg if previous is None else previous + pg",
     "                grads[s] = pg", "compile: fallback gradients overwritten, not summed",
     COMPILE_TESTS),
    ("jit/program.py", '"    t.grad = make(g if t.grad is None else grad_plus(t, g), None)"',
     '"    t.grad = make(g, None)"', "compile: .grad replaced, not accumulated",
     COMPILE_TESTS),
    ("jit/program.py", "holder[0], holder[1] = holder[1], holder[0]", "pass",
     "compile: a gradient buffer overwritten while it is still .grad", COMPILE_TESTS),
    ("jit/program.py",
     "            held.append(f\"{self.bind(module, 'module')}.training != {training!r}\")",
     "            pass", "compile: train/eval mode not guarded", COMPILE_TESTS),
    ("jit/program.py", "        if values:", "        if False:",
     "compile: the arguments' shapes and dtypes not guarded (the last trace replayed)",
     COMPILE_TESTS),
    ("jit/program.py", "                vals[slot] = draw()", "                pass",
     "compile: dropout's mask frozen at trace time", COMPILE_TESTS),
    ("jit/rules.py", 'f"if g is not {made}[0]:",', 'f"if {made}[0] is None:",',
     "compile: Sum rule's gradient view made once, stale when g is a new array",
     COMPILE_TESTS),
    ("ops.py", "np.maximum(out, e, out=out)", "np.minimum(out, e, out=out)",
     "compile: Sigmoid rule's numerator e for x >= 0 (1 is right)", COMPILE_TESTS),
    ("jit/rules.py", "ops.sigmoid_into(x, out, e)", "ops._sigmoid(x, out, e)",
     "compile: Sigmoid rule's underflow escapes under np.seterr(under='raise')",
     COMPILE_TESTS),
    ("jit/rules.py", "multiply(g * (2.0 * {scale}), {diff},", "multiply(g * {scale}, {diff},",
     "compile: SquaredErrorSum rule drops the factor 2", COMPILE_TESTS),
    ("jit/rules.py", '*program.route(ix, f"add(t, t, out={target})", only=True)',
     '*program.route(ix, f"multiply(t, 1.0, out={target})", only=True)',
     "compile: x * x rule keeps one of its two gradient terms", COMPILE_TESTS),
    ("jit/rules.py", "(s == () and not need)", "s == ()",
     "compile: a 0-d operand that needs a gradient taken as a constant", COMPILE_TESTS),
    ("jit/rules.py",
     "    np.less_equal(out, zero, out=mask)  # g where not (out <= 0): relu'(0) = 0, "
     "a nan passes g on\n    np.logical_not(mask, out=mask)\n",
     "    np.greater(out, 0, out=mask)\n",
     "compile: ReLU rule stops the gradient at a nan (eager passes it)", COMPILE_TESTS),
    ("jit/rules.py", '                       f"    bump({param})"]\n            folded +=',
     '                       "    pass"]\n            folded +=',
     "compile: SGD rule's update not versioned (an older graph backwards silently)",
     COMPILE_TESTS),
    ("jit/program.py", "        for module, name, tensor in self.trace.parameters:",
     "        for module, name, tensor in []:",
     "compile: a replaced Parameter not guarded", COMPILE_TESTS),
    ("jit/program.py",
     "            if op.out in self._sure and index in self.backward_builders:",
     "            if op.out in self._sure:",
     "compile: a rule's backward runs on the None gradient a fallback op left", COMPILE_TESTS),
    ("jit/program.py",
     '                          "t.grad = make(g if t.grad is None else grad_plus(t, g), None)"]',
     '                          "t.grad = make(g, None)"]',
     "compile: .grad in the leaf's own buffer replaced, not accumulated", COMPILE_TESTS),
    ("jit/program.py", "        if only or self._terms.get(slot) == 1:", "        if True:",
     "compile: a gradient's second term overwrites the first", COMPILE_TESTS),
    ("jit/program.py", 'f"    {scaled}.fill({lr})"', 'f"    {scaled}.fill(1.0)"',
     "compile: fold_lr seeds the backward with 1 and updates by the unscaled gradient",
     COMPILE_TESTS),
    ("jit/rules.py", 'return " and ".join([f"not ({changed})", *same, *empty]), lr',
     'return " and ".join([f"not ({changed})", *same]), lr',
     "compile: fold_lr folds into a .grad it accumulates into", COMPILE_TESTS),
    ("jit/rules.py", 'return " and ".join([f"not ({changed})", *same, *empty]), lr',
     'return " and ".join([f"not ({changed})", *empty]), lr',
     "compile: fold_lr folds one lr into groups of different lrs", COMPILE_TESTS),
    ("jit/program.py", "                and {id(trace.leaf_tensor[s]) for s in leaves} == params\n",
     "                and {id(trace.leaf_tensor[s]) for s in leaves} <= params\n",
     "compile: fold_lr drops the lr of a parameter updated by a gradient from outside",
     COMPILE_TESTS),
    ("jit/program.py",
     "                and all(op.cls.__module__ == engine_ops.__name__ for _, op in plan)):",
     "                and True):",
     "compile: fold_lr scales the gradient into a user's Function not linear in it",
     COMPILE_TESTS),
    ("jit/trace.py",
     "        if autograd._hooks and not self.slot_of_tensor.keys().isdisjoint(autograd._hooks):",
     "        if False:",
     "compile: the trace records a backward through a hook the replay never runs",
     COMPILE_TESTS),
    ("jit/program.py", 'held.append(f"autograd._hooks and hooked(args, {known})")', "pass",
     "compile: a hook registered after the trace is skipped by the replay", COMPILE_TESTS),
    ("jit/rules.py", "program.uses.get(op.out) == 1", "True",
     "compile: a square read elsewhere too left to its Sum's vdot (never made)",
     COMPILE_TESTS),
    ("jit/rules.py", "reader.cls is ops.Sum and reader.out_shape == ())", "reader.cls is ops.Sum)",
     "compile: a square summed over one axis taken as its whole sum", COMPILE_TESTS),
    ("jit/rules.py", 'vdot(vals[{square}], vals[{square}]))"]',
     'vdot(vals[{square}], vals[{square}]) * 0.5)"]',
     "compile: the sum of squares' vdot wrong", COMPILE_TESTS),
    ("jit/rules.py", "f'{g}[\"momentum\"] != 0',", "'False',",
     "compile: SGD's inline update ignores a momentum set after the trace", COMPILE_TESTS),
    ("jit/rules.py",
     'changed += [f"{listed}[{j}] is not {param}" for j, param in enumerate(names)]', "pass",
     "compile: SGD's inline update ignores its parameter list edited in place",
     COMPILE_TESTS),
    ("jit/program.py", 'return f"make(copy(vals[{structure[1]}]), None)"',
     'return f"make(vals[{structure[1]}], None)"',
     "compile: the generated replay returns its own buffer (the next call overwrites it)",
     COMPILE_TESTS),
    ("jit/program.py", 'body += [f"vals[{slot}] = args[{index}]" for',
     'body += [f"vals[{slot}] = args[0]" for',
     "compile: the generated replay binds an array input to the wrong argument",
     COMPILE_TESTS),
]

# BLAS threads (issue #14): large products leave the cores other processes keep busy
MUTATIONS += [
    ("threads.py", "busy = max(0, math.floor(_load() - 1.0 + 0.5))", "busy = 0",
     "threads: large products on every core of a busy machine", ["tests/test_threads.py"]),
]

# state dicts (#10): one check of keys, shapes and dtypes, run before anything is assigned
MUTATIONS += [
    ("nn/module.py", "        elif tuple(found[key][1]) != tuple(shape):\n",
     "        elif False:\n", "state dicts: a shape mismatch loads (module and checkpoint)",
     ["tests/nn/test_nn_module.py",
      "tests/test_checkpoint.py::test_file_for_another_architecture_is_refused"]),
    ("checkpoint/restore.py", 'getattr(scheduler, "check_state_dict", lambda state: None)',
     "(lambda state: None)", "checkpoint: a mistyped scheduler state assigned after the model",
     ["tests/test_checkpoint.py::test_bad_file_is_refused_and_nothing_changes"]),
]

# specs (#10): the constructors are the one check; the spec names the field they refused
MUTATIONS += [
    ("nn/spec.py", "if f.arg == e.argument and f.name in spec", "if False",
     "spec: a value the constructor refuses is not reported as the spec's field",
     ["tests/nn/test_nn_spec.py", "tests/nn/test_nn_spec_constructor_checks.py"]),
    ("nn/layers.py", '        check_bool(bias, "bias", "Linear")\n', "",
     "Linear: bias='no' builds a layer with a bias",
     ["tests/nn/test_nn_spec_constructor_checks.py"]),
]

# fit's progress bar (found by issue #14's README timing): one iterator per epoch
MUTATIONS += [
    ("viz/training.py", "iterator = None if iterable is None else iter(iterable)",
     "iterator = iterable",
     "progress bar: a terminal run skips every other epoch's shuffle",
     ["tests/test_progress_bar_epochs.py"]),
]

# hostile files: a dataset pickle must never reach NumPy's trusted dtype state
MUTATIONS += [
    ("data/safe_pickle.py", "        if isinstance(inst, np.dtype):\n",
     "        if False:\n", "safe_pickle: a pickled dtype state passed to NumPy unchecked",
     ["tests/test_bad_input_data.py"]),
]


def survives(mutation: tuple, workdir: Path) -> bool:
    filename, original, mutated = mutation[:3]
    tests = mutation[4] if len(mutation) > 4 else TESTS
    package = workdir / "tinygrad_nn"
    shutil.rmtree(package, ignore_errors=True)
    shutil.copytree(ROOT / "tinygrad_nn", package)
    path = package / filename
    source = path.read_text()
    if source.count(original) != 1:
        raise SystemExit(f"mutation target not found exactly once in {filename}: {original!r}")
    path.write_text(source.replace(original, mutated))
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               "--rootdir", str(workdir), *tests]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True,
                            env={"PYTHONPATH": str(workdir), "PATH": "/usr/bin:/bin",
                                 "HYPOTHESIS_PROFILE": "default"})
    return result.returncode == 0


def stale_targets() -> list[str]:
    """The mutations whose original text is not found exactly once (checked before any run, so
    a renamed line is reported at once, with every other stale one)."""
    return [f"{filename}: {original!r}" for filename, original, *_ in MUTATIONS
            if (ROOT / "tinygrad_nn" / filename).read_text().count(original) != 1]


def main() -> int:
    stale = stale_targets()
    if stale:
        raise SystemExit("mutation targets not found exactly once:\n  " + "\n  ".join(stale))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        shutil.copytree(ROOT / "tests", workdir / "tests")
        shutil.copy(ROOT / "pyproject.toml", workdir / "pyproject.toml")
        shutil.copytree(ROOT / "tinygrad_nn", workdir / "tinygrad_nn")
        probe = subprocess.run(
            [sys.executable, "-c", "import tinygrad_nn; print(tinygrad_nn.__file__)"],
            cwd=workdir, env={"PYTHONPATH": str(workdir)}, capture_output=True, text=True)
        if not probe.stdout.startswith(str(workdir)):
            raise SystemExit(f"the mutated copy is not the one imported: {probe.stdout}")
        survivors = []
        for mutation in MUTATIONS:
            caught = not survives(mutation, workdir)
            print(f"{'caught  ' if caught else 'SURVIVED'}  {mutation[3]}", flush=True)
            if not caught:
                survivors.append(mutation[3])
    if survivors:
        print(f"{len(survivors)} mutation(s) survived the tests: {survivors}")
        return 1
    print(f"all {len(MUTATIONS)} mutations caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
