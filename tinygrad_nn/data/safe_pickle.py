"""A restricted unpickler for dataset pickles (Nielsen's mnist.pkl.gz, CIFAR-10 batches).

`pickle.load` runs whatever callable a file names, so a downloaded "dataset" can run code on load.
The dataset pickles we read only ever need NumPy arrays, dtypes and plain containers (tuples,
lists, dicts, bytes, numbers), which pickle builds from opcodes without naming any global.
`RestrictedUnpickler.find_class` therefore resolves only the handful of globals that rebuild
arrays, and refuses everything else before anything is called.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from typing import IO, Any

import numpy as np

__all__ = ["RestrictedUnpickler", "UnsafePickleError", "safe_loads"]


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

_ALLOWED: dict[tuple[str, str], Callable[..., Any] | type] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): _latin1_encode,
    ("builtins", "bytes"): _empty_bytes,
    ("__builtin__", "bytes"): _empty_bytes,
}
for _core in ("numpy.core", "numpy._core"):
    _ALLOWED[(f"{_core}.multiarray", "_reconstruct")] = _RECONSTRUCT
    _ALLOWED[(f"{_core}.multiarray", "scalar")] = _SCALAR
    _ALLOWED[(f"{_core}.numeric", "_frombuffer")] = _FROMBUFFER


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that rebuilds NumPy arrays and plain containers and nothing else.

    `source` names the file in error messages. Python 2 pickles need `encoding="latin1"`
    (the default here) so that NumPy can reinterpret their str payloads as raw bytes.
    """

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


def safe_loads(data: bytes, source: str = "<pickle>") -> Any:
    """Unpickle `data` with `RestrictedUnpickler`; errors name `source`.

    Raises `UnsafePickleError` for a disallowed global and `ValueError` for a corrupt or
    truncated pickle.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data), source=source).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError) as exc:
        raise ValueError(f"{source}: not a readable pickle ({type(exc).__name__}: {exc})") from exc
