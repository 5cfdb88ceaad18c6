"""What S3 keeps about an object besides its bytes, and the digests that check those bytes.

``Metadata`` is kept per object in the bucket's manifest (never in the folder): the standard
headers (Content-Type, Content-Encoding...), the user's ``x-amz-meta-*``, the tags, the
checksums a writer sent, and the number and sizes of the parts of a multipart object (so
that ``?partNumber`` reads one). A file dropped into the folder by hand has none: its
Content-Type is guessed from its name (``guess_type``).

``Digests`` computes, in one pass over a body, its MD5 (the ETag of a single PUT) and the
checksums a client asked for (``x-amz-checksum-*``: CRC32, CRC32C, CRC64NVME, SHA1, SHA256).

Example::

    digests = Digests(["CRC32"])
    digests.update(b"hello")
    digests.etag                     # "5d41402abc4b2a76b9719d911017c592"
    digests.checksums()              # {"CRC32": "NhCmhg=="}
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

#: S3's type for an object written without one.
DEFAULT_TYPE = "binary/octet-stream"
#: The standard headers S3 stores with an object and returns on GET and HEAD.
STORED_HEADERS = (
    "Content-Type",
    "Content-Encoding",
    "Content-Language",
    "Content-Disposition",
    "Cache-Control",
    "Expires",
)
#: Checksum algorithms by S3's name; the header is ``x-amz-checksum-<name lower-cased>``.
ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")


def guess_type(key: str) -> str:
    """The Content-Type of a file dropped by hand, from its name."""
    return mimetypes.guess_type(key, strict=False)[0] or DEFAULT_TYPE


@dataclass(frozen=True)
class Metadata:
    """An object's stored metadata (see the module docstring)."""

    headers: dict[str, str] = field(default_factory=dict)
    user: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    parts: int | None = None
    #: The size of each part, in order (a multipart object; ``?partNumber`` reads one).
    part_sizes: tuple[int, ...] = ()

    @classmethod
    def guessed(cls, key: str) -> Metadata:
        return cls(headers={"Content-Type": guess_type(key)})

    def content_type(self) -> str:
        return self.headers.get("Content-Type", DEFAULT_TYPE)

    def to_json(self) -> str:
        data: dict[str, Any] = {"headers": self.headers, "user": self.user}
        if self.tags:
            data["tags"] = self.tags
        if self.checksums:
            data["checksums"] = self.checksums
        if self.parts is not None:
            data["parts"] = self.parts
        if self.part_sizes:
            data["part_sizes"] = self.part_sizes
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Metadata:
        data = json.loads(text)
        return cls(
            headers=dict(data.get("headers", {})),
            user=dict(data.get("user", {})),
            tags=dict(data.get("tags", {})),
            checksums=dict(data.get("checksums", {})),
            parts=data.get("parts"),
            part_sizes=tuple(data.get("part_sizes", ())),
        )

    def replace(self, **changes: Any) -> Metadata:
        values = {
            "headers": self.headers, "user": self.user, "tags": self.tags,
            "checksums": self.checksums, "parts": self.parts, "part_sizes": self.part_sizes,
            **changes,
        }  # fmt: skip
        return Metadata(**values)


# --- digests --------------------------------------------------------------------------------


class _Hash(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    """A CRC computed with ``function(data, value)`` (zlib's signature)."""

    def __init__(self, function: Callable[[bytes, int], int], width: int) -> None:
        self._function = function
        self._width = width
        self._value = 0

    def update(self, data: bytes) -> None:
        self._value = self._function(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._width // 8, "big")


def _reflected_table(polynomial: int) -> list[int]:
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ polynomial if value & 1 else value >> 1
        table.append(value)
    return table


def _table_crc(polynomial: int, width: int) -> Callable[[bytes, int], int]:
    """A reflected CRC in pure Python (slow: a few MB/s; used without awscrt)."""
    table = _reflected_table(polynomial)
    mask = (1 << width) - 1

    def crc(data: bytes, value: int) -> int:
        value ^= mask
        for byte in data:
            value = table[(value ^ byte) & 0xFF] ^ (value >> 8)
        return value ^ mask

    return crc


def _crc_functions() -> dict[str, tuple[Callable[[bytes, int], int], int]]:
    functions = {
        "CRC32": (zlib.crc32, 32),
        "CRC32C": (_table_crc(0x82F63B78, 32), 32),
        "CRC64NVME": (_table_crc(0x9A6C9329AC4BC9B5, 64), 64),
    }
    # A Python client sends CRC32C or CRC64NVME only with awscrt installed (botocore computes
    # them with it): then eventsim, in the same environment, verifies them at native speed.
    try:
        from awscrt import checksums  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return functions
    functions["CRC32C"] = (checksums.crc32c, 32)
    functions["CRC64NVME"] = (checksums.crc64nvme, 64)
    return functions


_CRCS = _crc_functions()


def _new_hash(algorithm: str) -> _Hash:
    if algorithm in _CRCS:
        function, width = _CRCS[algorithm]
        return _Crc(function, width)
    return hashlib.new(algorithm.lower())


class Digests:
    """The MD5 and the chosen checksums of a body, fed in chunks."""

    def __init__(self, algorithms: Iterable[str] = ()) -> None:
        self._md5 = hashlib.md5()
        self._others = {a: _new_hash(a) for a in algorithms}
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        for digest in self._others.values():
            digest.update(chunk)
        self.size += len(chunk)

    @property
    def md5(self) -> bytes:
        return self._md5.digest()

    @property
    def etag(self) -> str:
        return self._md5.hexdigest()

    def checksums(self) -> dict[str, str]:
        """Each checksum asked for, base64 as in ``x-amz-checksum-*``."""
        return {a: base64.b64encode(d.digest()).decode() for a, d in self._others.items()}


def multipart_etag(part_md5s: Iterable[bytes]) -> str:
    """S3's ETag of a multipart object: the MD5 of the parts' MD5s, ``-`` and their count."""
    digests = list(part_md5s)
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"
