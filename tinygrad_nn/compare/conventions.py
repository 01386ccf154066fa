"""The loss conventions: how the engine and one reference compute the SAME loss and SGD step.

Each reference has its own (docs/backprop.md): Nielsen and Rashid sum over the batch, CS231n takes
the mean over N; Nielsen's L2 is network2's (lmbda / 2n) sum w^2, CS231n's 0.5 reg sum W^2, and
Rashid has none. A ``Convention`` computes the loss, its gradients and one SGD step on the engine
side and on the reference side, and describes both in words for the report's header.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import grad
from ..nn import functional as nnf
from ..nn.layers import Sigmoid
from ..nn.module import Module
from ..optim import SGD
from ..reference import cs231n, nielsen, rashid
from ..tensor import Tensor
from ..transfer import REFERENCES, ArchitectureError, Slot, cs231n_options, flat_layers, layout

Array = np.ndarray


@dataclass
class ReferenceResult:
    """What a reference computed, keyed by its own names (``Slot.key``), in its own layouts."""

    loss: float
    grads: dict[str, Array]
    activations: dict[str, Array] = field(default_factory=dict)  # Linear name -> (N, units)


class Convention:
    """A loss convention: how the engine computes it and how a reference does.

    ``targets`` are float (N, n_out) or integer labels (N,) as the loss needs; inputs are row
    batches (N, n_in), float64 on the reference side.
    """

    name = "none"
    losses: dict[str, str] = {}  # accepted name -> canonical name
    default_loss = "quadratic"
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
        """optim.SGD's weight_decay (on the weights only) for the reference's L2: the L2 term's
        gradient is l2_strength * W, so the step descends the same loss as ``engine_loss``."""
        return self.l2_strength

    # ---- the reference side
    def reference(self, params: dict[str, Array], x: Array, targets: Array,
                  masks: list[Array], activations: bool) -> ReferenceResult:
        raise NotImplementedError

    def reference_step(self, params: dict[str, Array], x: Array, targets: Array,
                       masks: list[Array], lr: float) -> dict[str, Array]:
        raise NotImplementedError

    # ---- words for the report
    def describe(self) -> list[tuple[str, str]]:
        """The report's header lines; the first is ("reference", ...)."""
        return [("reference", self.reference_text()), ("loss", self.loss_text()),
                ("engine", self.engine_text())]

    def reference_text(self) -> str:
        raise NotImplementedError

    def loss_text(self) -> str:
        raise NotImplementedError

    def describe_step(self, lr: float) -> str:
        raise NotImplementedError


def _binary_ce_text(who: str) -> str:
    return (f"binary cross-entropy on the sigmoid outputs, summed over the batch and outputs: "
            f"C = sum -y ln a - (1 - y) ln(1 - a) ({who})")


# ============================================================================================
# Nielsen
# ============================================================================================


class Nielsen(Convention):
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

    # NOTE: step_weight_decay is l2_strength = m lmbda/n: SGD multiplies weight_decay by
    # lr = eta/m, so (eta/m) * (m lmbda/n) = eta lmbda / n, network2's decay.

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
        return ReferenceResult(loss, grads, acts)

    def reference_step(self, params, x, targets, masks, lr):
        weights, biases = self._lists(params)
        new_w, new_b = nielsen.update_mini_batch(weights, biases, x.T, targets.T, lr, self.cost,
                                                 self.l2, self.n)
        new = {f"weights[{l}]": w for l, w in enumerate(new_w)}
        new.update({f"biases[{l}]": b for l, b in enumerate(new_b)})
        return new

    def reference_text(self) -> str:
        return "nielsen.backprop_batch (BP1-BP4, summed over the batch)"

    def loss_text(self) -> str:
        if self.loss == "quadratic":
            text = ("quadratic, summed over the batch: C = sum_x 1/2 ||a_x - y_x||^2 "
                    "(nielsen.QuadraticCost)")
        else:
            text = _binary_ce_text("nielsen.CrossEntropyCost")
        if self.l2:
            text += (f" + (m lmbda / 2n) sum ||w||^2 = m x network2's total_cost, lmbda = "
                     f"{self.l2:g}, n = {self.n}, m = {self.m}")
        return text

    def describe_step(self, lr: float) -> str:
        decay = (f", weight_decay = m lmbda/n = {self.step_weight_decay():.6g} on the weights"
                 if self.l2 else "")
        return (f"nielsen.update_mini_batch(eta = {lr:g}) vs optim.SGD(lr = eta/m = "
                f"{self.step_lr(lr):.6g}{decay}) on the summed cost")


# ============================================================================================
# CS231n
# ============================================================================================


class Cs231n(Convention):
    """FullyConnectedNet.loss: softmax mean over N + 0.5 reg sum W^2; fixed dropout masks.

    SGD's weight_decay is reg itself (dW += reg * W, with lr = learning_rate)."""

    name = "cs231n"
    losses = {"softmax": "softmax", "cross_entropy": "softmax"}
    default_loss = "softmax"
    decay_keys = ("W",)
    l2_name = "reg"

    def __init__(self, model, loss, l2, n_train, m):
        super().__init__(model, loss, l2, n_train, m)
        self.options = cs231n_options(model)

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
        return ReferenceResult(loss, grads, acts)

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

    def reference_text(self) -> str:
        opts = self.options
        net = [f"normalization = {opts['normalization']}", f"mode = {opts['mode']}"]
        if opts["keep_prob"] < 1.0:
            net.append(f"keep_prob = 1 - p = {opts['keep_prob']:g} with the engine's keep-masks")
        return "cs231n.fc_net_loss (" + ", ".join(net) + ")"

    def loss_text(self) -> str:
        text = "softmax cross-entropy, mean over N (cs231n.softmax_loss)"
        if self.l2:
            text += f" + 0.5 reg sum W^2 over the weights, reg = {self.l2:g}"
        return text

    def describe_step(self, lr: float) -> str:
        decay = f", weight_decay = reg = {self.l2:g} on the weights" if self.l2 else ""
        return (f"cs231n.sgd(learning_rate = {lr:g}) with fc_net_loss's gradients vs "
                f"optim.SGD(lr = {lr:g}{decay}) on the mean softmax loss")


# ============================================================================================
# Rashid
# ============================================================================================


class Rashid(Convention):
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
        return ReferenceResult(loss, dict(zip(("wih", "who"), grads)))

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

    def reference_text(self) -> str:
        if self.loss == "quadratic":
            return "rashid.gradients"
        return "rashid.cross_entropy_gradients"

    def loss_text(self) -> str:
        if self.loss == "quadratic":
            return "1/2 ||t - o||^2, summed over the batch (rashid.loss)"
        return _binary_ce_text("rashid.cross_entropy_loss")

    def describe_step(self, lr: float) -> str:
        return (f"rashid.train_step(lr = {lr:g}) vs optim.SGD(lr = {lr:g}) with who's gradient "
                "of 1/2 ||t - o||^2 and wih's of the cross-entropy (the book's mixed rule)")


# ============================================================================================
# no reference, and choosing one
# ============================================================================================


class NumericOnly(Convention):
    """No reference fits: autodiff against central differences of the engine's loss only."""

    losses = {"quadratic": "quadratic", "binary_cross_entropy": "cross_entropy",
              "softmax": "softmax"}

    def describe(self):
        return [("reference", "none: autodiff is checked against numerical gradients only"),
                ("engine", self.engine_text())]


CONVENTIONS: dict[str, type[Convention]] = {"nielsen": Nielsen, "cs231n": Cs231n,
                                            "rashid": Rashid}


def choose_reference(model: Module, reference: str | None) -> tuple[str | None, str]:
    """The reference to compare with (None: numeric only), and words for the report."""
    if reference == "auto":
        # The first reference whose network the model is.
        for name in REFERENCES:
            try:
                layout(model, name)
                return name, "inferred from the architecture"
            except ArchitectureError:
                pass
        return None, "as the model is not Nielsen's, Rashid's or CS231n's network"
    if reference is None or reference == "none":
        return None, "none"
    if reference in CONVENTIONS:
        return reference, reference
    raise ValueError(f"compare: unknown reference {reference!r}; allowed: "
                     f"{', '.join(REFERENCES)}, 'auto', None")


def resolve_loss(convention: type[Convention], loss: str | None, model: Module,
                 ref: str | None) -> str:
    """The canonical loss name for ``loss`` under ``convention`` (None: its default)."""
    sigmoid_out = isinstance(flat_layers(model)[-1][1], Sigmoid)
    if loss is None:
        if ref is not None:
            return convention.default_loss
        return "quadratic" if sigmoid_out else "softmax"
    if loss == "cross_entropy" and convention is NumericOnly:
        # Nielsen's and Rashid's "cross-entropy" is binary; on logits it is the softmax one.
        return "cross_entropy" if sigmoid_out else "softmax"
    if loss not in convention.losses:
        raise ValueError(f"compare: loss {loss!r} is not defined for reference "
                         f"{ref or 'none'}; allowed: {', '.join(convention.losses)}")
    return convention.losses[loss]
