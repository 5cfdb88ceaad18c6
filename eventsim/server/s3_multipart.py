"""S3's multipart upload on the edge: CreateMultipartUpload, UploadPart, UploadPartCopy,
CompleteMultipartUpload (``ObjectCreated:CompleteMultipartUpload``, ETag ``<md5>-<parts>``),
AbortMultipartUpload, ListParts and ListMultipartUploads. boto3's ``upload_file`` uses it for
files over 8 MB. The uploads themselves live in ``eventsim.resources.multipart``.
"""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from ..errors import ApiError
from ..resources.multipart import MAX_PARTS, Uploads
from .s3_body import read_small
from .s3_call import Call
from .s3_headers import expected, metadata_from
from .s3_objects import file_chunks, open_source, request_body
from .s3_xml import (
    child_text,
    document,
    iso_time,
    owner_xml,
    parse,
    tag,
    text_tag,
    xml_response,
)


def _upload_id(call: Call) -> str:
    return call.request.query.get("uploadId", "")


def _int(call: Call, name: str, default: int, high: int) -> int:
    text = call.request.query.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= high:
        raise ApiError(
            "InvalidArgument", f"{name} must be an integer between 0 and {high}",
            ArgumentName=name, ArgumentValue=text,
        )  # fmt: skip
    return value


async def create(call: Call) -> web.StreamResponse:
    bucket = call.bucket()
    metadata = metadata_from(call.request.headers)
    upload = Uploads(bucket).create(call.object_key(), metadata, call.now())
    body = document(
        "InitiateMultipartUploadResult",
        text_tag("Bucket", bucket.name),
        text_tag("Key", upload.key),
        text_tag("UploadId", upload.upload_id),
    )
    return xml_response(body)


async def upload_part(call: Call) -> web.StreamResponse:
    bucket = call.bucket()
    uploads = Uploads(bucket)
    upload_id = _upload_id(call)
    uploads.get(upload_id, call.object_key())
    number = _int(call, "partNumber", 0, MAX_PARTS)
    if "x-amz-copy-source" in call.request.headers:
        return await _copy_part(call, uploads, upload_id, number)
    expectation = expected(call.request.headers)
    part = await uploads.put_part(
        upload_id, number, await request_body(call, expectation), now=call.now(),
        algorithms=expectation.algorithms, check=expectation.check,
    )  # fmt: skip
    headers = {"ETag": f'"{part.etag}"'}
    headers.update({f"x-amz-checksum-{a.lower()}": v for a, v in part.checksums.items()})
    return web.Response(headers=headers)


async def _copy_part(call: Call, uploads: Uploads, upload_id: str, number: int) -> web.Response:
    opened = await open_source(call)
    try:
        size = opened.info.size
        first, last = 0, size - 1
        wanted = call.request.headers.get("x-amz-copy-source-range")
        if wanted:
            try:
                start, end = wanted.strip().removeprefix("bytes=").split("-")
                first, last = int(start), int(end)
            except ValueError:
                first, last = -1, -1
            if not 0 <= first <= last < size:
                raise ApiError(
                    "InvalidArgument", "The x-amz-copy-source-range value must be of the form "
                    "bytes=first-last where first and last are the zero-based offsets of the "
                    "first and last bytes to copy, within the object",
                    ArgumentName="x-amz-copy-source-range", ArgumentValue=wanted,
                )  # fmt: skip
        source = file_chunks(opened.file, first, last - first + 1)
        part = await uploads.put_part(upload_id, number, source, now=call.now())
    finally:
        opened.file.close()
    body = document(
        "CopyPartResult",
        text_tag("LastModified", iso_time(datetime.fromisoformat(part.modified))),
        text_tag("ETag", f'"{part.etag}"'),
    )
    return xml_response(body)


async def complete(call: Call) -> web.StreamResponse:
    bucket = call.bucket()
    uploads = Uploads(bucket)
    upload_id = _upload_id(call)
    uploads.get(upload_id, call.object_key())
    root = parse(await read_small(call.request, 2 * 1024 * 1024), "CompleteMultipartUpload")
    chosen = []
    for node in root.findall("Part"):
        try:
            number = int(child_text(node, "PartNumber") or "")
        except ValueError:
            raise ApiError("MalformedXML", "A Part has no PartNumber") from None
        chosen.append((number, child_text(node, "ETag") or ""))
    change = await uploads.complete(upload_id, chosen)
    location = f"{call.request.scheme}://{call.request.host}/{bucket.name}/{change.key}"
    body = document(
        "CompleteMultipartUploadResult",
        text_tag("Location", location),
        text_tag("Bucket", bucket.name),
        text_tag("Key", change.key),
        text_tag("ETag", f'"{change.etag}"'),
    )
    return xml_response(body)


async def abort(call: Call) -> web.StreamResponse:
    uploads = Uploads(call.bucket())
    upload_id = _upload_id(call)
    uploads.get(upload_id, call.object_key())
    await uploads.abort(upload_id)
    return web.Response(status=204)


async def list_parts(call: Call) -> web.StreamResponse:
    bucket = call.bucket()
    uploads = Uploads(bucket)
    upload_id = _upload_id(call)
    upload = uploads.get(upload_id, call.object_key())
    limit = _int(call, "max-parts", 1000, 1000)
    marker = _int(call, "part-number-marker", 0, MAX_PARTS)
    parts = uploads.parts(upload_id, marker, limit + 1)
    truncated = len(parts) > limit
    parts = parts[:limit]
    entries = [
        tag(
            "Part",
            text_tag("PartNumber", p.number),
            text_tag("LastModified", iso_time(datetime.fromisoformat(p.modified))),
            text_tag("ETag", f'"{p.etag}"'),
            text_tag("Size", p.size),
        )
        for p in parts
    ]
    body = document(
        "ListPartsResult",
        text_tag("Bucket", bucket.name),
        text_tag("Key", upload.key),
        text_tag("UploadId", upload_id),
        tag("Initiator", text_tag("ID", "eventsim"), text_tag("DisplayName", "eventsim")),
        owner_xml(),
        text_tag("StorageClass", "STANDARD"),
        text_tag("PartNumberMarker", marker),
        text_tag("NextPartNumberMarker", parts[-1].number if parts else marker),
        text_tag("MaxParts", limit),
        text_tag("IsTruncated", truncated),
        *entries,
    )
    return xml_response(body)


async def list_uploads(call: Call) -> web.StreamResponse:
    bucket = call.bucket()
    query = call.request.query
    prefix = query.get("prefix", "")
    limit = _int(call, "max-uploads", 1000, 1000)
    key_marker = query.get("key-marker", "")
    found = [u for u in Uploads(bucket).in_progress(prefix, limit + 1) if u.key > key_marker]
    truncated = len(found) > limit
    found = found[:limit]
    entries = [
        tag(
            "Upload",
            text_tag("Key", u.key),
            text_tag("UploadId", u.upload_id),
            tag("Initiator", text_tag("ID", "eventsim"), text_tag("DisplayName", "eventsim")),
            owner_xml(),
            text_tag("StorageClass", "STANDARD"),
            text_tag("Initiated", iso_time(datetime.fromisoformat(u.initiated))),
        )
        for u in found
    ]
    body = document(
        "ListMultipartUploadsResult",
        text_tag("Bucket", bucket.name),
        text_tag("KeyMarker", key_marker),
        text_tag("UploadIdMarker", query.get("upload-id-marker", "")),
        text_tag("NextKeyMarker", found[-1].key if truncated else None),
        text_tag("NextUploadIdMarker", found[-1].upload_id if truncated else None),
        text_tag("Prefix", prefix),
        text_tag("MaxUploads", limit),
        text_tag("IsTruncated", truncated),
        *entries,
    )
    return xml_response(body)
