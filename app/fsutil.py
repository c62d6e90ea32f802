"""The one way Waypost replaces a file: write beside it, flush to disk, rename, flush the folder.

Whenever the power fails, the path then holds the old file or the new one,
never a mix. Every writer of bundles, hubs, caches, catalogs and kiosk state
uses this, so each has the same durability.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: Path, data: bytes) -> None:
    """Replace path with data, durably."""
    with atomic_file(path) as f:
        f.write(data)


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Yield a file to write; on success it replaces path durably, on failure nothing changes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    try:
        with tmp.open("xb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def replace(tmp: Path, path: Path) -> None:
    """Rename a finished, flushed file over path and make the rename durable."""
    os.replace(tmp, path)
    fsync_dir(Path(path).parent)


def temp_path(path: Path, kind: str = "tmp") -> Path:
    """Return a temporary name beside path that no other process will choose."""
    path = Path(path)
    return path.with_name(f".{path.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}.tmp")


def fsync_file(path: Path) -> None:
    """Flush a file's bytes to disk."""
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def fsync_dir(folder: Path) -> None:
    """Make a rename in folder survive a power cut (a no-op where folders cannot be synced)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def copy_synced(
    source: BinaryIO,
    target: Path,
    length: int | None = None,
    *,
    on_chunk: Callable[[bytes], None] | None = None,
    chunk: int = 1024 * 1024,
) -> int:
    """Copy from an open file into a new file at target, flushed to disk; return the bytes copied.

    With `length`, copy at most that many bytes. `on_chunk` sees each chunk
    as it passes (to hash it while copying, so nothing is read twice).
    """
    copied = 0
    with Path(target).open("xb") as dst:
        while length is None or copied < length:
            want = chunk if length is None else min(chunk, length - copied)
            data = source.read(want)
            if not data:
                break
            if on_chunk:
                on_chunk(data)
            dst.write(data)
            copied += len(data)
        dst.flush()
        os.fsync(dst.fileno())
    return copied


class NotRegularFile(OSError):
    """A path that is a folder, a pipe, a device or a socket where a plain file was expected."""


def open_regular(path: Path) -> BinaryIO:
    """Open a plain file for reading, refusing pipes, devices and sockets without blocking on them.

    A FIFO on a USB stick would otherwise make `open` wait for a writer for
    ever, and a device could be read without end.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
