"""What S3 reads from request headers and writes into response headers (pure functions):
ranges and parts, conditions, stored metadata, checksums a client expects.

Example::

    parse_range("bytes=0-99", size=1000)           # (0, 99)
    check_conditions(request.headers, etag, modified)   # None, 304, or PreconditionFailed
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..errors import ApiError
from ..resources.bucket import StoredObject
from ..resources.multipart import MAX_PARTS
from ..resources.objects import ALGORITHMS, DEFAULT_TYPE, STORED_HEADERS, Digests, Metadata
from .s3_xml import http_time, parse_http_time

#: S3's limits on tags and user metadata.
MAX_TAGS = 10
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_USER_METADATA_BYTES = 2048
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
#: ``response-<header>`` query parameters override these headers of a GET's answer.
OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


# --- ranges and conditions ------------------------------------------------------------------


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte a ``Range`` header asks for; None for the whole object (no
    header, or one S3 ignores: not a single byte range). ``InvalidRange`` (416) when the
    range starts past the end."""
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        count = int(last)
        if count == 0 or size == 0:
            raise _unsatisfiable(header, size)
        return max(0, size - count), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # not a valid range: S3 answers with the whole object
    if start >= size:
        raise _unsatisfiable(header, size)
    return start, min(end, size - 1)


def part_span(text: str, metadata: Metadata, size: int) -> tuple[int, int] | None:
    """The first and last byte of part ``text`` (``?partNumber``) of an object: that part of a
    multipart object; of any other object, part 1 is the whole of it (None: it is empty).
    ``InvalidArgument`` for a number outside 1..10,000, ``InvalidPartNumber`` (416) past the
    last part."""
    number = int(text) if text.isascii() and text.isdigit() else 0
    if not 1 <= number <= MAX_PARTS:
        raise ApiError(
            "InvalidArgument", f"Part number must be an integer between 1 and {MAX_PARTS}, "
            "inclusive", ArgumentName="partNumber", ArgumentValue=text,
        )  # fmt: skip
    # An object completed before eventsim kept part sizes reads as one part, as a PUT does.
    sizes = metadata.part_sizes or (size,)
    if number > len(sizes):
        raise ApiError(
            "InvalidPartNumber", "The requested partnumber is not satisfiable", 416,
            PartNumberRequested=text, ActualPartCount=str(len(sizes)),
        )  # fmt: skip
    first = sum(sizes[: number - 1])
    return (first, first + sizes[number - 1] - 1) if sizes[number - 1] else None


def _unsatisfiable(header: str, size: int) -> ApiError:
    return ApiError(
        "InvalidRange", "The requested range is not satisfiable", 416,
        RangeRequested=header, ActualObjectSize=str(size),
    )  # fmt: skip


def _etags(header: str) -> list[str]:
    return [e.strip().removeprefix("W/").strip('"') for e in header.split(",") if e.strip()]


def _matches(header: str, etag: str) -> bool:
    tags = _etags(header)
    return "*" in tags or etag in tags


def check_conditions(
    headers: Mapping[str, str], etag: str, modified: datetime, prefix: str = ""
) -> int | None:
    """Evaluate ``If-Match``, ``If-Unmodified-Since`` (412 ``PreconditionFailed`` when they
    fail), ``If-None-Match`` and ``If-Modified-Since`` (304 returned), in the order and with
    the precedence S3 applies. ``prefix``: ``x-amz-copy-source-`` for CopyObject's
    conditions, where every failure is a 412."""
    modified = modified.replace(microsecond=0)
    if_match = headers.get(f"{prefix}If-Match")
    if if_match is not None:
        if not _matches(if_match, etag):
            raise _failed(f"{prefix}If-Match")
    elif (since := _time(headers.get(f"{prefix}If-Unmodified-Since"))) is not None:
        if modified > since:
            raise _failed(f"{prefix}If-Unmodified-Since")
    not_modified = False
    if_none_match = headers.get(f"{prefix}If-None-Match")
    if if_none_match is not None:
        not_modified = _matches(if_none_match, etag)
    elif (since := _time(headers.get(f"{prefix}If-Modified-Since"))) is not None:
        not_modified = modified <= since
    if not not_modified:
        return None
    if prefix:
        raise _failed(f"{prefix}If-None-Match" if if_none_match else f"{prefix}If-Modified-Since")
    return 304


def _time(value: str | None) -> datetime | None:
    return parse_http_time(value) if value else None


def _failed(condition: str) -> ApiError:
    return ApiError(
        "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
        412, Condition=condition,
    )  # fmt: skip


# --- metadata -------------------------------------------------------------------------------


def metadata_from(headers: Mapping[str, str], *, tags: bool = True) -> Metadata:
    """The metadata a write stores: standard headers, ``x-amz-meta-*``, ``x-amz-tagging``."""
    stored = {name: headers[name] for name in STORED_HEADERS if headers.get(name)}
    stored.setdefault("Content-Type", DEFAULT_TYPE)
    if "Content-Encoding" in stored:  # aws-chunked frames the body; it is not the object's
        codings = [c.strip() for c in stored["Content-Encoding"].split(",")]
        kept = [c for c in codings if c and c.lower() != "aws-chunked"]
        if kept:
            stored["Content-Encoding"] = ", ".join(kept)
        else:
            del stored["Content-Encoding"]
    user = {
        name[len("x-amz-meta-") :].lower(): value
        for name, value in headers.items()
        if name.lower().startswith("x-amz-meta-")
    }
    size = sum(len(k.encode()) + len(v.encode()) for k, v in user.items())
    if size > MAX_USER_METADATA_BYTES:
        raise ApiError(
            "MetadataTooLarge",
            f"Your metadata headers exceed the maximum allowed metadata size ({size} bytes; "
            f"S3 allows {MAX_USER_METADATA_BYTES})",
        )
    tagging = headers.get("x-amz-tagging") if tags else None
    return Metadata(headers=stored, user=user, tags=parse_tagging(tagging) if tagging else {})


def parse_tagging(query: str) -> dict[str, str]:
    """``x-amz-tagging``'s URL-encoded ``k1=v1&k2=v2`` as tags, checked as S3 checks them."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    return check_tags(pairs)


def check_tags(pairs: list[tuple[str, str]]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for key, value in pairs:
        if key in tags:
            raise ApiError("InvalidTag", f"Cannot provide multiple Tags with the same key: {key}")
        if not key or len(key) > MAX_TAG_KEY:
            raise ApiError("InvalidTag", f"The TagKey you have provided is invalid: {key!r}")
        if len(value) > MAX_TAG_VALUE:
            raise ApiError("InvalidTag", f"The TagValue you have provided is invalid: {value!r}")
        tags[key] = value
    if len(tags) > MAX_TAGS:
        raise ApiError("BadRequest", f"Object tags cannot be greater than {MAX_TAGS}")
    return tags


def object_headers(obj: StoredObject, query: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers of a GET or HEAD answer for ``obj`` (``query``: a GET's ``response-*``
    overrides)."""
    metadata = obj.metadata
    headers = {
        "ETag": f'"{obj.etag}"',
        "Last-Modified": http_time(obj.last_modified),
        "Accept-Ranges": "bytes",
        "Content-Type": metadata.content_type(),
    }
    headers.update(metadata.headers)
    for name, value in metadata.user.items():
        headers[f"x-amz-meta-{name}"] = value
    if metadata.tags:
        headers["x-amz-tagging-count"] = str(len(metadata.tags))
    for parameter, header in OVERRIDES.items():
        if query is not None and parameter in query:
            headers[header] = query[parameter]
    return headers


def checksum_headers(metadata: Metadata) -> dict[str, str]:
    """``x-amz-checksum-*`` of the checksums stored at upload (for ``ChecksumMode``)."""
    return {f"x-amz-checksum-{a.lower()}": v for a, v in metadata.checksums.items()}


# --- checksums a client sends ---------------------------------------------------------------


@dataclass
class Expected:
    """The digests a request's body must have: ``Content-MD5`` and ``x-amz-checksum-*``
    (from headers, or from an aws-chunked body's trailer, filled in as it arrives)."""

    md5: bytes | None = None
    checksums: dict[str, str] = field(default_factory=dict)
    algorithms: tuple[str, ...] = ()

    def check(self, digests: Digests) -> None:
        """``BadDigest`` unless the body matches every digest announced."""
        if self.md5 is not None and digests.md5 != self.md5:
            raise ApiError(
                "BadDigest", "The Content-MD5 you specified did not match what we received."
            )
        computed = digests.checksums()
        for algorithm, value in self.checksums.items():
            if computed.get(algorithm) != value:
                raise ApiError(
                    "BadDigest",
                    f"The {algorithm} you specified did not match the calculated checksum.",
                )


def expected(headers: Mapping[str, str]) -> Expected:
    """What ``headers`` announce of the body: ``InvalidDigest`` for a ``Content-MD5`` that is
    no MD5, ``InvalidRequest`` for a checksum that is not base64 of the right length."""
    result = Expected()
    md5 = headers.get("Content-MD5")
    if md5 is not None:
        try:
            result.md5 = base64.b64decode(md5, validate=True)
        except (binascii.Error, ValueError):
            result.md5 = b""
        if len(result.md5) != 16:
            raise ApiError("InvalidDigest", "The Content-MD5 you specified was invalid.")
    for algorithm in ALGORITHMS:
        value = headers.get(f"x-amz-checksum-{algorithm.lower()}")
        if value is not None:
            _check_base64(algorithm, value)
            result.checksums[algorithm] = value
    announced = headers.get("x-amz-sdk-checksum-algorithm", "").upper()
    trailer = headers.get("x-amz-trailer", "").lower()
    algorithms = set(result.checksums)
    if announced in ALGORITHMS:
        algorithms.add(announced)
    for algorithm in ALGORITHMS:
        if trailer == f"x-amz-checksum-{algorithm.lower()}":
            algorithms.add(algorithm)
    result.algorithms = tuple(sorted(algorithms))
    return result


_WIDTHS = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}


def _check_base64(algorithm: str, value: str) -> None:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _WIDTHS[algorithm]:
        raise ApiError(
            "InvalidRequest", f"Value for x-amz-checksum-{algorithm.lower()} header is invalid."
        )


def add_trailer(result: Expected, name: str, value: str) -> None:
    """A checksum sent in an aws-chunked body's trailer."""
    name = name.strip().lower()
    for algorithm in ALGORITHMS:
        if name == f"x-amz-checksum-{algorithm.lower()}":
            _check_base64(algorithm, value.strip())
            result.checksums[algorithm] = value.strip()
