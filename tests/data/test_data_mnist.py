"""MNIST on small fake files: IDX parsing, checksums, directory resolution, download, the split."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import struct
import threading
from pathlib import Path

import numpy as np
import pytest

from tinygrad_nn.data import (
    MNIST,
    MNIST_FILES,
    ChecksumError,
    download_mnist,
    load_mnist,
    mnist_dir,
    parse_idx,
    read_idx,
    textbook_split,
)

UNREACHABLE = ["http://127.0.0.1:9/", "file:///nonexistent-tinygrad-nn-mirror/"]


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode an array as IDX: 0x0000, type code, ndim, big-endian sizes, big-endian payload."""
    codes = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
    code = codes[array.dtype.str[1:]]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def fake_mnist(rng: np.random.Generator, n_train: int = 12, n_test: int = 5) -> dict[str, bytes]:
    """Uncompressed content for the four standard names: tiny 4x4 'images'."""
    arrays = [
        rng.integers(0, 256, (n_train, 4, 4), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, 4, 4), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    ]
    return {name: idx_bytes(a) for name, a in zip(MNIST_FILES, arrays, strict=True)}


@pytest.fixture
def fake(tmp_path: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    """(uncompressed contents by name, their sha256 by name)."""
    contents = fake_mnist(np.random.default_rng(0))
    checksums = {name: hashlib.sha256(c).hexdigest() for name, c in contents.items()}
    return contents, checksums


def write_files(directory: Path, contents: dict[str, bytes], gz: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        if gz:
            (directory / name).write_bytes(gzip.compress(content))
        else:
            (directory / name.removesuffix(".gz")).write_bytes(content)
    return directory


# ---- IDX parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", "<i4", "f4", "f8"])
def test_idx_roundtrip_every_type_code(dtype: str) -> None:
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    out = parse_idx(idx_bytes(a))
    assert out.shape == (2, 3, 4) and out.dtype == a.dtype.newbyteorder("=")
    np.testing.assert_array_equal(out, a)
    out[0, 0, 0] = 1  # the result owns writable memory


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_gzipped_or_plain(tmp_path: Path, gz: bool) -> None:
    a = np.arange(60, dtype=np.uint8).reshape(5, 3, 4)
    path = tmp_path / "x.idx"
    path.write_bytes(gzip.compress(idx_bytes(a)) if gz else idx_bytes(a))
    np.testing.assert_array_equal(read_idx(path), a)


def test_truncated_idx_names_file_and_byte_counts(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((3, 4, 4), np.uint8))[:-5])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: truncated.*64 bytes.*has 59"):
        read_idx(path)


def test_trailing_bytes_rejected(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(3, np.uint8)) + b"\x00")
    with pytest.raises(ValueError, match=r"labels: trailing bytes.*needs 11 bytes.*has 12"):
        read_idx(path)


def test_truncated_header_rejected() -> None:
    with pytest.raises(ValueError, match=r"f\.idx: truncated IDX header: 3 dimensions need 16"):
        parse_idx(bytes([0, 0, 8, 3]) + b"\x00\x00\x00\x02", "f.idx")


@pytest.mark.parametrize("magic", [b"\x1f\x8c\x08\x03", b"\x00\x00\x07\x01", b"\x00\x00\x08\x00"])
def test_wrong_magic_names_file_and_magic(tmp_path: Path, magic: bytes) -> None:
    path = tmp_path / "not-idx.bin"
    path.write_bytes(magic + b"\x00" * 16)
    with pytest.raises(ValueError, match=rf"not-idx\.bin: bad IDX magic number 0x{magic.hex()}"):
        read_idx(path)


def test_truncated_gzip_names_file(tmp_path: Path) -> None:
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.arange(100, dtype=np.uint8)))[:-12])
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte\.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_checksum_mismatch_names_file_and_both_digests(tmp_path: Path) -> None:
    content = idx_bytes(np.arange(10, dtype=np.uint8))
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(content))
    actual = hashlib.sha256(content).hexdigest()
    np.testing.assert_array_equal(read_idx(path, sha256=actual), np.arange(10))
    wrong = "0" * 64
    pattern = rf"labels\.gz: sha256 .* is {actual}, expected {wrong}"
    with pytest.raises(ChecksumError, match=pattern):
        read_idx(path, sha256=wrong)


# ---- directory resolution -----------------------------------------------------------------------


def test_mnist_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TINYGRAD_NN_MNIST", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist_dir() == tmp_path / "xdg" / "tinygrad_nn" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist_dir() == tmp_path / "home" / ".cache" / "tinygrad_nn" / "mnist"
    monkeypatch.setenv("TINYGRAD_NN_MNIST", str(tmp_path / "env"))
    assert mnist_dir() == tmp_path / "env"
    assert mnist_dir(tmp_path / "explicit") == tmp_path / "explicit"


def test_load_reads_env_var_dir(tmp_path: Path, fake, monkeypatch: pytest.MonkeyPatch) -> None:
    contents, checksums = fake
    write_files(tmp_path / "env", contents)
    monkeypatch.setenv("TINYGRAD_NN_MNIST", str(tmp_path / "env"))
    mnist = load_mnist(mirrors=UNREACHABLE, checksums=checksums)
    assert mnist.train_images.shape == (12, 4, 4)


# ---- loading ------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_fake_files(tmp_path: Path, fake, gz: bool) -> None:
    contents, checksums = fake
    write_files(tmp_path, contents, gz=gz)
    mnist = load_mnist(tmp_path, mirrors=UNREACHABLE, checksums=checksums)
    assert isinstance(mnist, MNIST)
    expected = [parse_idx(c) for c in contents.values()]
    for got, want in zip(mnist, expected, strict=True):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


def test_load_mnist_verifies_checksums_unless_told_not_to(tmp_path: Path, fake) -> None:
    contents, checksums = fake
    write_files(tmp_path, contents)
    bad = dict(checksums, **{"t10k-images-idx3-ubyte.gz": "ab" * 32})
    with pytest.raises(ChecksumError, match=r"t10k-images-idx3-ubyte\.gz: sha256"):
        load_mnist(tmp_path, download=False, checksums=bad)
    load_mnist(tmp_path, download=False, verify=False, checksums=bad)


def test_load_mnist_rejects_labels_out_of_range(tmp_path: Path, fake) -> None:
    contents, _ = fake
    contents = dict(contents, **{"train-labels-idx1-ubyte.gz": idx_bytes(np.full(12, 10, "u1"))})
    write_files(tmp_path, contents)
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz: expected uint8 labels"):
        load_mnist(tmp_path, download=False, verify=False)


def test_load_mnist_rejects_count_mismatch(tmp_path: Path, fake) -> None:
    contents, _ = fake
    contents = dict(contents, **{"t10k-labels-idx1-ubyte.gz": idx_bytes(np.zeros(4, "u1"))})
    write_files(tmp_path, contents)
    with pytest.raises(ValueError, match=r"5 images but t10k-labels-idx1-ubyte\.gz has 4 labels"):
        load_mnist(tmp_path, download=False, verify=False)


def test_missing_files_without_download(tmp_path: Path, fake) -> None:
    contents, checksums = fake
    write_files(tmp_path, {k: v for k, v in contents.items() if "t10k" not in k})
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path, download=False, checksums=checksums)
    message = str(info.value)
    assert str(tmp_path) in message and "TINYGRAD_NN_MNIST" in message
    assert "t10k-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "train-images" not in message


def test_offline_download_error_says_what_to_put_where(tmp_path: Path, fake) -> None:
    _, checksums = fake
    target = tmp_path / "cache"
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(target, mirrors=UNREACHABLE, checksums=checksums)
    message = str(info.value)
    assert f"MNIST files missing from {target}" in message
    assert all(name in message for name in MNIST_FILES)
    assert "TINYGRAD_NN_MNIST" in message
    assert all(url in message for url in ("http://127.0.0.1:9/", "file:///nonexistent"))
    assert not target.exists() or not any(target.iterdir())


# ---- download -----------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def http_mirror(tmp_path: Path):
    """(directory, base URL) of an HTTP server on 127.0.0.1 serving that directory."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    except OSError as exc:
        pytest.skip(f"cannot bind a local HTTP server: {exc}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_download_over_http_then_load(tmp_path: Path, fake, http_mirror) -> None:
    contents, checksums = fake
    served, url = http_mirror
    write_files(served, contents)
    target = tmp_path / "cache" / "mnist"
    mnist = load_mnist(target, mirrors=[url], checksums=checksums)
    assert sorted(p.name for p in target.iterdir()) == sorted(MNIST_FILES)  # no .part leftovers
    want = parse_idx(contents["t10k-labels-idx1-ubyte.gz"])
    np.testing.assert_array_equal(mnist.test_labels, want)
    # Present files are not fetched again: an unreachable mirror list now works.
    load_mnist(target, mirrors=UNREACHABLE, checksums=checksums)


def test_download_from_file_urls_falls_back_past_bad_mirrors(tmp_path: Path, fake) -> None:
    contents, checksums = fake
    corrupt = write_files(tmp_path / "corrupt", {k: v[:-1] + b"\xff" for k, v in contents.items()})
    plain = tmp_path / "plain"
    plain.mkdir()
    for name, content in contents.items():  # a mirror may serve uncompressed bytes under .gz names
        (plain / name).write_bytes(content)
    target = tmp_path / "target"
    mirrors = [UNREACHABLE[1], corrupt.as_uri() + "/", plain.as_uri() + "/"]
    directory = download_mnist(target, mirrors=mirrors, checksums=checksums)
    assert directory == target
    for name, content in contents.items():
        assert (target / name).read_bytes() == content  # the verified mirror's bytes, not corrupt


def test_download_rejects_content_with_wrong_checksum(tmp_path: Path, fake) -> None:
    contents, checksums = fake
    served = write_files(tmp_path / "served", contents)
    bad = dict(checksums, **{"train-labels-idx1-ubyte.gz": "cd" * 32})
    target = tmp_path / "target"
    with pytest.raises(FileNotFoundError) as info:
        download_mnist(target, mirrors=[served.as_uri() + "/"], checksums=bad)
    message = str(info.value)
    assert "train-labels-idx1-ubyte.gz: sha256" in message and "cd" * 32 in message
    assert not (target / "train-labels-idx1-ubyte.gz").exists()
    assert sorted(p.name for p in target.iterdir()) == ["train-images-idx3-ubyte.gz"]


# ---- the textbook split -------------------------------------------------------------------------


def test_textbook_split_on_fake_data(tmp_path: Path, fake) -> None:
    contents, checksums = fake
    mnist = load_mnist(write_files(tmp_path, contents), download=False, checksums=checksums)
    split = textbook_split(mnist, n_validation=3)
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = split
    assert x_tr.shape == (9, 16) and x_va.shape == (3, 16) and x_te.shape == (5, 16)
    assert x_tr.dtype == np.float64 and y_tr.dtype == np.int64
    np.testing.assert_array_equal(x_tr, mnist.train_images[:9].reshape(9, 16) / 255.0)
    np.testing.assert_array_equal(x_va, mnist.train_images[9:].reshape(3, 16) / 255.0)
    np.testing.assert_array_equal(y_va, mnist.train_labels[9:])
    np.testing.assert_array_equal(y_te, mnist.test_labels)
    assert textbook_split(mnist, 3, dtype=np.float32).train[0].dtype == np.float32
    with pytest.raises(ValueError, match=r"n_validation=12 must be in \[0, 12\)"):
        textbook_split(mnist, n_validation=12)
