"""Atomic file replacement: temporary file, fsync, ``os.replace``; SIGTERM treated like SIGINT.

A save that is interrupted (an exception, Ctrl-C, or SIGTERM from a job scheduler) removes its
temporary file and leaves the previous file intact. A save killed outright (SIGKILL, power loss)
cannot clean up: its temporary file, named ``.<target>.<pid>.<random>.tmp``, is removed by the
next save to the same target once that process id is no longer running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, then rename it over ``path``.

    NOTE: the temporary file must be in the same directory: ``os.replace`` is atomic only
    within one filesystem. fsync before the rename, or a crash could leave a renamed but empty
    file; fsync the directory after, or the rename itself could be lost.
    """
    directory = path.parent if str(path.parent) else Path(".")
    remove_stale_temporaries(path)
    with _sigterm_raises_keyboard_interrupt():
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp",
                                        dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            # mkstemp creates the file 0600; give it the mode a plain open() would
            mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
            os.chmod(tmp_name, mode)
            os.replace(tmp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
    with contextlib.suppress(OSError):  # not every platform can open a directory
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete the temporary files an earlier, killed save to ``path`` left behind; return them.

    A temporary file belongs to the process whose id is in its name: it is stale once that
    process is gone (names without an id, from older versions, are always stale).
    """
    directory = path.parent if str(path.parent) else Path(".")
    prefix = f".{path.name}."
    removed = []
    with contextlib.suppress(OSError):
        for candidate in directory.iterdir():
            name = candidate.name
            if not (name.startswith(prefix) and name.endswith(".tmp")):
                continue
            pid = name[len(prefix):].split(".")[0]
            if pid.isdigit() and _running(int(pid)):
                continue
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be saving right now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by someone else
    except OSError:
        return False
    return True


@contextlib.contextmanager
def _sigterm_raises_keyboard_interrupt() -> Iterator[None]:
    """While saving, turn SIGTERM into KeyboardInterrupt (as SIGINT already is), so the
    temporary file is removed. Only in the main thread, and only when no handler is set."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        yield  # the program handles SIGTERM itself
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt("SIGTERM while saving a checkpoint")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
