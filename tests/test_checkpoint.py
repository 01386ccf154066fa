"""checkpoint: bit-identical round trips, identical continued training, atomic writes (crash,
SIGTERM, stale temporaries), and bad safetensors files (truncated, flipped, oversized, foreign,
mismatched) refused with the model, optimizer and scheduler unchanged. The read-only .npz
format of version 1 is in test_checkpoint_npz.py; the memory bombs in test_checkpoint_bombs.py.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import checkpoint, io, nn, optim
from tinygrad_nn.checkpoint import CheckpointError, atomic, safetensors_file

SPEC = "4-6-3:tanh,batchnorm"  # BatchNorm: buffers (float running stats, an int64 counter)
REPO_ROOT = Path(__file__).resolve().parents[1]


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


def _snapshot(model: nn.Module, opt: optim.Optimizer | None = None,
              sched: Any = None) -> dict[str, Any]:
    snap: dict[str, Any] = {"model": model.state_dict()}
    if opt is not None:
        snap["optimizer"] = opt.state_dict()
    if sched is not None:
        snap["scheduler"] = sched.state_dict()
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
    path = tmp_path / "run.safetensors"
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    tg.save(path, model, opt, scheduler=sched, extra={"epoch": 3, "history": [0.5, 0.25]})
    return path, model, opt


# --------------------------------------------------------------------------------------------
# round trips
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_bit_identical(tmp_path: Path, dtype: Any) -> None:
    model = _model(dtype=dtype)
    opt = _optimizer(model)
    _train(model, opt, 2)
    path = tmp_path / "ckpt.safetensors"
    tg.save(path, model, opt, extra={"note": "hi"})

    other = _model(seed=1, dtype=dtype)
    other_opt = _optimizer(other)
    arrays = [p.data for p in other.parameters()]
    ckpt = tg.load(path, other, other_opt)
    assert ckpt.model is other and ckpt.optimizer is other_opt and ckpt.extra == {"note": "hi"}
    assert _same(_snapshot(other, other_opt), _snapshot(model, opt))
    assert all(p.data is a for p, a in zip(other.parameters(), arrays, strict=True)), \
        "parameters must be loaded in place (optimizers hold the arrays)"

    rebuilt = tg.load(path)  # model and optimizer from the file alone
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
    path = tmp_path / "ckpt.safetensors"
    tg.save(path, model, opt, scheduler=sched)
    for epoch in range(3):
        _train(model, opt, 3, start=3 + 3 * epoch)
        sched.step()

    if rebuild:
        ckpt = tg.load(path)
        model2, opt2 = ckpt.model, ckpt.optimizer
        assert opt2 is not None
        sched2 = optim.StepLR(opt2, step_size=2, gamma=0.5)
        sched2.load_state_dict(ckpt.scheduler_state)
    else:
        model2 = _model(seed=7)
        opt2 = _optimizer(model2)
        sched2 = optim.StepLR(opt2, step_size=9, gamma=0.9)  # replaced by the stored state
        tg.load(path, model2, opt2, sched2)
    for epoch in range(3):
        _train(model2, opt2, 3, start=3 + 3 * epoch)
        sched2.step()
    assert _same(_snapshot(model2, opt2, sched2), _snapshot(model, opt, sched))


def test_state_dicts_in_either_argument_order(tmp_path: Path) -> None:
    state = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "count": np.array(7),
             "mask": np.array([True, False]), "empty": np.zeros((0, 4))}
    path = tmp_path / "raw.safetensors"
    tg.save(state, path, extra=[1, 2])  # torch.save's order
    assert _same(tg.load(path), state), "a state-dict file loads as the dict"
    assert _same(checkpoint.load_state_dict(path), state)
    assert checkpoint.read_header(path)["extra"] == [1, 2]
    model = _model()
    io.save_state_dict(path, model.state_dict())  # the old name still works
    other = _model(seed=3)
    other.load_state_dict(tg.load(path))
    assert _same(other.state_dict(), model.state_dict())
    third = _model(seed=4)
    tg.load(path, third)  # or straight into a model
    assert _same(third.state_dict(), model.state_dict())
    with pytest.raises(TypeError, match="expected a Module or a state dict, got list"):
        tg.save(path, [1, 2])
    with pytest.raises(TypeError, match="optimizer is saved with its Module"):
        tg.save(path, model.state_dict(), optim.SGD(model.parameters(), lr=0.1))


def test_the_file_is_plain_safetensors_with_names_pytorch_reads(
    trained: tuple[Path, nn.Module, optim.Optimizer],
) -> None:
    path, model, opt = trained
    from safetensors.numpy import load_file

    tensors = load_file(str(path))
    model_keys = {k for k in tensors if not k.startswith("optimizer.")}
    assert model_keys == set(model.state_dict())
    assert all(_same(tensors[k], v) for k, v in model.state_dict().items())
    torch_file = pytest.importorskip("safetensors.torch")
    loaded = torch_file.load_file(str(path))
    assert np.array_equal(loaded["0.weight"].numpy(), model.state_dict()["0.weight"])
    assert loaded["1.num_batches_tracked"].dtype.is_floating_point is False


def test_header_describes_the_file(trained: tuple[Path, nn.Module, optim.Optimizer]) -> None:
    path, model, opt = trained
    header = checkpoint.read_header(path)
    assert header["format"] == "tinygrad_nn.checkpoint" and header["version"] == 2
    assert header["model"]["spec"] == model.spec()
    assert header["model"]["tensors"]["0.weight"] == {
        "key": "0.weight", "dtype": "float64", "shape": [6, 4]}
    assert header["model"]["tensors"]["1.num_batches_tracked"]["dtype"] == "int64"
    saved_opt = header["optimizer"]
    assert saved_opt["class"] == "Adam"
    assert saved_opt["param_names"] == [name for name, _ in model.named_parameters()]
    assert saved_opt["state"]["0"]["step"] == {"int": 3}
    assert saved_opt["param_groups"][1]["lr"] == 0.02
    assert header["scheduler"]["class"] == "StepLR"
    assert header["extra"] == {"epoch": 3, "history": [0.5, 0.25]}
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        metadata = f.metadata()
    assert metadata["format"] == "tinygrad_nn.checkpoint" and metadata["version"] == "2"
    assert json.loads(metadata["model"])["spec"] == model.spec()


def test_a_model_without_spec_loads_only_into_a_given_model(tmp_path: Path) -> None:
    class Custom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(np.ones((2, 2)))

    path = tmp_path / "custom.safetensors"
    model = Custom()
    tg.save(path, model, optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(CheckpointError, match="without a spec; build it yourself"):
        tg.load(path)
    other = Custom()
    other.w.data[...] = 5.0
    tg.load(path, other)
    assert np.array_equal(other.w.data, np.ones((2, 2)))


def test_npz_is_no_longer_written(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="read-only; save to a .safetensors path"):
        tg.save(tmp_path / "old.npz", _model())
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# atomic writes
# --------------------------------------------------------------------------------------------


def _crash_at_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """The write reaches the disk half done, then the process 'crashes'."""
    def crash(fd: int) -> None:
        os.ftruncate(fd, os.fstat(fd).st_size // 2)
        raise OSError("simulated crash in the middle of a save")
    monkeypatch.setattr(atomic.os, "fsync", crash)


def test_crash_mid_save_leaves_the_previous_file_intact(
    trained: tuple[Path, nn.Module, optim.Optimizer], monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, model, opt = trained
    before = path.read_bytes()
    _train(model, opt, 1, start=10)  # the next save would write different bytes
    _crash_at_fsync(monkeypatch)
    with pytest.raises(OSError, match="simulated crash"):
        tg.save(path, model, opt)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name], "temp file left behind"
    monkeypatch.undo()
    tg.load(path)  # still a valid checkpoint


def test_crash_mid_first_save_creates_no_file(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _crash_at_fsync(monkeypatch)
    with pytest.raises(OSError):
        tg.save(tmp_path / "new.safetensors", _model())
    assert list(tmp_path.iterdir()) == []


def test_data_is_fsynced_before_the_rename(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace",
                        lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    tg.save(tmp_path / "a.safetensors", _model())
    assert events[:2] == ["fsync", "replace"]
    assert (tmp_path / "a.safetensors").stat().st_mode & 0o777 == 0o644


def test_stale_temporaries_of_the_same_target_are_removed(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".run.safetensors.{dead}.x1y2.tmp"
    old_style = tmp_path / ".run.safetensors.abc123.tmp"  # written before pids were in names
    alive = tmp_path / f".run.safetensors.{os.getppid()}.z9.tmp"  # a save in progress
    other = tmp_path / f".other.safetensors.{dead}.x1y2.tmp"  # another target's
    for p in (stale, old_style, alive, other):
        p.write_bytes(b"half a file")
    tg.save(tmp_path / "run.safetensors", _model())
    assert not stale.exists() and not old_style.exists()
    assert alive.exists() and other.exists()


_SIGTERM_SCRIPT = """
import os, sys, time
import numpy as np
import tinygrad_nn as tg
from tinygrad_nn.checkpoint import atomic
path = sys.argv[1]
real_fsync = atomic.os.fsync
def slow_fsync(fd):
    os.ftruncate(fd, os.fstat(fd).st_size // 2)
    print("writing", flush=True)
    time.sleep(30)
atomic.os.fsync = slow_fsync
tg.save(path, tg.nn.build("4-6-3", generator=1))
"""


def test_sigterm_mid_save_leaves_the_previous_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "run.safetensors"
    tg.save(path, _model())
    before = path.read_bytes()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen([sys.executable, "-c", _SIGTERM_SCRIPT, str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"
        assert len(list(tmp_path.glob(".run.safetensors.*.tmp"))) == 1
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0 and "SIGTERM while saving a checkpoint" in err
    assert path.read_bytes() == before
    assert list(tmp_path.glob(".run.safetensors.*.tmp")) == [], "SIGTERM left a temp file"


def test_unserializable_extra_is_refused_before_writing(
    trained: tuple[Path, nn.Module, optim.Optimizer],
) -> None:
    path, model, _ = trained
    before = path.read_bytes()
    with pytest.raises(CheckpointError, match="extra must be JSON-serializable"):
        tg.save(path, model, extra={"array": np.ones(2)})
    assert path.read_bytes() == before


# --------------------------------------------------------------------------------------------
# bad files: refused, nothing changed
# --------------------------------------------------------------------------------------------


def _read_raw(path: Path) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        return dict(f.metadata()), {k: f.get_tensor(k) for k in f.keys()}


def _write_raw(path: Path, metadata: dict[str, str], tensors: dict[str, np.ndarray],
               checksums: bool = True) -> None:
    """Write a safetensors file; with fresh checksums (so the damage under test is what a
    reader meets, not a checksum mismatch) unless ``checksums`` is False."""
    from safetensors.numpy import save

    metadata = dict(metadata)
    if checksums:
        metadata["checksums"] = json.dumps({
            "metadata": safetensors_file.metadata_checksum(metadata),
            "tensors": {k: safetensors_file.tensor_checksum(k, a) for k, a in tensors.items()}})
    path.write_bytes(save(tensors, metadata=metadata))


def _rewrite(mutate: Callable[[dict[str, Any], dict[str, np.ndarray]], Any]
             ) -> Callable[[Path], None]:
    """Damage: edit the metadata (JSON fields parsed) and tensors, then rewrite the file."""
    def damage(path: Path) -> None:
        metadata, tensors = _read_raw(path)
        meta: dict[str, Any] = {k: (v if k in ("format", "version", "kind") else json.loads(v))
                                for k, v in metadata.items()}
        mutate(meta, tensors)
        text = {k: (v if k in ("format", "version", "kind") else json.dumps(v))
                for k, v in meta.items()}
        _write_raw(path, text, tensors)
    return damage


def _set(field: str, value: Any) -> Callable[[Path], None]:
    def mutate(meta: dict, tensors: dict) -> None:
        *parents, last = field.split("/")
        for key in parents:
            meta = meta[key]
        meta[last] = value
    return _rewrite(mutate)


def _flip_byte_in_data(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    (header_size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_size])
    start = 8 + header_size + header["0.weight"]["data_offsets"][0]
    raw[start + 5] ^= 0x01  # one bit of one float
    path.write_bytes(bytes(raw))


def _flip_metadata_digit(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    at = raw.index(b'\\"lr\\": 0.02') + len(b'\\"lr\\": 0.0')
    raw[at] ^= 0x01  # 0.02 -> 0.03: still valid JSON, still a valid lr
    path.write_bytes(bytes(raw))


def _oversized_declaration(path: Path) -> None:
    """The header declares a 2**40-element tensor; the file holds a few bytes of data."""
    header = {"__metadata__": {"format": "tinygrad_nn.checkpoint"},
              "0.weight": {"dtype": "F64", "shape": [2**20, 2**20], "data_offsets": [0, 2**43]}}
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(64))


def _huge_header_length(path: Path) -> None:
    path.write_bytes(struct.pack("<Q", 2**62) + b"{}")


def _pickle_file(path: Path) -> None:
    path.write_bytes(pickle.dumps({"0.weight": np.ones(3)}))


def _foreign_safetensors(path: Path) -> None:
    _, tensors = _read_raw(path)
    from safetensors.numpy import save_file

    save_file({k: v for k, v in tensors.items() if not k.startswith("optimizer.")}, str(path))


def _add_tensor(meta: dict, tensors: dict) -> None:
    tensors["sneaky"] = np.ones(1)


def _drop_tensor(meta: dict, tensors: dict) -> None:
    del tensors["0.bias"]


def _bad_optimizer_state(meta: dict, tensors: dict) -> None:
    tensors["optimizer.state.0.exp_avg"] = np.zeros((4, 6))


def _set_step(meta: dict, tensors: dict) -> None:
    meta["optimizer"]["state"]["1"]["step"] = {"int": -3}


def _set_lr(meta: dict, tensors: dict) -> None:
    meta["optimizer"]["param_groups"][0]["lr"] = -1.0


def _object_dtype_declared(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    (header_size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_size])
    header["0.bias"]["dtype"] = "BF16"  # a dtype NumPy cannot hold; same byte size? no: 2 bytes
    header["0.bias"]["shape"] = [header["0.bias"]["shape"][0] * 4]
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + header_size:])


BAD_FILES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
                  "not a readable safetensors file"),
    "one byte short": (lambda p: p.write_bytes(p.read_bytes()[:-1]),
                       "not a readable safetensors file"),
    "truncated to nothing": (lambda p: p.write_bytes(b""), "not a readable safetensors file"),
    "corrupted data byte": (_flip_byte_in_data, "'0.weight' fails its checksum"),
    "corrupted metadata": (_flip_metadata_digit, "metadata fails its checksum"),
    "oversized declared tensor": (_oversized_declaration, "not a readable safetensors file"),
    "huge header length": (_huge_header_length, "not a readable safetensors file"),
    "unsupported dtype": (_object_dtype_declared, "'0.bias' has dtype BF16; only bool, int"),
    "a pickle file": (_pickle_file, "not a readable safetensors file"),
    "another program's safetensors": (_foreign_safetensors,
                                      "a safetensors file but not a tinygrad_nn checkpoint"),
    "no checksums": (lambda p: _write_raw(p, {k: v for k, v in _read_raw(p)[0].items()
                                              if k != "checksums"}, _read_raw(p)[1],
                                          checksums=False), "'checksums' is missing"),
    "metadata not JSON": (lambda p: _write_raw(p, {**_read_raw(p)[0], "model": "{not json"},
                                               _read_raw(p)[1]),
                          "metadata entry 'model' is not valid JSON"),
    "metadata entry missing": (_rewrite(lambda m, t: m.pop("optimizer")),
                               "metadata entry 'optimizer' is missing"),
    "wrong format": (_set("format", "other"), "not a tinygrad_nn checkpoint"),
    "newer version": (_set("version", "3"), "format version 3 was written by a newer"),
    "bad version": (_set("version", "two"), "'version' must be a positive int"),
    "missing tensor": (_rewrite(_drop_tensor), "missing array '0.bias'"),
    "extra tensor": (_rewrite(_add_tensor), "unexpected array 'sneaky'"),
    "model entry malformed": (_set("model/tensors", "all"), "metadata entry 'model' is malformed"),
    "optimizer state shape": (_rewrite(_bad_optimizer_state),
                              r"state\[0\].*\['exp_avg'\] has shape \(4, 6\) but the parameter "
                              r"has shape \(6, 4\)"),
    "optimizer step": (_rewrite(_set_step), r"\['step'\] must be a non-negative int"),
    "optimizer lr": (_rewrite(_set_lr), r"param_groups\[0\]: invalid lr"),
    "scheduler class": (_set("scheduler/class", "ExponentialLR"),
                        "holds ExponentialLR state, the scheduler given is StepLR"),
    "scheduler keys": (_set("scheduler/state", {"gamma": 0.5}), "'scheduler.state' has keys"),
    # right keys, a wrong value: refused before the model is assigned, not after
    "scheduler value": (_set("scheduler/state/last_epoch", "three"),
                        r"'scheduler.state'.*last_epoch must be an int"),
}


def _expect_refused(path: Path, message: str, model: nn.Module | None = None,
                    opt: optim.Optimizer | None = None, sched: Any = "default") -> None:
    model = _model(seed=5) if model is None else model
    opt = _optimizer(model) if opt is None else opt
    sched = optim.StepLR(opt, step_size=3, gamma=0.7) if sched == "default" else sched
    _train(model, opt, 1)
    before = _snapshot(model, opt, sched)
    with pytest.raises(CheckpointError, match=message) as error:
        tg.load(path, model, opt, sched)
    assert str(path) in str(error.value), "the error must name the file"
    assert _same(_snapshot(model, opt, sched), before), "a failed load changed something"


@pytest.mark.parametrize("case", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_and_nothing_changes(
    trained: tuple[Path, nn.Module, optim.Optimizer], case: tuple[Callable, str],
) -> None:
    path, _, _ = trained
    damage, message = case
    damage(path)
    _expect_refused(path, message)
    if "scheduler" not in message:
        with pytest.raises(CheckpointError):
            tg.load(path)  # the rebuild path refuses it too


def test_every_single_byte_flip_is_refused(tmp_path: Path) -> None:
    """No flipped bit anywhere in a file (header, metadata, data, padding) loads silently."""
    model = _model("2-3-2:tanh")
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    _train_small(model, opt)
    path = tmp_path / "small.safetensors"
    tg.save(path, model, opt, extra={"epoch": 1})
    good = path.read_bytes()
    accepted = []
    for offset in range(len(good)):
        for mask in (0x01, 0x80) if offset % 7 == 0 else (0x01 << offset % 8,):
            raw = bytearray(good)
            raw[offset] ^= mask
            path.write_bytes(bytes(raw))
            try:
                tg.load(path)
            except CheckpointError:
                continue
            accepted.append((offset, mask))
    assert accepted == [], f"{len(accepted)} damaged files loaded, e.g. {accepted[:5]}"


def _train_small(model: nn.Module, opt: optim.Optimizer) -> None:
    x = tg.Tensor(np.random.default_rng(0).normal(size=(4, 2)))
    opt.zero_grad()
    (model(x) * model(x)).sum().backward()
    opt.step()


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
    path = tmp_path / "other.safetensors"
    tg.save(path, _model(saved_spec))
    model = _model(model_spec)
    _expect_refused(path, message, model, _optimizer(model), sched=None)


def test_dtype_mismatch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "f32.safetensors"
    tg.save(path, _model(dtype=np.float32))
    _expect_refused(path, "model key '0.weight' has dtype float32 in the file but float64",
                    sched=None)


def test_optimizer_problems_leave_the_model_unchanged_too(
    trained: tuple[Path, nn.Module, optim.Optimizer],
) -> None:
    path, _, _ = trained
    model = _model(seed=9)
    sgd = optim.SGD(model.parameters(), lr=0.1)
    _expect_refused(path, "the file holds Adam state, the optimizer given is SGD", model, sgd,
                    sched=None)

    model = _model(seed=9)
    params = list(model.parameters())
    swapped = optim.Adam([{"params": [params[1], params[0]]}, {"params": params[2:]}],
                         amsgrad=True)
    _expect_refused(path, "optimizer parameter 0 is '0.weight' in the file but '0.bias'",
                    model, swapped, sched=None)

    model = _model(seed=9)
    one_group = optim.Adam(model.parameters(), amsgrad=True)
    _expect_refused(path, "2 param groups, this optimizer has 1", model, one_group, sched=None)

    path_without = path.with_name("no_opt.safetensors")
    tg.save(path_without, _model())
    _expect_refused(path_without, "has no optimizer state", sched=None)
    model = _model(seed=9)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(CheckpointError, match="has no scheduler state"):
        tg.load(path_without, model, scheduler=optim.StepLR(opt, step_size=1))


def test_missing_file_and_wrong_arguments(tmp_path: Path,
                                          trained: tuple[Path, nn.Module, optim.Optimizer]
                                          ) -> None:
    with pytest.raises(CheckpointError, match="no such file"):
        tg.load(tmp_path / "nope.safetensors")
    path, model, opt = trained
    with pytest.raises(CheckpointError, match="optimizer= and scheduler= need model="):
        tg.load(path, optimizer=opt)
    with pytest.raises(CheckpointError, match="only bool, int and float arrays"):
        tg.save(tmp_path / "x.safetensors", {"a": np.array(["text"])})
    with pytest.raises(CheckpointError, match="only bool, int and float arrays"):
        tg.save(tmp_path / "x.safetensors", {"a": np.array([1 + 2j])})
    assert not (tmp_path / "x.safetensors").exists()
