"""Training loops: ``fit``, ``evaluate``, ``History``, early stopping (random search: search.py).

    >>> from tinygrad_nn import nn, optim
    >>> from tinygrad_nn.train import fit
    >>> model = nn.build("2-16-16-2:relu")                             # doctest: +SKIP
    >>> adam = optim.Adam(model.parameters(), lr=1e-2)                  # doctest: +SKIP
    >>> history = fit(model, "cross_entropy", adam, (X, y), val=(X_val, y_val),
    ...               epochs=20, batch_size=16, seed=0)                 # doctest: +SKIP
    >>> history.best("val_accuracy")                                   # doctest: +SKIP

Data are NumPy arrays ``(X, y)``: ``y`` holds integer labels (N,) or float targets (N, k).
Losses that compare outputs with float targets (quadratic, mse, bce) get one-hot targets made
from integer labels once, before the first epoch; accuracy always compares ``argmax(output)``
with the labels (``argmax`` of the targets when they are one-hot).

What one epoch records (``History.epochs[i]``, plain floats, so a history is JSON):
``epoch`` (from 1), ``loss`` and ``accuracy`` (averaged over the epoch's mini-batches as they
were trained: the running figures, with dropout on; no second pass over the training data),
``val_loss``, ``val_accuracy``, ``val_correct``, ``val_count`` (a full pass over ``val`` in
eval mode, under ``no_grad``), ``lr`` (the first param group's, during the epoch), ``time``
(wall seconds) and ``cpu_time`` (this process's CPU seconds; on a shared machine the honest
figure), both for the whole epoch, the validation pass included.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import jit
from .autograd import no_grad
from .checkpoint import check_save_path, save
from .data.loader import DataLoader
from .data.preprocess import one_hot
from .nn.losses import LOSSES, get_loss, takes_one_hot
from .nn.module import Module
from .optim.lr_scheduler import ReduceLROnPlateau
from .optim.optimizer import Optimizer
from .tensor import Tensor, manual_seed
from .viz.notebook import html_table, sparkline
from .viz.training import LivePlot, progress_bar

__all__ = [
    "EarlyStopping", "History", "NonFiniteError", "Trial", "check_finite_loss", "choice",
    "evaluate", "fit", "log_uniform",
    "make_loss", "random_search", "uniform",
]

LossFn = Callable[[Tensor, np.ndarray], Tensor]
Data = tuple[np.ndarray, np.ndarray]


# ============================================================================================
# losses by name
# ============================================================================================


def make_loss(loss: str | Module | LossFn) -> LossFn:
    """A loss callable ``loss(output, target) -> scalar Tensor`` from a name in
    ``nn.LOSSES`` ("quadratic", "mse", "cross_entropy", ...; hyphens work too), a loss Module,
    or a callable (returned as is)."""
    if isinstance(loss, str):
        name = loss.replace("-", "_")
        if name not in LOSSES:
            raise ValueError(f"make_loss: unknown loss {loss!r}; allowed: {', '.join(LOSSES)}")
        return get_loss(name)
    if callable(loss):
        return loss
    raise TypeError(f"make_loss: expected a loss name, Module or callable, got "
                    f"{type(loss).__name__}")


# ============================================================================================
# History and early stopping
# ============================================================================================


@dataclass
class History:
    """Per-epoch records of a ``fit`` run (see the module docstring for the keys).

    ``history["val_accuracy"]`` is the list over epochs; ``history.best("val_accuracy")`` the
    record of the best epoch. ``to_json``/``from_json`` round-trip it.
    """

    epochs: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    best_epoch: int | None = None  # set by early stopping (the epoch whose weights were kept)

    def __len__(self) -> int:
        return len(self.epochs)

    def __getitem__(self, key: str) -> list[float]:
        if self.epochs and key not in self.epochs[0]:
            raise KeyError(f"History: no {key!r}; recorded: {', '.join(self.epochs[0])}")
        return [record[key] for record in self.epochs]

    def best(self, key: str = "val_accuracy", mode: str = "auto") -> dict[str, float]:
        """The record of the epoch with the best ``key`` (max for accuracies, else min)."""
        if not self.epochs:
            raise ValueError("History.best: no epochs recorded")
        values = self[key]
        pick = max if metric_mode(key, mode) == "max" else min
        finite = [i for i, v in enumerate(values) if math.isfinite(v)]
        if not finite:
            return self.epochs[-1]
        return self.epochs[pick(finite, key=lambda i: values[i])]

    def to_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "stopped_early": self.stopped_early,
                "best_epoch": self.best_epoch}

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The history as JSON text (NaN and inf written as null); also written to ``path``."""
        clean = [{k: (v if math.isfinite(v) else None) for k, v in r.items()} for r in self.epochs]
        text = json.dumps({**self.to_dict(), "epochs": clean}, indent=1)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> History:
        epochs = [{k: (math.nan if v is None else v) for k, v in r.items()}
                  for r in data.get("epochs", [])]
        return cls(epochs, bool(data.get("stopped_early", False)), data.get("best_epoch"))

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike) -> History:
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            with open(text_or_path, encoding="utf-8") as f:
                text = f.read()
        return cls.from_dict(json.loads(text))

    # ---- display: a table in the terminal, a table and sparklines in Jupyter ----

    SHOWN = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "time")

    def _columns(self) -> list[str]:
        return [k for k in self.SHOWN if self.epochs and k in self.epochs[0]]

    def _cells(self) -> list[list[str]]:
        return [[_cell(key, record[key]) for key in self._columns()] for record in self.epochs]

    def __str__(self) -> str:
        if not self.epochs:
            return "History: no epochs recorded"
        heads, body = self._columns(), self._cells()
        widths = [max(len(x) for x in column) for column in zip(heads, *body)]
        lines = ["  ".join(x.rjust(w) for x, w in zip(line, widths)) for line in [heads, *body]]
        return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:], self._verdict()])

    def __repr__(self) -> str:
        if not self.epochs:
            return "History(0 epochs)"
        last = self.epochs[-1]
        shown = ", ".join(f"{k} {_cell(k, last[k])}" for k in self._columns()[1:4])
        return f"History({len(self.epochs)} epochs; last: {shown})"

    def _verdict(self) -> str:
        notes = [f"{len(self.epochs)} epochs"]
        if self.stopped_early:
            notes.append("stopped early")
        if self.best_epoch is not None:
            notes.append(f"weights of epoch {self.best_epoch} restored")
        return "; ".join(notes)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        """Sparklines of the loss and accuracy curves above the per-epoch table."""
        if not self.epochs:
            return "<i>History: no epochs recorded</i>"
        lines = "".join(sparkline(self[k], k, fmt=lambda v, k=k: _cell(k, v))
                        for k in ("loss", "val_loss", "accuracy", "val_accuracy")
                        if k in self.epochs[0])
        rows = self._cells()
        if len(rows) > 12:  # the curves show every epoch; the table the first and last ones
            rows = [*rows[:5], ["..."] * len(rows[0]), *rows[-5:]]
        return (f"<div>{lines}</div>" + html_table(self._columns(), rows, left=0)
                + f'<div style="font-size:11px">{self._verdict()}</div>')


def _cell(key: str, value: float) -> str:
    if key == "epoch":
        return str(int(value))
    if "accuracy" in key:
        return f"{100 * value:.2f}%"
    return f"{value:.2f}s" if key == "time" else f"{value:.4g}"


def metric_mode(key: str, mode: str) -> str:
    """"max" or "min": whether ``key`` improves upward; ``mode="auto"`` says max for an
    accuracy (or a count of correct answers), min otherwise (losses)."""
    if mode == "auto":
        return "max" if "accuracy" in key or "correct" in key else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
    return mode


@dataclass
class EarlyStopping:
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs; with ``restore_best`` the model gets the best epoch's weights back at the end."""

    patience: int = 5
    monitor: str = "val_accuracy"
    min_delta: float = 0.0
    mode: str = "auto"
    restore_best: bool = True

    def __post_init__(self) -> None:
        if self.patience < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1, got {self.patience}")
        self.mode = metric_mode(self.monitor, self.mode)
        self.best = -math.inf if self.mode == "max" else math.inf
        self.best_epoch: int | None = None
        self.best_state: dict[str, np.ndarray] | None = None
        self.bad_epochs = 0

    def update(self, record: Mapping[str, float], model: Module) -> bool:
        """Record one epoch; True when training should stop."""
        if self.monitor not in record:
            raise ValueError(f"EarlyStopping: the epoch has no {self.monitor!r} (recorded: "
                             f"{', '.join(record)}); pass val= to fit to monitor val metrics")
        value = record[self.monitor]
        better = (value > self.best + self.min_delta if self.mode == "max"
                  else value < self.best - self.min_delta)
        if better:
            self.best, self.best_epoch, self.bad_epochs = value, int(record["epoch"]), 0
            if self.restore_best:
                self.best_state = {k: v.copy() for k, v in model.state_dict().items()}
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience


# ============================================================================================
# evaluate and fit
# ============================================================================================


def _labels(y: np.ndarray) -> np.ndarray | None:
    """Integer labels for accuracy: y itself, the argmax of one-hot rows, or None."""
    if y.ndim == 1 and y.dtype.kind in "iu":
        return y
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return None


def _prepare(model: Module, X: Any, y: Any, n_out: int | None, one_hot_targets: bool
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(inputs in the model's dtype, loss targets, labels for accuracy)."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    dtype = next((p.dtype for p in model.parameters()), None)
    if dtype is not None and X.dtype.kind in "fiub" and X.dtype != dtype:
        X = X.astype(dtype)  # once, not per batch: a float64 batch would promote every op
    labels = _labels(y)
    targets = y
    if one_hot_targets and y.ndim == 1 and y.dtype.kind in "iu":
        targets = one_hot(y, n_out, dtype=dtype or np.float64)
    return X, targets, labels


def _output_width(model: Module, X: np.ndarray) -> int:
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return int(model(Tensor.from_numpy(np.asarray(X[:1]))).shape[-1])
    finally:
        model.train(was_training)


class NonFiniteError(FloatingPointError):
    """Training or evaluation met nan or inf where a number is needed (a diverged run)."""


def check_finite_loss(value: float, epoch: int, step: int) -> None:
    """Stop a training run whose loss is nan or inf, naming where: a diverged run must never
    end as a "success" with a made-up accuracy. Called with each step's loss before backward,
    so the parameters are still the last finite ones."""
    if not math.isfinite(value):
        raise NonFiniteError(
            f"fit: the loss is {value} at epoch {epoch}, step {step}: the run diverged (try a "
            "smaller learning rate, check the inputs for nan/inf, or clip the gradients)")


def _check_finite_outputs(out: np.ndarray, first_row: int) -> None:
    """argmax would turn a nan row into a prediction of class 0 (or the nan's index)."""
    finite = np.isfinite(out).reshape(len(out), -1).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise NonFiniteError(
            f"evaluate: the model's outputs are not finite (nan or inf) for {len(bad)} "
            f"example(s) in rows {first_row}..{first_row + len(out) - 1} (first: row "
            f"{first_row + bad[0]}); accuracy of such outputs would be made up")


def evaluate(model: Module, X: Any, y: Any, batch_size: int = 1000,
             loss: str | Module | LossFn | None = None,
             one_hot_targets: bool | None = None) -> dict[str, float]:
    """Loss (if ``loss`` is given) and accuracy of ``model`` on ``(X, y)`` in eval mode, under
    ``no_grad``; the model's train/eval mode is restored afterwards.

    Returns ``{"loss", "accuracy", "correct", "count"}`` (loss only when asked for, accuracy
    and correct only for classification targets); the loss is the mean over batches weighted
    by their sizes. Integer labels are one-hot encoded for the loss when ``one_hot_targets``
    (None: when the loss is one that compares outputs with float targets, e.g. "quadratic").
    """
    loss_fn = make_loss(loss) if loss is not None else None
    if one_hot_targets is None:
        one_hot_targets = loss_fn is not None and takes_one_hot(loss_fn)
    X, y = np.asarray(X), np.asarray(y)
    n_out = _output_width(model, X) if len(X) and one_hot_targets else None
    X, targets, labels = _prepare(model, X, y, n_out, one_hot_targets)
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        with no_grad():
            for start in range(0, len(X), batch_size):
                rows = slice(start, start + batch_size)
                out = model(Tensor.from_numpy(X[rows]))
                _check_finite_outputs(out.data, start)
                if loss_fn is not None:
                    total_loss += float(loss_fn(out, targets[rows]).item()) * len(out)
                if labels is not None:
                    correct += int((out.data.argmax(axis=-1) == labels[rows]).sum())
    finally:
        model.train(was_training)
    n = len(X)
    result: dict[str, float] = {"count": n}
    if loss_fn is not None:
        result["loss"] = total_loss / n if n else math.nan
    if labels is not None:
        result["correct"] = correct
        result["accuracy"] = correct / n if n else math.nan
    return result


def _format(record: Mapping[str, float], epochs: int) -> str:
    parts = [f"epoch {int(record['epoch'])}/{epochs}", f"loss {record['loss']:.4f}"]
    if "accuracy" in record:
        parts.append(f"acc {100 * record['accuracy']:.2f}%")
    if "val_loss" in record:
        parts.append(f"val_loss {record['val_loss']:.4f}")
    if "val_accuracy" in record:
        parts.append(f"val_acc {100 * record['val_accuracy']:.2f}%")
    parts += [f"lr {record['lr']:.3g}", f"{record['time']:.2f}s"]
    return "  ".join(parts)


def _training_step(model: Module, loss_fn: LossFn, optimizer: Optimizer, where: list[int],
                   compiled: bool) -> Callable[[np.ndarray, np.ndarray], tuple[Tensor, Tensor]]:
    """fit's step: forward, loss, the finite-loss check (before backward, so the parameters
    stay the last finite ones), zero_grad, backward, step; through tg.compile when asked and
    possible (a TraceError on the first batch switches to eager for the rest of the run)."""

    def step(xb: np.ndarray, tb: np.ndarray) -> tuple[Tensor, Tensor]:
        out = model(Tensor.from_numpy(xb))
        batch_loss = loss_fn(out, tb)
        jit.callback(_check_loss, batch_loss)
        optimizer.zero_grad()
        batch_loss.backward()
        optimizer.step()
        return out, batch_loss

    def _check_loss(value: np.ndarray) -> None:
        check_finite_loss(float(value), where[0], where[1])

    if not compiled:
        return step
    compiled_step = jit.compile(step)
    use: list[Any] = [compiled_step]

    def run(xb: np.ndarray, tb: np.ndarray) -> tuple[Tensor, Tensor]:
        try:
            return use[0](xb, tb)
        except jit.TraceError as e:
            if getattr(e, "side_effects", True):
                raise  # the step was applied already: running it again would apply it twice
            use[0] = step  # cannot be replayed: eager from now on, this batch included
            return step(xb, tb)

    return run


def fit(
    model: Module,
    loss: str | Module | LossFn,
    optimizer: Optimizer,
    train: Data,
    val: Data | None = None,
    epochs: int = 10,
    batch_size: int = 32,
    scheduler: Any = None,
    shuffle: bool = True,
    seed: int | None = None,
    metrics: Sequence[str] = ("accuracy",),
    early_stopping: EarlyStopping | int | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    log: Callable[[str], Any] | None = print,
    on_epoch_end: Callable[[dict[str, float]], Any] | None = None,
    plot: bool = False,
    compile: bool = True,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train = (X, y)``; returns the History.

    loss        a name ("cross_entropy", "quadratic", "mse", ...), a loss Module or a callable
                ``loss(output, target)``; Nielsen's quadratic cost is "quadratic" (the mean over
                the mini-batch of 1/2 ||a - y||^2, so SGD with lr=eta is his update).
    scheduler   stepped once per epoch; a ReduceLROnPlateau gets val_loss (train loss without
                ``val``).
    seed        seeds the shuffling order and the library generator (dropout masks), so two
                runs with the same seed and the same initial model are identical (with the
                same BLAS and thread count: see docs/results.md on chaotic divergence).
    metrics     ("accuracy",) or (): accuracy needs integer labels or one-hot targets.
    early_stopping  an EarlyStopping, or an int patience on val_accuracy (needs ``val``).
    checkpoint  a path: ``tinygrad_nn.save(path, model, optimizer, extra={"epoch",
                "history"})`` after every epoch (atomic), and once more at the end when early
                stopping restored the best weights.
    progress    a tqdm bar per epoch when tqdm is installed and stderr is a terminal or this
                runs in Jupyter (tqdm.auto: a widget there when ipywidgets is installed).
    log         called with one line per epoch (None: silent).
    on_epoch_end  called with each epoch's record; returning True stops training.
    plot        in Jupyter, redraw the loss/accuracy curves in the cell after every epoch
                (``viz.LivePlot``; needs matplotlib).
    compile     run the training step through ``tg.compile`` (the same arithmetic, less Python
                per step) when the loss is a library loss (a name or an nn loss Module); a
                step it cannot replay (BatchNorm, a loss that reads values in Python) is
                detected on the first batch and runs eagerly, and so does a loss given as your
                own callable (its Python would be frozen). False: always eager.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    unknown = set(metrics) - {"accuracy"}
    if unknown:
        raise ValueError(f"fit: unknown metrics {sorted(unknown)}; allowed: accuracy")
    loss_fn = make_loss(loss)
    if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping(patience=early_stopping)
    if early_stopping is not None and val is None and early_stopping.monitor.startswith("val"):
        raise ValueError(f"fit: early stopping on {early_stopping.monitor!r} needs val=(X, y)")
    if seed is not None:
        manual_seed(seed)

    # Integer labels become one-hot targets for the losses that compare outputs with floats,
    # and for any loss when the training targets are given one-hot (so val is encoded alike).
    y_train = np.asarray(train[1])
    one_hot_targets = takes_one_hot(loss_fn) or (y_train.ndim == 2
                                                         and y_train.dtype.kind == "f")
    n_out = _output_width(model, np.asarray(train[0])) if one_hot_targets else None
    X, targets, labels = _prepare(model, train[0], y_train, n_out, one_hot_targets)
    want_accuracy = "accuracy" in metrics
    if want_accuracy and labels is None:
        raise ValueError("fit: accuracy needs integer labels (N,) or one-hot targets (N, k); "
                         "pass metrics=() for regression")
    # One loader over the aligned arrays; the labels ride along only when accuracy needs them.
    arrays = (X, targets) + ((labels,) if want_accuracy and labels is not targets else ())
    loader = DataLoader(*arrays, batch_size=batch_size, shuffle=shuffle, seed=seed)
    val_data = None
    if val is not None:
        val_data = (np.asarray(val[0]), np.asarray(val[1]))

    if checkpoint is not None:
        check_save_path(checkpoint)  # a bad path fails now, not after the first epoch
    history = History()
    where = [0, 0]  # (epoch, step) for the non-finite-loss message, read inside the step
    # NOTE: a loss given as your own callable may keep Python state (a counter, a print) that
    # a replay would freeze: only the library's losses (by name or Module) are compiled
    library_loss = isinstance(loss, (str, Module))
    train_step = _training_step(model, loss_fn, optimizer, where, compile and library_loss)
    live = None
    if plot:
        live = LivePlot()
    for epoch in range(1, epochs + 1):
        lr = float(optimizer.param_groups[0]["lr"])
        wall, cpu = time.perf_counter(), time.process_time()
        model.train()
        bar = progress_bar(progress, loader, f"epoch {epoch}/{epochs}")
        batches: Iterable[tuple[np.ndarray, ...]] = loader if bar is None else bar
        total_loss, correct, seen = 0.0, 0, 0
        where[0] = epoch
        for step, batch in enumerate(batches, start=1):
            xb, tb = batch[0], batch[1]
            where[1] = step
            out, batch_loss = train_step(xb, tb)
            value = float(batch_loss.data)
            n = len(xb)
            total_loss += value * n
            seen += n
            if want_accuracy:
                lb = batch[-1]  # the labels, or the targets when they are the labels
                # NOTE: count_nonzero, not a bool .sum(): a few us less per mini-batch of 10
                correct += int(np.count_nonzero(out.data.argmax(axis=-1) == lb))
        if bar is not None:
            bar.close()

        record: dict[str, float] = {"epoch": epoch, "loss": total_loss / max(seen, 1)}
        if want_accuracy:
            record["accuracy"] = correct / max(seen, 1)
        if val_data is not None:
            result = evaluate(model, *val_data, loss=loss_fn, one_hot_targets=one_hot_targets)
            record["val_loss"] = result["loss"]
            if want_accuracy:
                record["val_accuracy"] = result["accuracy"]
                record["val_correct"] = result["correct"]
            record["val_count"] = result["count"]
        record["lr"] = lr
        record["time"] = time.perf_counter() - wall
        record["cpu_time"] = time.process_time() - cpu
        history.epochs.append(record)

        if scheduler is not None:
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(record.get("val_loss", record["loss"]))
            else:
                scheduler.step()
        if log is not None:
            log(_format(record, epochs))
        if live is not None:
            live.update(history)
        stop = bool(on_epoch_end(record)) if on_epoch_end is not None else False
        if early_stopping is not None and early_stopping.update(record, model):
            stop = True
            history.stopped_early = True
        if checkpoint is not None:
            _save(checkpoint, model, optimizer, epoch, history)
        if stop:
            break

    if early_stopping is not None and early_stopping.best_epoch is not None:
        history.best_epoch = early_stopping.best_epoch
        if early_stopping.restore_best and early_stopping.best_state is not None:
            model.load_state_dict(early_stopping.best_state)
            if log is not None:
                log(f"restored the weights of epoch {early_stopping.best_epoch} "
                    f"({early_stopping.monitor} {early_stopping.best:.4g})")
            if checkpoint is not None:
                _save(checkpoint, model, optimizer, early_stopping.best_epoch, history)
    return history


def _save(path: str | os.PathLike, model: Module, optimizer: Optimizer, epoch: int,
          history: History) -> None:
    clean = json.loads(history.to_json())  # NaN is not JSON
    save(path, model, optimizer, extra={"epoch": epoch, "history": clean})


# random search lives in search.py; these names stay importable from here
from .search import (  # noqa: E402,F401  (search.py imports History from this module)
    DEFAULT_SPACE,
    Distribution,
    Trial,
    choice,
    log_uniform,
    random_search,
    uniform,
)
