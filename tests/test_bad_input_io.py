"""Bad-input table, part 7: checkpoint files (tinygrad_nn.checkpoint, owned by #16): truncated
files, flipped bytes, oversized declared sizes, hostile headers. Every bad file is a
CheckpointError (a ValueError) naming the file, or a TypeError for a wrong argument; a failed
load leaves the model unchanged; a corrupt file never loads as different numbers."""

from __future__ import annotations

import json
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from bad_input_table import bad, check, good, params
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_nn as tg
from tinygrad_nn import nn, optim
from tinygrad_nn.checkpoint import CheckpointError

TMP: Path = Path(".")


@pytest.fixture(autouse=True)
def _tmp(tmp_path):
    global TMP
    TMP = tmp_path


def _model():
    tg.manual_seed(0)
    return nn.build("4-8-3:relu")


def _saved() -> bytes:
    path = TMP / "good.safetensors"
    model = _model()
    tg.save(path, model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    return path.read_bytes()


def _load(raw: bytes | None = None, mutate=None, name="m.safetensors", into=True):
    def call():
        data = _saved() if raw is None else raw
        if mutate is not None:
            data = mutate(data)
        path = TMP / name
        path.write_bytes(data)
        return tg.load(path, _model() if into else None)
    return call


def _write_good(name: str) -> Path:
    path = TMP / name
    path.write_bytes(_saved())
    return path


def _stale_after_save(name: str) -> bool:
    """Whether the temporary file ``name`` still exists after a save to m.safetensors."""
    stale = TMP / name
    stale.write_bytes(b"x" * 1000)
    tg.save(TMP / "m.safetensors", _model())
    return stale.exists()


def _header_len(data: bytes) -> int:
    return struct.unpack("<Q", data[:8])[0]


def _with_header(edit):
    """Rewrite the JSON header with ``edit(header)``; the tensors' bytes kept."""
    def mutate(data: bytes) -> bytes:
        n = _header_len(data)
        header = json.loads(data[8:8 + n])
        edit(header)
        text = json.dumps(header).encode()
        return struct.pack("<Q", len(text)) + text + data[8 + n:]
    return mutate


def _meta(edit):
    def change(header):
        meta = header["__metadata__"]
        inner = {k: json.loads(v) if v[:1] in "{[" else v for k, v in meta.items()}
        edit(inner)
        header["__metadata__"] = {k: json.dumps(v) if not isinstance(v, str) else v
                                  for k, v in inner.items()}
    return _with_header(change)


def _first_tensor(header):
    return next(k for k in header if k != "__metadata__")


def _flip(at):
    return lambda d: d[:at] + bytes([d[at] ^ 0xFF]) + d[at + 1:]


def _flip_last_tensor_byte(d: bytes) -> bytes:
    return d[:-1] + bytes([d[-1] ^ 0x01])


ROWS = [
    bad("io empty file", _load(raw=b""), CheckpointError, "m.safetensors"),
    bad("io 7 bytes", _load(raw=b"\x00" * 7), CheckpointError, "m.safetensors"),
    bad("io header length huge", _load(raw=struct.pack("<Q", 2**60) + b"{}"), CheckpointError,
        "m.safetensors"),
    bad("io header length past the end", _load(mutate=lambda d: struct.pack(
        "<Q", _header_len(d) + 10**6) + d[8:]), CheckpointError, "m.safetensors"),
    bad("io header not json", _load(raw=struct.pack("<Q", 4) + b"{{{{"), CheckpointError,
        "m.safetensors"),
    bad("io header a list", _load(raw=struct.pack("<Q", 2) + b"[]"), CheckpointError,
        "m.safetensors"),
    bad("io header deeply nested", _load(raw=struct.pack("<Q", 200_000) + b"[" * 200_000),
        CheckpointError, "m.safetensors"),
    bad("io header invalid utf-8", _load(raw=struct.pack("<Q", 4) + b"\xff\xfe\xfd\xfc"),
        CheckpointError, "m.safetensors"),
    *[bad(f"io truncated to {f:.0%}", _load(mutate=lambda d, f=f: d[:int(len(d) * f)]),
          CheckpointError, "m.safetensors") for f in (0.1, 0.5, 0.9, 0.99)],
    bad("io one byte short", _load(mutate=lambda d: d[:-1]), CheckpointError, "m.safetensors"),
    bad("io trailing bytes", _load(mutate=lambda d: d + b"\x00" * 16), CheckpointError,
        "m.safetensors"),
    bad("io flipped tensor byte", _load(mutate=_flip_last_tensor_byte), CheckpointError,
        "m.safetensors"),
    bad("io flipped header byte", _load(mutate=_flip(40)), CheckpointError, "m.safetensors"),
    bad("io tensor offsets out of range", _load(mutate=_with_header(
        lambda h: h[_first_tensor(h)].update(data_offsets=[0, 10**12]))), CheckpointError,
        "m.safetensors"),
    bad("io tensor shape oversized", _load(mutate=_with_header(
        lambda h: h[_first_tensor(h)].update(shape=[10**6, 10**6]))), CheckpointError,
        "m.safetensors"),
    bad("io tensor dtype unknown", _load(mutate=_with_header(
        lambda h: h[_first_tensor(h)].update(dtype="Q7"))), CheckpointError, "m.safetensors"),
    bad("io tensor dtype a number", _load(mutate=_with_header(
        lambda h: h[_first_tensor(h)].update(dtype=7))), CheckpointError, "m.safetensors"),
    bad("io tensor shape a string", _load(mutate=_with_header(
        lambda h: h[_first_tensor(h)].update(shape="4,8"))), CheckpointError, "m.safetensors"),
    bad("io tensor shape negative", _load(mutate=_with_header(
        lambda h: h[_first_tensor(h)].update(shape=[-8, -4]))), CheckpointError,
        "m.safetensors"),
    bad("io metadata missing", _load(mutate=_with_header(lambda h: h.pop("__metadata__"))),
        CheckpointError, "m.safetensors"),
    bad("io spec size bomb, rebuilt from the file", _load(mutate=_meta(
        lambda m: m["model"].update(spec={"type": "MLP", "sizes": [4, 30000, 30000, 3]})),
        into=False), CheckpointError, "m.safetensors"),
    bad("io missing file", lambda: tg.load(TMP / "nope.safetensors"), CheckpointError,
        "nope.safetensors", "no such file"),
    bad("io save path int", lambda: tg.save(5, _model()), TypeError, "path"),
    bad("io save to npz", lambda: tg.save(TMP / "x.npz", _model()), CheckpointError, ".npz"),
    bad("io load into another architecture", lambda: tg.load(_write_good("a.safetensors"),
                                                             nn.build("4-9-3:relu")),
        CheckpointError, "a.safetensors"),
    good("io good file loads", lambda: _load()() is not None, True),
    good("faults: a killed save's stale .tmp (dead pid) is removed by the next save",
         lambda: _stale_after_save(".m.safetensors.999999999.abc.tmp"), False),
    good("faults: another target's .tmp is left alone",
         lambda: _stale_after_save(".other.safetensors.999999999.abc.tmp"), True),
]


@params(ROWS)
def test_bad_input_io(row):
    check(row)


def test_spec_size_bomb_is_refused_with_small_peak_memory(tmp_path):
    path = tmp_path / "bomb.safetensors"
    path.write_bytes(_meta(lambda m: m["model"].update(
        spec={"type": "MLP", "sizes": [4, 30000, 30000, 3]}))(_saved()))
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError):
            tg.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak


@given(st.data())
def test_fuzz_load_never_silently_changes_the_numbers(tmp_path_factory, data):
    """A corrupted file either fails (CheckpointError, the model untouched) or loads exactly
    the numbers that were saved."""
    global TMP
    TMP = tmp_path_factory.mktemp("fuzz")
    good_bytes = _saved()
    reference = {k: np.array(v) for k, v in _model().state_dict().items()}
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert"]))
    at = data.draw(st.integers(0, len(good_bytes) - 1))
    if kind == "flip":
        raw = good_bytes[:at] + bytes([good_bytes[at] ^ data.draw(st.integers(1, 255))]) \
            + good_bytes[at + 1:]
    elif kind == "truncate":
        raw = good_bytes[:at]
    else:
        raw = good_bytes[:at] + data.draw(st.binary(min_size=1, max_size=8)) + good_bytes[at:]
    path = TMP / "f.safetensors"
    path.write_bytes(raw)
    target = _model()
    for p in target.parameters():
        p.data[...] = 7.0  # a model whose values show whether anything was written
    before = {k: np.array(v) for k, v in target.state_dict().items()}
    try:
        tg.load(path, target)
    except CheckpointError:
        after = {k: np.array(v) for k, v in target.state_dict().items()}
        assert all(np.array_equal(before[k], after[k]) for k in before), "model changed"
        return
    after = {k: np.array(v) for k, v in target.state_dict().items()}
    assert all(np.array_equal(reference[k], after[k]) for k in reference), (
        f"{kind} at {at}: loaded different numbers without an error")
