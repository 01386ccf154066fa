"""A restricted unpickler for dataset pickles (Nielsen's mnist.pkl.gz, CIFAR-10 batches).

`pickle.load` runs whatever callable a file names, so a downloaded "dataset" can run code on load.
The dataset pickles we read only ever need NumPy arrays, dtypes and plain containers (tuples,
lists, dicts, bytes, numbers), which pickle builds from opcodes without naming any global.
`RestrictedUnpickler.find_class` therefore resolves only the handful of globals that rebuild
arrays, and refuses everything else before anything is called.

Memory: a pickle's arrays carry their bytes in the file, except through the two globals that
allocate from a shape alone: `numpy.ndarray(shape)` and `_reconstruct(ndarray, shape, dtype)`.
A legitimate pickle never calls the first (it names `ndarray` only as `_reconstruct`'s argument)
and always calls the second with shape (0,) (the real shape arrives with the bytes). So `ndarray`
resolves to a name that cannot be called, and `_reconstruct` to a stand-in that refuses any
other shape: an 80-byte file can no longer allocate gigabytes. Decompressed input is capped by
`MAX_PICKLE_BYTES` (gzip bombs).

Dtypes: pickle rebuilds a dtype by calling `numpy.dtype(name, align, copy)` and then its
`__setstate__` with a state tuple from the file, which NumPy trusts (flags, item size, fields).
So only plain numeric dtypes are built, always as fresh objects (never NumPy's shared
singletons), and BUILD on a dtype never calls `__setstate__`: the state must be exactly the one
NumPy writes for that dtype (only the byte order may vary), and a dtype with that byte order
replaces it. This needs the pure-Python unpickler, whose opcode table can be extended.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["MAX_PICKLE_BYTES", "RestrictedUnpickler", "UnsafePickleError", "safe_loads"]

# Nielsen's mnist.pkl.gz unpacks to 220 MB and a CIFAR-10 batch to 31 MB: 1 GiB is ample.
MAX_PICKLE_BYTES = 2**30


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle names a global outside the NumPy-array allowlist."""


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """Stand-in for `_codecs.encode`, which protocol-2 pickles written by Python 3 use for bytes."""
    # NOTE: only the latin1 round trip that pickle itself emits is allowed; any other codec
    # name is refused so the allowlist cannot be used to reach the wider codec registry.
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise UnsafePickleError(f"_codecs.encode: refusing encoding {encoding!r}")
    return text.encode("latin1")


def _empty_bytes(*args: Any) -> bytes:
    """Stand-in for `bytes`, which protocol-2 pickles call with no arguments for b''."""
    # NOTE: `bytes(n)` with a huge n would allocate n bytes; no dataset pickle needs arguments.
    if args:
        raise UnsafePickleError("bytes: refusing to call bytes() with arguments")
    return b""


# NOTE: the rebuild functions are taken from NumPy's own __reduce__ results instead of being
# imported by name: their module moved (numpy.core -> numpy._core in NumPy 2), and importing
# numpy.core warns on NumPy 2. Files written by either version name either module.
_RECONSTRUCT = np.empty(0).__reduce__()[0]  # numpy.(_)core.multiarray._reconstruct
_FROMBUFFER = np.empty(1).__reduce_ex__(5)[0]  # numpy.(_)core.numeric._frombuffer (protocol 5)
_SCALAR = np.float64(0).__reduce__()[0]  # numpy.(_)core.multiarray.scalar (NumPy scalars)

class _NdarrayName:
    """What `numpy.ndarray` resolves to: `_reconstruct`'s first argument, never callable
    (calling the real class would allocate an array of any shape the file names)."""

    def __repr__(self) -> str:
        return "numpy.ndarray"

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        raise UnsafePickleError(f"refusing to call numpy.ndarray{args!r}: it allocates from a "
                                "shape alone, and dataset pickles never call it")


_NDARRAY = _NdarrayName()


def _reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """Stand-in for `numpy.core.multiarray._reconstruct`: an empty ndarray for `__setstate__`
    to fill (pickles made by NumPy always pass shape (0,); any other shape would allocate
    memory the file does not contain)."""
    if subtype is not _NDARRAY:
        raise UnsafePickleError(f"_reconstruct: refusing to build {subtype!r}, not numpy.ndarray")
    if not isinstance(shape, (tuple, list)) or tuple(shape) != (0,):
        raise UnsafePickleError(f"_reconstruct: refusing shape {shape!r}; NumPy pickles "
                                "build arrays from shape (0,) and fill them from the file")
    return _RECONSTRUCT(np.ndarray, (0,), dtype)


def _dtype(spec: Any, align: Any = False, copy: Any = True) -> np.dtype:
    """Stand-in for `numpy.dtype`: plain numeric dtypes only (no objects, records or strings,
    which dataset arrays never use), always a fresh copy (never NumPy's shared singleton)."""
    if not isinstance(spec, str):
        raise UnsafePickleError(f"numpy.dtype: refusing spec {spec!r}; only type names like 'f4'")
    try:
        dtype = np.dtype(spec)
    except TypeError as exc:
        raise UnsafePickleError(f"numpy.dtype: unknown type name {spec!r}") from exc
    if dtype.kind not in "biufc":
        raise UnsafePickleError(f"numpy.dtype: refusing {dtype} (kind {dtype.kind!r}); dataset "
                                "arrays are numeric")
    return dtype.newbyteorder("=")  # a new object, so no BUILD can reach the shared one


def _built_dtype(dtype: np.dtype, state: Any) -> np.dtype:
    """The dtype a BUILD of `state` on `dtype` means, without calling `__setstate__`."""
    byteorder = state[1] if isinstance(state, tuple) and len(state) > 1 else None
    if byteorder not in ("<", ">", "|", "="):
        raise UnsafePickleError(f"numpy.dtype: refusing state {state!r}")
    built = dtype if byteorder == "|" else dtype.newbyteorder(byteorder)
    if built.__reduce__()[2] != state:
        raise UnsafePickleError(f"numpy.dtype: refusing state {state!r} for {dtype}; NumPy "
                                f"writes {built.__reduce__()[2]!r}")
    return built


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _latin1_encode,
    ("builtins", "bytes"): _empty_bytes,
    ("__builtin__", "bytes"): _empty_bytes,
}
for _core in ("numpy.core", "numpy._core"):
    _ALLOWED[(f"{_core}.multiarray", "_reconstruct")] = _reconstruct
    _ALLOWED[(f"{_core}.multiarray", "scalar")] = _SCALAR
    _ALLOWED[(f"{_core}.numeric", "_frombuffer")] = _FROMBUFFER


class RestrictedUnpickler(pickle._Unpickler):
    """An Unpickler that rebuilds NumPy arrays and plain containers and nothing else.

    `source` names the file in error messages. Python 2 pickles need `encoding="latin1"`
    (the default here) so that NumPy can reinterpret their str payloads as raw bytes.
    """

    # NOTE: the pure-Python unpickler, because its opcode table can be extended (BUILD on a
    # dtype is checked before NumPy sees the state). Dataset pickles are a few large byte
    # strings, so its slower opcode loop costs little.
    dispatch = dict(pickle._Unpickler.dispatch)

    def load_build(self) -> None:
        state, inst = self.stack[-1], self.stack[-2]
        if isinstance(inst, np.dtype):
            self.stack.pop()
            self.stack[-1] = _built_dtype(inst, state)
            return
        super().load_build()

    dispatch[pickle.BUILD[0]] = load_build

    def __init__(self, file: IO[bytes], *, source: str = "<pickle>",
                 encoding: str = "latin1") -> None:
        super().__init__(file, encoding=encoding)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self.source}: refusing to load global {module}.{name}; dataset pickles may "
                "only contain NumPy arrays, dtypes and plain containers "
                "(the file is corrupt, not a dataset pickle, or malicious)"
            ) from None


def read_capped(path: Any, limit: int = MAX_PICKLE_BYTES) -> bytes:
    """The file's bytes, gunzipped if gzipped (by magic, not by name), refusing more than
    ``limit`` bytes either way: decompression stops at the limit instead of filling memory."""
    path = Path(path)
    if path.stat().st_size > limit:
        raise ValueError(f"{path}: {path.stat().st_size} bytes is more than the limit of {limit}")
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
            while chunk := f.read(min(1 << 16, limit + 1 - out.tell())):
                out.write(chunk)
            if f.read(1) or out.tell() > limit:
                raise ValueError(f"{path}: decompresses to more than the limit of {limit} "
                                 "bytes (MAX_PICKLE_BYTES); not a dataset file")
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: corrupt or truncated gzip data ({exc})") from exc
    return out.getvalue()


def safe_loads(data: bytes, source: str = "<pickle>") -> Any:
    """Unpickle `data` with `RestrictedUnpickler`; errors name `source`.

    Raises `UnsafePickleError` for a disallowed global and `ValueError` for a corrupt or
    truncated pickle.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data), source=source).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError,
            AttributeError, MemoryError, RecursionError, OverflowError, struct.error) as exc:
        raise ValueError(f"{source}: not a readable pickle ({type(exc).__name__}: {exc})") from exc
