"""S3's XML: documents the edge answers with, request bodies it reads, and S3's error shape.

botocore reads an S3 error from ``<Error><Code>...</Code><Message>...</Message>...</Error>``
and raises the modelled exception named by the code (``s3.exceptions.NoSuchKey``...); an
answer to HEAD carries no body, so the status alone tells (a 404 becomes ``ClientError`` with
code ``404``, as against AWS).

Example::

    document("ListAllMyBucketsResult", tag("Owner", text_tag("ID", "abc")))
    # b'<?xml version="1.0" encoding="UTF-8"?>\\n<ListAllMyBucketsResult xmlns=...>...'
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from xml.sax.saxutils import escape

from aiohttp import web

from ..errors import ApiError
from ..events.s3 import OWNER_ID

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
#: The HostId eventsim reports (``x-amz-id-2``): fixed, as nothing here has hosts.
HOST_ID = "eventsim/local"


def request_id() -> str:
    """An ``x-amz-request-id``: 16 upper-case hex digits, as S3's."""
    return uuid.uuid4().hex[:16].upper()


def tag(name: str, *children: str) -> str:
    """``<name>children</name>``: ``children`` are markup (from ``tag`` or ``text_tag``),
    never text, so a user's string can only reach a document through ``text_tag``."""
    return f"<{name}>{''.join(children)}</{name}>"


def text_tag(name: str, value: str | int | bool | None) -> str:
    """``<name>value</name>`` with ``value`` always escaped (never taken as markup); nothing
    for None; booleans as ``true``/``false``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(str(value))}</{name}>"


def owner_xml() -> str:
    """The ``<Owner>`` of every bucket and object: the one owner eventsim reports."""
    return _OWNER


_OWNER = f"<Owner><ID>{escape(OWNER_ID)}</ID><DisplayName>eventsim</DisplayName></Owner>"


def document(root: str, *children: str) -> bytes:
    return f'{_DECLARATION}<{root} xmlns="{NAMESPACE}">{"".join(children)}</{root}>'.encode()


def xml_response(
    body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/xml", headers=headers)


def iso_time(moment: datetime) -> str:
    """``2026-01-01T12:00:00.000Z``, as S3 writes times in XML."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def http_time(moment: datetime) -> str:
    """``Thu, 01 Jan 2026 12:00:00 GMT``, as S3 writes times in headers."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def parse_http_time(value: str) -> datetime | None:
    """A header's HTTP date; None when it is not one (S3 then ignores the condition)."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse(body: bytes, root: str) -> ET.Element:
    """A request's XML body whose root element is ``root`` (namespace ignored);
    ``MalformedXML`` otherwise. DTDs are refused: S3 takes none, and entities could expand."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise _malformed("a DTD is not allowed")
    try:
        element = ET.fromstring(body)
    except ET.ParseError as exc:
        raise _malformed(str(exc)) from None
    for node in element.iter():
        node.tag = node.tag.rpartition("}")[2]
    if element.tag != root:
        raise _malformed(f"the root element is <{element.tag}>, expected <{root}>")
    return element


def child_text(element: ET.Element, name: str) -> str | None:
    found = element.find(name)
    return None if found is None else (found.text or "")


def _malformed(why: str) -> ApiError:
    return ApiError(
        "MalformedXML",
        f"The XML you provided was not well-formed or did not validate against our published "
        f"schema ({why})",
    )


def error_response(error: ApiError, head: bool = False) -> web.Response:
    """``error`` as S3 answers it: ``<Error>`` with the code, message and the extra fields
    S3 adds (``Key``, ``BucketName``, ``ActualObjectSize``...); no body for HEAD."""
    answer_id = request_id()
    headers = {"x-amz-request-id": answer_id, "x-amz-id-2": HOST_ID}
    if head:
        return web.Response(status=error.status, headers=headers)
    extra = "".join(text_tag(name, value) for name, value in error.extra.items())
    body = (
        f"{_DECLARATION}<Error>{text_tag('Code', error.code)}{text_tag('Message', str(error))}"
        f"{extra}{text_tag('RequestId', answer_id)}{text_tag('HostId', HOST_ID)}</Error>"
    ).encode(errors="replace")
    return web.Response(
        status=error.status, body=body, content_type="application/xml", headers=headers
    )
