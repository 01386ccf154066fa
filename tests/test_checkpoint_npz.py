"""Version-1 checkpoints (.npz + JSON header) still load, read-only, and every bad .npz file is
refused with the model and optimizer unchanged. The fixtures were written by the version-1
writer (tinygrad_nn 0.1.0, before safetensors) from ``_trained()`` below.
"""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_checkpoint import SPEC, _model, _optimizer, _same, _snapshot, _train

import tinygrad_nn as tg
from tinygrad_nn import io, nn, optim
from tinygrad_nn.checkpoint import CheckpointError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "checkpoints"


def _trained() -> tuple[nn.Module, optim.Optimizer]:
    """The model and optimizer the fixtures hold (training is deterministic)."""
    model = _model()
    opt = _optimizer(model)
    _train(model, opt, 3)
    return model, opt


@pytest.fixture(params=["legacy_v1.npz", "legacy_v1_deflated.npz"])
def legacy(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / request.param
    shutil.copy(FIXTURES / request.param, path)
    return path


def test_version_1_files_load_bit_identically_and_training_continues(legacy: Path) -> None:
    model, opt = _trained()
    ckpt = tg.load(legacy)  # rebuilt from the file
    assert ckpt.header["version"] == 1 and ckpt.extra == {"epoch": 3, "history": [0.5, 0.25]}
    assert ckpt.optimizer is not None
    assert _same(_snapshot(ckpt.model, ckpt.optimizer), _snapshot(model, opt))
    other = _model(seed=4)
    other_opt = _optimizer(other)
    io.load(legacy, other, other_opt)  # into given ones, through the old name
    _train(model, opt, 3, start=3)
    _train(other, other_opt, 3, start=3)
    assert _same(_snapshot(other, other_opt), _snapshot(model, opt))
    assert set(io.load_state_dict(legacy)) == set(model.state_dict())


def test_a_version_1_checkpoint_converts_to_safetensors(legacy: Path) -> None:
    ckpt = tg.load(legacy)
    target = legacy.with_suffix(".safetensors")
    tg.save(target, ckpt.model, ckpt.optimizer, extra=ckpt.extra)
    again = tg.load(target)
    assert _same(_snapshot(again.model, again.optimizer),
                 _snapshot(ckpt.model, ckpt.optimizer))


# --------------------------------------------------------------------------------------------
# bad files
# --------------------------------------------------------------------------------------------


def _rewrite(mutate: Callable[[dict[str, Any], dict[str, np.ndarray]], Any]
             ) -> Callable[[Path], None]:
    """Rewrite the archive after ``mutate(header, arrays)`` edits it in place. An emptied
    header is left out, unless ``mutate`` put its own ``__header__`` array in."""
    def damage(path: Path) -> None:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        header = json.loads(arrays.pop("__header__").tobytes())
        mutate(header, arrays)
        if header and "__header__" not in arrays:
            arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        np.savez(path, **arrays)
    return damage


def _set(header_path: str, value: Any) -> Callable[[Path], None]:
    def mutate(header: dict, arrays: dict) -> None:
        *parents, last = header_path.split("/")
        for key in parents:
            header = header[key]
        header[last] = value
    return _rewrite(mutate)


def _flip_byte_in_data(path: Path) -> None:
    _rewrite(lambda h, a: None)(path)  # stored uncompressed: the flip lands in the raw floats
    raw = bytearray(path.read_bytes())
    offset = raw.index(b"model/0.weight.npy") + 200  # inside that member's array data
    raw[offset] ^= 0x01
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


def _npy_file(path: Path) -> None:
    with open(path, "wb") as f:
        np.save(f, np.ones(3))


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


BAD_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
                  "not a readable .npz file"),
    "truncated to nothing": (lambda p: p.write_bytes(b""), "not a readable .npz file"),
    "corrupted data byte": (_flip_byte_in_data, "member 'model/0.weight' is unreadable"),
    "object array (pickle)": (_rewrite(_add_object_array),
                              "member 'model/0.weight' is unreadable: an object array.*pickle"),
    "a pickle file": (_write_pickle, "not a readable .npz file"),
    "a .npy file": (_npy_file, "not a readable .npz file"),
    "no header": (_rewrite(lambda h, a: h.clear()), "no '__header__' member"),
    "header not JSON": (_rewrite(_garble_header), "not valid UTF-8 JSON"),
    "wrong format": (_set("format", "other"), "'format' is 'other'"),
    "newer version": (_set("version", 3), "format version 3 was written by a newer tinygrad_nn"),
    "missing array": (_rewrite(lambda h, a: a.pop("model/0.bias")),
                      "missing array 'model/0.bias'"),
    "extra array": (_rewrite(lambda h, a: a.update(sneaky=np.ones(1))),
                    "unexpected array 'sneaky'"),
    "archive shape differs from header": (
        _rewrite(lambda h, a: a.update({"model/0.bias": np.zeros(7)})),
        r"'model/0.bias' has shape \(7,\) in the archive but \(6,\) in the header"),
    "archive dtype differs from header": (
        _rewrite(lambda h, a: a.update({"model/0.bias": np.zeros(6, np.float32)})),
        "'model/0.bias' has dtype float32 in the archive but float64"),
    "string array": (_rewrite(lambda h, a: a.update({"model/0.bias": np.array(["x"] * 6)})),
                     "'model/0.bias' has dtype <U1; only bool, int and float"),
    "optimizer state shape": (_rewrite(_bad_optimizer_state),
                              r"state\[0\].*\['exp_avg'\] has shape \(4, 6\) but the parameter "
                              r"has shape \(6, 4\)"),
    "optimizer step": (_rewrite(_set_step), r"\['step'\] must be a non-negative int"),
    "optimizer lr": (_rewrite(_set_lr), r"param_groups\[0\]: invalid lr"),
}


def _expect_refused(path: Path, message: str, model: nn.Module | None = None) -> None:
    model = _model(seed=5) if model is None else model
    opt = _optimizer(model)
    _train(model, opt, 1)
    before = _snapshot(model, opt)
    with pytest.raises(CheckpointError, match=message) as error:
        tg.load(path, model, opt)
    assert str(path) in str(error.value), "the error must name the file"
    assert _same(_snapshot(model, opt), before), "a failed load changed the model or optimizer"


@pytest.mark.parametrize("case", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_npz_is_refused_and_nothing_changes(legacy: Path, case: tuple[Callable, str]
                                                ) -> None:
    damage, message = case
    _Boom.triggered = False
    damage(legacy)
    _expect_refused(legacy, message)
    assert not _Boom.triggered, "loading ran code from the file"
    with pytest.raises(CheckpointError):
        tg.load(legacy)  # the rebuild path refuses it too


@pytest.mark.parametrize("spec, message", [
    ("4-6-3:tanh", "the file has model key '1.weight', which MLP"),
    ("4-5-3:tanh,batchnorm", r"'0.weight' has shape \(6, 4\) in the file but \(5, 4\)"),
])
def test_npz_for_another_architecture_is_refused(legacy: Path, spec: str, message: str) -> None:
    assert SPEC != spec
    _expect_refused(legacy, message, _model(spec))
