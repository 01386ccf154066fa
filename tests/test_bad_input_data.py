"""Bad-input table, part 4: dataset files (Nielsen's pickle, CIFAR batches, IDX) and the
DataLoader; the pickle memory bombs refused with a small peak memory; hypothesis fuzzing of the
loaders with random corruptions (no exception but the documented ones, never a silent result)."""

from __future__ import annotations

import gzip
import pickle
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from bad_input_table import bad, check, good, params
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_nn.data import DataLoader
from tinygrad_nn.data.cifar import load_cifar_batch
from tinygrad_nn.data.mnist import load_nielsen_pickle, parse_idx
from tinygrad_nn.data.safe_pickle import UnsafePickleError, read_capped, safe_loads


def _nielsen(x_dtype=np.float32, x_fill=0.5, labels=None, widths=(784, 784, 784)):
    parts = []
    for width in widths:
        x = np.full((3, width), x_fill, x_dtype)
        y = np.array([0, 1, 2] if labels is None else labels)
        parts.append((x, y))
    return tuple(parts)


def _write(tmp: Path, name: str, obj=None, raw: bytes | None = None, zipped=False) -> Path:
    data = raw if raw is not None else pickle.dumps(obj, protocol=2)
    path = tmp / name
    path.write_bytes(gzip.compress(data) if zipped else data)
    return path


TMP = None  # set by the autouse fixture: rows are built at import, run inside a tmp dir


@pytest.fixture(autouse=True)
def _tmp(tmp_path, monkeypatch):
    global TMP
    TMP = tmp_path


def nielsen(obj=None, raw=None, zipped=False):
    return lambda: load_nielsen_pickle(_write(TMP, "mnist.pkl" + ".gz" * zipped, obj, raw,
                                              zipped))


# ---- pickle bombs: a few bytes that would allocate gigabytes through allow-listed globals
GLOBAL = b"cnumpy.core.multiarray\n_reconstruct\n"
NDARRAY_CALL = b"\x80\x02cnumpy\nndarray\nJ\x00\x84\xd7\x17\x85R."  # ndarray((400000000,))
RECONSTRUCT_BIG = (b"\x80\x02" + GLOBAL + b"cnumpy\nndarray\nJ\x00\x84\xd7\x17\x85C\x01b\x87R.")
BYTES_BIG = b"\x80\x02c__builtin__\nbytes\nJ\x00\x84\xd7\x17\x85R."
DTYPE_HUGE_VOID = b"\x80\x02cnumpy\ndtype\nX\x02\x00\x00\x00V9\x85R."
# numpy.dtype('u1', False, False) (the shared singleton) BUILt with flags 0x3f instead of 0
DTYPE_TAMPERED_STATE = (b"\x80\x02cnumpy\ndtype\nX\x02\x00\x00\x00u1\x89\x89\x87R"
                        b"(K\x03X\x01\x00\x00\x00|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb.")
BOMBS = {"ndarray(400M)": NDARRAY_CALL, "_reconstruct(ndarray, (400M,))": RECONSTRUCT_BIG,
         "bytes(400M)": BYTES_BIG}


def _cifar(data=None, labels=None, drop=None):
    batch = {b"labels": [0, 1] if labels is None else labels,
             b"data": np.zeros((2, 3072), np.uint8) if data is None else data}
    if drop:
        del batch[drop]
    return lambda: load_cifar_batch(_write(TMP, "data_batch_1", batch))


def _idx(code=0x08, dims=(2,), payload=b"\x00\x01", magic=None):
    header = magic if magic is not None else bytes([0, 0, code, len(dims)])
    return lambda: parse_idx(header + b"".join(struct.pack(">I", d) for d in dims) + payload,
                             "f.idx")


ROWS = [
    # ---- Nielsen's pickle: bombs and hostile globals
    *[bad(f"nielsen bomb {k}", nielsen(raw=v), UnsafePickleError, "refusing")
      for k, v in BOMBS.items()],
    bad("nielsen os.system", nielsen(raw=b"cos\nsystem\n(S'true'\ntR."), UnsafePickleError,
        "os.system"),
    bad("nielsen builtins.eval", nielsen(raw=b"cbuiltins\neval\n(S'1'\ntR."), UnsafePickleError,
        "builtins.eval"),
    bad("nielsen numpy.load", nielsen(raw=b"cnumpy\nload\n(S'x'\ntR."), UnsafePickleError,
        "numpy.load"),
    bad("nielsen _codecs other codec", nielsen(raw=b"c_codecs\nencode\n(X\x01\x00\x00\x00aX\x05"
                                               b"\x00\x00\x00rot13tR."),
        UnsafePickleError, "rot13"),
    bad("nielsen huge void dtype is not an array", nielsen(raw=DTYPE_HUGE_VOID), UnsafePickleError,
        "V9", "numeric"),
    # NumPy trusts a dtype's pickled state (flags, item size, fields); only the state NumPy
    # itself writes is accepted, and __setstate__ is never called on a dtype
    bad("nielsen dtype state tampered", nielsen(raw=DTYPE_TAMPERED_STATE), UnsafePickleError,
        "refusing state", "uint8"),
    bad("nielsen truncated", nielsen(raw=pickle.dumps(_nielsen(), protocol=2)[:-30]),
        ValueError, "not a readable pickle"),
    bad("nielsen empty file", nielsen(raw=b""), ValueError, "not a readable pickle"),
    bad("nielsen garbage", nielsen(raw=b"\x00\x01\x02garbage"), ValueError, "mnist.pkl"),
    bad("nielsen truncated gzip", lambda: load_nielsen_pickle(_write(
        TMP, "mnist.pkl.gz", raw=gzip.compress(pickle.dumps(_nielsen()))[:-20])), ValueError,
        "gzip"),
    # ---- Nielsen's pickle: content that would be trained on silently
    bad("nielsen nan pixel", nielsen(_nielsen(x_fill=np.nan)), ValueError, "train images",
        "finite"),
    bad("nielsen pixel 255", nielsen(_nielsen(x_fill=255.0)), ValueError, "[0, 1]"),
    bad("nielsen int images", nielsen(_nielsen(x_dtype=np.int64, x_fill=1)), ValueError,
        "train images", "int64"),
    bad("nielsen object images", nielsen(_nielsen(x_dtype=object, x_fill=0.5)), UnsafePickleError,
        "object", "numeric"),
    bad("nielsen label 10", nielsen(_nielsen(labels=[0, 1, 10])), ValueError, "train labels",
        "0..9"),
    bad("nielsen label -1", nielsen(_nielsen(labels=[0, -1, 2])), ValueError, "labels"),
    bad("nielsen float labels", nielsen(_nielsen(labels=[0.0, 1.5, 2.0])), ValueError,
        "labels", "float64"),
    bad("nielsen nan labels", nielsen(_nielsen(labels=[0.0, np.nan, 2.0])), ValueError,
        "labels"),
    bad("nielsen mismatched widths", nielsen(_nielsen(widths=(784, 784, 100))), ValueError,
        "test images have 100", "784"),
    bad("nielsen 2 parts", nielsen(_nielsen()[:2]), ValueError, "expected a tuple"),
    bad("nielsen labels length", nielsen(((np.zeros((3, 4), np.float32), np.zeros(2, int)),) * 3),
        ValueError, "train must be images"),
    good("nielsen valid", lambda: load_nielsen_pickle(_write(TMP, "m.pkl", _nielsen()))
         .train[1].tolist(), [0, 1, 2]),
    bad("gzip bomb stops at the cap", lambda: read_capped(
        _write(TMP, "bomb.gz", raw=bytes(3 << 20), zipped=True), limit=1 << 20), ValueError,
        "more than the limit"),
    bad("plain file over the cap", lambda: read_capped(_write(TMP, "big", raw=bytes(2048)),
                                                       limit=1024), ValueError, "limit"),
    # ---- CIFAR batches
    bad("cifar float data", _cifar(data=np.zeros((2, 3072))), ValueError, "uint8", "float64"),
    bad("cifar object data", _cifar(data=np.zeros((2, 3072), object)), UnsafePickleError,
        "object", "numeric"),
    bad("cifar short rows", _cifar(data=np.zeros((2, 3000), np.uint8)), ValueError, "(2, 3000)"),
    bad("cifar label 10", _cifar(labels=[0, 10]), ValueError, "0..9"),
    bad("cifar label -1", _cifar(labels=[-1, 0]), ValueError, "0..9"),
    bad("cifar float labels", _cifar(labels=[0.0, 1.5]), ValueError, "integers"),
    bad("cifar labels length", _cifar(labels=[0]), ValueError, "2 integers"),
    bad("cifar missing data", _cifar(drop=b"data"), ValueError, "missing key 'data'"),
    bad("cifar missing labels", _cifar(drop=b"labels"), ValueError, "'labels'"),
    bad("cifar not a dict", lambda: load_cifar_batch(_write(TMP, "b", [1, 2])), ValueError,
        "dict"),
    bad("cifar bomb", lambda: load_cifar_batch(_write(TMP, "b", raw=RECONSTRUCT_BIG)),
        UnsafePickleError, "refusing"),
    # ---- IDX
    bad("idx short", lambda: parse_idx(b"\x00\x00", "f.idx"), ValueError, "f.idx", "too short"),
    bad("idx bad magic", _idx(magic=b"\x01\x00\x08\x01"), ValueError, "magic"),
    bad("idx bad type code", _idx(code=0x07), ValueError, "type code"),
    bad("idx zero dims", _idx(dims=()), ValueError, "magic"),
    bad("idx truncated payload", _idx(dims=(3,)), ValueError, "truncated"),
    bad("idx trailing bytes", _idx(dims=(1,)), ValueError, "trailing"),
    bad("idx huge declared dims", _idx(dims=(2**31, 2**31)), ValueError, "truncated"),
    bad("idx truncated header", lambda: parse_idx(b"\x00\x00\x08\x03\x00\x00", "f.idx"),
        ValueError, "header"),
    good("idx valid", lambda: parse_idx(b"\x00\x00\x08\x01\x00\x00\x00\x02\x05\x06").tolist(),
         [5, 6]),
    # ---- DataLoader
    bad("loader batch_size 0", lambda: DataLoader(np.ones(3), batch_size=0), ValueError,
        "batch_size"),
    bad("loader batch_size 2.5", lambda: DataLoader(np.ones(3), batch_size=2.5), ValueError,
        "batch_size", "2.5"),
    bad("loader batch_size True", lambda: DataLoader(np.ones(3), batch_size=True), ValueError,
        "batch_size"),
    bad("loader batch_size str", lambda: DataLoader(np.ones(3), batch_size="4"), ValueError,
        "batch_size"),
    bad("loader shuffle 'false'", lambda: DataLoader(np.ones(3), shuffle="false"), TypeError,
        "shuffle"),
    bad("loader drop_last 'no'", lambda: DataLoader(np.ones(3), drop_last="no"), TypeError,
        "drop_last"),
    bad("loader lengths", lambda: DataLoader(np.ones(3), np.ones(4)), ValueError, "[3, 4]"),
    bad("loader scalar", lambda: DataLoader(np.float64(1.0)), ValueError, "scalar"),
    bad("loader none", lambda: DataLoader(), ValueError, "at least one"),
]


@params(ROWS)
def test_bad_input_data(row):
    check(row)


@pytest.mark.parametrize("name", list(BOMBS))
def test_pickle_bomb_refused_with_small_peak_memory(name, tmp_path):
    """Each bomb would allocate >= 400 MB; refused, the peak stays under 1 MB."""
    path = _write(tmp_path, "mnist.pkl", raw=BOMBS[name])
    tracemalloc.start()
    try:
        with pytest.raises(UnsafePickleError):
            load_nielsen_pickle(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, f"{name}: peak {peak} bytes"


def test_gzip_bomb_refused_with_small_peak_memory(tmp_path):
    """3 MiB of zeros gzipped, a 1 MiB cap: refused within about the cap."""
    path = _write(tmp_path, "bomb.gz", raw=bytes(3 << 20), zipped=True)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="limit"):
            read_capped(path, limit=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak


GOOD_PICKLE = pickle.dumps(_nielsen(), protocol=2)
GOOD_CIFAR = pickle.dumps({b"labels": [0, 1], b"data": np.arange(6144, dtype=np.uint8)
                           .reshape(2, 3072) % 251}, protocol=2)
GOOD_IDX = b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x03" + bytes(range(6))


def corrupt(data: bytes, draw) -> bytes:
    """Flip, drop or insert bytes, or truncate."""
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
    at = draw(st.integers(0, len(data) - 1))
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data[:at] + data[at + draw(st.integers(1, 8)):]


def _valid_nielsen(split) -> bool:
    return all(x.dtype.kind == "f" and np.isfinite(x).all() and y.dtype == np.int64
               and ((0 <= y) & (y <= 9)).all() and len(x) == len(y) for x, y in split)


@given(st.data())
def test_fuzz_nielsen_pickle(tmp_path_factory, data):
    raw = corrupt(GOOD_PICKLE, data.draw)
    path = tmp_path_factory.mktemp("fuzz") / "mnist.pkl"
    path.write_bytes(raw)
    try:
        split = load_nielsen_pickle(path)
    except (ValueError, UnsafePickleError):
        return
    assert _valid_nielsen(split)


@given(st.data())
def test_fuzz_cifar_batch(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "data_batch_1"
    path.write_bytes(corrupt(GOOD_CIFAR, data.draw))
    try:
        x, y = load_cifar_batch(path)
    except (ValueError, UnsafePickleError):
        return
    assert x.shape == (len(y), 32, 32, 3) and ((0 <= y) & (y <= 9)).all()


@given(st.data())
def test_fuzz_idx(data):
    try:
        array = parse_idx(corrupt(GOOD_IDX, data.draw), "f.idx")
    except ValueError:
        return
    assert array.size * array.itemsize <= len(GOOD_IDX) + 8


@given(st.binary(max_size=200))
def test_fuzz_safe_loads_random_bytes(raw):
    try:
        safe_loads(raw, "x")
    except (ValueError, UnsafePickleError):
        pass
