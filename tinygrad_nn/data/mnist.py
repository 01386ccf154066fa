"""MNIST: IDX parsing, checksummed download, the textbook split, and Nielsen's mnist.pkl.gz.

Where the files are looked for, first match wins:
  1. the `path` argument,
  2. the directory named by the TINYGRAD_NN_MNIST environment variable,
  3. `$XDG_CACHE_HOME/tinygrad_nn/mnist` (default `~/.cache/tinygrad_nn/mnist`).
Each of the four files may be gzipped (`train-images-idx3-ubyte.gz`) or plain
(`train-images-idx3-ubyte`). Missing files are downloaded into that directory; the sha256 of the
*uncompressed* content is checked, because mirrors re-encode the .gz wrappers.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import tempfile
import urllib.request
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from .safe_pickle import read_capped, safe_loads

__all__ = [
    "ENV_VAR",
    "MNIST",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "ChecksumError",
    "MNISTSplit",
    "download_mnist",
    "load_mnist",
    "load_mnist_textbook",
    "load_nielsen_pickle",
    "mnist_dir",
    "parse_idx",
    "read_idx",
    "textbook_split",
]

log = logging.getLogger(__name__)

ENV_VAR = "TINYGRAD_NN_MNIST"

# sha256 of the UNCOMPRESSED bytes (their MD5s match the ones LeCun published).
MNIST_FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz":
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz":
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz":
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz":
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
_TRAIN_IMAGES, _TRAIN_LABELS, _TEST_IMAGES, _TEST_LABELS = MNIST_FILES  # in this order

# Base URLs; a file's URL is base + file name. yann.lecun.com now refuses most clients.
MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

# IDX type codes (third magic byte) -> big-endian NumPy dtype.
_IDX_DTYPES: dict[int, str] = {
    0x08: "u1",
    0x09: "i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}


class ChecksumError(ValueError):
    """A file's sha256 differs from the expected one."""


class MNIST(NamedTuple):
    """The official split as stored: images uint8 (n, 28, 28), labels uint8 (n,) in 0..9."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


class MNISTSplit(NamedTuple):
    """Nielsen's three-way split; each field is an (X, y) pair, like his `load_data()`."""

    train: tuple[np.ndarray, np.ndarray]
    validation: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]


# ---------------------------------------------------------------------------------------------
# IDX files
# ---------------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped if it is gzipped (detected by magic, not by name), at most
    MAX_PICKLE_BYTES either way (a gzip bomb stops there)."""
    return read_capped(path)


def _check_sha256(data: bytes, expected: str, source: str) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected.lower():
        raise ChecksumError(
            f"{source}: sha256 of the uncompressed content is {actual}, expected {expected}; "
            "the file is corrupt or not the expected one (delete it to re-download)"
        )


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Parse uncompressed IDX bytes into a native-endian, writable array.

    Layout: 2 zero bytes, a type code, the number of dimensions n, then n big-endian uint32 sizes,
    then the payload. `source` names the file in error messages.
    """
    if len(data) < 4:
        raise ValueError(f"{source}: IDX file too short for a header ({len(data)} bytes)")
    zeros, code, ndim = data[:2], data[2], data[3]
    if zeros != b"\x00\x00" or code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(
            f"{source}: bad IDX magic number 0x{data[:4].hex()}; expected 0x0000TTNN with type "
            f"code TT in {{{', '.join(f'{c:02x}' for c in _IDX_DTYPES)}}} and NN >= 1 dimensions"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{source}: truncated IDX header: {ndim} dimensions need {header} bytes, "
            f"file has {len(data)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "trailing bytes in"
        raise ValueError(
            f"{source}: {what} IDX file: shape {shape} of {dtype.name} needs {expected} bytes, "
            f"file has {len(data)}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    # astype copies: the result owns writable, native-endian memory instead of a read-only view.
    return array.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike[str], sha256: str | None = None) -> np.ndarray:
    """Read an IDX file, gzipped or plain; if `sha256` is given, check the uncompressed content."""
    path = Path(path)
    data = _read_bytes(path)
    if sha256 is not None:
        _check_sha256(data, sha256, str(path))
    return parse_idx(data, str(path))


# ---------------------------------------------------------------------------------------------
# Finding and downloading the files
# ---------------------------------------------------------------------------------------------


def mnist_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The MNIST directory: `path`, else $TINYGRAD_NN_MNIST, else the user cache directory."""
    if path is not None:
        return Path(path).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "tinygrad_nn" / "mnist"


def _find(directory: Path, name: str) -> Path | None:
    """The gzipped or the plain copy of `name` in `directory`, if either exists."""
    for candidate in (directory / name, directory / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def _write_atomic(target: Path, data: bytes) -> None:
    """Write via a temp file in the same directory and os.replace, so readers never see half."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fetch_verified(name: str, sha256: str, mirrors: Sequence[str], timeout: float) -> bytes:
    """Bytes of `name` from the first mirror whose content checks out; raises OSError listing
    what each mirror did."""
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + name
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                raw = response.read()
            content = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
            _check_sha256(content, sha256, url)
            return raw
        except (OSError, EOFError, ValueError, zlib.error, http.client.HTTPException) as exc:
            failures.append(f"    {url}: {exc}")
    raise OSError("\n".join(failures) or "    (no mirrors given)")


def _missing_message(directory: Path, missing: Sequence[str], reason: str) -> str:
    names = "\n".join(f"    {name}" for name in missing)
    return (
        f"MNIST files missing from {directory}:\n{names}\n{reason}\n"
        f"Place the four MNIST files (gzipped or not) in {directory}, pass load_mnist(path=DIR), "
        f"or set {ENV_VAR}=DIR to a directory that holds them."
    )


def download_mnist(
    path: str | os.PathLike[str] | None = None,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    checksums: Mapping[str, str] = MNIST_FILES,
    timeout: float = 30.0,
) -> Path:
    """Download the files of `checksums` missing from `mnist_dir(path)`; return the directory.

    Each file comes from the first mirror whose content has the expected sha256 (uncompressed)
    and is written atomically. Raises FileNotFoundError naming the files and the directory when
    a file cannot be had from any mirror (for example offline).
    """
    directory = mnist_dir(path)
    missing = [name for name in checksums if _find(directory, name) is None]
    for i, name in enumerate(missing):
        log.info("downloading %s into %s", name, directory)
        try:
            raw = _fetch_verified(name, checksums[name], mirrors, timeout)
        except OSError as exc:
            # Stop at the first file no mirror has: offline, every further try would fail too.
            reason = f"Could not download {name}:\n{exc}"
            raise FileNotFoundError(_missing_message(directory, missing[i:], reason)) from None
        directory.mkdir(parents=True, exist_ok=True)
        _write_atomic(directory / name, raw)
    return directory


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def _load_pair(directory: Path, images_name: str, labels_name: str,
               checksums: Mapping[str, str], verify: bool) -> tuple[np.ndarray, np.ndarray]:
    """Read one images/labels pair and check shapes, dtypes and label range."""
    arrays = []
    for name in (images_name, labels_name):
        file = _find(directory, name)
        if file is None:  # only if it was deleted since load_mnist looked
            raise FileNotFoundError(f"{directory / name}: MNIST file disappeared while loading")
        arrays.append(read_idx(file, checksums[name] if verify else None))
    images, labels = arrays
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{directory / images_name}: expected uint8 images (n, rows, cols), "
                         f"got {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8 or (labels.size and labels.max() > 9):
        raise ValueError(f"{directory / labels_name}: expected uint8 labels (n,) in 0..9, "
                         f"got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"{directory}: {images_name} has {len(images)} images but "
                         f"{labels_name} has {len(labels)} labels")
    return images, labels


def load_mnist(
    path: str | os.PathLike[str] | None = None,
    download: bool = True,
    verify: bool = True,
    mirrors: Sequence[str] = MNIST_MIRRORS,
    checksums: Mapping[str, str] = MNIST_FILES,
) -> MNIST:
    """Load the official MNIST split as stored: uint8 images (n, 28, 28), uint8 labels (n,).

    `path`: the directory (see the module docstring for the fallbacks). `download`: fetch missing
    files from `mirrors`; if False, a missing file raises FileNotFoundError. `verify`: check every
    file's sha256 against `checksums` (about 30 ms of the ~0.3 s load; the download is always
    verified). `mirrors`/`checksums` exist so tests can serve small files.
    """
    directory = mnist_dir(path)
    if download:
        download_mnist(directory, mirrors, checksums)
    missing = [name for name in checksums if _find(directory, name) is None]
    if missing:
        reason = "download=False, so nothing was downloaded."
        raise FileNotFoundError(_missing_message(directory, missing, reason))
    train = _load_pair(directory, _TRAIN_IMAGES, _TRAIN_LABELS, checksums, verify)
    test = _load_pair(directory, _TEST_IMAGES, _TEST_LABELS, checksums, verify)
    return MNIST(*train, *test)


def textbook_split(
    mnist: MNIST,
    n_validation: int = 10_000,
    dtype: DTypeLike = np.float64,
    divide_by: float = 255.0,
) -> MNISTSplit:
    """Nielsen's split: the first n - n_validation training images train, the last n_validation
    validate, the test set tests (50,000 / 10,000 / 10,000 for real MNIST).

    Images become rows (n, 784) of `dtype`, divided by `divide_by` (255 maps pixels onto [0, 1]);
    labels become int64.
    """
    n = len(mnist.train_images)
    if not 0 <= n_validation < n:
        raise ValueError(f"textbook_split: n_validation={n_validation} must be in [0, {n})")

    def rows(images: np.ndarray) -> np.ndarray:
        # One pass in the target dtype; astype-then-divide is ~10x slower on 47M pixels.
        return np.divide(images.reshape(len(images), -1), divide_by, dtype=dtype)

    x_train, y_train = rows(mnist.train_images), mnist.train_labels.astype(np.int64)
    cut = n - n_validation
    return MNISTSplit(
        train=(x_train[:cut], y_train[:cut]),
        validation=(x_train[cut:], y_train[cut:]),
        test=(rows(mnist.test_images), mnist.test_labels.astype(np.int64)),
    )


def load_mnist_textbook(
    path: str | os.PathLike[str] | None = None,
    download: bool = True,
    verify: bool = True,
    dtype: DTypeLike = np.float64,
) -> MNISTSplit:
    """`textbook_split(load_mnist(path, download, verify), dtype=dtype)`."""
    return textbook_split(load_mnist(path, download, verify), dtype=dtype)


# ---------------------------------------------------------------------------------------------
# Nielsen's mnist.pkl.gz
# ---------------------------------------------------------------------------------------------


def load_nielsen_pickle(path: str | os.PathLike[str], dtype: DTypeLike | None = None) -> MNISTSplit:
    """Read Nielsen's `mnist.pkl.gz` (gzipped or plain) with the restricted unpickler.

    The file is a Python 2 pickle of ((train_x, train_y), (val_x, val_y), (test_x, test_y)),
    images as rows (n, 784). Images keep their stored dtype (float32) unless `dtype` is given;
    labels become int64. Anything but NumPy arrays and containers is refused without running it.
    """
    path = Path(path)
    data = safe_loads(_read_bytes(path), str(path))
    if not (isinstance(data, tuple) and len(data) == 3):
        raise ValueError(f"{path}: expected a tuple (train, validation, test), "
                         f"got {type(data).__name__}")
    parts = []
    for field, part in zip(MNISTSplit._fields, data, strict=True):
        if not (isinstance(part, tuple) and len(part) == 2
                and all(isinstance(a, np.ndarray) for a in part)):
            raise ValueError(f"{path}: {field} must be an (images, labels) pair of arrays")
        x, y = part
        _check_nielsen_part(path, field, x, y, parts[0][0].shape[1] if parts else None)
        parts.append((x if dtype is None else x.astype(dtype), y.astype(np.int64)))
    return MNISTSplit(*parts)


def _check_nielsen_part(path: Path, field: str, x: np.ndarray, y: np.ndarray,
                        width: int | None) -> None:
    """Images (n, d) of finite floats in [0, 1], the same d in every part; labels (n,) of
    integers in 0..9. Anything else would be trained on silently (nan pixels, label 3.7)."""
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"{path}: {field} must be images (n, d) and labels (n,), "
                         f"got {x.shape} and {y.shape}")
    if width is not None and x.shape[1] != width:
        raise ValueError(f"{path}: {field} images have {x.shape[1]} pixels but the training "
                         f"images have {width}")
    if x.dtype.kind != "f" or not np.isfinite(x).all() or (x.size and (x.min() < 0 or
                                                                      x.max() > 1)):
        raise ValueError(f"{path}: {field} images must be finite floats in [0, 1], got "
                         f"{x.dtype}" + (f" in [{x.min()}, {x.max()}]" if x.dtype.kind in "fiu"
                                         and x.size else ""))
    if y.dtype.kind not in "iu" or (y.size and (y.min() < 0 or y.max() > 9)):
        raise ValueError(f"{path}: {field} labels must be integers in 0..9, got {y.dtype}"
                         + (f" in [{y.min()}, {y.max()}]" if y.dtype.kind in "fiu" and y.size
                            else ""))
