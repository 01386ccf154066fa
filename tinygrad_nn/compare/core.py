"""``compare``: the engine's gradients against a hand-derived reference and against numerics.

The model's weights are copied into the reference's layout (tinygrad_nn.transfer); both sides
compute the SAME loss (see conventions.py), and every parameter's gradient, optionally every
Linear output's gradient and one SGD step, become a row of the ``Report``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import grad
from ..nn.layers import Linear, in_out_features
from ..nn.module import Module
from ..nn.spec import spec_to_string
from ..tensor import ArrayLike, Tensor
from ..transfer import flat_layers
from .batch import copy_with_masks, keep_masks, loss_targets
from .conventions import CONVENTIONS, Convention, NumericOnly, choose_reference, resolve_loss
from .numeric import numeric_gradients
from .report import Report, Row, Tolerances, compare_arrays, scale

Array = np.ndarray


def compare(
    model: Module,
    inputs: ArrayLike,
    targets: ArrayLike,
    *,
    loss: str | None = None,
    reference: str | None = "auto",
    l2: float = 0.0,
    n_train: int | None = None,
    numeric: bool = True,
    numeric_entries: int = 64,
    activations: bool = False,
    optimizer_step: float | None = None,
    dropout_masks: Sequence[Any] | None = None,
    seed: int = 0,
    tolerances: Tolerances | None = None,
    h: float = 1e-4,
) -> Report:
    """Check the engine's gradients of ``model`` on one batch; returns a Report.

    model       a Sequential/MLP of the reference's network (see tinygrad_nn.transfer); its
                parameters' dtype is the dtype autodiff runs in. The model is not modified:
                the checks run on copies, with the same weights.
    inputs      (N, n_in) row batch. targets: (N,) integer labels, or (N, n_out) floats
                (one-hot targets for Nielsen and Rashid; labels are one-hot encoded for them).
    loss        nielsen/rashid: "quadratic" (default) or "cross_entropy" (binary, on sigmoid
                outputs); cs231n: "softmax" (alias "cross_entropy"). Summed over the batch for
                Nielsen and Rashid, the mean over N for CS231n, exactly as each reference.
                Without a reference: "quadratic", "binary_cross_entropy" or "softmax"
                ("cross_entropy" picks by the output layer: binary after a Sigmoid).
    reference   "nielsen", "cs231n", "rashid", "auto" (the one the architecture fits, else
                none) or None (autodiff vs numeric only).
    l2          nielsen: lmbda, network2's (lmbda/2n) sum w^2 with n = ``n_train``, the
                training-set size (default N, as nielsen.total_cost); cs231n: reg,
                0.5 reg sum W^2; no reference: the strength of nn.functional.l2_penalty.
    numeric     also compare with five-point central differences (step ``h``) of the engine
                loss on a float64 copy; parameters with more than ``numeric_entries`` entries
                are checked at that many seeded random entries; entries whose stencil crosses
                a ReLU kink are skipped (and counted in the report).
    activations also compare the gradient of every Linear layer's output (Nielsen's deltas,
                dC/dz; CS231n's affine outputs), rows named "<layer>.out".
    optimizer_step  a learning rate: compare one SGD step of the engine (optim.SGD, lr and weight
                decay mapped to the reference's convention) with the reference's update rule.
    dropout_masks   keep-masks (True = keep) for the Dropout layers, in order; when None,
                drawn from ``seed``. The engine's Dropout layers (on a copy of the model) get
                them through a forward hook, the reference as ``dropout_masks``.
    tolerances  pass thresholds; default ``Tolerances.for_dtype(model dtype)``.
    """
    params = dict(model.named_parameters())
    if not params:
        raise ValueError("compare: the model has no parameters")
    dtype = next(iter(params.values())).dtype
    x_in = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs)
    if x_in.ndim != 2:
        raise ValueError(f"compare: inputs must be an (N, n_in) row batch, got {x_in.shape}")
    # The reference sees exactly the values the engine sees (rounded to the model's dtype).
    x = x_in.astype(dtype).astype(np.float64)
    m = x.shape[0]

    ref, ref_text = choose_reference(model, reference)
    convention_cls = CONVENTIONS[ref] if ref is not None else NumericOnly
    loss_name = resolve_loss(convention_cls, loss, model, ref)
    convention = convention_cls(model, loss_name, l2, n_train, m)
    try:
        n_out = in_out_features(model)[1]
    except ValueError:  # no Linear: ask the model
        n_out = model(Tensor(x[:1])).shape[-1]
    t = loss_targets(loss_name, targets, m, n_out)
    masks = keep_masks(model, x, dropout_masks, seed)
    tol = tolerances or Tolerances.for_dtype(dtype)

    # --- the three computations, each on its own copy of the model (a forward pass updates
    # BatchNorm's running statistics)
    loss_value, ad_grads, ad_acts = _autodiff(copy_with_masks(model, masks), convention,
                                              x.astype(dtype), t, activations)
    ref_params: dict[str, Array] = {}
    ref_result = None
    if ref is not None:
        ref_params = {s.key: s.to_reference(params[s.param].data) for s in convention.slots}
        ref_result = convention.reference(ref_params, x, t, masks, activations)
    numeric_found, skipped = {}, 0
    if numeric:
        numeric_found, skipped = numeric_gradients(copy_with_masks(model, masks), convention,
                                                   x, t, numeric_entries, seed, h)

    # --- the rows: loss, parameter gradients, Linear outputs' gradients, steps
    rows: list[Row] = []
    ref_grads: dict[str, Array] = {}
    if ref_result is not None:
        rows.append(Row("loss", "loss", (), reference=compare_arrays(
            np.array(loss_value), np.array(ref_result.loss), tol.reference_rtol, 0.0)))
        by_param = {s.param: s for s in convention.slots}
        ref_grads = {n: by_param[n].to_model(ref_result.grads[by_param[n].key])
                     for n in ad_grads if n in by_param}
    grad_floor = tol.floor_fraction * scale(list(ref_grads.values()))
    numeric_floor = tol.floor_fraction * max(1.0, abs(loss_value))
    for name, g in ad_grads.items():
        row = Row(name, "gradient", g.shape)
        if name in ref_grads:
            row.reference = compare_arrays(g, ref_grads[name], tol.reference_rtol, grad_floor)
        if name in numeric_found:
            indices, values = numeric_found[name]
            picked = np.array([g[ix] for ix in indices])
            row.numeric = compare_arrays(picked, values, tol.numeric_rtol, numeric_floor,
                                         indices, g.size)
        rows.append(row)

    if ref_result is not None and ref_result.activations:
        act_floor = tol.floor_fraction * scale(list(ref_result.activations.values()))
        for name, g in ad_acts.items():
            rows.append(Row(f"{name}.out", "activation", g.shape, reference=compare_arrays(
                g, ref_result.activations[name], tol.reference_rtol, act_floor)))

    with_step = optimizer_step is not None and ref is not None
    if with_step:
        rows += _step_rows(model, convention, x, t, masks, ref_params, float(optimizer_step),
                           tol, dtype)

    # --- the header: what was compared, in words
    header = convention.describe()  # its first line is ("reference", ...)
    if reference == "auto":
        header[0] = ("reference", f"{header[0][1]}, {ref_text}")
    if ref is not None:
        header.append(("weights", f"copied from the model by tinygrad_nn.transfer.to_{ref}; "
                                  f"the reference runs in float64"))
    if masks:
        header.append(("dropout", f"fixed keep-masks (seed {seed}) in both the engine's "
                                  f"Dropout layers (a forward hook) and the reference"))
    if activations and ref == "rashid":
        header.append(("outputs", "rashid's reference has no per-layer errors to compare"))
    if numeric:
        header.append(("numeric", f"five-point central differences of the engine's loss in "
                                  f"float64, h = {h:g}; parameters with more than "
                                  f"{numeric_entries} entries at {numeric_entries} seeded random "
                                  f"ones (seed {seed})" + (f"; {skipped} entries skipped: their "
                                  "stencil crosses a ReLU kink" if skipped else "")))
    if with_step:
        header.append(("step", "'<param> step' = after - before: "
                       + convention.describe_step(float(optimizer_step))))
    header.append(("pass if", f"rel err < {tol.reference_rtol:g} vs reference, < "
                              f"{tol.numeric_rtol:g} vs numeric. rel err is CS231n's max |a - b| "
                              f"/ max(floor, |a| + |b|) with its floor 1e-8 raised to "
                              f"{tol.floor_fraction:g} x the largest reference entry of the same "
                              f"kind (vs numeric: {tol.floor_fraction:g} x max(1, |loss|)), so "
                              f"entries that are ~0 are judged by absolute error"))
    title = f"compare: {_describe_model(model)}, {np.dtype(dtype).name}, batch of {m}"
    return Report(title, header, rows)


def _autodiff(model: Module, convention: Convention, x: Array, targets: Array,
              activations: bool) -> tuple[float, dict[str, Array], dict[str, Array]]:
    """Engine loss, parameter gradients and (optionally) every Linear output's gradient."""
    outputs: list[tuple[str, Tensor]] = []
    handles = [layer.register_forward_hook(
                   lambda module, args, out, name=name: outputs.append((name, out)))
               for name, layer in flat_layers(model)
               if activations and isinstance(layer, Linear)]
    try:
        out = model(Tensor(x))
    finally:
        for h in handles:
            h.remove()
    loss = convention.engine_loss(model, out, targets)
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    wrt = [p for _, p in params] + [z for _, z in outputs]
    grads = grad(loss, wrt, allow_unused=True)
    arrays = [np.zeros(t.shape) if g is None else g.data for t, g in zip(wrt, grads)]
    param_grads = {n: a for (n, _), a in zip(params, arrays)}
    act_grads = {n: a for (n, _), a in zip(outputs, arrays[len(params):])}
    return float(loss.data), param_grads, act_grads


def _step_rows(model: Module, convention: Convention, x: Array, t: Array, masks: list[Array],
               ref_params: dict[str, Array], lr: float, tol: Tolerances, dtype: Any
               ) -> list[Row]:
    """One SGD step on both sides; rows compare the change of every parameter."""
    work = copy_with_masks(model, masks)
    before = {n: p.data.astype(np.float64) for n, p in work.named_parameters()}
    convention.engine_step(work, Tensor(x.astype(dtype)), t, lr)
    after = {n: p.data.astype(np.float64) for n, p in work.named_parameters()}
    new = convention.reference_step(ref_params, x, t, masks, lr)
    ref_steps = {s.param: s.to_model(new[s.key]) - before[s.param] for s in convention.slots}
    # The in-place update rounds to the parameters' own precision, whatever the step size.
    rounding = 4 * float(np.finfo(dtype).eps) * scale(list(before.values()))
    floor = max(tol.floor_fraction * scale(list(ref_steps.values())),
                rounding / tol.reference_rtol)
    return [Row(f"{name} step", "step", step.shape, reference=compare_arrays(
        after[name] - before[name], step, tol.reference_rtol, floor))
        for name, step in ref_steps.items()]


def _describe_model(model: Module) -> str:
    try:
        return spec_to_string(model)
    except Exception:  # noqa: BLE001 - any model without a compact spec
        kinds = [type(layer).__name__ for _, layer in flat_layers(model)]
        return f"{type(model).__name__}({', '.join(kinds)})"
