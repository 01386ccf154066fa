"""io.py: bit-identical round trips, identical continued training, atomic writes, and bad files
(corrupted, truncated, pickle-bearing, mismatched) refused with the model and optimizer unchanged.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import io, nn, optim

SPEC = "4-6-3:tanh,batchnorm"  # BatchNorm: buffers (float running stats, an int64 counter)


def _model(spec: str = SPEC, seed: int = 0, dtype: Any = np.float64) -> nn.Module:
    return nn.build(spec, dtype=dtype, generator=seed)


def _optimizer(model: nn.Module) -> optim.Optimizer:
    params = list(model.parameters())
    return optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.02}], lr=0.01,
                      amsgrad=True)


def _train(model: nn.Module, opt: optim.Optimizer, steps: int, start: int = 0) -> None:
    for step in range(start, start + steps):
        rng = np.random.default_rng(step)
        x = tg.Tensor(rng.normal(size=(8, 4)).astype(model.state_dict()["0.weight"].dtype))
        target = tg.Tensor(rng.integers(0, 3, size=8))
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), target).backward()
        opt.step()


def _snapshot(model: nn.Module, opt: optim.Optimizer | None = None) -> dict[str, Any]:
    snap: dict[str, Any] = {"model": model.state_dict()}
    if opt is not None:
        snap["optimizer"] = opt.state_dict()
    return snap


def _same(a: Any, b: Any) -> bool:
    """Bitwise equality of nested dicts/lists of arrays and plain values (dtypes included)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    return type(a) is type(b) and a == b


@pytest.fixture
def trained(tmp_path: Path) -> tuple[Path, nn.Module, optim.Optimizer]:
    model = _model()
    opt = _optimizer(model)
    _train(model, opt, 3)
    path = tmp_path / "run.npz"
    io.save(path, model, opt, extra={"epoch": 3, "history": [0.5, 0.25]})
    return path, model, opt


# --------------------------------------------------------------------------------------------
# round trips
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_bit_identical(tmp_path: Path, dtype: Any, compress: bool) -> None:
    model = _model(dtype=dtype)
    opt = _optimizer(model)
    _train(model, opt, 2)
    path = tmp_path / "ckpt.npz"
    io.save(path, model, opt, extra={"note": "hi"}, compress=compress)

    other = _model(seed=1, dtype=dtype)
    other_opt = _optimizer(other)
    arrays = [p.data for p in other.parameters()]
    ckpt = io.load(path, other, other_opt)
    assert ckpt.model is other and ckpt.optimizer is other_opt and ckpt.extra == {"note": "hi"}
    assert _same(_snapshot(other, other_opt), _snapshot(model, opt))
    assert all(p.data is a for p, a in zip(other.parameters(), arrays, strict=True)), \
        "parameters must be loaded in place (optimizers hold the arrays)"

    rebuilt = io.load(path)  # model and optimizer from the file alone
    assert repr(rebuilt.model) == repr(model)
    assert rebuilt.optimizer is not None
    assert _same(_snapshot(rebuilt.model, rebuilt.optimizer), _snapshot(model, opt))
    assert rebuilt.optimizer.defaults == opt.defaults
    assert list(rebuilt.optimizer.param_groups[1]["params"]) == list(rebuilt.model.parameters())[2:]


@pytest.mark.parametrize("rebuild", [False, True], ids=["into-given", "rebuilt-from-file"])
def test_training_continues_identically_after_reload(tmp_path: Path, rebuild: bool) -> None:
    model = _model()
    opt = _optimizer(model)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    _train(model, opt, 3)
    sched.step()
    path = tmp_path / "ckpt.npz"
    io.save(path, model, opt, extra={"scheduler": sched.state_dict()})
    for epoch in range(3):
        _train(model, opt, 3, start=3 + 3 * epoch)
        sched.step()

    if rebuild:
        ckpt = io.load(path)
        model2, opt2 = ckpt.model, ckpt.optimizer
        assert opt2 is not None
    else:
        model2 = _model(seed=7)
        opt2 = _optimizer(model2)
        ckpt = io.load(path, model2, opt2)
    sched2 = optim.StepLR(opt2, step_size=2, gamma=0.5)
    sched2.load_state_dict(ckpt.extra["scheduler"])
    for epoch in range(3):
        _train(model2, opt2, 3, start=3 + 3 * epoch)
        sched2.step()
    assert _same(_snapshot(model2, opt2), _snapshot(model, opt))


def test_raw_state_dict_round_trip(tmp_path: Path) -> None:
    state = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "count": np.array(7),
             "mask": np.array([True, False]), "empty": np.zeros((0, 4))}
    path = tmp_path / "raw.npz"
    io.save_state_dict(path, state, extra=[1, 2])
    loaded = io.load_state_dict(path)
    assert _same(loaded, state)
    assert io.read_header(path)["extra"] == [1, 2]
    with pytest.raises(io.CheckpointError, match="raw state dict"):
        io.load(path)
    model = _model()
    io.save_state_dict(path, model.state_dict())
    other = _model(seed=3)
    other.load_state_dict(io.load_state_dict(path))
    assert _same(other.state_dict(), model.state_dict())


def test_header_describes_the_file(trained: tuple[Path, nn.Module, optim.Optimizer]) -> None:
    path, model, opt = trained
    header = io.read_header(path)
    assert header["format"] == "tinygrad_nn.checkpoint" and header["version"] == 1
    assert header["model"]["spec"] == model.spec()
    assert header["model"]["tensors"]["0.weight"] == {
        "key": "model/0.weight", "dtype": "float64", "shape": [6, 4]}
    assert header["model"]["tensors"]["1.num_batches_tracked"]["dtype"] == "int64"
    saved_opt = header["optimizer"]
    assert saved_opt["class"] == "Adam"
    assert saved_opt["param_names"] == [name for name, _ in model.named_parameters()]
    assert saved_opt["state"]["0"]["step"] == {"int": 3}
    assert saved_opt["param_groups"][1]["lr"] == 0.02
    assert header["extra"] == {"epoch": 3, "history": [0.5, 0.25]}
    with np.load(path, allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)


def test_a_model_without_spec_loads_only_into_a_given_model(tmp_path: Path) -> None:
    class Custom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(np.ones((2, 2)))

    path = tmp_path / "custom.npz"
    model = Custom()
    io.save(path, model, optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(io.CheckpointError, match="without a spec; build it yourself"):
        io.load(path)
    other = Custom()
    other.w.data[...] = 5.0
    io.load(path, other)
    assert np.array_equal(other.w.data, np.ones((2, 2)))


# --------------------------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------------------------


def _half_writer(real: Callable[..., None]) -> Callable[..., None]:
    """np.savez that writes half of the real bytes, then crashes."""
    def crash(file: Any, *args: Any, **kwargs: Any) -> None:
        real(file, *args, **kwargs)
        size = file.tell()
        file.seek(size // 2)
        file.truncate()
        raise OSError("simulated crash in the middle of a save")
    return crash


def test_crash_mid_save_leaves_the_previous_file_intact(
    trained: tuple[Path, nn.Module, optim.Optimizer], monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, model, opt = trained
    before = path.read_bytes()
    _train(model, opt, 1, start=10)  # the next save would write different bytes
    monkeypatch.setattr(np, "savez", _half_writer(np.savez))
    with pytest.raises(OSError, match="simulated crash"):
        io.save(path, model, opt)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["run.npz"], "temp file left behind"
    monkeypatch.undo()
    io.load(path)  # still a valid checkpoint


def test_crash_mid_first_save_creates_no_file(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(np, "savez", _half_writer(np.savez))
    with pytest.raises(OSError):
        io.save(tmp_path / "new.npz", _model())
    assert list(tmp_path.iterdir()) == []


def test_data_is_fsynced_before_the_rename(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace",
                        lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    io.save(tmp_path / "a.npz", _model())
    assert events[:2] == ["fsync", "replace"]
    assert (tmp_path / "a.npz").stat().st_mode & 0o777 == 0o644


def test_unserializable_extra_is_refused_before_writing(
    trained: tuple[Path, nn.Module, optim.Optimizer],
) -> None:
    path, model, _ = trained
    before = path.read_bytes()
    with pytest.raises(io.CheckpointError, match="extra must be JSON-serializable"):
        io.save(path, model, extra={"array": np.ones(2)})
    assert path.read_bytes() == before


# --------------------------------------------------------------------------------------------
# bad files: refused, nothing changed
# --------------------------------------------------------------------------------------------


def _rewrite(path: Path, mutate: Callable[[dict[str, Any], dict[str, np.ndarray]], Any]) -> None:
    """Rewrite a checkpoint after ``mutate(header, arrays)`` edits it in place. An emptied
    header is left out, unless ``mutate`` put its own ``__header__`` array in."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays.pop("__header__").tobytes())
    mutate(header, arrays)
    if header and "__header__" not in arrays:
        arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


def _set(header_path: str, value: Any) -> Callable[[dict, dict], None]:
    def mutate(header: dict, arrays: dict) -> None:
        *parents, last = header_path.split("/")
        for key in parents:
            header = header[key]
        header[last] = value
    return mutate


def _flip_byte_in_data(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    offset = raw.index(b"model/0.weight.npy") + 200  # inside that member's array data
    raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))


class _Boom:
    """Unpickling this would run code: a loader that uses pickle sets the flag."""

    triggered = False

    def __reduce__(self) -> tuple:
        return (_Boom._trigger, ())

    @staticmethod
    def _trigger() -> None:
        _Boom.triggered = True


def _add_object_array(header: dict, arrays: dict) -> None:
    arrays["model/0.weight"] = np.array([_Boom()], dtype=object)


def _write_pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps({"model/0.weight": _Boom()}))


BAD_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
                  "not a readable .npz file"),
    "truncated to nothing": (lambda p: p.write_bytes(b""), "not a readable .npz file"),
    "corrupted data byte": (_flip_byte_in_data, "member 'model/0.weight' is unreadable"),
    "object array (pickle)": (lambda p: _rewrite(p, _add_object_array),
                              "member 'model/0.weight' is unreadable .*pickle"),
    "a pickle file": (_write_pickle, "not a readable .npz file"),
    "a .npy file": (lambda p: p.write_bytes(_npy_bytes()), "not an .npz archive"),
    "no header": (lambda p: _rewrite(p, lambda h, a: h.clear()),
                  "no '__header__' member"),
    "header not JSON": (lambda p: _rewrite(p, _garble_header), "not valid UTF-8 JSON"),
    "wrong format": (lambda p: _rewrite(p, _set("format", "other")), "'format' is 'other'"),
    "newer version": (lambda p: _rewrite(p, _set("version", 2)),
                      "format version 2 was written by a newer tinygrad_nn"),
    "missing array": (lambda p: _rewrite(p, lambda h, a: a.pop("model/0.bias")),
                      "missing array 'model/0.bias'"),
    "extra array": (lambda p: _rewrite(p, lambda h, a: a.update(sneaky=np.ones(1))),
                    "unexpected array 'sneaky'"),
    "archive shape differs from header": (
        lambda p: _rewrite(p, lambda h, a: a.update({"model/0.bias": np.zeros(7)})),
        r"'model/0.bias' has shape \(7,\) in the archive but \(6,\) in the header"),
    "archive dtype differs from header": (
        lambda p: _rewrite(p, lambda h, a: a.update({"model/0.bias": np.zeros(6, np.float32)})),
        "'model/0.bias' has dtype float32 in the archive but float64"),
    "optimizer state shape": (lambda p: _rewrite(p, _bad_optimizer_state),
                              r"state\[0\].*\['exp_avg'\] has shape \(4, 6\) but the parameter "
                              r"has shape \(6, 4\)"),
    "optimizer step": (lambda p: _rewrite(p, _set_step), r"\['step'\] must be a non-negative int"),
    "optimizer lr": (lambda p: _rewrite(p, _set_lr), r"param_groups\[0\]: invalid lr"),
}


def _npy_bytes() -> bytes:
    import io as _io

    buffer = _io.BytesIO()
    np.save(buffer, np.ones(3))
    return buffer.getvalue()


def _garble_header(header: dict, arrays: dict) -> None:
    header.clear()
    arrays["__header__"] = np.frombuffer(b"{not json", dtype=np.uint8)


def _bad_optimizer_state(header: dict, arrays: dict) -> None:
    entry = header["optimizer"]["state"]["0"]["exp_avg"]
    entry["shape"] = [4, 6]
    arrays[entry["key"]] = np.zeros((4, 6))


def _set_step(header: dict, arrays: dict) -> None:
    header["optimizer"]["state"]["1"]["step"] = {"int": -3}


def _set_lr(header: dict, arrays: dict) -> None:
    header["optimizer"]["param_groups"][0]["lr"] = -1.0


def _expect_refused(path: Path, message: str, model: nn.Module | None = None,
                    opt: optim.Optimizer | None = None) -> None:
    model = _model(seed=5) if model is None else model
    opt = _optimizer(model) if opt is None else opt
    _train(model, opt, 1)
    before = _snapshot(model, opt)
    with pytest.raises(io.CheckpointError, match=message) as error:
        io.load(path, model, opt)
    assert str(path) in str(error.value), "the error must name the file"
    assert _same(_snapshot(model, opt), before), "a failed load changed the model or optimizer"


@pytest.mark.parametrize("case", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_and_nothing_changes(
    trained: tuple[Path, nn.Module, optim.Optimizer], case: tuple[Callable, str],
) -> None:
    path, _, _ = trained
    damage, message = case
    _Boom.triggered = False
    damage(path)
    _expect_refused(path, message)
    assert not _Boom.triggered, "loading ran code from the file"
    with pytest.raises(io.CheckpointError):
        io.load(path)  # the rebuild path refuses it too


MISMATCHES = {
    "missing key": ("4-6-3:tanh", SPEC, "model key '1.weight' is missing from the file"),
    "unexpected key": (SPEC, "4-6-3:tanh", "the file has model key '1.weight', which MLP"),
    "shape": ("4-5-3:tanh,batchnorm", SPEC,
              r"model key '0.weight' has shape \(5, 4\) in the file but \(6, 4\) in the model"),
}


@pytest.mark.parametrize("case", MISMATCHES.values(), ids=MISMATCHES.keys())
def test_file_for_another_architecture_is_refused(tmp_path: Path, case: tuple[str, str, str]
                                                  ) -> None:
    saved_spec, model_spec, message = case
    path = tmp_path / "other.npz"
    io.save(path, _model(saved_spec))
    model = _model(model_spec)
    _expect_refused(path, message, model, _optimizer(model))


def test_dtype_mismatch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f32.npz"
    io.save(path, _model(dtype=np.float32))
    _expect_refused(path, "model key '0.weight' has dtype float32 in the file but float64")


def test_optimizer_problems_leave_the_model_unchanged_too(
    trained: tuple[Path, nn.Module, optim.Optimizer],
) -> None:
    path, _, _ = trained
    model = _model(seed=9)
    sgd = optim.SGD(model.parameters(), lr=0.1)
    _expect_refused(path, "the file holds Adam state, the optimizer given is SGD", model, sgd)

    model = _model(seed=9)
    params = list(model.parameters())
    swapped = optim.Adam([{"params": [params[1], params[0]]}, {"params": params[2:]}],
                         amsgrad=True)
    _expect_refused(path, "optimizer parameter 0 is '0.weight' in the file but '0.bias'",
                    model, swapped)

    model = _model(seed=9)
    one_group = optim.Adam(model.parameters(), amsgrad=True)
    _expect_refused(path, "2 param groups, this optimizer has 1", model, one_group)

    path_without = path.with_name("no_opt.npz")
    io.save(path_without, _model())
    _expect_refused(path_without, "has no optimizer state")


def test_missing_file_and_wrong_arguments(tmp_path: Path,
                                          trained: tuple[Path, nn.Module, optim.Optimizer]
                                          ) -> None:
    with pytest.raises(io.CheckpointError, match="no such file"):
        io.load(tmp_path / "nope.npz")
    path, model, opt = trained
    with pytest.raises(io.CheckpointError, match="optimizer= needs model="):
        io.load(path, optimizer=opt)
    with pytest.raises(io.CheckpointError, match="only bool, int and float arrays"):
        io.save_state_dict(tmp_path / "x.npz", {"a": np.array(["text"])})
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize("array", [np.array(["text"]), np.array([1 + 2j]),
                                   np.zeros(2, dtype=[("a", "f8")])], ids=["str", "complex",
                                                                           "structured"])
def test_non_numeric_arrays_are_refused_even_if_the_header_agrees(tmp_path: Path,
                                                                  array: np.ndarray) -> None:
    path = tmp_path / "raw.npz"
    io.save_state_dict(path, {"a": np.ones(1)})

    def swap(header: dict, arrays: dict) -> None:
        arrays["model/a"] = array
        header["model"]["tensors"]["a"].update(dtype=str(array.dtype), shape=list(array.shape))

    _rewrite(path, swap)
    with pytest.raises(io.CheckpointError, match="only bool, int and float arrays are allowed"):
        io.load_state_dict(path)
