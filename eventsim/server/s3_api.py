"""S3's REST API on the edge: boto3's and the AWS CLI's S3 client against the bucket folders.

A request names its bucket in the path (``/bucket/key``, path style, what botocore sends to an
address such as ``http://127.0.0.1:8642``) or in the host (``bucket.localhost:8642/key``,
virtual-hosted style, what botocore sends to ``http://localhost:8642`` with
``addressing_style: virtual``). The operation is told from the method, whether a key is named,
and the sub-resource in the query (``?uploads``, ``?tagging``, ``?list-type=2``...): see
``_route``. Operations eventsim does not serve (ACLs, policies, versioning...) answer 501
``NotImplemented`` naming the operation.

Signatures (headers or presigned URLs) are accepted without being verified: eventsim holds no
secret to verify them with, and serves loopback only. A presigned URL past its
``X-Amz-Expires`` is refused, as S3 refuses it.

Example::

    s3 = boto3.client("s3", endpoint_url=sim.endpoint_url)
    s3.put_object(Bucket="uploads", Key="a.txt", Body=b"hi")   # ObjectCreated:Put
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar, cast
from xml.sax.saxutils import escape

import structlog
from aiohttp import web

from ..errors import ApiError, InvalidKey, MultipartError
from ..resources.listing import list_page
from ..resources.manifest import Entry
from . import s3_multipart, s3_objects
from .guard import host_name
from .s3_body import read_small
from .s3_call import Call
from .s3_xml import (
    HOST_ID,
    document,
    error_response,
    iso_time,
    owner_xml,
    request_id,
    tag,
    text_tag,
    xml_response,
)
from .services import Service

if TYPE_CHECKING:
    from ..simulator import Simulator

log = structlog.get_logger("eventsim.s3")

#: Bucket names as S3 accepts them (and not formatted as an IP address).
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
#: The largest document a request may carry (DeleteObjects of 1,000 keys, a
#: CompleteMultipartUpload of 10,000 parts): object bodies are streamed, not bounded here.
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
#: Sub-resources of S3 that name operations eventsim does not serve.
UNSERVED = (
    "acl", "policy", "cors", "lifecycle", "versioning", "versions", "website", "logging",
    "notification", "replication", "encryption", "object-lock", "retention", "legal-hold",
    "accelerate", "requestPayment", "analytics", "inventory", "metrics", "ownershipControls",
    "publicAccessBlock", "intelligent-tiering", "torrent", "restore", "select", "attributes",
    "policyStatus",
)  # fmt: skip


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


class S3Api:
    """The S3 service of the edge."""

    service: ClassVar[Service] = Service(
        "s3", "rest-xml", MAX_DOCUMENT_BYTES, too_large_code="EntityTooLarge"
    )
    #: The edge hands S3 its requests unread: object bodies are streamed to disk.
    streams_body: ClassVar[bool] = True

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def claims(self, request: web.Request) -> str | None:
        """``"s3"`` for a request no SigV4 scope names but an S3 client sends: a SigV2
        signature (boto3's presigned URLs, ``Authorization: AWS ...``), a virtual-hosted
        bucket, or an unsigned request for an existing bucket's path (a browser, curl)."""
        query = request.query
        if "AWSAccessKeyId" in query and "Signature" in query:
            return "s3"
        if request.headers.get("Authorization", "").startswith("AWS "):
            return "s3"
        host = host_name(request.headers.get("Host", ""))
        if host.endswith(".localhost") and BUCKET_NAME.match(host.removesuffix(".localhost")):
            return "s3"
        first = urllib.parse.unquote(request.path.split("/", 2)[1]) if request.path else ""
        return "s3" if first and first in self.sim.buckets else None

    def error(self, request: web.Request, error: ApiError) -> web.Response:
        return error_response(error, head=request.method == "HEAD")

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one request. A download is streamed: its answer is a ``StreamResponse``
        already sent when returned, which aiohttp takes as any other (``Api`` says
        ``Response``, as every other service answers with one)."""
        try:
            _refuse_expired(request)
            call = self._address(request)
            handler = _route(call)
            response = await handler(call)
        except ApiError as exc:
            return self.error(request, exc)
        except InvalidKey as exc:
            status = 400
            return self.error(request, ApiError(exc.code, str(exc), status))
        except MultipartError as exc:
            return self.error(request, ApiError(exc.code, str(exc), exc.status))
        if not response.prepared:  # a streamed answer has them already
            response.headers.setdefault("x-amz-request-id", request_id())
            response.headers.setdefault("x-amz-id-2", HOST_ID)
        return cast(web.Response, response)

    def _address(self, request: web.Request) -> Call:
        """The bucket and key a request names, virtual-hosted or path style."""
        raw = request.raw_path.partition("?")[0]  # as sent: no dot-segment folding
        if "://" in raw:  # an absolute URI in the request line
            raw = urllib.parse.urlsplit(raw).path
        host = host_name(request.headers.get("Host", ""))
        bucket: str | None = None
        if host.endswith(".localhost"):
            candidate = host.removesuffix(".localhost")
            if BUCKET_NAME.match(candidate):
                bucket = candidate
        if bucket is not None:
            key = raw[1:]
        else:
            name, _, key = raw[1:].partition("/")
            bucket = _unquoted(name) or None
        return Call(request, self.sim, bucket, _unquoted(key) or None)


def _refuse_expired(request: web.Request) -> None:
    """A presigned URL past its expiry is refused (its signature is never verified)."""
    query = request.query
    if "Signature" in query and "Expires" in query:  # SigV2: Expires is a Unix time
        try:
            expired = time.time() > int(query["Expires"])
        except ValueError:
            raise ApiError("AccessDenied", "Expires is not a number", 403) from None
        if expired:
            raise ApiError("AccessDenied", "Request has expired", 403, Expires=query["Expires"])
    signed, expires = query.get("X-Amz-Date"), query.get("X-Amz-Expires")
    if not signed or not expires:
        return
    try:
        start = datetime.strptime(signed, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        seconds = int(expires)
    except ValueError:
        raise ApiError(
            "AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed"
        ) from None
    if time.time() > start.timestamp() + seconds:  # real time: the URL was made in real time
        raise ApiError("AccessDenied", "Request has expired", 403, Expires=expires)


# --- routing --------------------------------------------------------------------------------


def _route(call: Call) -> Handler:
    """The operation a request asks for."""
    method, query = call.request.method, call.request.query
    for name in UNSERVED:
        if name in query:
            raise _not_served(call, f"the ?{name} sub-resource")
    if call.bucket_name is None:
        if method == "GET":
            return list_buckets
        raise _not_served(call, f"{method} on the service")
    if call.key is None:
        routes: dict[tuple[str, str | None], Handler] = {
            ("GET", "location"): get_bucket_location,
            ("GET", "uploads"): s3_multipart.list_uploads,
            ("GET", "tagging"): _unserved_bucket_tagging,
            ("GET", "list-type"): list_objects_v2,
            ("GET", None): list_objects_v1,
            ("HEAD", None): head_bucket,
            ("PUT", None): create_bucket,
            ("DELETE", None): delete_bucket,
            ("POST", "delete"): s3_objects.delete_objects,
        }
    else:
        routes = {
            ("GET", "tagging"): s3_objects.get_tagging,
            ("GET", "uploadId"): s3_multipart.list_parts,
            ("GET", None): s3_objects.get_object,
            ("HEAD", None): s3_objects.head_object,
            ("PUT", "tagging"): s3_objects.put_tagging,
            ("PUT", "uploadId"): s3_multipart.upload_part,
            ("PUT", None): s3_objects.put_or_copy,
            ("DELETE", "tagging"): s3_objects.delete_tagging,
            ("DELETE", "uploadId"): s3_multipart.abort,
            ("DELETE", None): s3_objects.delete_object,
            ("POST", "uploads"): s3_multipart.create,
            ("POST", "uploadId"): s3_multipart.complete,
        }
    for (route_method, resource), handler in routes.items():
        if route_method == method and (resource is None or resource in query):
            return handler
    raise _not_served(call, f"{method} {'object' if call.key else 'bucket'}")


def _not_served(call: Call, what: str) -> ApiError:
    return ApiError(
        "NotImplemented",
        f"eventsim does not serve {what} of S3 ({call.request.method} "
        f"{call.request.path_qs}); the request was not sent to AWS",
        501,
    )


async def _unserved_bucket_tagging(call: Call) -> web.StreamResponse:
    raise _not_served(call, "bucket tagging")


# --- buckets --------------------------------------------------------------------------------


async def list_buckets(call: Call) -> web.StreamResponse:
    now = call.now().isoformat()
    entries = []
    for name, bucket in sorted(call.buckets().items()):
        created = datetime.fromisoformat(bucket.manifest.created(now))
        entries.append(
            tag("Bucket", text_tag("Name", name), text_tag("CreationDate", iso_time(created)))
        )
    body = document("ListAllMyBucketsResult", owner_xml(), tag("Buckets", *entries))
    return xml_response(body)


async def head_bucket(call: Call) -> web.StreamResponse:
    call.bucket()
    return web.Response(headers={"x-amz-bucket-region": call.sim.config.region})


async def get_bucket_location(call: Call) -> web.StreamResponse:
    call.bucket()
    region = call.sim.config.region
    # us-east-1 is S3's "no constraint": an empty element.
    return xml_response(document("LocationConstraint", "" if region == "us-east-1" else region))


async def create_bucket(call: Call) -> web.StreamResponse:
    name = call.bucket_name
    assert name is not None
    await read_small(call.request, MAX_DOCUMENT_BYTES)  # a CreateBucketConfiguration, if any
    if not BUCKET_NAME.match(name) or ".." in name or _IP.match(name):
        raise ApiError(
            "InvalidBucketName", "The specified bucket is not valid.", 400, BucketName=name
        )
    if name in call.buckets():
        if call.sim.config.region != "us-east-1":
            raise ApiError(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already "
                "own it.",
                409,
                BucketName=name,
            )
        # In us-east-1, S3 answers 200 to creating a bucket you already own.
        return web.Response(headers={"Location": f"/{name}"})
    await call.sim.create_bucket(name)
    log.info("s3.bucket_created", bucket=name)
    return web.Response(headers={"Location": f"/{name}"})


async def delete_bucket(call: Call) -> web.StreamResponse:
    bucket = call.bucket()
    name = bucket.name
    if name in call.sim.config.buckets:
        raise ApiError(
            "InvalidBucketState",
            f"bucket {name!r} is in eventsim's config ({bucket.root}); remove it there "
            "instead of deleting it through the API",
            409,
            BucketName=name,
        )
    if (
        not bucket.manifest.empty()
        or bucket.manifest.uploads(limit=1)
        or (await bucket.holds_files())
    ):
        raise ApiError(
            "BucketNotEmpty", "The bucket you tried to delete is not empty", 409, BucketName=name
        )
    await call.sim.delete_bucket(name)
    log.info("s3.bucket_deleted", bucket=name)
    return web.Response(status=204)


# --- listing --------------------------------------------------------------------------------


def _max_keys(call: Call) -> int:
    text = call.request.query.get("max-keys", "1000")
    try:
        value = int(text)
    except ValueError:
        raise ApiError("InvalidArgument", "Provided max-keys not an integer or within integer "
                       "range", ArgumentName="max-keys", ArgumentValue=text) from None  # fmt: skip
    if value < 0:
        raise ApiError("InvalidArgument", "Argument maxKeys must be an integer between 0 and "
                       "2147483647", ArgumentName="maxKeys", ArgumentValue=text)  # fmt: skip
    return min(value, 1000)


def _encoder(call: Call) -> Callable[[str], str]:
    encoding = call.request.query.get("encoding-type")
    if encoding is None:
        return lambda value: value
    if encoding != "url":
        raise ApiError(
            "InvalidArgument", "Invalid Encoding Method specified in Request",
            ArgumentName="encoding-type", ArgumentValue=encoding,
        )  # fmt: skip
    return lambda value: urllib.parse.quote_plus(value, safe="/")


async def list_objects_v2(call: Call) -> web.StreamResponse:
    bucket = call.bucket()
    query = call.request.query
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    encode = _encoder(call)
    max_keys = _max_keys(call)
    token = query.get("continuation-token")
    start_after = query.get("start-after")
    after = start_after
    if token is not None:
        try:
            after = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
        except (binascii.Error, ValueError):
            raise ApiError(
                "InvalidArgument", "The continuation token provided is incorrect",
                ArgumentName="continuation-token",
            ) from None  # fmt: skip
    listing = list_page(
        bucket.manifest.page, prefix=prefix, delimiter=delimiter, after=after, max_keys=max_keys
    )
    objects = await bucket.with_etags(listing.objects)
    fetch_owner = query.get("fetch-owner") == "true"
    contents = [_contents(key, entry, encode, fetch_owner) for key, entry in objects]
    next_token = None
    if listing.truncated and listing.last is not None:
        next_token = base64.urlsafe_b64encode(listing.last.encode()).decode()
    body = document(
        "ListBucketResult",
        text_tag("Name", bucket.name),
        text_tag("Prefix", encode(prefix)),
        text_tag("Delimiter", encode(delimiter) if delimiter else None),
        text_tag("MaxKeys", max_keys),
        text_tag("EncodingType", query.get("encoding-type")),
        text_tag("KeyCount", len(contents) + len(listing.prefixes)),
        text_tag("IsTruncated", listing.truncated),
        text_tag("ContinuationToken", token),
        text_tag("NextContinuationToken", next_token),
        text_tag("StartAfter", encode(start_after) if start_after is not None else None),
        *contents,
        *(tag("CommonPrefixes", text_tag("Prefix", encode(p))) for p in listing.prefixes),
    )
    return xml_response(body)


async def list_objects_v1(call: Call) -> web.StreamResponse:
    bucket = call.bucket()
    query = call.request.query
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    marker = query.get("marker", "")
    encode = _encoder(call)
    max_keys = _max_keys(call)
    listing = list_page(
        bucket.manifest.page, prefix=prefix, delimiter=delimiter, after=marker or None,
        max_keys=max_keys,
    )  # fmt: skip
    objects = await bucket.with_etags(listing.objects)
    contents = [_contents(key, entry, encode, True) for key, entry in objects]
    # S3 gives NextMarker only with a delimiter; without one the client uses the last key.
    next_marker = listing.last if listing.truncated and delimiter else None
    body = document(
        "ListBucketResult",
        text_tag("Name", bucket.name),
        text_tag("Prefix", encode(prefix)),
        text_tag("Marker", encode(marker)),
        text_tag("NextMarker", encode(next_marker) if next_marker is not None else None),
        text_tag("MaxKeys", max_keys),
        text_tag("Delimiter", encode(delimiter) if delimiter else None),
        text_tag("EncodingType", query.get("encoding-type")),
        text_tag("IsTruncated", listing.truncated),
        *contents,
        *(tag("CommonPrefixes", text_tag("Prefix", encode(p))) for p in listing.prefixes),
    )
    return xml_response(body)


def _contents(key: str, entry: Entry, encode: Callable[[str], str], with_owner: bool) -> str:
    # One f-string per object: a page holds 1,000 of them (the ETag's quotes need no escape in
    # element text; the key does).
    return (
        f"<Contents><Key>{escape(encode(key))}</Key>"
        f"<LastModified>{_iso_second(entry.mtime_ns // 1_000_000_000)}</LastModified>"
        f'<ETag>"{entry.etag}"</ETag><Size>{entry.size}</Size>'
        f"{owner_xml() if with_owner else ''}<StorageClass>STANDARD</StorageClass></Contents>"
    )


@functools.lru_cache(maxsize=4096)
def _iso_second(seconds: int) -> str:
    return iso_time(datetime.fromtimestamp(seconds, UTC))


def _unquoted(part: str) -> str:
    """A percent-encoded path segment as text; S3 keys are UTF-8, so bytes that are not (say
    ``%ED%A0%80``) are S3's ``InvalidURI`` rather than a key of replacement characters."""
    try:
        return urllib.parse.unquote(part, errors="strict")
    except UnicodeDecodeError:
        raise ApiError("InvalidURI", "Couldn't parse the specified URI.", 400) from None
