"""S3's object operations on the edge: GetObject, HeadObject (a byte range or a part of a
multipart object), PutObject, CopyObject, DeleteObject, DeleteObjects and object tagging.

Bodies are streamed both ways: an upload goes to a temporary file in the bucket folder as it
arrives (its MD5 and checksums computed on the way, ``BadDigest`` if they differ from what the
client announced), then renamed into place and announced; a download is read from the file a
megabyte at a time. An object of up to 1 MB is read or written in one step instead.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import BinaryIO

from aiohttp import web

from ..errors import ApiError, InvalidKey
from ..resources.bucket import WHOLE_BODY_BYTES, BucketSource, OpenObject, StoredObject
from ..resources.objects import Digests, Metadata
from .s3_body import chunks, declared_size, is_aws_chunked, read_small
from .s3_call import Call, no_such_key, not_held
from .s3_headers import (
    Expected,
    check_conditions,
    check_tags,
    checksum_headers,
    expected,
    metadata_from,
    object_headers,
    parse_range,
    part_span,
)
from .s3_xml import (
    HOST_ID,
    child_text,
    document,
    http_time,
    iso_time,
    parse,
    request_id,
    tag,
    text_tag,
    xml_response,
)

_CHUNK = 1 << 20
#: DeleteObjects takes at most this many keys.
MAX_DELETE_KEYS = 1000


# --- reading --------------------------------------------------------------------------------


async def _open(call: Call, whole: int = WHOLE_BODY_BYTES) -> OpenObject:
    return await _open_in(call.bucket(), call.object_key(), whole)


async def _open_in(bucket: BucketSource, key: str, whole: int = WHOLE_BODY_BYTES) -> OpenObject:
    """``key`` opened for reading; ``NoSuchKey`` if there is no such object (or none can be:
    see ``not_held``)."""
    try:
        opened = await bucket.open_object(key, whole)
    except InvalidKey as exc:
        raise not_held(key, exc) from None
    if opened is None:
        raise no_such_key(key)
    return opened


async def get_object(call: Call) -> web.StreamResponse:
    return await _read(call, with_body=True)


async def head_object(call: Call) -> web.StreamResponse:
    return await _read(call, with_body=False)


async def _read(call: Call, *, with_body: bool) -> web.StreamResponse:
    request = call.request
    opened = await _open(call, WHOLE_BODY_BYTES if with_body else 0)
    streaming = False
    try:
        obj = opened.info
        if check_conditions(request.headers, obj.etag, obj.last_modified) == 304:
            headers = {"ETag": f'"{obj.etag}"', "Last-Modified": http_time(obj.last_modified)}
            return web.Response(status=304, headers=headers)
        headers = object_headers(obj, request.query if with_body else None)
        span = _span(call, obj)
        if "partNumber" in request.query and obj.metadata.parts is not None:
            headers["x-amz-mp-parts-count"] = str(obj.metadata.parts)
        first, last = span if span is not None else (0, obj.size - 1)
        length = last - first + 1 if obj.size else 0
        status = 206 if span is not None else 200
        if span is not None:
            headers["Content-Range"] = f"bytes {first}-{last}/{obj.size}"
        elif request.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED":
            headers.update(checksum_headers(obj.metadata))
        if not with_body:
            headers["Content-Length"] = str(length)
            return web.Response(status=status, headers=headers)
        if opened.body is not None:
            return web.Response(status=status, body=opened.body[first : last + 1], headers=headers)
        headers.update({"x-amz-request-id": request_id(), "x-amz-id-2": HOST_ID})
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = length
        await response.prepare(request)
        streaming = True
        try:
            async for chunk in file_chunks(opened.file, first, length):
                await response.write(chunk)
        finally:
            await asyncio.to_thread(opened.file.close)
        await response.write_eof()
        return response
    finally:
        if not streaming:
            opened.file.close()


def _span(call: Call, obj: StoredObject) -> tuple[int, int] | None:
    """The bytes a read asks for: a ``Range``, or a part (``?partNumber``), never both; None
    for the whole object."""
    part, wanted = call.request.query.get("partNumber"), call.request.headers.get("Range")
    if part is None:
        return parse_range(wanted, obj.size)
    if wanted:
        raise ApiError(
            "InvalidRequest", "Cannot specify both Range header and partNumber query parameter"
        )
    return part_span(part, obj.metadata, obj.size)


async def file_chunks(file: BinaryIO, start: int, length: int) -> AsyncIterator[bytes]:
    """``length`` bytes of ``file`` from ``start``, a megabyte at a time."""
    await asyncio.to_thread(file.seek, start)
    remaining = length
    while remaining > 0:
        chunk = await asyncio.to_thread(file.read, min(_CHUNK, remaining))
        if not chunk:
            return  # the file shrank under us: the client sees a short body
        remaining -= len(chunk)
        yield chunk


# --- writing --------------------------------------------------------------------------------


async def put_or_copy(call: Call) -> web.StreamResponse:
    if "x-amz-copy-source" in call.request.headers:
        return await copy_object(call)
    return await put_object(call)


async def request_body(call: Call, expectation: Expected) -> bytes | AsyncIterator[bytes]:
    """A small body read whole (one step to disk), a large or unsized one as a stream."""
    request = call.request
    size = declared_size(request)
    if size is not None and size <= WHOLE_BODY_BYTES and not is_aws_chunked(request):
        body = bytearray()
        async for chunk in chunks(request, expectation):
            body += chunk
        return bytes(body)
    return chunks(request, expectation)


def _check_write_conditions(call: Call, bucket: BucketSource) -> None:
    """Conditional writes: ``If-None-Match: *`` (only if absent), ``If-Match`` (only over
    that ETag)."""
    headers = call.request.headers
    if_none_match, if_match = headers.get("If-None-Match"), headers.get("If-Match")
    if if_none_match is None and if_match is None:
        return
    current = bucket.head(call.object_key())
    if if_none_match is not None and if_none_match.strip() == "*" and current is not None:
        raise _failed("If-None-Match")
    if if_match is not None:
        if current is None:
            raise no_such_key(call.object_key())
        if current[0].etag is not None and current[0].etag != if_match.strip().strip('"'):
            raise _failed("If-Match")


def _failed(condition: str) -> ApiError:
    return ApiError(
        "PreconditionFailed", "At least one of the pre-conditions you specified did not hold",
        412, Condition=condition,
    )  # fmt: skip


async def put_object(call: Call) -> web.StreamResponse:
    bucket = call.bucket()
    key = call.object_key()
    bucket.path_of(key)  # refuse an unusable key before reading the body
    _check_write_conditions(call, bucket)
    expectation = expected(call.request.headers)
    metadata = metadata_from(call.request.headers)
    body = await request_body(call, expectation)
    change = await bucket.write(
        key, body, kind="Put", metadata=metadata, algorithms=expectation.algorithms,
        check=expectation.check,
    )  # fmt: skip
    headers = {"ETag": f'"{change.etag}"'}
    stored = bucket.head(key)
    if stored is not None:
        headers.update(checksum_headers(stored[1]))
    return web.Response(headers=headers)


def copy_source(call: Call) -> tuple[BucketSource, str]:
    """The bucket and key ``x-amz-copy-source`` names (``/bucket/key``, URL-encoded)."""
    raw = call.request.headers["x-amz-copy-source"]
    path, _, version = raw.partition("?")
    if version and version.removeprefix("versionId=") not in ("", "null"):
        raise ApiError("NoSuchVersion", "The specified version does not exist.", 404)
    name, _, key = urllib.parse.unquote(path).lstrip("/").partition("/")
    if not name or not key:
        raise ApiError(
            "InvalidArgument", "Copy Source must mention the source bucket and key: "
            "sourcebucket/sourcekey", ArgumentName="x-amz-copy-source", ArgumentValue=raw,
        )  # fmt: skip
    return call.bucket(name), key


async def open_source(call: Call) -> OpenObject:
    """The copy source, opened, its ``x-amz-copy-source-if-*`` conditions checked."""
    bucket, key = copy_source(call)
    opened = await _open_in(bucket, key)
    try:
        obj = opened.info
        check_conditions(call.request.headers, obj.etag, obj.last_modified, "x-amz-copy-source-")
    except BaseException:
        opened.file.close()
        raise
    return opened


async def copy_object(call: Call) -> web.StreamResponse:
    bucket = call.bucket()
    key = call.object_key()
    bucket.path_of(key)
    headers = call.request.headers
    await read_small(call.request, 0)  # a copy carries no body
    directive = headers.get("x-amz-metadata-directive", "COPY").upper()
    tagging = headers.get("x-amz-tagging-directive", "COPY").upper()
    for name, value in (("x-amz-metadata-directive", directive),
                        ("x-amz-tagging-directive", tagging)):  # fmt: skip
        if value not in ("COPY", "REPLACE"):
            raise ApiError(
                "InvalidArgument", f"Unknown {name} value", ArgumentName=name, ArgumentValue=value
            )
    opened = await open_source(call)
    try:
        source = opened.info
        same = copy_source(call) == (bucket, key)
        if same and directive == "COPY" and tagging == "COPY":
            raise ApiError(
                "InvalidRequest",
                "This copy request is illegal because it is trying to copy an object to itself "
                "without changing the object's metadata, storage class, website redirect "
                "location or encryption attributes.",
            )
        given = metadata_from(headers)
        metadata = (
            given if directive == "REPLACE"
            else Metadata(headers=source.metadata.headers, user=source.metadata.user)
        )  # fmt: skip
        metadata = metadata.replace(
            tags=given.tags if tagging == "REPLACE" else source.metadata.tags
        )
        body: bytes | AsyncIterator[bytes] = (
            opened.body if opened.body is not None
            else file_chunks(opened.file, 0, source.size)
        )  # fmt: skip
        change = await bucket.write(key, body, kind="Copy", metadata=metadata)
    finally:
        opened.file.close()
    stored = bucket.head(key)
    modified = stored[0].mtime_ns if stored else 0
    result = document(
        "CopyObjectResult",
        text_tag("LastModified", iso_time(datetime.fromtimestamp(modified // 10**9, UTC))),
        text_tag("ETag", f'"{change.etag}"'),
    )
    return xml_response(result)


# --- deleting -------------------------------------------------------------------------------


async def delete_object(call: Call) -> web.StreamResponse:
    await _delete(call.bucket(), call.object_key())
    return web.Response(status=204)


async def _delete(bucket: BucketSource, key: str) -> None:
    """Delete ``key``; a key eventsim cannot hold names no object, so deleting it succeeds
    and announces nothing, as deleting any absent key does in S3."""
    try:
        await bucket.delete_object(key)
    except InvalidKey as exc:
        error = not_held(key, exc)
        if error.code != "NoSuchKey":
            raise error from None


async def delete_objects(call: Call) -> web.StreamResponse:
    bucket = call.bucket()
    raw = await read_small(call.request, 2 * 1024 * 1024)
    expectation = expected(call.request.headers)
    digests = Digests(expectation.algorithms)
    digests.update(raw)
    expectation.check(digests)
    root = parse(raw, "Delete")
    quiet = (child_text(root, "Quiet") or "").strip().lower() == "true"
    keys = [child_text(node, "Key") or "" for node in root.findall("Object")]
    if not keys or len(keys) > MAX_DELETE_KEYS:  # S3's schema: 1 to 1,000 Objects
        raise ApiError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our "
            f"published schema (DeleteObjects takes 1 to {MAX_DELETE_KEYS} keys)",
        )
    results = []
    for key in keys:
        try:
            await _delete(bucket, key)
        except ApiError as exc:
            results.append(tag(
                "Error", text_tag("Key", key), text_tag("Code", exc.code),
                text_tag("Message", str(exc)),
            ))  # fmt: skip
            continue
        if not quiet:
            results.append(tag("Deleted", text_tag("Key", key)))
    return xml_response(document("DeleteResult", *results))


# --- tagging --------------------------------------------------------------------------------


def _stored(call: Call) -> tuple[BucketSource, Metadata]:
    bucket = call.bucket()
    found = bucket.head(call.object_key())
    if found is None:
        raise no_such_key(call.object_key())
    return bucket, found[1]


async def get_tagging(call: Call) -> web.StreamResponse:
    _, metadata = _stored(call)
    tags = [tag("Tag", text_tag("Key", k), text_tag("Value", v)) for k, v in metadata.tags.items()]
    return xml_response(document("Tagging", tag("TagSet", *tags)))


async def put_tagging(call: Call) -> web.StreamResponse:
    bucket, metadata = _stored(call)
    root = parse(await read_small(call.request, 64 * 1024), "Tagging")
    pairs = [
        (child_text(node, "Key") or "", child_text(node, "Value") or "")
        for node in root.iter("Tag")
    ]
    tags = check_tags(pairs)
    if not await bucket.set_metadata(call.object_key(), metadata.replace(tags=tags)):
        raise no_such_key(call.object_key())
    return web.Response()


async def delete_tagging(call: Call) -> web.StreamResponse:
    bucket, metadata = _stored(call)
    if not await bucket.set_metadata(call.object_key(), metadata.replace(tags={})):
        raise no_such_key(call.object_key())
    return web.Response(status=204)
