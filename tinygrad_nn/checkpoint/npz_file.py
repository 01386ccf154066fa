"""Format version 1, read-only: an ``.npz`` archive of plain arrays plus a ``__header__`` member
(the header as UTF-8 JSON in a 1-d uint8 array). Members: ``model/<name>`` and
``optimizer/state/<index>/<key>``.

Every member's array header (dtype, shape) is read from the archive and checked BEFORE its data
is: object arrays (which would need pickle) are refused unread, the archive must hold exactly
the arrays the JSON header lists, and the arrays together may not declare more than
``MAX_EXPANSION`` times the file's size (plus ``SLACK`` bytes): an honest checkpoint of trained
weights barely compresses, while a deflated member of zeros expands a thousandfold (a small
file declaring gigabytes is refused unread).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import zipfile
from typing import IO

import numpy as np

from .header import CheckpointError, PathLike, Stored, check_declared, check_header

HEADER_KEY = "__header__"
MAX_EXPANSION = 16
SLACK = 16 * 2**20
_READ_HEADER = {(1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0}


def open_file(path: PathLike) -> Stored:
    # NOTE: a damaged zip can fail in many ways (BadZipFile, zlib.error, EOFError, a "bad CRC",
    # NotImplementedError for a garbled compression method, RuntimeError for a flipped
    # "encrypted" flag, ...): any failure while reading the archive means the file is unusable.
    try:
        archive = zipfile.ZipFile(path)
        infos = {info.filename: info for info in archive.infolist()}
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable .npz file (truncated or corrupted?): "
                              f"{type(e).__name__}: {e}") from e
    with archive:
        members: dict[str, zipfile.ZipInfo] = {}
        for name, info in infos.items():
            if not name.endswith(".npy"):
                raise CheckpointError(f"{path}: member {name!r} is not an array (.npy)")
            members[name[:-4]] = info
        declared = {key: _array_header(path, archive, key, info) for key, info in members.items()}
        budget = MAX_EXPANSION * os.path.getsize(path) + SLACK
        total = sum(math.prod(shape) * dtype.itemsize for dtype, shape in declared.values())
        if total > budget:
            raise CheckpointError(f"{path}: its arrays declare {total} bytes in a file of "
                                  f"{os.path.getsize(path)} bytes (more than {MAX_EXPANSION}x "
                                  "expansion): refused unread as a decompression bomb")
        if HEADER_KEY not in declared:
            raise CheckpointError(f"{path}: no {HEADER_KEY!r} member: not a tinygrad_nn "
                                  "checkpoint")
        dtype, shape = declared.pop(HEADER_KEY)
        if dtype != np.uint8 or len(shape) != 1:
            raise CheckpointError(f"{path}: {HEADER_KEY!r} must be a 1-d uint8 array, got "
                                  f"{dtype} {shape}")
        raw = _read_member(path, archive, HEADER_KEY, members[HEADER_KEY])
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise CheckpointError(f"{path}: {HEADER_KEY!r} is not valid UTF-8 JSON: {e}") from e
    header = check_header(path, header)
    header.setdefault("scheduler", None)
    check_declared(path, header, declared)

    def read() -> dict[str, np.ndarray]:
        with zipfile.ZipFile(path) as again:
            return {key: _read_member(path, again, key, members[key]) for key in declared}

    return Stored(header, declared, read)


def _array_header(path: PathLike, archive: zipfile.ZipFile, key: str,
                  info: zipfile.ZipInfo) -> tuple[np.dtype, tuple[int, ...]]:
    """A member's (dtype, shape) from its .npy header, reading nothing else."""
    try:
        with archive.open(info) as fp:
            version = np.lib.format.read_magic(fp)
            if version not in _READ_HEADER:
                raise ValueError(f"unsupported .npy format version {version}")
            shape, _, dtype = _READ_HEADER[version](fp)
            offset = fp.tell()
    except Exception as e:
        raise CheckpointError(f"{path}: member {key!r} is unreadable (corrupted?): "
                              f"{type(e).__name__}: {e}") from e
    if dtype.hasobject:
        raise CheckpointError(f"{path}: member {key!r} is unreadable: an object array, which "
                              "would need pickle")
    if dtype.kind not in "biuf":
        raise CheckpointError(f"{path}: {key!r} has dtype {dtype}; only bool, int and float "
                              "arrays are allowed")
    if info.file_size != offset + math.prod(shape) * dtype.itemsize:
        raise CheckpointError(f"{path}: member {key!r} holds {info.file_size - offset} bytes "
                              f"of data but declares {dtype} {shape}: corrupted")
    return dtype, tuple(shape)


def _read_member(path: PathLike, archive: zipfile.ZipFile, key: str,
                 info: zipfile.ZipInfo) -> np.ndarray:
    try:
        with archive.open(info) as fp:
            array = np.lib.format.read_array(fp, allow_pickle=False)
            _check_crc(fp)
    except Exception as e:
        raise CheckpointError(f"{path}: member {key!r} is unreadable (corrupted?): "
                              f"{type(e).__name__}: {e}") from e
    return array


def _check_crc(fp: IO[bytes]) -> None:
    """Read to the member's end: zipfile checks the CRC there (numpy may stop just short)."""
    with contextlib.suppress(EOFError):
        if fp.read(1):
            raise ValueError("data after the array")

