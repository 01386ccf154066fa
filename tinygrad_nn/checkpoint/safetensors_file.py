"""Format version 2: one ``.safetensors`` file (the format PyTorch and Hugging Face use).

Tensors are stored by name: the model's by its ``state_dict`` name (``0.weight``,
``1.running_mean``: the names of the module ``export.to_torch`` builds), the optimizer's as
``optimizer.state.<index>.<key>``. The string metadata holds, each as one JSON value::

    format     "tinygrad_nn.checkpoint" (a plain string)
    version    "2"
    kind       "checkpoint" | "state_dict" (plain strings)
    library    {"tinygrad_nn": ..., "numpy": ..., "safetensors": ...}
    model      {"class": "MLP", "spec": {...} | null, "tensors": [name, ...]}
    optimizer  null | {"class", "defaults", "param_groups", "param_names",
                       "state": {"<index>": {"step": {"int": 3}, "exp_avg": {"tensor": name}}}}
    scheduler  null | {"class": "StepLR", "state": {...}}
    extra      the caller's JSON value
    checksums  {"metadata": crc32 of the other entries, "tensors": {name: crc32}}

safetensors itself refuses a header whose sizes and offsets do not add up to the file's size,
so every array a file declares is backed by bytes of the file: an honest file and a hostile one
cost the same memory. It has no checksum: ``checksums`` (CRC-32 of each tensor's name, dtype,
shape and bytes, and of the metadata) catches flipped bits, which would otherwise load silently.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write
from .header import (
    FORMAT,
    CheckpointError,
    Declared,
    PathLike,
    Stored,
    check_declared,
    check_header,
)

_DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16, "I16": np.int16,
           "U32": np.uint32, "I32": np.int32, "U64": np.uint64, "I64": np.int64,
           "F16": np.float16, "F32": np.float32, "F64": np.float64}
_JSON_FIELDS = ("library", "model", "optimizer", "scheduler", "extra")


def write(path: PathLike, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``header`` (the shared form) and ``arrays`` (by key) to ``path``, atomically."""
    from safetensors import __version__ as safetensors_version
    from safetensors.numpy import save

    model = dict(header["model"], tensors=list(header["model"]["tensors"]))
    optimizer = header["optimizer"]
    if optimizer is not None:
        optimizer = dict(optimizer, state={
            index: {k: v if "int" in v else {"tensor": v["key"]} for k, v in entry.items()}
            for index, entry in optimizer["state"].items()})
    fields = {"library": dict(header["library"], safetensors=safetensors_version),
              "model": model, "optimizer": optimizer, "scheduler": header["scheduler"],
              "extra": header["extra"]}
    try:
        metadata = {name: json.dumps(value) for name, value in fields.items()}
    except (TypeError, ValueError) as e:  # e.g. an option that is not a number
        raise CheckpointError(f"{path}: the header is not JSON-serializable: {e}") from e
    metadata.update(format=FORMAT, version=str(header["version"]), kind=header["kind"])
    contiguous = {key: np.require(a, requirements="C") for key, a in arrays.items()}
    metadata["checksums"] = json.dumps({
        "metadata": metadata_checksum(metadata),
        "tensors": {key: tensor_checksum(key, a) for key, a in contiguous.items()}})
    data = save(contiguous, metadata=metadata)
    atomic_write(Path(path), lambda f: f.write(data))


def metadata_checksum(metadata: dict[str, str]) -> int:
    """CRC-32 of every metadata entry but ``checksums``."""
    text = json.dumps(sorted((k, v) for k, v in metadata.items() if k != "checksums"))
    return zlib.crc32(text.encode("utf-8"))


def tensor_checksum(key: str, array: np.ndarray) -> int:
    """CRC-32 of a tensor's name, dtype, shape and bytes."""
    described = f"{key}\0{array.dtype.name}\0{list(array.shape)}".encode()
    return zlib.crc32(np.require(array, requirements="C").tobytes(), zlib.crc32(described))


def open_file(path: PathLike, foreign: bool = False) -> Stored:
    """Parse and check the header; read no tensor yet (``Stored.read`` does, checksummed).

    ``foreign``: a safetensors file another program wrote (PyTorch's ``save_file``, Hugging
    Face) opens as a state dict of all its tensors; it has no checksums to verify."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
            raw = {key: (f.get_slice(key).get_dtype(), f.get_slice(key).get_shape())
                   for key in f.keys()}
    except Exception as e:  # the Rust reader's SafetensorError, OSError, ...
        raise CheckpointError(f"{path}: not a readable safetensors file (truncated or "
                              f"corrupted?): {type(e).__name__}: {e}") from e
    declared: Declared = {}
    for key, (dtype, shape) in raw.items():
        if dtype not in _DTYPES:
            raise CheckpointError(f"{path}: {key!r} has dtype {dtype}; only bool, int and "
                                  f"float arrays are allowed ({', '.join(_DTYPES)})")
        declared[key] = (np.dtype(_DTYPES[dtype]), tuple(shape))

    def read_all() -> dict[str, np.ndarray]:
        try:
            with safe_open(str(path), framework="numpy") as f:
                return {key: f.get_tensor(key) for key in declared}
        except Exception as e:
            raise CheckpointError(f"{path}: tensor data is unreadable (truncated or "
                                  f"changed since it was opened?): {type(e).__name__}: {e}") from e

    if metadata.get("format") != FORMAT and foreign:
        return Stored(_foreign_header(path, declared, metadata), declared, read_all)
    if metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path}: a safetensors file but not a tinygrad_nn checkpoint "
                              f"(metadata 'format' is {metadata.get('format')!r}, expected "
                              f"{FORMAT!r})")
    checksums = _checksums(path, metadata)
    header = _expand(path, metadata, declared)
    check_declared(path, header, declared)
    missing = sorted(set(declared) - set(checksums["tensors"]))
    if missing:
        raise CheckpointError(f"{path}: tensor {missing[0]!r} has no checksum")

    def read() -> dict[str, np.ndarray]:
        arrays = read_all()
        for key, array in arrays.items():
            if (array.dtype, array.shape) != declared[key]:
                raise CheckpointError(f"{path}: {key!r} changed while it was read")
            if tensor_checksum(key, array) != checksums["tensors"][key]:
                raise CheckpointError(f"{path}: {key!r} fails its checksum: the file is "
                                      "corrupted")
        return arrays

    return Stored(header, declared, read)


def _checksums(path: PathLike, metadata: dict[str, str]) -> dict[str, Any]:
    try:
        checksums = json.loads(metadata.get("checksums", "null"))
    except (json.JSONDecodeError, RecursionError) as e:
        raise CheckpointError(f"{path}: metadata 'checksums' is not valid JSON: {e}") from e
    if not (isinstance(checksums, dict) and isinstance(checksums.get("metadata"), int)
            and isinstance(checksums.get("tensors"), dict)):
        raise CheckpointError(f"{path}: metadata 'checksums' is missing or malformed")
    if checksums["metadata"] != metadata_checksum(metadata):
        raise CheckpointError(f"{path}: the metadata fails its checksum: the file is corrupted")
    return checksums


def _expand(path: PathLike, metadata: dict[str, str], declared: Declared) -> dict[str, Any]:
    """The metadata in the shared header form, dtypes and shapes taken from the tensors."""
    version = metadata.get("version", "")
    header: dict[str, Any] = {"format": FORMAT, "kind": metadata.get("kind"),
                              "version": int(version) if version.isdigit() else version}
    for name in _JSON_FIELDS:
        if name not in metadata:
            raise CheckpointError(f"{path}: metadata entry {name!r} is missing")
        try:
            header[name] = json.loads(metadata[name])
        except (json.JSONDecodeError, RecursionError) as e:
            raise CheckpointError(f"{path}: metadata entry {name!r} is not valid JSON: "
                                  f"{e}") from e
    if isinstance(header["version"], int) and header["version"] > 2:
        return check_header(path, header)  # refused as newer, before reading its layout
    model = header["model"]
    if not (isinstance(model, dict) and isinstance(model.get("tensors"), list)
            and all(isinstance(n, str) for n in model["tensors"])):
        raise CheckpointError(f"{path}: metadata entry 'model' is malformed")
    model["tensors"] = {name: _entry(path, name, declared) for name in model["tensors"]}
    optimizer = header["optimizer"]
    if isinstance(optimizer, dict) and isinstance(optimizer.get("state"), dict):
        for entry in optimizer["state"].values():
            if not isinstance(entry, dict):
                continue
            for k, v in entry.items():
                if isinstance(v, dict) and isinstance(v.get("tensor"), str):
                    entry[k] = _entry(path, v["tensor"], declared)
    return check_header(path, header)


def _entry(path: PathLike, key: str, declared: Declared) -> dict[str, Any]:
    if key not in declared:
        raise CheckpointError(f"{path}: missing array {key!r} (listed in the header)")
    dtype, shape = declared[key]
    return {"key": key, "dtype": dtype.name, "shape": list(shape)}


def _foreign_header(path: PathLike, declared: Declared, metadata: dict[str, str]
                    ) -> dict[str, Any]:
    """Another program's safetensors file as a state dict (structure checked by safetensors;
    no checksums, no spec)."""
    return check_header(path, {
        "format": FORMAT, "version": 2, "kind": "state_dict", "library": {},
        "model": {"class": None, "spec": None,
                  "tensors": {key: _entry(path, key, declared) for key in declared}},
        "optimizer": None, "scheduler": None, "extra": {"foreign_metadata": metadata}})
