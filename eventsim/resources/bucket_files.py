"""The file operations of a bucket folder, knowing nothing of keys or manifests: opening a
regular file without following links, MD5s, writing a body into a new file, renaming a file
into place with the folders on its way, removing folders left empty.

Every function here raises what the filesystem raises; the bucket turns that into S3's errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import stat
from collections.abc import AsyncIterable
from pathlib import Path
from typing import BinaryIO

from .objects import Digests

#: Temporary files in a bucket folder start with this: never announced, never listed.
TEMP_PREFIX = ".eventsim-tmp-"
#: A streamed body is written a megabyte at a time: a thread hop per MB, not per socket read.
CHUNK = 1 << 20

#: What an object is written from: the whole body, or its chunks as they arrive.
Body = bytes | AsyncIterable[bytes]


async def write_new(path: Path, body: Body, digests: Digests) -> None:
    """Write ``body`` into a new file at ``path`` off the loop, feeding ``digests``; the file
    is removed if that fails."""
    file = await asyncio.to_thread(open, path, "xb")
    try:
        if isinstance(body, bytes):
            await asyncio.to_thread(_write_chunk, file, digests, body)
        else:
            pending = bytearray()
            async for chunk in body:
                pending += chunk
                if len(pending) >= CHUNK:
                    await asyncio.to_thread(_write_chunk, file, digests, bytes(pending))
                    pending.clear()
            if pending:
                await asyncio.to_thread(_write_chunk, file, digests, bytes(pending))
    except BaseException:
        await asyncio.to_thread(_discard, file, path)
        raise
    await asyncio.to_thread(file.close)


def _write_chunk(file: BinaryIO, digests: Digests, chunk: bytes) -> None:
    digests.update(chunk)
    file.write(chunk)


def _discard(file: BinaryIO, path: Path) -> None:
    file.close()
    path.unlink(missing_ok=True)


def install(temporary: Path, path: Path, root: str) -> os.stat_result:
    """Rename ``temporary`` to ``path``, making the folders on the way below ``root`` (and
    removing those it made if it fails); the file's stat."""
    made: list[str] = []
    try:
        try:
            os.replace(temporary, path)
        except FileNotFoundError:
            made = make_folders(path.parent, root)
            os.replace(temporary, path)
        return os.lstat(path)
    except OSError:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise


def lstat_or_none(path: Path) -> os.stat_result | None:
    """``os.lstat``, or None when there is nothing at ``path``."""
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def make_folders(folder: Path, root: str) -> list[str]:
    """Create ``folder`` and its missing parents below ``root``; the folders made, top first."""
    missing = []
    current = str(folder)
    while current != root and not os.path.isdir(current):
        missing.append(current)
        current = os.path.dirname(current)
    made: list[str] = []
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            if not os.path.isdir(path):
                raise
            continue
        except OSError:
            for done in reversed(made):
                with contextlib.suppress(OSError):
                    os.rmdir(done)
            raise
        made.append(path)
    return made


def remove_empty_folders(folder: Path, root: str) -> None:
    """Remove ``folder`` and its parents below ``root`` while they are empty."""
    current = str(folder)
    while current != root and current.startswith(root):
        try:
            os.rmdir(current)
        except OSError:
            return  # not empty (or gone): stop
        current = os.path.dirname(current)


def open_regular(path: Path, whole: int) -> tuple[BinaryIO, os.stat_result, bytes | None] | None:
    """Open a regular file (never through a link); its stat, and its body if ``whole`` bytes
    or fewer. None if there is no such file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symbolic link
            return None
        raise
    try:
        info = os.fstat(fd)
    except BaseException:
        os.close(fd)
        raise
    # A folder opens too (read-only, on POSIX): the prefix of other keys is not an object.
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return None
    file = os.fdopen(fd, "rb")
    try:
        body = file.read() if info.st_size <= whole else None
        if body is not None and len(body) != info.st_size:
            body = None  # it changed while being read: stream it instead
            file.seek(0)
    except BaseException:
        file.close()
        raise
    return file, info, body


def read_all(file: BinaryIO, size: int) -> bytes | None:
    """The rest of ``file`` if it is ``size`` bytes (None: it changed; stream it instead)."""
    body = file.read()
    if len(body) != size:
        file.seek(0)
        return None
    return body


def md5_of(path: Path) -> tuple[str, int]:
    """The MD5 (hex) of the file at ``path`` and the number of bytes read."""
    with open(path, "rb") as file:
        digest = hashlib.file_digest(file, "md5")
        return digest.hexdigest(), file.tell()


def md5_of_open(file: BinaryIO) -> str:
    """The MD5 (hex) of an open file's whole content; its position is kept."""
    position = file.tell()
    file.seek(0)
    digest = hashlib.file_digest(file, "md5")  # type: ignore[arg-type]  # has readinto
    file.seek(position)
    return digest.hexdigest()
