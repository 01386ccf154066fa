"""The restricted unpickler and Nielsen's mnist.pkl.gz reader: legit pickles load, malicious ones
are refused before anything runs."""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from tinygrad_nn.data import MNISTSplit, UnsafePickleError, load_nielsen_pickle, safe_loads


def nielsen_like(rng: np.random.Generator) -> tuple:
    """((train_x, train_y), (val_x, val_y), (test_x, test_y)) shaped like mnist.pkl.gz, smaller."""
    def part(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = (rng.integers(0, 256, (n, 784)) / 256).astype(np.float32)
        return x, rng.integers(0, 10, n).astype(np.uint8)  # the reader must widen to int64

    return part(7), part(3), part(4)


def assert_same_split(got: MNISTSplit, want: tuple) -> None:
    assert isinstance(got, MNISTSplit)
    for (gx, gy), (wx, wy) in zip(got, want, strict=True):
        assert gx.dtype == np.float32 and gy.dtype == np.int64
        np.testing.assert_array_equal(gx, wx)
        np.testing.assert_array_equal(gy, wy)


# ---- legitimate pickles -------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_nielsen_pickle_python3_protocols(tmp_path: Path, protocol: int) -> None:
    data = nielsen_like(np.random.default_rng(protocol))
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(data, protocol=protocol)))
    assert_same_split(load_nielsen_pickle(path), data)


def test_nielsen_pickle_as_python2_wrote_it(tmp_path: Path, py2_dumps) -> None:
    # Python 2 str payloads and numpy.core module names, as in the real file.
    data = nielsen_like(np.random.default_rng(1))
    raw = py2_dumps(data)
    assert b"cnumpy.core.multiarray\n_reconstruct" in raw
    path = tmp_path / "mnist.pkl"  # plain, not gzipped
    path.write_bytes(raw)
    assert_same_split(load_nielsen_pickle(path), data)
    as_float64 = load_nielsen_pickle(path, dtype=np.float64)
    assert as_float64.train[0].dtype == np.float64


def test_safe_loads_numpy_scalars_bytes_and_containers() -> None:
    obj = {b"k": [np.int64(3), np.float32(0.5), b"", b"xy", (1, None)], "a": np.zeros((2, 0))}
    for protocol in (2, 5):
        out = safe_loads(pickle.dumps(obj, protocol=protocol))
        assert out[b"k"][:4] == [3, 0.5, b"", b"xy"] and out[b"k"][4] == (1, None)
        assert out["a"].shape == (2, 0)


def test_nielsen_pickle_with_wrong_structure_names_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "mnist.pkl.gz"
    x, y = np.zeros((3, 784), np.float32), np.zeros(2, np.int64)
    path.write_bytes(gzip.compress(pickle.dumps(((x, np.zeros(3, np.int64)), (x, y), (x, y)))))
    with pytest.raises(ValueError, match=r"mnist\.pkl\.gz: validation must be images \(n, d\)"):
        load_nielsen_pickle(path)
    path.write_bytes(gzip.compress(pickle.dumps([1, 2, 3])))
    with pytest.raises(ValueError, match=r"mnist\.pkl\.gz: expected a tuple .* got list"):
        load_nielsen_pickle(path)


def test_truncated_pickle_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "mnist.pkl"
    path.write_bytes(pickle.dumps(nielsen_like(np.random.default_rng(0)), protocol=2)[:-40])
    with pytest.raises(ValueError, match=r"mnist\.pkl: not a readable pickle"):
        load_nielsen_pickle(path)


# ---- malicious pickles --------------------------------------------------------------------------


class _Reduce:
    """Pickles as `func(*args)`: what an attacker's pickle does."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def payloads(marker: Path) -> dict[str, bytes]:
    """Pickles that would create `marker` when loaded with plain pickle."""
    code = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system": pickle.dumps(_Reduce(os.system, f"touch '{marker}'"), protocol=2),
        "builtins.exec": pickle.dumps(_Reduce(exec, code), protocol=2),
        "builtins.eval": pickle.dumps(_Reduce(eval, code), protocol=5),
        # The payload hidden inside an otherwise legitimate dataset structure.
        "nested": pickle.dumps(((np.zeros((1, 2)), _Reduce(exec, code)),), protocol=2),
        # NumPy ships an exec gadget; a module-prefix allowlist ("numpy.*") would let it through.
        "numpy gadget": b"cnumpy.testing._private.utils\nrunstring\n(V" + code.encode()
        + b"\n(dtR.",
    }


def test_payloads_really_execute_under_plain_pickle(tmp_path: Path) -> None:
    # Control: without this, the rejection test below could pass with payloads that do nothing.
    marker = tmp_path / "pwned"
    pickle.loads(payloads(marker)["builtins.exec"])
    assert marker.exists()


@pytest.mark.parametrize("kind", ["os.system", "builtins.exec", "builtins.eval", "nested",
                                  "numpy gadget"])
def test_malicious_pickle_rejected_without_executing(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(payloads(marker)[kind]))
    with pytest.raises(UnsafePickleError, match=r"mnist\.pkl\.gz: refusing to load global"):
        load_nielsen_pickle(path)
    assert not marker.exists()


def test_rejection_names_the_global() -> None:
    pattern = rf"evil\.pkl: refusing to load global {os.system.__module__}\.system"
    with pytest.raises(UnsafePickleError, match=pattern):
        safe_loads(pickle.dumps(_Reduce(os.system, "true"), protocol=2), "evil.pkl")


@pytest.mark.parametrize("raw", [
    b"c_codecs\nencode\n(Vx\nVrot13\ntR.",  # allowed global, disallowed codec
    b"c__builtin__\nbytes\n(J\x00\xe1\xf5\x05tR.",  # bytes(100_000_000): a memory bomb
])
def test_allowed_globals_refuse_unexpected_arguments(raw: bytes) -> None:
    with pytest.raises(UnsafePickleError):
        safe_loads(raw)
