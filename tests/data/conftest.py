"""Fixtures for the data-package tests: the real MNIST directory and a Python 2 pickle writer."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest

# The shared MNIST files live beside the repository root, never inside it.
SHARED_MNIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"


@pytest.fixture(scope="session")
def real_mnist_dir() -> Path:
    """The directory with the real MNIST files ($TINYGRAD_NN_MNIST, else ../shared/data/mnist);
    skips the test when they are absent."""
    directory = Path(os.environ.get("TINYGRAD_NN_MNIST") or SHARED_MNIST)
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    if not all((directory / f"{n}.gz").is_file() or (directory / n).is_file() for n in names):
        pytest.skip(f"real MNIST files not found in {directory}")
    return directory


def _py2_str(data: bytes) -> bytes:
    """A Python 2 `str` (SHORT_BINSTRING / BINSTRING): raw bytes that Python 3 must decode."""
    if len(data) < 256:
        return b"U" + bytes([len(data)]) + data
    return b"T" + struct.pack("<i", len(data)) + data


def _py2_body(obj: object) -> bytes:
    """Opcodes that cPickle (protocol 2) on Python 2 wrote for the types dataset pickles use."""
    if obj is None:
        return b"N"
    if isinstance(obj, bool):
        return b"\x88" if obj else b"\x89"
    if isinstance(obj, int):
        return b"J" + struct.pack("<i", obj)
    if isinstance(obj, str):
        return _py2_str(obj.encode("latin1"))
    if isinstance(obj, tuple):
        return b"(" + b"".join(_py2_body(o) for o in obj) + b"t"
    if isinstance(obj, list):
        return b"](" + b"".join(_py2_body(o) for o in obj) + b"e"
    if isinstance(obj, dict):
        items = b"".join(_py2_body(k) + _py2_body(v) for k, v in obj.items())
        return b"}(" + items + b"u"
    if isinstance(obj, np.ndarray):
        # ndarray.__reduce__ on NumPy 1.x / Python 2: _reconstruct(ndarray, (0,), 'b') then
        # __setstate__((1, shape, dtype, is_fortran, raw_bytes_as_py2_str)).
        order = obj.dtype.byteorder if obj.dtype.itemsize > 1 else "|"
        order = {"=": "<"}.get(order, order)
        dtype = (b"cnumpy\ndtype\n" + _py2_body((obj.dtype.str[1:], False, True)) + b"R"
                 + _py2_body((3, order, None, None, None, -1, -1, 0)) + b"b")
        state = (b"(" + _py2_body(1) + _py2_body(obj.shape) + dtype + b"\x89"
                 + _py2_str(np.ascontiguousarray(obj).tobytes()) + b"t")
        return (b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
                + _py2_body((0,)) + _py2_str(b"b") + b"\x87R" + state + b"b")
    raise TypeError(f"py2 pickle writer: unsupported {type(obj).__name__}")


@pytest.fixture(scope="session")
def py2_dumps():
    """`dumps(obj) -> bytes`: a protocol-2 pickle as Python 2 + NumPy 1.x wrote it (str payloads,
    numpy.core module names), like Nielsen's mnist.pkl.gz and the CIFAR-10 batches."""
    return lambda obj: b"\x80\x02" + _py2_body(obj) + b"."
