"""Autodiff against the hand-derived references and against numerical differentiation.

``compare`` takes a model and a batch, copies the model's weights into one of the references in
``tinygrad_nn.reference`` (Nielsen, CS231n, Rashid: pure NumPy, derived by hand), and checks,
parameter by parameter:

    autodiff   the engine's gradient of the loss (the model's dtype)
    reference  the reference's hand-derived gradient of the SAME loss (float64)
    numeric    five-point central differences of the engine's loss (a float64 copy)

optionally also the gradient of every Linear layer's output (Nielsen's deltas, dC/dz) and one
SGD step against the reference's update rule. The result is a ``Report``: ``print(report)`` is
a table in the spirit of Karpathy's ``cmp`` (one row per array, max abs error, CS231n relative
error, ok), ``report.ok`` the verdict, ``report.failures`` the rows that disagree.

    >>> from tinygrad_nn import nn
    >>> from tinygrad_nn.check import compare
    >>> net = nn.MLP([784, 30, 10], activation="sigmoid", output_activation="sigmoid",
    ...              init="nielsen", dtype="float64")
    >>> report = compare(net, X, Y, reference="nielsen", loss="quadratic")  # doctest: +SKIP
    >>> print(report)                                                       # doctest: +SKIP

The losses follow each reference's convention exactly (docs/backprop.md); the report's header
spells out the formula used on both sides.

``run_check`` builds a model from a spec with random, seeded data and returns the report; it is
what ``tinygrad-nn check`` prints.
"""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .autograd import grad, no_grad
from .nn import functional as nnf
from .nn.layers import Dropout, LeakyReLU, Linear, ReLU, Sigmoid
from .nn.module import Module
from .nn.spec import build, spec_to_string
from .optim import SGD
from .reference import cs231n, nielsen, rashid
from .tensor import ArrayLike, Tensor
from .transfer import REFERENCES, ArchitectureError, Slot, cs231n_options, flat_layers, layout

__all__ = ["Comparison", "Report", "Row", "Tolerances", "compare", "run_check"]

Array = np.ndarray

# ============================================================================================
# comparing two arrays
# ============================================================================================


@dataclass(frozen=True)
class Tolerances:
    """Pass thresholds on CS231n's relative error, with its floor raised to a scale:

        rel = max_i |a_i - b_i| / max(floor, |a_i| + |b_i|),   ok  <=>  rel < rtol

    CS231n's floor is 1e-8. Relative error means nothing for entries that are exactly zero (a
    pixel that is 0 in every example, the bias before a batchnorm) or tiny differences of large
    terms, where rounding is relative to the whole computation, not to the entry; so entries
    below ``floor_fraction`` of a scale are measured against that floor instead:

    - vs reference: the scale is the largest reference entry among rows of the same kind
      (parameter gradients, layer-output gradients, steps); for steps also the parameter's own
      rounding (the update is done in place, in the model's dtype);
    - vs numeric: max(1, |loss|), since central differences round off in proportion to the loss.
    """

    reference_rtol: float = 1e-10
    numeric_rtol: float = 1e-6
    floor_fraction: float = 1e-3

    @classmethod
    def for_dtype(cls, dtype: Any) -> Tolerances:
        """float64: the issue's 1e-10. float32 autodiff rounds at ~1e-7 relative and
        cancellation amplifies that (batchnorm's backward most: up to 3e-4 measured), so 1e-2:
        still far below the O(1) relative errors a wrong formula gives."""
        if np.dtype(dtype) == np.float64:
            return cls()
        return cls(reference_rtol=1e-2, numeric_rtol=1e-2)


@dataclass(frozen=True)
class Comparison:
    """Autodiff values ``a`` against another computation ``b`` (reference or numeric)."""

    max_abs: float  # max |a - b|
    rel_error: float  # see Tolerances; inf if anything is not finite
    rtol: float
    floor: float
    checked: int  # entries compared
    size: int  # entries in the array
    worst: tuple[int, ...]  # index of the worst entry
    a: float  # autodiff at ``worst``
    b: float  # the other value at ``worst``

    @property
    def ok(self) -> bool:
        return bool(self.rel_error < self.rtol)


def _compare(a: Array, b: Array, rtol: float, floor: float,
             indices: list[tuple[int, ...]] | None = None, size: int | None = None
             ) -> Comparison:
    """Compare arrays of one shape; ``indices`` name the entries when they are a subset."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"compare: autodiff has shape {a.shape} but the other side {b.shape}")
    floor = max(1e-8, floor)
    diff = np.abs(a - b)
    rel = diff / np.maximum(floor, np.abs(a) + np.abs(b))
    rel = np.where(np.isfinite(diff), rel, np.inf)  # nan or inf on either side fails
    flat = int(np.argmax(rel)) if rel.size else 0
    worst = tuple(int(i) for i in np.unravel_index(flat, a.shape)) if a.size else ()
    return Comparison(
        max_abs=float(np.max(diff, initial=0.0)), rel_error=float(np.max(rel, initial=0.0)),
        rtol=rtol, floor=floor, checked=a.size, size=a.size if size is None else size,
        worst=indices[flat] if indices is not None and a.size else worst,
        a=float(a[worst]) if a.size else 0.0, b=float(b[worst]) if b.size else 0.0,
    )


def _scale(arrays: Sequence[Array]) -> float:
    """The largest magnitude among the arrays (0 for none)."""
    return max((float(np.max(np.abs(x), initial=0.0)) for x in arrays), default=0.0)


# ============================================================================================
# the report
# ============================================================================================


@dataclass
class Row:
    """One array: a parameter's gradient, a layer output's gradient ("0.out"), the loss value,
    or a parameter's change in one optimizer step ("0.weight step")."""

    name: str
    kind: str  # "loss" | "gradient" | "activation" | "step"
    shape: tuple[int, ...]
    reference: Comparison | None = None
    numeric: Comparison | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in (self.reference, self.numeric) if c is not None)

    def explain(self) -> str:
        """Why the row failed, in words: the worst entry on each side that disagrees."""
        parts = []
        for label, c in (("reference", self.reference), ("numeric", self.numeric)):
            if c is not None and not c.ok:
                at = f" at {list(c.worst)}" if c.worst else ""
                parts.append(f"vs {label}: rel err {c.rel_error:.2g} > {c.rtol:g}{at} "
                             f"(autodiff {c.a:.10g}, {label} {c.b:.10g})")
        ref, num = self.reference, self.numeric
        if ref is not None and num is not None:
            if not ref.ok and num.ok:
                parts.append("numeric agrees with autodiff: suspect the reference or the "
                             "loss convention")
            elif not ref.ok and not num.ok:
                parts.append("autodiff disagrees with both: suspect the engine")
        return f"{self.name}: " + "; ".join(parts)


def _num(x: float) -> str:
    return "nan" if x != x else f"{x:.1e}"


@dataclass
class Report:
    """What ``compare`` found. ``str(report)`` is the table a person reads."""

    title: str
    header: list[tuple[str, str]]  # (label, text) lines above the table
    rows: list[Row] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def failures(self) -> list[Row]:
        return [row for row in self.rows if not row.ok]

    def row(self, name: str) -> Row:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"Report.row: no row {name!r}; rows: {[r.name for r in self.rows]}")

    def worst(self, side: str) -> float:
        """The largest relative error on one side ("reference" or "numeric"), over all rows."""
        values = [getattr(r, side).rel_error for r in self.rows if getattr(r, side) is not None]
        return max(values, default=0.0)

    def summary(self) -> str:
        parts = []
        for side in ("reference", "numeric"):
            if any(getattr(r, side) is not None for r in self.rows):
                parts.append(f"worst rel err vs {side} {_num(self.worst(side))}")
        if self.ok:
            return f"OK: all {len(self.rows)} rows agree ({'; '.join(parts)})"
        failed = self.failures
        lines = [f"FAILED: {len(failed)} of {len(self.rows)} rows disagree: "
                 + ", ".join(r.name for r in failed)]
        lines += [textwrap.fill(r.explain(), 100, initial_indent="  ", subsequent_indent="    ")
                  for r in failed]
        return "\n".join(lines)

    def table(self) -> str:
        heads = ["name", "shape", "ref max|diff|", "ref rel", "num max|diff|", "num rel",
                 "checked", "ok"]
        body = []
        for r in self.rows:
            ref, num = r.reference, r.numeric
            checked = ("-" if num is None else "all" if num.checked == num.size
                       else f"{num.checked}/{num.size}")
            body.append([
                r.name, str(r.shape),
                "-" if ref is None else _num(ref.max_abs),
                "-" if ref is None else _num(ref.rel_error),
                "-" if num is None else _num(num.max_abs),
                "-" if num is None else _num(num.rel_error),
                checked, "ok" if r.ok else "FAIL",
            ])
        widths = [max(len(line[i]) for line in [heads, *body]) for i in range(len(heads))]

        def fmt(line: list[str]) -> str:
            name, shape, *cells = (cell.ljust(w) if i < 2 else cell.rjust(w)
                                   for i, (cell, w) in enumerate(zip(line, widths)))
            return (f"{name}  {shape} | {cells[0]}  {cells[1]} | {cells[2]}  {cells[3]}  "
                    f"{cells[4]} | {cells[5]}").rstrip()

        rule = "-" * len(fmt(heads))
        return "\n".join([fmt(heads), rule, *(fmt(line) for line in body)])

    def __str__(self) -> str:
        width = max((len(label) for label, _ in self.header), default=0)
        header = [textwrap.fill(text, 100, initial_indent=f"{label.ljust(width)}  ",
                                subsequent_indent=" " * (width + 2), break_on_hyphens=False)
                  for label, text in self.header]
        return "\n".join([self.title, *header, "", self.table(), "", self.summary()])

    def __repr__(self) -> str:
        return f"<Report {self.title!r}: {'ok' if self.ok else f'{len(self.failures)} failures'}>"


# ============================================================================================
# the systems: one loss convention each, on the engine side and on the reference side
# ============================================================================================


@dataclass
class _Reference:
    """What a reference computed, keyed by its own names (``Slot.key``), in its own layouts."""

    loss: float
    grads: dict[str, Array]
    activations: dict[str, Array] = field(default_factory=dict)  # Linear name -> (N, units)


class _System:
    """A loss convention: how the engine computes it and how a reference does.

    ``targets`` are float (N, n_out) or integer labels (N,) as the loss needs; inputs are row
    batches (N, n_in), float64 on the reference side.
    """

    name = "none"
    losses: dict[str, str] = {}  # accepted name -> canonical name
    l2_name = "l2"  # what the l2 argument is called in the reference's convention
    decay_keys: tuple[str, ...] = ()  # reference keys (prefixes) whose parameters are weights

    def __init__(self, model: Module, loss: str, l2: float, n_train: int | None, m: int):
        self.slots: list[Slot] = layout(model, self.name) if self.name != "none" else []
        self.loss, self.l2, self.m = loss, float(l2), m
        self.n = m if n_train is None else int(n_train)

    # ---- the engine side
    def engine_data_loss(self, out: Tensor, targets: Array) -> Tensor:
        if self.loss == "quadratic":
            return nnf.quadratic_cost(out, targets, reduction="sum")
        if self.loss == "cross_entropy":
            return nnf.binary_cross_entropy(out, targets, reduction="sum")
        return nnf.cross_entropy(out, targets, reduction="mean")

    @property
    def l2_strength(self) -> float:
        """``strength`` for nn.functional.l2_penalty: the loss gets strength/2 * sum W^2."""
        return self.l2

    def engine_loss(self, model: Module, out: Tensor, targets: Array) -> Tensor:
        loss = self.engine_data_loss(out, targets)
        if self.l2_strength:
            loss = loss + nnf.l2_penalty(model, self.l2_strength)
        return loss

    def engine_text(self) -> str:
        """The engine's loss, as code, for the report."""
        text = {"quadratic": 'nn.functional.quadratic_cost(out, y, reduction="sum")',
                "cross_entropy": 'nn.functional.binary_cross_entropy(out, y, reduction="sum")',
                "softmax": 'nn.functional.cross_entropy(out, labels, reduction="mean")'}
        l2 = (f" + l2_penalty(model, strength = {self.l2_name} = {self.l2_strength:.6g})"
              if self.l2 else "")
        return text[self.loss] + l2

    def engine_step(self, model: Module, x: Tensor, targets: Array, lr: float) -> None:
        """One SGD step on the data loss; L2 as weight decay on the weights only (a group)."""
        loss = self.engine_data_loss(model(x), targets)
        loss.backward()
        params = dict(model.named_parameters())
        weights = [params[s.param] for s in self.slots if s.key.startswith(self.decay_keys)]
        others = [p for p in params.values() if all(p is not w for w in weights)]
        groups = [{"params": weights, "weight_decay": self.step_weight_decay()},
                  {"params": others, "weight_decay": 0.0}]
        SGD([g for g in groups if g["params"]], lr=self.step_lr(lr)).step()

    def step_lr(self, lr: float) -> float:
        """optim.SGD's lr for the reference's learning rate."""
        return lr

    def step_weight_decay(self) -> float:
        """optim.SGD's weight_decay (on the weights only) for the reference's L2."""
        return 0.0

    # ---- the reference side
    def reference(self, params: dict[str, Array], x: Array, targets: Array,
                  masks: list[Array], activations: bool) -> _Reference:
        raise NotImplementedError

    def reference_step(self, params: dict[str, Array], x: Array, targets: Array,
                       masks: list[Array], lr: float) -> dict[str, Array]:
        raise NotImplementedError

    # ---- words for the report: ("reference", ...) first
    def describe(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def describe_step(self, lr: float) -> str:
        raise NotImplementedError


def _binary_ce_text(who: str) -> str:
    return (f"binary cross-entropy on the sigmoid outputs, summed over the batch and outputs: "
            f"C = sum -y ln a - (1 - y) ln(1 - a) ({who})")


class _Nielsen(_System):
    """network.py / network2.py: summed over the batch; L2 as network2 with n = n_train."""

    name = "nielsen"
    losses = {"quadratic": "quadratic", "cross_entropy": "cross_entropy",
              "binary_cross_entropy": "cross_entropy"}
    decay_keys = ("weights",)
    l2_name = "m lmbda/n"

    @property
    def cost(self) -> nielsen.Cost:
        return nielsen.QuadraticCost if self.loss == "quadratic" else nielsen.CrossEntropyCost

    @property
    def l2_strength(self) -> float:
        # m x network2's total_cost: sum_x C_x + (m lmbda / 2n) sum ||w||^2.
        return self.m * self.l2 / self.n

    def step_lr(self, lr: float) -> float:
        return lr / self.m  # eta/m: the gradient of the summed cost is m times the mean's

    def step_weight_decay(self) -> float:
        # SGD multiplies weight_decay by lr = eta/m: (eta/m) * (m lmbda/n) = eta lmbda / n.
        return self.m * self.l2 / self.n

    def _lists(self, params: dict[str, Array]) -> tuple[list[Array], list[Array]]:
        count = len(self.slots) // 2
        return ([params[f"weights[{l}]"] for l in range(count)],
                [params[f"biases[{l}]"] for l in range(count)])

    def reference(self, params, x, targets, masks, activations):
        weights, biases = self._lists(params)
        nabla_b, nabla_w, deltas = nielsen.backprop_batch(
            weights, biases, x.T, targets.T, self.cost, return_deltas=True)
        grads = {}
        for l, (w, nw, nb) in enumerate(zip(weights, nabla_w, nabla_b, strict=True)):
            # The derivative of network2's L2 term, scaled like the summed cost (m x total_cost).
            grads[f"weights[{l}]"] = nw + self.l2_strength * w if self.l2 else nw
            grads[f"biases[{l}]"] = nb
        loss = self.m * nielsen.total_cost(weights, biases, x.T, targets.T, self.cost,
                                           self.l2, self.n)
        names = [s.param.rsplit(".", 1)[0] for s in self.slots[::2]]
        acts = {name: d.T for name, d in zip(names, deltas)} if activations else {}
        return _Reference(loss, grads, acts)

    def reference_step(self, params, x, targets, masks, lr):
        weights, biases = self._lists(params)
        new_w, new_b = nielsen.update_mini_batch(weights, biases, x.T, targets.T, lr, self.cost,
                                                 self.l2, self.n)
        new = {f"weights[{l}]": w for l, w in enumerate(new_w)}
        new.update({f"biases[{l}]": b for l, b in enumerate(new_b)})
        return new

    def describe(self):
        if self.loss == "quadratic":
            text = ("quadratic, summed over the batch: C = sum_x 1/2 ||a_x - y_x||^2 "
                    "(nielsen.QuadraticCost)")
        else:
            text = _binary_ce_text("nielsen.CrossEntropyCost")
        if self.l2:
            text += (f" + (m lmbda / 2n) sum ||w||^2 = m x network2's total_cost, lmbda = "
                     f"{self.l2:g}, n = {self.n}, m = {self.m}")
        return [("reference", "nielsen.backprop_batch (BP1-BP4, summed over the batch)"),
                ("loss", text), ("engine", self.engine_text())]

    def describe_step(self, lr: float) -> str:
        decay = (f", weight_decay = m lmbda/n = {self.step_weight_decay():.6g} on the weights"
                 if self.l2 else "")
        return (f"nielsen.update_mini_batch(eta = {lr:g}) vs optim.SGD(lr = eta/m = "
                f"{self.step_lr(lr):.6g}{decay}) on the summed cost")


class _Cs231n(_System):
    """FullyConnectedNet.loss: softmax mean over N + 0.5 reg sum W^2; fixed dropout masks."""

    name = "cs231n"
    losses = {"softmax": "softmax", "cross_entropy": "softmax"}
    decay_keys = ("W",)
    l2_name = "reg"

    def __init__(self, model, loss, l2, n_train, m):
        super().__init__(model, loss, l2, n_train, m)
        self.options = cs231n_options(model)

    def step_weight_decay(self) -> float:
        return self.l2  # dW += reg * W, with lr = learning_rate

    def _forward_kwargs(self, masks: list[Array]) -> dict[str, Any]:
        options = copy.deepcopy(self.options)  # bn_params are updated in place by the reference
        if options["keep_prob"] < 1.0 and options["mode"] == "train":
            options["dropout_masks"] = masks
        return options

    def reference(self, params, x, targets, masks, activations):
        kwargs = self._forward_kwargs(masks)
        loss, grads = cs231n.fc_net_loss(params, x, targets, reg=self.l2, **kwargs)
        acts = {}
        if activations:
            acts = self._affine_output_grads(params, x, targets, self._forward_kwargs(masks))
        return _Reference(loss, grads, acts)

    def _affine_output_grads(self, params, x, targets, kwargs) -> dict[str, Array]:
        """dL/d(affine output) per layer: fc_net_backward's walk, keeping what it passes back.

        NOTE: cs231n.fc_net_backward returns parameter gradients only, so this repeats its
        loop with the same reference layer functions; L2 does not reach the activations.
        """
        scores, caches = cs231n.fc_net_forward(params, x, **kwargs)
        _, dh = cs231n.softmax_loss(scores, targets)
        names = [s.param.rsplit(".", 1)[0] for s in self.slots if s.key.startswith("W")]
        found = {names[-1]: dh}
        dh, _, _ = cs231n.affine_backward(dh, caches[-1]["affine"])
        for i in range(len(caches) - 1, 0, -1):
            cache = caches[i - 1]
            if "dropout" in cache:
                dh = cs231n.dropout_backward(dh, cache["dropout"])
            dh = cs231n.relu_backward(dh, cache["relu"])
            if "bn" in cache:
                dh, _, _ = cs231n.batchnorm_backward(dh, cache["bn"])
            found[names[i - 1]] = dh
            dh, _, _ = cs231n.affine_backward(dh, cache["affine"])
        return found

    def reference_step(self, params, x, targets, masks, lr):
        _, grads = cs231n.fc_net_loss(params, x, targets, reg=self.l2,
                                      **self._forward_kwargs(masks))
        return {k: cs231n.sgd(params[k], grads[k], {"learning_rate": lr})[0] for k in params}

    def describe(self):
        opts = self.options
        net = [f"normalization = {opts['normalization']}", f"mode = {opts['mode']}"]
        if opts["keep_prob"] < 1.0:
            net.append(f"keep_prob = 1 - p = {opts['keep_prob']:g} with the engine's keep-masks")
        text = "softmax cross-entropy, mean over N (cs231n.softmax_loss)"
        if self.l2:
            text += f" + 0.5 reg sum W^2 over the weights, reg = {self.l2:g}"
        return [("reference", "cs231n.fc_net_loss (" + ", ".join(net) + ")"), ("loss", text),
                ("engine", self.engine_text())]

    def describe_step(self, lr: float) -> str:
        decay = f", weight_decay = reg = {self.l2:g} on the weights" if self.l2 else ""
        return (f"cs231n.sgd(learning_rate = {lr:g}) with fc_net_loss's gradients vs "
                f"optim.SGD(lr = {lr:g}{decay}) on the mean softmax loss")


class _Rashid(_System):
    """The three-layer sigmoid net: 1/2 ||t - o||^2 or the binary cross-entropy, summed."""

    name = "rashid"
    losses = {"quadratic": "quadratic", "cross_entropy": "cross_entropy",
              "binary_cross_entropy": "cross_entropy"}

    def __init__(self, model, loss, l2, n_train, m):
        super().__init__(model, loss, l2, n_train, m)
        if self.l2:
            raise ValueError("compare: Rashid's network has no L2 term; use l2=0")

    def reference(self, params, x, targets, masks, activations):
        args = (params["wih"], params["who"], x.T, targets.T)
        if self.loss == "quadratic":
            loss, grads = rashid.loss(*args), rashid.gradients(*args)
        else:
            loss, grads = rashid.cross_entropy_loss(*args), rashid.cross_entropy_gradients(*args)
        # NOTE: the reference returns weight gradients only: no per-layer errors to compare.
        return _Reference(loss, dict(zip(("wih", "who"), grads)))

    def engine_step(self, model, x, targets, lr):
        """The book's mixed step: who descends 1/2 ||t - o||^2, wih the cross-entropy (its
        hidden error drops the output's o(1 - o)); see reference/rashid.py."""
        out = model(x)
        params = dict(model.named_parameters())
        wih, who = (params[s.param] for s in self.slots)
        (who.grad,) = grad(nnf.quadratic_cost(out, targets, reduction="sum"), [who],
                           retain_graph=True)
        (wih.grad,) = grad(nnf.binary_cross_entropy(out, targets, reduction="sum"), [wih])
        SGD([wih, who], lr=lr).step()

    def reference_step(self, params, x, targets, masks, lr):
        new_wih, new_who = rashid.train_step(params["wih"], params["who"], x.T, targets.T, lr)
        return {"wih": new_wih, "who": new_who}

    def describe(self):
        if self.loss == "quadratic":
            return [("reference", "rashid.gradients"),
                    ("loss", "1/2 ||t - o||^2, summed over the batch (rashid.loss)"),
                    ("engine", self.engine_text())]
        return [("reference", "rashid.cross_entropy_gradients"),
                ("loss", _binary_ce_text("rashid.cross_entropy_loss")),
                ("engine", self.engine_text())]

    def describe_step(self, lr: float) -> str:
        return (f"rashid.train_step(lr = {lr:g}) vs optim.SGD(lr = {lr:g}) with who's gradient "
                "of 1/2 ||t - o||^2 and wih's of the cross-entropy (the book's mixed rule)")


class _NumericOnly(_System):
    """No reference fits: autodiff against central differences of the engine's loss only."""

    losses = {"quadratic": "quadratic", "binary_cross_entropy": "cross_entropy",
              "softmax": "softmax"}

    def describe(self):
        return [("reference", "none: autodiff is checked against numerical gradients only"),
                ("engine", self.engine_text())]


_SYSTEMS: dict[str, type[_System]] = {"nielsen": _Nielsen, "cs231n": _Cs231n, "rashid": _Rashid}
_DEFAULT_LOSS = {"nielsen": "quadratic", "cs231n": "softmax", "rashid": "quadratic"}


# ============================================================================================
# the engine side
# ============================================================================================


def _infer_reference(model: Module) -> tuple[str | None, str]:
    """The first reference whose network the model is (and words for the report)."""
    for name in REFERENCES:
        try:
            layout(model, name)
            return name, "inferred from the architecture"
        except ArchitectureError:
            pass
    return None, "as the model is not Nielsen's, Rashid's or CS231n's network"


def _resolve_loss(system: type[_System], loss: str | None, model: Module, ref: str | None
                  ) -> str:
    if loss is None:
        if ref is not None:
            return _DEFAULT_LOSS[ref]
        last = flat_layers(model)[-1][1]
        return "quadratic" if isinstance(last, Sigmoid) else "softmax"
    if loss == "cross_entropy" and system is _NumericOnly:
        # Nielsen's and Rashid's "cross-entropy" is binary; on logits it is the softmax one.
        last = flat_layers(model)[-1][1]
        return "cross_entropy" if isinstance(last, Sigmoid) else "softmax"
    if loss not in system.losses:
        raise ValueError(f"compare: loss {loss!r} is not defined for reference "
                         f"{ref or 'none'}; allowed: {', '.join(system.losses)}")
    return system.losses[loss]


def _targets(loss: str, targets: Any, n: int, n_out: int) -> Array:
    """Integer labels (N,) for softmax; float (N, n_out) otherwise (labels become one-hot)."""
    t = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if loss == "softmax":
        if t.dtype.kind not in "iu" or t.shape != (n,):
            raise ValueError(f"compare: the softmax loss takes integer class labels of shape "
                             f"({n},), got {t.dtype} {t.shape}")
        return t
    if t.dtype.kind in "iu" and t.shape == (n,):
        onehot = np.zeros((n, n_out))
        onehot[np.arange(n), t] = 1.0  # Nielsen's vectorized_result, as rows
        return onehot
    if t.shape != (n, n_out):
        raise ValueError(f"compare: targets must be ({n}, {n_out}) floats or ({n},) integer "
                         f"labels, got {t.dtype} {t.shape}")
    return t.astype(np.float64)


def _dropout_masks(model: Module, x: Array, masks: Sequence[Any] | None, seed: int
                   ) -> list[Array]:
    """One keep-mask (True = keep) per Dropout layer: ``masks``, else the layers' own
    ``fixed_mask`` when every one has one, else drawn from ``seed``."""
    dropouts = [layer for _, layer in flat_layers(model) if isinstance(layer, Dropout)]
    if not dropouts or not model.training:
        return []
    shapes: list[tuple[int, ...]] = []
    probe = copy.deepcopy(model)  # a forward pass updates BatchNorm's running statistics
    probes = [layer for _, layer in flat_layers(probe) if isinstance(layer, Dropout)]
    handles = [d.register_forward_pre_hook(lambda m, args: shapes.append(args[0].shape))
               for d in probes]
    with no_grad():
        probe(Tensor(x))
    for h in handles:
        h.remove()
    if masks is None and all(d.fixed_mask is not None for d in dropouts):
        masks = [d.fixed_mask for d in dropouts]
    if masks is None:
        rng = np.random.default_rng(seed)
        return [rng.random(s) >= d.p for s, d in zip(shapes, dropouts, strict=True)]
    masks = [np.asarray(m, dtype=bool) for m in masks]
    if len(masks) != len(dropouts) or any(m.shape != s for m, s in zip(masks, shapes)):
        raise ValueError(f"compare: dropout_masks must be {len(dropouts)} keep-masks of shapes "
                         f"{shapes}, got {[m.shape for m in masks]}")
    return masks


def _set_masks(model: Module, masks: list[Array]) -> None:
    dropouts = [layer for _, layer in flat_layers(model) if isinstance(layer, Dropout)]
    for layer, mask in zip(dropouts, masks):
        layer.fixed_mask = mask


def _autodiff(model: Module, system: _System, x: Array, targets: Array, activations: bool
              ) -> tuple[float, dict[str, Array], dict[str, Array]]:
    """Engine loss, parameter gradients and (optionally) every Linear output's gradient."""
    outputs: list[tuple[str, Tensor]] = []
    handles = []
    if activations:
        for name, layer in flat_layers(model):
            if isinstance(layer, Linear):
                hook = _recorder(outputs, name)
                handles.append(layer.register_forward_hook(hook))
    try:
        out = model(Tensor(x))
    finally:
        for h in handles:
            h.remove()
    loss = system.engine_loss(model, out, targets)
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    wrt = [p for _, p in params] + [z for _, z in outputs]
    grads = grad(loss, wrt, allow_unused=True)
    arrays = [np.zeros(t.shape) if g is None else g.data for t, g in zip(wrt, grads)]
    param_grads = {n: a for (n, _), a in zip(params, arrays)}
    act_grads = {n: a for (n, _), a in zip(outputs, arrays[len(params):])}
    return float(loss.data), param_grads, act_grads


def _recorder(outputs: list[tuple[str, Tensor]], name: str) -> Callable[..., None]:
    def hook(module: Module, args: tuple, out: Tensor) -> None:
        outputs.append((name, out))
    return hook


def _five_point(f: Callable[[], float], x: Array, ix: tuple[int, ...], h: float) -> float:
    """d f / d x[ix] = (8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h, x restored.

    NOTE: five points, not CS231n's two: the truncation error is O(h^4), so h can be large
    enough (1e-4) that rounding (~ eps |f| / h) stays near 1e-12 |f|; the two-point formula
    would need h ~ 1e-5 and round off near 1e-11 |f|.
    """
    old = x[ix]
    values = []
    for step in (2.0, 1.0, -1.0, -2.0):
        x[ix] = old + step * h
        values.append(f())
    x[ix] = old
    f_p2, f_p1, f_m1, f_m2 = values
    return (8.0 * (f_p1 - f_m1) - (f_p2 - f_m2)) / (12.0 * h)


def _numeric(model: Module, system: _System, x: Array, targets: Array, per_param: int,
             seed: int, h: float) -> tuple[dict[str, tuple[list[tuple[int, ...]], Array]], int]:
    """Numerical gradients of the engine loss in float64 at every entry, or at a seeded random
    subset of ``per_param`` entries of larger parameters: ({name: (indices, values)}, skipped).

    NOTE: an entry whose stencil moves some ReLU input across 0 is skipped (and counted): the
    difference quotient straddles the kink and is wrong by up to the jump in slope, while
    autodiff is right. This is CS231n's "kinks" caveat, detected instead of risked.
    ``model`` is a copy: it is converted to float64 and its parameters perturbed in place.
    """
    model64 = model.double()
    x_t = Tensor(x)
    rng = np.random.default_rng(seed)
    signs: list[Array] = []
    for _, layer in flat_layers(model64):
        if isinstance(layer, (ReLU, LeakyReLU)):
            layer.register_forward_pre_hook(lambda m, args: signs.append(args[0].data > 0))

    def evaluate() -> float:
        signs.clear()
        with no_grad():
            return float(system.engine_loss(model64, model64(x_t), targets).data)

    evaluate()
    unperturbed = list(signs)
    crossed = False

    def loss() -> float:
        nonlocal crossed
        value = evaluate()
        crossed = crossed or any(not np.array_equal(a, b) for a, b in zip(signs, unperturbed))
        return value

    found, skipped = {}, 0
    for name, p in model64.named_parameters():
        if not p.requires_grad:
            continue
        if p.data.size <= per_param:
            flat = np.arange(p.data.size)
        else:
            flat = np.sort(rng.choice(p.data.size, per_param, replace=False))
        indices, values = [], []
        for k in flat:
            ix = tuple(int(i) for i in np.unravel_index(k, p.shape))
            crossed = False
            value = _five_point(loss, p.data, ix, h)
            if crossed:
                skipped += 1
            else:
                indices.append(ix)
                values.append(value)
        found[name] = (indices, np.array(values))
    return found, skipped


def _describe_model(model: Module) -> str:
    try:
        return spec_to_string(model)
    except Exception:  # noqa: BLE001 - any model without a compact spec
        kinds = [type(layer).__name__ for _, layer in flat_layers(model)]
        return f"{type(model).__name__}({', '.join(kinds)})"


# ============================================================================================
# compare
# ============================================================================================


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
    dropout_masks   keep-masks (True = keep) for the Dropout layers, in order; when None, the
                layers' own ``fixed_mask``, else drawn from ``seed``. The engine's Dropout
                layers get them through ``fixed_mask``, the reference as ``dropout_masks``.
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

    if reference == "auto":
        ref, ref_text = _infer_reference(model)
    elif reference is None or reference == "none":
        ref, ref_text = None, "none"
    elif reference in _SYSTEMS:
        ref, ref_text = reference, reference
    else:
        raise ValueError(f"compare: unknown reference {reference!r}; allowed: "
                         f"{', '.join(REFERENCES)}, 'auto', None")
    system_cls = _SYSTEMS[ref] if ref is not None else _NumericOnly
    loss_name = _resolve_loss(system_cls, loss, model, ref)
    system = system_cls(model, loss_name, l2, n_train, m)
    linears = [layer for _, layer in flat_layers(model) if isinstance(layer, Linear)]
    n_out = linears[-1].out_features if linears else model(Tensor(x[:1])).shape[-1]
    t = _targets(loss_name, targets, m, n_out)
    masks = _dropout_masks(model, x, dropout_masks, seed)
    tol = tolerances or Tolerances.for_dtype(dtype)

    # --- autodiff, on a copy: the forward pass updates BatchNorm's running statistics
    work = copy.deepcopy(model)
    _set_masks(work, masks)
    loss_value, ad_grads, ad_acts = _autodiff(work, system, x.astype(dtype), t, activations)

    ref_params: dict[str, Array] = {}
    ref_result = None
    if ref is not None:
        ref_params = {s.key: s.to_reference(params[s.param].data) for s in system.slots}
        ref_result = system.reference(ref_params, x, t, masks, activations)
    numeric_found, skipped = {}, 0
    if numeric:
        numeric_found, skipped = _numeric(_copy_with_masks(model, masks), system, x, t,
                                          numeric_entries, seed, h)

    rows: list[Row] = []
    if ref_result is not None:
        rows.append(Row("loss", "loss", (), reference=_compare(
            np.array(loss_value), np.array(ref_result.loss), tol.reference_rtol, 0.0)))
    by_param = {s.param: s for s in system.slots}
    ref_grads = {n: by_param[n].to_model(ref_result.grads[by_param[n].key])
                 for n in ad_grads if ref_result is not None and n in by_param}
    grad_floor = tol.floor_fraction * _scale(list(ref_grads.values()))
    numeric_floor = tol.floor_fraction * max(1.0, abs(loss_value))
    for name, g in ad_grads.items():
        row = Row(name, "gradient", g.shape)
        if name in ref_grads:
            row.reference = _compare(g, ref_grads[name], tol.reference_rtol, grad_floor)
        if name in numeric_found:
            indices, values = numeric_found[name]
            picked = np.array([g[ix] for ix in indices])
            row.numeric = _compare(picked, values, tol.numeric_rtol, numeric_floor, indices,
                                   g.size)
        rows.append(row)

    if ref_result is not None and ref_result.activations:
        act_floor = tol.floor_fraction * _scale(list(ref_result.activations.values()))
        for name, g in ad_acts.items():
            rows.append(Row(f"{name}.out", "activation", g.shape, reference=_compare(
                g, ref_result.activations[name], tol.reference_rtol, act_floor)))

    if optimizer_step is not None and ref is not None:
        rows += _step_rows(model, system, x, t, masks, ref_params, float(optimizer_step), tol,
                           dtype)

    header = system.describe()  # its first line is ("reference", ...)
    if reference == "auto":
        header[0] = ("reference", f"{header[0][1]}, {ref_text}")
    if ref is not None:
        header.append(("weights", f"copied from the model by tinygrad_nn.transfer.to_{ref}; "
                                  f"the reference runs in float64"))
    if masks:
        header.append(("dropout", f"fixed keep-masks (seed {seed}) in both the engine's "
                                  f"Dropout.fixed_mask and the reference"))
    if activations and ref == "rashid":
        header.append(("outputs", "rashid's reference has no per-layer errors to compare"))
    if numeric:
        header.append(("numeric", f"five-point central differences of the engine's loss in "
                                  f"float64, h = {h:g}; parameters with more than "
                                  f"{numeric_entries} entries at {numeric_entries} seeded random "
                                  f"ones (seed {seed})" + (f"; {skipped} entries skipped: their "
                                  "stencil crosses a ReLU kink" if skipped else "")))
    if optimizer_step is not None and ref is not None:
        header.append(("step", "'<param> step' = after - before: "
                       + system.describe_step(float(optimizer_step))))
    header.append(("pass if", f"rel err < {tol.reference_rtol:g} vs reference, < "
                              f"{tol.numeric_rtol:g} vs numeric. rel err is CS231n's max |a - b| "
                              f"/ max(floor, |a| + |b|) with its floor 1e-8 raised to "
                              f"{tol.floor_fraction:g} x the largest reference entry of the same "
                              f"kind (vs numeric: {tol.floor_fraction:g} x max(1, |loss|)), so "
                              f"entries that are ~0 are judged by absolute error"))
    title = f"compare: {_describe_model(model)}, {np.dtype(dtype).name}, batch of {m}"
    return Report(title, header, rows)


def _copy_with_masks(model: Module, masks: list[Array]) -> Module:
    work = copy.deepcopy(model)
    work.zero_grad()  # the model may hold gradients from an earlier backward(): the step adds
    _set_masks(work, masks)
    return work


def _step_rows(model: Module, system: _System, x: Array, t: Array, masks: list[Array],
               ref_params: dict[str, Array], lr: float, tol: Tolerances, dtype: Any
               ) -> list[Row]:
    """One SGD step on both sides; rows compare the change of every parameter."""
    work = _copy_with_masks(model, masks)
    before = {n: p.data.astype(np.float64) for n, p in work.named_parameters()}
    system.engine_step(work, Tensor(x.astype(dtype)), t, lr)
    after = {n: p.data.astype(np.float64) for n, p in work.named_parameters()}
    new = system.reference_step(ref_params, x, t, masks, lr)
    ref_steps = {s.param: s.to_model(new[s.key]) - before[s.param] for s in system.slots}
    # The in-place update rounds to the parameters' own precision, whatever the step size.
    rounding = 4 * float(np.finfo(dtype).eps) * _scale(list(before.values()))
    floor = max(tol.floor_fraction * _scale(list(ref_steps.values())),
                rounding / tol.reference_rtol)
    return [Row(f"{name} step", "step", step.shape, reference=_compare(
        after[name] - before[name], step, tol.reference_rtol, floor))
        for name, step in ref_steps.items()]


# ============================================================================================
# run_check: what `tinygrad-nn check` runs
# ============================================================================================


def run_check(
    spec: str | Mapping[str, Any],
    loss: str | None = None,
    batch_size: int = 10,
    reference: str | None = None,
    seed: int = 0,
    dtype: Any = "float64",
    *,
    l2: float = 0.0,
    n_train: int | None = None,
    lr: float | None = 0.1,
    numeric_entries: int = 64,
    activations: bool = True,
) -> Report:
    """Build ``spec`` (nn.build: a compact string, a dict or a .json/.toml path) seeded with
    ``seed``, draw a random batch of ``batch_size`` inputs in [0, 1) and integer labels, and
    ``compare`` autodiff with the reference (None or "auto": the one the architecture fits;
    "none": numeric only), numerical gradients, and one SGD step with learning rate ``lr``.

    Parameters whose entries are all equal after initialization (BatchNorm's gamma = 1 and
    beta = 0, zero biases) get N(0, 0.1^2) noise: symmetric values can hide a wrong gradient.
    """
    if batch_size < 2:
        raise ValueError(f"run_check: batch_size must be at least 2 (batchnorm), got {batch_size}")
    model = build(spec, dtype=np.dtype(dtype), generator=seed)
    rng = np.random.default_rng(seed)
    perturbed = []
    for name, p in model.named_parameters():
        if p.data.size > 1 and np.all(p.data == p.data.flat[0]):
            p.data += (0.1 * rng.standard_normal(p.shape)).astype(p.dtype)
            perturbed.append(name)
    linears = [layer for _, layer in flat_layers(model) if isinstance(layer, Linear)]
    if not linears:
        raise ValueError("run_check: the model has no Linear layer to size the data from")
    x = rng.random((batch_size, linears[0].in_features))
    labels = rng.integers(0, linears[-1].out_features, batch_size)
    report = compare(model, x, labels, loss=loss,
                     reference="auto" if reference is None else reference, l2=l2,
                     n_train=n_train, numeric_entries=numeric_entries, activations=activations,
                     optimizer_step=lr, seed=seed)
    if perturbed:
        report.header.insert(0, ("init", f"{', '.join(perturbed)} were all-equal; "
                                         f"perturbed by N(0, 0.1^2) (seed {seed})"))
    return report
