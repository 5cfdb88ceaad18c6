"""Request bodies of the S3 API, streamed: never held whole in memory.

An object's body arrives as sent (``Content-Length`` bytes, or HTTP chunked), or framed in
``aws-chunked`` encoding (``x-amz-content-sha256: STREAMING-...``, used by SDKs that send a
checksum in a trailer): ``<hex size>[;chunk-signature=...]\\r\\n<bytes>\\r\\n`` ... ``0\\r\\n``,
then trailer lines such as ``x-amz-checksum-crc32:...`` and an empty line. The chunk
signatures are not verified (eventsim verifies no signature); the trailer's checksum is.

Each read waits at most ``idle`` seconds for more bytes (S3's ``RequestTimeout``), so a slow
client is cut off without bounding how long a large upload may take in total.

Example::

    async for chunk in chunks(request, expectation, idle=60):
        ...
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from ..errors import ApiError
from .s3_headers import Expected, add_trailer

#: S3's largest single PUT (and part): 5 GiB.
MAX_OBJECT_BYTES = 5 * 1024**3
#: The largest aws-chunked chunk taken (SDKs send 64 KB to 8 MB).
MAX_FRAME_BYTES = 64 * 1024**2
#: Seconds without a byte from the client before the request is given up.
IDLE_S = 60.0
_READ = 1 << 20


def is_aws_chunked(request: web.Request) -> bool:
    sha = request.headers.get("x-amz-content-sha256", "")
    encoding = request.headers.get("Content-Encoding", "").lower()
    return sha.startswith("STREAMING-") or "aws-chunked" in encoding


def declared_size(request: web.Request) -> int | None:
    """The object's size as the request announces it (None: chunked, unknown); refuses one
    over S3's limit before anything is read."""
    decoded = request.headers.get("x-amz-decoded-content-length")
    size: int | None
    try:
        size = int(decoded) if decoded is not None else request.content_length
    except ValueError:
        raise ApiError("InvalidArgument", "x-amz-decoded-content-length is no number") from None
    if size is not None and size > MAX_OBJECT_BYTES:
        raise ApiError(
            "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400,
            ProposedSize=str(size), MaxSizeAllowed=str(MAX_OBJECT_BYTES),
        )  # fmt: skip
    return size


async def chunks(
    request: web.Request, expected: Expected, idle: float = IDLE_S
) -> AsyncIterator[bytes]:
    """The object's bytes as they arrive (aws-chunked framing removed, its trailer's
    checksums added to ``expected``); ``IncompleteBody`` if fewer arrive than announced."""
    size = declared_size(request)
    received = 0
    source = _framed(request, expected, idle) if is_aws_chunked(request) else _plain(request, idle)
    async for chunk in source:
        received += len(chunk)
        if received > MAX_OBJECT_BYTES:
            raise declared_size_error(received)
        yield chunk
    if size is not None and received != size:
        raise ApiError(
            "IncompleteBody",
            f"You did not provide the number of bytes specified by the Content-Length HTTP "
            f"header ({received} of {size})",
        )


def declared_size_error(size: int) -> ApiError:
    return ApiError(
        "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400,
        ProposedSize=str(size), MaxSizeAllowed=str(MAX_OBJECT_BYTES),
    )  # fmt: skip


async def _read(coroutine: object, idle: float) -> bytes:
    try:
        async with asyncio.timeout(idle):
            return await coroutine  # type: ignore[no-any-return, misc]
    except TimeoutError:
        raise ApiError(
            "RequestTimeout",
            f"Your socket connection to the server was not read from or written to within "
            f"the timeout period ({idle:g} s without a byte)",
        ) from None
    except asyncio.IncompleteReadError:
        raise ApiError("IncompleteBody", "The request body ended early") from None
    except (RequestPayloadError, HttpProcessingError) as exc:
        raise ApiError("IncompleteBody", f"The request body is malformed: {exc}") from None


async def _plain(request: web.Request, idle: float) -> AsyncIterator[bytes]:
    content = request.content
    while chunk := await _read(content.read(_READ), idle):
        yield chunk


async def _framed(request: web.Request, expected: Expected, idle: float) -> AsyncIterator[bytes]:
    content = request.content
    while True:
        header = (await _read(content.readuntil(b"\r\n"), idle)).strip()
        size_text = header.split(b";", 1)[0]
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ApiError("IncompleteBody", "An aws-chunked chunk has no size") from None
        if size > MAX_FRAME_BYTES:
            raise ApiError("InvalidRequest", f"An aws-chunked chunk of {size} bytes is too big")
        if size == 0:
            break
        remaining = size
        while remaining:
            chunk = await _read(content.read(min(remaining, _READ)), idle)
            if not chunk:
                raise ApiError("IncompleteBody", "The request body ended inside a chunk")
            remaining -= len(chunk)
            yield chunk
        if await _read(content.readexactly(2), idle) != b"\r\n":
            raise ApiError("IncompleteBody", "An aws-chunked chunk does not end with CRLF")
    while line := (await _read(content.readuntil(b"\r\n"), idle)).strip():
        name, _, value = line.decode(errors="replace").partition(":")
        add_trailer(expected, name, value)


async def read_small(request: web.Request, limit: int, idle: float = IDLE_S) -> bytes:
    """The whole body of a request that carries a document (DeleteObjects, tagging...),
    refused over ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError("MaxMessageLengthExceeded", f"Your request was too big (over {limit} bytes)")
    body = bytearray()
    source = (
        _framed(request, Expected(), idle) if is_aws_chunked(request) else _plain(request, idle)
    )
    async for chunk in source:
        body += chunk
        if len(body) > limit:
            raise ApiError(
                "MaxMessageLengthExceeded", f"Your request was too big (over {limit} bytes)"
            )
    return bytes(body)
