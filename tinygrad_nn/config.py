"""Reading a configuration document: a ``.json`` or ``.toml`` file as plain Python data.

The one reader behind network specs (``nn.spec``) and the command line's ``train --config``.
It imports nothing from the engine.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

try:
    import tomllib  # Python >= 3.11
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

SUFFIXES = (".json", ".toml")


def read_document(path: str | os.PathLike, what: str = "file") -> Any:
    """The parsed contents of a .json or .toml file. Errors name ``what`` ("spec file", "config
    file") and the path: FileNotFoundError for a missing file, ValueError for another suffix or
    invalid JSON/TOML."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{what} {str(file)!r} does not exist")
    if file.suffix not in SUFFIXES:
        raise ValueError(f"{what} {str(file)!r}: unknown extension {file.suffix!r}; "
                         "allowed: .json, .toml")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{what} {str(file)!r}: not UTF-8 text ({e.reason} at byte "
                         f"{e.start})") from None
    try:
        return json.loads(text) if file.suffix == ".json" else tomllib.loads(text)
    except ValueError as e:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        kind = "JSON" if file.suffix == ".json" else "TOML"
        raise ValueError(f"{what} {str(file)!r}: invalid {kind}: {e}") from None
    except RecursionError:  # a few KB of "[[[[..." is not a config
        raise ValueError(f"{what} {str(file)!r}: nested too deeply to read") from None
