"""The ``tinygrad-nn`` command (also ``python -m tinygrad_nn``).

    tinygrad-nn demo                      train on two moons, draw the graph, check the gradients
    tinygrad-nn train --spec SPEC ...     train a declared network on MNIST or a toy set
    tinygrad-nn check --spec SPEC ...     autodiff vs the hand-derived reference vs numeric
    tinygrad-nn check --layers FILE ...   YOUR layer functions vs autodiff vs numeric
    tinygrad-nn graph --spec SPEC ...     draw the training graph of a network to a file
    tinygrad-nn summary --spec SPEC       the layer table
    tinygrad-nn export CKPT --to onnx     a checkpoint as ONNX (or --to torch: torch.export)

Every subcommand has ``--help``. A user error (a bad spec, a missing file, missing MNIST, a bad
option value) prints one line, ``tinygrad-nn: error: ...``, and exits with 2 (usage: the
command line itself is wrong) or 1 (a failure while running: a missing file, a failed check).
Set TINYGRAD_NN_DEBUG=1 to see the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import io, viz
from .check import files
from .compare import run_check
from .config import read_document
from .data import DATASETS, load_dataset, make_moons, one_hot, train_test_split
from .export import export_checkpoint
from .nn import build, takes_one_hot
from .nn.layers import in_out_features
from .nn.spec import SpecError, in_file, layer_type, load_spec, spec_file, spec_to_string
from .optim import OPTIMIZERS, Adam, get_optimizer, get_scheduler
from .tensor import Tensor
from .train import EarlyStopping, evaluate, fit, make_loss
from .version import __version__

PROG = "tinygrad-nn"
DEMO_SPEC = "2-16-16-2:relu"
CHECK_SPEC = "784-30-10:sigmoid,out=sigmoid,init=nielsen_large"  # Nielsen's chapter-1 network
GRAPH_SPEC = "4-8-3:sigmoid"
LOSSES = ("quadratic", "mse", "cross-entropy", "bce")
DTYPES = ("float32", "float64")  # --dtype's choices (every command)


class UsageError(Exception):
    """The command line is wrong: exit status 2."""


class CommandError(Exception):
    """Running the command failed: exit status 1."""


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block) raised as UsageError."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


# ============================================================================================
# shared helpers: specs, models, data, losses
# ============================================================================================


def _argument(convert: Callable[[str], Any], ok: Callable[[Any], bool], wanted: str
              ) -> Callable[[str], Any]:
    """An argparse ``type=``: ``convert(text)`` if it gives a value that is ``ok``."""
    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not ok(value):  # ok() is False for nan too
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value
    return parse


_positive_int = _argument(int, lambda v: v >= 1, "a positive integer")
_nonnegative_float = _argument(float, lambda v: v >= 0, "a number >= 0")
_fraction = _argument(float, lambda v: 0 < v < 1, "a number in (0, 1)")


def _shape(example: str, x_too: bool) -> Callable[[str], Any]:
    """An argparse ``type=`` for a shape: positive integers joined by commas (or by "x", if
    ``x_too``); none at all is refused too, not read as "the default"."""
    def convert(text: str) -> tuple[int, ...]:
        if x_too:
            text = text.replace("x", ",")
        return tuple(int(n) for n in text.split(",") if n)

    return _argument(convert, lambda v: len(v) > 0 and min(v) >= 1,
                     f"integers >= 1 like {example}")


_summary_shape = _shape("1,784", x_too=True)  # 1x784 reads too
_export_shape = _shape("1,28,28", x_too=False)  # as before: export never read "x"


def load_spec_text(text: str) -> dict[str, Any]:
    """A --spec value as a spec dict: inline JSON (``{...}``), a .json/.toml file, or a compact
    string such as ``784-30-10:sigmoid``."""
    text = text.strip()
    if text.startswith("{"):
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as e:
            raise UsageError(f"--spec: invalid JSON: {e}") from None
        return spec
    if text.endswith((".json", ".toml")) and not Path(text).is_file():
        raise CommandError(f"spec file {text!r} does not exist")
    try:
        return load_spec(text)
    except SpecError as e:
        raise UsageError(str(e)) from None


def adjust_spec(spec: dict[str, Any], loss: str | None, init: str | None = None,
                note: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """Apply --init, and give a sigmoid output to an MLP declared without an output activation
    when the loss compares outputs with one-hot targets (Nielsen's networks: sigmoid on every
    layer; the CLI's losses have no logits form)."""
    spec = dict(spec)
    if init is not None:
        if layer_type(spec) != "MLP":
            raise UsageError("--init works on the MLP form of a spec (sizes); put \"init\" in "
                             "each Linear of a layer list instead")
        spec["init"] = init
    wants_probabilities = loss is not None and takes_one_hot(loss)
    if wants_probabilities and layer_type(spec) == "MLP" and "output_activation" not in spec:
        spec["output_activation"] = "sigmoid"
        if note is not None:
            note(f"note: {loss} cost: the spec gives no output activation, so the output layer "
                 "is sigmoid as in Nielsen's book (write out=none in the spec to keep raw "
                 "outputs)")
    return spec


def build_model(spec: dict[str, Any], dtype: str, seed: int, text: str) -> Any:
    """The model of ``spec``, read from the --spec value ``text``: an error names the field, and
    the file too when ``text`` names one."""
    try:
        return build(spec, dtype=np.dtype(dtype), generator=seed)
    except SpecError as e:
        raise spec_error(text, e) from None
    except ValueError as e:
        raise UsageError(str(e)) from None


def spec_error(text: str, error: SpecError) -> UsageError:
    """``error`` as a usage error, naming the spec file first when --spec (``text``) is one."""
    file = spec_file(text.strip())
    return UsageError(str(error if file is None else in_file(file, error)))


def _io_sizes(model: Any) -> tuple[int, int]:
    try:
        return in_out_features(model)
    except ValueError:
        raise UsageError("the spec has no Linear layer; nothing to train or draw") from None


def loss_name(loss: str) -> str:
    """CLI loss names (hyphens) -> nn.LOSSES names."""
    return loss.replace("-", "_")


def load_data(opts: argparse.Namespace) -> dict[str, tuple[np.ndarray, np.ndarray] | None]:
    """data.load_dataset with the train options; a missing or unreadable MNIST is a failure."""
    try:
        return load_dataset(opts.dataset, data_dir=opts.data, download=not opts.no_download,
                            dtype=opts.dtype, limit=opts.limit, n_samples=opts.n_samples,
                            noise=opts.noise, test_fraction=opts.test_fraction,
                            validation=bool(opts.early_stopping), seed=opts.seed)
    except FileNotFoundError as e:
        raise CommandError(f"{e}; pass --data DIR holding the four MNIST files, or set "
                           "TINYGRAD_NN_MNIST=DIR") from None
    except (OSError, ValueError) as e:
        raise CommandError(f"could not read MNIST: {str(e).splitlines()[0]}") from None


# ============================================================================================
# config files (train --config)
# ============================================================================================

# The defaults of `train`; a config file's values replace them, the command line's replace both.
TRAIN_DEFAULTS: dict[str, Any] = {
    "spec": None, "dataset": "mnist", "data": None, "no_download": False, "limit": None,
    "n_samples": 500, "noise": 0.2, "test_fraction": 0.2, "loss": "cross-entropy",
    "init": None, "optimizer": "sgd", "lr": None, "momentum": 0.0, "nesterov": False,
    "weight_decay": 0.0, "schedule": None, "epochs": 10, "batch_size": 32, "seed": 0,
    "dtype": "float32", "early_stopping": None, "save": None, "history": None,
    "no_progress": False, "quiet": False,
    "no_compile": False,  # issue #14: the step runs through tg.compile unless --no-compile
}


def read_config(path: str) -> dict[str, Any]:
    """A JSON or TOML file of train options (the long option names, - or _), with the network
    under "model" (or "spec") and optionally an [optimizer] table {name, lr, momentum, ...}."""
    try:
        raw = read_document(path, "config file")
    except FileNotFoundError as e:
        raise CommandError(str(e)) from None
    except ValueError as e:
        raise UsageError(str(e)) from None
    if not isinstance(raw, dict):
        raise UsageError(f"config file {path!r}: expected a table of options")
    config: dict[str, Any] = {}
    for key, value in raw.items():
        key = key.replace("-", "_")
        if key in ("model", "spec"):
            config["spec"] = value if isinstance(value, str) else json.dumps(value)
        elif key == "optimizer" and isinstance(value, dict):
            for k, v in value.items():
                k = k.replace("-", "_")
                config["optimizer" if k == "name" else k] = v
        elif key in TRAIN_DEFAULTS:
            config[key] = value
        else:
            raise UsageError(f"config file {path!r}: unknown option {key!r}; allowed: model, "
                             + ", ".join(k for k in TRAIN_DEFAULTS if k != "spec"))
    unknown = set(config) - set(TRAIN_DEFAULTS)
    if unknown:
        raise UsageError(f"config file {path!r}: unknown optimizer option(s) "
                         f"{', '.join(sorted(unknown))}")
    return config


# ============================================================================================
# train
# ============================================================================================


def cmd_train(args: argparse.Namespace) -> int:
    options = dict(TRAIN_DEFAULTS)
    if args.config:
        options.update(read_config(args.config))
    # every train option defaults to None on the command line (flags too), so "not given"
    # leaves the config file's value in place
    options.update({k: v for k, v in vars(args).items() if k in TRAIN_DEFAULTS and v is not None})
    opts = argparse.Namespace(**options)
    _check_train_options(opts)
    say = (lambda *a, **k: None) if opts.quiet else print

    # a bad spec (its values too: the model is built) is reported before any data is read (or
    # downloaded)
    declared = None if opts.spec is None else _train_model(opts)
    data = load_data(opts)
    X_train, y_train = data["train"]
    n_features = X_train.shape[1]
    n_classes = int(max(y_train.max(), data["test"][1].max())) + 1
    if opts.spec is None:
        hidden = "30" if opts.dataset == "mnist" else "16-16"
        opts.spec = f"{n_features}-{hidden}-{n_classes}:relu"
    spec, model = declared or _train_model(opts)
    n_in, n_out = _io_sizes(model)
    if n_in != n_features:
        raise UsageError(f"the network takes {n_in} inputs but {opts.dataset} has "
                         f"{n_features} features")
    if n_out < n_classes:
        raise UsageError(f"the network has {n_out} outputs but {opts.dataset} has "
                         f"{n_classes} classes")
    try:
        optimizer = get_optimizer(model, opts.optimizer, opts.lr, momentum=opts.momentum,
                                  nesterov=opts.nesterov, weight_decay=opts.weight_decay)
    except ValueError as e:
        raise UsageError(str(e)) from None
    try:
        scheduler = get_scheduler(optimizer, opts.schedule)
    except ValueError as e:
        raise UsageError(f"--schedule: {e}") from None
    lr = optimizer.param_groups[0]["lr"]
    loss = loss_name(opts.loss)
    X_test, y_test = data["test"]
    n_test = len(X_test)
    shown = spec_to_string(spec) if layer_type(spec) == "MLP" else json.dumps(spec)
    say(f"training {shown} on {opts.dataset} ({len(X_train)} train, {n_test} test), "
        f"loss {opts.loss}, {opts.optimizer} lr {lr:g}, batch {opts.batch_size}, "
        f"{opts.epochs} epochs, seed {opts.seed}")

    test_correct: list[int] = []

    def epoch_end(record: dict[str, float]) -> None:
        # Nielsen's line, with the epoch numbered from 0 as his network.py prints it
        result = evaluate(model, X_test, y_test)
        test_correct.append(int(result["correct"]))
        extra = f"train loss {record['loss']:.4f}, train acc {100 * record['accuracy']:.2f}%"
        if "val_accuracy" in record:
            extra += f", val acc {100 * record['val_accuracy']:.2f}%"
        say(f"Epoch {int(record['epoch']) - 1}: {test_correct[-1]} / {n_test}  "
            f"({extra}, {record['time']:.1f}s)", flush=True)

    early = (EarlyStopping(patience=opts.early_stopping) if opts.early_stopping else None)
    history = fit(model, loss, optimizer, data["train"], val=data["val"], epochs=opts.epochs,
                  batch_size=opts.batch_size, scheduler=scheduler, seed=opts.seed,
                  early_stopping=early, checkpoint=opts.save,
                  progress=not opts.no_progress and not opts.quiet, log=None,
                  on_epoch_end=epoch_end, compile=not opts.no_compile)
    final = evaluate(model, X_test, y_test)
    if test_correct:
        peak = int(np.argmax(test_correct))
        print(f"test accuracy: {100 * final['accuracy']:.2f}% ({final['correct']} / {n_test}); "
              f"peak {100 * test_correct[peak] / n_test:.2f}% at epoch {peak}; "
              f"{sum(history['time']):.1f}s training")
    if opts.save:
        say(f"saved the checkpoint to {opts.save}")
    if opts.history:
        history.to_json(opts.history)
        say(f"wrote the history to {opts.history}")
    return 0


def _train_model(opts: argparse.Namespace) -> tuple[dict[str, Any], Any]:
    """(the spec as adjusted for the loss and --init, the model built from it) for ``train``."""
    spec = adjust_spec(load_spec_text(opts.spec), opts.loss, opts.init,
                       note=lambda line: print(line, file=sys.stderr))
    return spec, build_model(spec, opts.dtype, opts.seed, opts.spec)


def _check_train_options(opts: argparse.Namespace) -> None:
    """Values that may come from a config file, checked as the command line's are."""
    choices = {"dataset": DATASETS, "loss": LOSSES, "optimizer": OPTIMIZERS,
               "dtype": DTYPES}
    for key, allowed in choices.items():
        value = getattr(opts, key)
        if value not in allowed:
            raise UsageError(f"{key}: invalid choice {value!r} (choose from "
                             f"{', '.join(allowed)})")
    for key in ("epochs", "batch_size", "n_samples", "limit", "early_stopping"):
        value = getattr(opts, key)
        if value is None and key in ("limit", "early_stopping"):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UsageError(f"{key}: expected a positive integer, got {value!r}")
    for key in ("lr", "momentum", "weight_decay", "noise"):
        value = getattr(opts, key)
        if value is not None and not (isinstance(value, (int, float)) and value >= 0
                                      and math.isfinite(value)):
            raise UsageError(f"{key}: expected a finite number >= 0, got {value!r}")
    for key in ("no_download", "nesterov", "no_progress", "quiet"):
        if not isinstance(getattr(opts, key), bool):  # a config's "false" is a truthy string
            raise UsageError(f"{key}: expected true or false, got {getattr(opts, key)!r}")
    for key in ("save", "history"):  # before training, not after it
        _check_output_path(getattr(opts, key), key)


def _check_output_path(path: Any, option: str) -> None:
    """An output file the run will write: its directory must exist and be writable."""
    if path is None:
        return
    if not isinstance(path, str) or not path:
        raise UsageError(f"{option}: expected a file path, got {path!r}")
    target = Path(path)
    if target.is_dir():
        raise UsageError(f"{option}: {path!r} is a directory, expected a file path")
    parent = target.parent
    if not parent.is_dir():
        raise UsageError(f"{option}: directory {str(parent)!r} of {path!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{option}: directory {str(parent)!r} of {path!r} is not writable")


# ============================================================================================
# check, graph, summary
# ============================================================================================


def cmd_check(args: argparse.Namespace) -> int:
    if args.layers is not None or args.pair:
        return cmd_check_layers(args)
    spec = load_spec_text(args.spec)
    reference = None if args.reference == "auto" else args.reference
    lr = None if args.no_step else args.lr
    try:
        report = run_check(spec, loss=None if args.loss is None else loss_name(args.loss),
                           batch_size=args.batch_size, reference=reference, seed=args.seed,
                           dtype=args.dtype, l2=args.l2, lr=lr,
                           numeric_entries=args.entries, activations=not args.no_activations)
    except SpecError as e:
        raise spec_error(args.spec, e) from None
    except ValueError as e:  # an architecture the reference cannot express, a bad loss, ...
        raise UsageError(str(e).splitlines()[0]) from None
    print(report)
    return 0 if report.ok else 1


def cmd_check_layers(args: argparse.Namespace) -> int:
    """One line per pair of the learner's file (tinygrad_nn.check.files); 1 if any is wrong."""
    if args.layers is None or not args.pair:
        raise UsageError("check: --layers FILE and --pair NAME go together")
    if len(args.shapes) not in (1, len(args.pair)):
        raise UsageError(f"check: {len(args.pair)} --pair but {len(args.shapes)} --shapes; give "
                         "one --shapes per --pair (or one for all)")
    try:
        shapes = [files.parse_shapes(text) for text in args.shapes]
        kwargs = json.loads(args.kwargs) if args.kwargs else {}
    except (ValueError, json.JSONDecodeError) as e:
        raise UsageError(str(e).splitlines()[0]) from None
    try:
        module = files.load_module(args.layers)
    except (OSError, ImportError, SyntaxError) as e:
        raise CommandError(str(e).splitlines()[0]) from None
    jobs = [(pair, shapes[i if len(shapes) > 1 else 0], kwargs)
            for i, pair in enumerate(args.pair)]
    lines, ok = files.check_pairs(module, jobs, seed=args.seed)
    print("\n".join(lines))
    return 0 if ok else 1


def _training_graph(model: Any, loss: str, batch_size: int, seed: int) -> tuple[Any, Any, Any]:
    """One forward and backward pass on a random seeded batch: (graph, loss tensor, capture)."""
    n_in, n_out = _io_sizes(model)
    dtype = next(model.parameters()).dtype
    rng = np.random.default_rng(seed)
    x = Tensor(rng.random((batch_size, n_in)).astype(dtype))
    labels = rng.integers(0, n_out, batch_size)
    targets = one_hot(labels, n_out, dtype=dtype) if takes_one_hot(loss) else labels
    loss_fn = make_loss(loss)
    with viz.capture(model) as cap:
        value = loss_fn(model(x), targets)
    graph = viz.trace(value, capture=cap)
    value.backward()
    return graph, value, cap


def _render(drawing: Any, path: str | Path) -> Path:
    """viz.render, with Graphviz's absence reported as a one-line note on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", viz.GraphvizMissingWarning)
        written = viz.render(drawing, path)
    for w in caught:
        if issubclass(w.category, viz.GraphvizMissingWarning):
            print(f"{PROG}: note: {w.message}", file=sys.stderr)
    return written


def cmd_graph(args: argparse.Namespace) -> int:
    spec = adjust_spec(load_spec_text(args.spec), args.loss)
    model = build_model(spec, args.dtype, args.seed, args.spec)
    out = Path(args.out)
    if out.suffix and out.suffix[1:].lower() not in viz.draw.FORMATS:
        raise UsageError(f"--out: the suffix picks the format: one of "
                         f"{', '.join(viz.draw.FORMATS)}, got {out.suffix!r}")
    if args.model:
        drawing = viz.draw_model(model, (args.batch_size, _io_sizes(model)[0]))
    else:
        graph, value, _ = _training_graph(model, loss_name(args.loss), args.batch_size,
                                          args.seed)
        title = f"{args.spec}, {args.loss} loss, batch {args.batch_size}: {value.item():.4g}"
        try:
            drawing = viz.draw_graph(graph, show_values=args.values, collapse=args.collapse,
                                     title=title)
        except viz.GraphTooLargeError as e:
            raise CommandError(str(e)) from None
    written = _render(drawing, out)
    print(f"wrote {written}")
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    model = build_model(load_spec_text(args.spec), args.dtype, 0, args.spec)
    shape = args.input_shape or (1, _io_sizes(model)[0])
    try:
        print(viz.summary(model, shape))
    except ValueError as e:
        raise UsageError(f"--input-shape {shape}: {str(e).splitlines()[0]}") from None
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    target = export_checkpoint(args.checkpoint, args.to, args.out, args.input_shape or None)
    print(f"wrote {target}")
    return 0


# ============================================================================================
# demo
# ============================================================================================


def cmd_demo(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    print(f"== 1. train an MLP {DEMO_SPEC} on two moons (400 points, noise 0.2, seed "
          f"{args.seed}) ==")
    X, y = make_moons(400, noise=0.2, seed=args.seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.2, seed=args.seed)
    model = build(DEMO_SPEC, dtype=np.float64, generator=args.seed)
    optimizer = Adam(model.parameters(), lr=0.01)
    history = fit(model, "cross_entropy", optimizer, (X_train, y_train),
                  val=(X_test, y_test), epochs=args.epochs, batch_size=16, seed=args.seed,
                  progress=False, log=print if args.verbose else None)
    if not args.verbose:
        for record in history.epochs[:: max(1, len(history) // 5)]:
            print(f"epoch {int(record['epoch']):3d}  loss {record['loss']:.4f}  "
                  f"test acc {100 * record['val_accuracy']:.1f}%")
    train_acc = evaluate(model, X_train, y_train)["accuracy"]
    test_acc = evaluate(model, X_test, y_test)["accuracy"]
    print(f"final: train accuracy {100 * train_acc:.1f}%, test accuracy {100 * test_acc:.1f}%")
    io.save(out / "model.safetensors", model, optimizer, extra={"history": json.loads(
        history.to_json())})
    print(f"saved {out / 'model.safetensors'}")

    print("\n== 2. the computation graph of one training step ==")
    graph, value, _ = _training_graph(model, "cross_entropy", 4, args.seed)
    drawing = viz.draw_graph(graph, title=f"{DEMO_SPEC}, cross-entropy, batch of 4")
    print(f"wrote {_render(drawing, out / f'graph.{args.format}')}")
    print(viz.summary(model, (1, 2)))

    print("\n== 3. gradients: autodiff vs Nielsen's hand-derived backprop vs numeric ==")
    report = run_check("4-5-3:sigmoid,out=sigmoid,init=nielsen_large", loss="quadratic",
                       batch_size=6, seed=args.seed, dtype="float64")
    print(report)
    print(f"\ndone in {time.perf_counter() - started:.1f}s; files in {out}/")
    return 0 if report.ok else 1


# ============================================================================================
# the parser
# ============================================================================================


def _spec_help(default: str | None) -> str:
    text = ("the network: a compact string like 784-30-10:sigmoid,out=sigmoid (see "
            "tinygrad_nn.nn.spec), inline JSON {\"sizes\": [...]}, or a .json/.toml file")
    return text + (f" (default: {default})" if default else "")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="tinygrad_nn: train, check and draw small neural "
                     "networks (a NumPy autodiff engine with the textbooks' networks beside it).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    demo = sub.add_parser("demo", help="train on two moons, draw the graph, check gradients "
                          "(offline, seconds)", description="Train an MLP [2, 16, 16, 2] "
                          "(relu, cross-entropy, Adam) on generated two-moons data, write the "
                          "computation graph (SVG) and a checkpoint, and print the gradient "
                          "check of a small Nielsen network: autodiff vs hand-derived backprop "
                          "vs numeric differences.")
    demo.add_argument("--out", default="tinygrad_nn_demo",
                      help="output directory (default: ./tinygrad_nn_demo)")
    demo.add_argument("--epochs", type=_positive_int, default=30, help="default: 30")
    demo.add_argument("--seed", type=int, default=0, help="default: 0")
    demo.add_argument("--format", choices=("svg", "png", "pdf", "dot"), default="svg",
                      help="graph file format (default: svg)")
    demo.add_argument("--verbose", action="store_true", help="print every epoch")
    demo.set_defaults(run=cmd_demo)

    train = sub.add_parser("train", help="train a network on MNIST or a toy set",
                           description="Train a declared network and print, per epoch, the "
                           "test-set score as Nielsen's network.py does ('Epoch j: n / 10000'). "
                           "Options may come from --config FILE (JSON/TOML; the command line "
                           "wins).",
                           epilog="Nielsen's chapter 1: tinygrad-nn train --spec "
                           "784-30-10:sigmoid --init nielsen_large --loss quadratic --optimizer "
                           "sgd --lr 3.0 --batch-size 10 --epochs 30 --data DIR")
    train.add_argument("--config", metavar="FILE", help="JSON or TOML file of these options")
    train.add_argument("--spec", help=_spec_help("784-30-10:relu on mnist, 2-16-16-C:relu on "
                                                 "toy sets"))
    train.add_argument("--init", help="weight init scheme for an MLP spec (nielsen_large, "
                       "nielsen, rashid, pytorch, xavier, kaiming, ...)")
    data = train.add_argument_group("data")
    data.add_argument("--dataset", choices=DATASETS, help="default: mnist")
    data.add_argument("--data", metavar="DIR", help="the MNIST directory (default: "
                      "$TINYGRAD_NN_MNIST, else ~/.cache/tinygrad_nn/mnist)")
    data.add_argument("--no-download", action="store_true", default=None,
                      help="never download MNIST")
    data.add_argument("--limit", type=_positive_int, metavar="N",
                      help="use the first N training examples")
    data.add_argument("--n-samples", type=_positive_int, metavar="N",
                      help="toy sets: points (default: 500)")
    data.add_argument("--noise", type=_nonnegative_float, metavar="F",
                      help="toy sets: noise (default: 0.2)")
    data.add_argument("--test-fraction", type=_fraction, metavar="F",
                      help="toy sets: test share (default: 0.2)")
    opt = train.add_argument_group("training")
    opt.add_argument("--loss", choices=LOSSES, help="default: cross-entropy; quadratic is "
                     "Nielsen's 1/2 ||a - y||^2, averaged over the mini-batch")
    opt.add_argument("--optimizer", choices=OPTIMIZERS, help="default: sgd")
    opt.add_argument("--lr", type=_nonnegative_float,
                     help="learning rate (default: 0.1 for sgd, 0.001 otherwise)")
    opt.add_argument("--momentum", type=_nonnegative_float, help="sgd momentum (default: 0)")
    opt.add_argument("--nesterov", action="store_true", default=None, help="sgd: Nesterov momentum")
    opt.add_argument("--weight-decay", type=_nonnegative_float, help="L2 on the weights (not "
                     "biases), PyTorch's form; Nielsen's lmbda is lmbda/n_train (default: 0)")
    opt.add_argument("--schedule", help="none, step:SIZE[:GAMMA], exp:GAMMA, cosine:T_MAX or "
                     "plateau[:PATIENCE[:FACTOR]] (default: none)")
    opt.add_argument("--epochs", type=_positive_int, help="default: 10")
    opt.add_argument("--batch-size", type=_positive_int, help="default: 32")
    opt.add_argument("--seed", type=int, help="init, data and shuffling seed (default: 0)")
    opt.add_argument("--dtype", choices=DTYPES, help="default: float32")
    opt.add_argument("--early-stopping", type=_positive_int, metavar="PATIENCE",
                     help="stop when validation accuracy has not improved for PATIENCE epochs")
    outputs = train.add_argument_group("output")
    outputs.add_argument("--save", metavar="PATH", help="checkpoint file (.safetensors), written "
                         "after every epoch")
    outputs.add_argument("--history", metavar="PATH", help="write the history as JSON")
    outputs.add_argument("--no-progress", action="store_true", default=None, help="no progress bar")
    outputs.add_argument("--quiet", action="store_true", default=None,
                         help="print only the final result")
    opt.add_argument("--no-compile", action="store_true", default=None,
                     help="run each step eagerly instead of through tg.compile (same results)")
    train.set_defaults(run=cmd_train)

    check = sub.add_parser("check", help="autodiff vs hand-derived reference vs numeric",
                           description="Build the network, draw a random seeded batch, and "
                           "compare the engine's gradients with the hand-derived reference "
                           "(Nielsen, CS231n or Rashid, whichever the architecture is) and with "
                           "numerical differences, plus one SGD step. Exits 1 if any row "
                           "disagrees.")
    check.add_argument("--spec", default=CHECK_SPEC, help=_spec_help(CHECK_SPEC))
    check.add_argument("--loss", choices=("quadratic", "cross-entropy", "softmax"),
                       help="default: the reference's (quadratic for Nielsen and Rashid, "
                       "softmax for CS231n)")
    check.add_argument("--batch-size", type=_positive_int, default=10, help="default: 10")
    check.add_argument("--reference", choices=("auto", "nielsen", "cs231n", "rashid", "none"),
                       default="auto", help="default: auto (the one the architecture fits)")
    check.add_argument("--seed", type=int, default=0, help="default: 0")
    check.add_argument("--dtype", choices=DTYPES, default="float64",
                       help="default: float64")
    check.add_argument("--l2", type=_nonnegative_float, default=0.0,
                       help="L2 strength in the reference's convention (default: 0)")
    check.add_argument("--lr", type=_nonnegative_float, default=0.1,
                       help="learning rate of the compared SGD step (default: 0.1)")
    check.add_argument("--no-step", action="store_true", help="skip the SGD step rows")
    check.add_argument("--no-activations", action="store_true",
                       help="skip the rows of each layer output's gradient")
    check.add_argument("--entries", type=_positive_int, default=64,
                       help="numeric check: entries per parameter (default: 64)")
    # --- #13: YOUR layers (tinygrad_nn.check.files): one line per pair ---
    check.add_argument("--layers", metavar="FILE", help="a Python file of CS231n-style layer "
                       "pairs (NAME_forward, NAME_backward) to check against autodiff")
    check.add_argument("--pair", action="append", default=[], metavar="NAME",
                       help="a pair in --layers (repeatable): NAME_forward / NAME_backward")
    check.add_argument("--shapes", action="append", default=[], metavar="4x5,5x3,3",
                       help="the inputs' shapes for each --pair (repeatable, or one for all)")
    check.add_argument("--kwargs", metavar="JSON", help="keyword arguments for the forwards, "
                       "e.g. '{\"conv_param\": {\"stride\": 1, \"pad\": 1}}'")
    check.set_defaults(run=cmd_check)

    graph = sub.add_parser("graph", help="draw the training graph of a network",
                           description="Draw the computation graph of one training step (forward, "
                           "loss, backward: gradient norms shown) of the network on a random "
                           "batch, or with --model the architecture.")
    graph.add_argument("--spec", default=GRAPH_SPEC, help=_spec_help(GRAPH_SPEC))
    graph.add_argument("--loss", choices=LOSSES, default="cross-entropy",
                       help="default: cross-entropy")
    graph.add_argument("--batch-size", type=_positive_int, default=4, help="default: 4")
    graph.add_argument("-o", "--out", default="graph.svg",
                       help="output file; its suffix picks svg, png, pdf or dot "
                       "(default: graph.svg)")
    graph.add_argument("--collapse", action="store_true", help="one node per layer")
    graph.add_argument("--values", action="store_true", help="show value statistics")
    graph.add_argument("--model", action="store_true", help="draw the architecture instead")
    graph.add_argument("--seed", type=int, default=0, help="default: 0")
    graph.add_argument("--dtype", choices=DTYPES, default="float32",
                       help="default: float32")
    graph.set_defaults(run=cmd_graph)

    summary = sub.add_parser("summary", help="the layer table of a network",
                             description="Print each layer's output shape and parameter count.")
    summary.add_argument("--spec", required=True, help=_spec_help(None))
    summary.add_argument("--input-shape", type=_summary_shape, help="with the batch axis, "
                         "e.g. 1,784 (default: 1 x the network's inputs)")
    summary.add_argument("--dtype", choices=DTYPES, default="float32",
                         help="default: float32")
    summary.set_defaults(run=cmd_summary)

    export = sub.add_parser("export", help="a checkpoint as ONNX or a torch.export program",
                            description="Write a checkpoint's model (eval mode) for ONNX "
                            "Runtime (.onnx) or PyTorch (.pt2: torch.export.load(PATH).module()).")
    export.add_argument("checkpoint", help="a checkpoint file (.safetensors, or an old .npz)")
    export.add_argument("--to", required=True, choices=("onnx", "torch"))
    export.add_argument("--out", help="default: the checkpoint's path with .onnx or .pt2")
    export.add_argument("--input-shape", metavar="SHAPE", type=_export_shape,
                        help="one sample's shape, e.g. 1,28,28 (default: the first layer's "
                        "input size; convolutional networks need it)")
    export.set_defaults(run=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 failure, 2 usage error)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as e:
        return _fail(str(e), 2)
    except SystemExit as e:  # --help and --version exit 0 from inside argparse
        return int(e.code or 0)
    try:
        with warnings.catch_warnings():  # NumPy's overflow warnings: a diverged run is one line
            warnings.simplefilter("ignore", RuntimeWarning)
            return int(args.run(args))
    except UsageError as e:
        return _fail(str(e), 2)
    except CommandError as e:
        return _fail(str(e), 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        # the reader went away (`tinygrad-nn check | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (OSError, ValueError, TypeError, LookupError, ArithmeticError, RuntimeError,
            MemoryError) as e:  # the library's errors name their culprit: one line, no traceback
        if os.environ.get("TINYGRAD_NN_DEBUG"):
            raise
        text = " ".join(str(e).split())
        if isinstance(e, MemoryError):
            text = f"out of memory ({text})" if text else "out of memory"
        return _fail(text or type(e).__name__, 1)


def _fail(message: str, status: int) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
