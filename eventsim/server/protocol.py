"""What the AWS protocols share: listening, request bodies, and each protocol's error shape.

botocore parses an error by the protocol of the service it called, so the edge answers every
refusal in the protocol the client speaks:

* ``json`` (awsJson 1.0/1.1, ``X-Amz-Target``): ``{"__type": code, "message": ...}``;
* ``rest-json`` (Lambda...): header ``x-amzn-ErrorType: code``, body ``{"message": ...}``;
* ``query`` (STS, SNS, IAM; EC2 reads the same): ``<ErrorResponse><Error><Code>...``;
* ``rest-xml`` (S3): ``<Error><Code>...</Code><Message>...</Message></Error>``;
* ``cbor`` (Smithy RPC v2 CBOR, CloudWatch): the ``json`` shape, encoded as CBOR.
"""

from __future__ import annotations

import asyncio
import json
import re
import struct
import uuid
from dataclasses import dataclass
from typing import Any, Literal
from xml.sax.saxutils import escape

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from ..errors import ApiError

AMZ_JSON = "application/x-amz-json-1.0"
Protocol = Literal["json", "rest-json", "query", "rest-xml", "cbor"]

#: How deep a JSON request body may nest: deeper than any request the served services accept
#: (a DynamoDB item nests 32 levels, two JSON levels each), and far from Python's recursion
#: limit, which the standard ``json`` module (and everything that walks its result) hits.
MAX_JSON_DEPTH = 128
#: Seconds from a connection's start (or its previous response) to a request's last header.
HEADER_TIMEOUT_S = 10.0
#: Seconds from a request's last header to the last byte of its body.
BODY_TIMEOUT_S = 60.0
#: Seconds an unread body is read and dropped after an early answer (413, 408), so the client
#: gets the answer instead of a reset; then the connection is closed.
LINGER_S = 5.0

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Timeouts:
    """How long a server waits on a client, in seconds (tests pass small ones)."""

    headers: float = HEADER_TIMEOUT_S
    body: float = BODY_TIMEOUT_S
    linger: float = LINGER_S


DEFAULT_TIMEOUTS = Timeouts()


async def serve(
    app: web.Application,
    host: str,
    port: int,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    *,
    decompress: bool = True,
) -> tuple[web.AppRunner, int]:
    """Listen with ``app`` on ``host:port`` (0: any free port); the runner and the real port.

    A connection whose request headers are not complete ``timeouts.headers`` seconds after it
    opened (or after its previous response) is closed: aiohttp's keep-alive timer runs from
    the connection's start and closes a connection still waiting for a whole request. (The
    body's time is the handler's: see ``read_body``.) ``decompress``: undo a request's
    ``Content-Encoding`` (gzip...) before handlers read the body.

    Every response carries an ``x-amzn-RequestId`` (botocore reports it as
    ``ResponseMetadata["RequestId"]``): the handler's own, or a new one (``stamp_request_id``).
    """
    if stamp_request_id not in app.on_response_prepare:
        app.on_response_prepare.append(stamp_request_id)
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        keepalive_timeout=timeouts.headers,
        lingering_time=timeouts.linger,
        auto_decompress=decompress,
    )
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_address=True).start()
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return runner, int(address[1])
    return runner, port


async def stamp_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """Give ``response`` an ``x-amzn-RequestId`` unless its handler set one (as Lambda's
    Invoke does with the invocation's id, or an XML error with the id in its body)."""
    if "x-amzn-RequestId" not in response.headers:
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())


def json_response(payload: Any, status: int = 200, content_type: str = AMZ_JSON) -> web.Response:
    # ensure_ascii (the default) writes a lone surrogate as an escape instead of failing.
    return web.Response(
        status=status,
        body=json.dumps(payload, separators=(",", ":")).encode(),
        content_type=content_type,
    )


# --- request bodies -------------------------------------------------------------------------


async def read_body(
    request: web.Request, limit: int, seconds: float, too_large: str = "RequestEntityTooLarge"
) -> bytes:
    """The whole body (cached for ``request.read()``): refused unread when its Content-Length
    is over ``limit`` bytes (413 ``too_large``), and refused when it takes longer than
    ``seconds`` to arrive (408)."""
    over = ApiError(too_large, f"the request body is over the limit of {limit} bytes", 413)
    if request.content_length is not None and request.content_length > limit:
        raise over
    try:
        async with asyncio.timeout(seconds):
            body = await request.read()  # a chunked body stops at the app's client_max_size
    except TimeoutError:
        raise ApiError(
            "RequestTimeout", f"the request body did not arrive within {seconds:g} s", 408
        ) from None
    except web.HTTPRequestEntityTooLarge:
        raise over from None
    except (RequestPayloadError, HttpProcessingError) as exc:
        raise ApiError("MalformedRequest", f"the request body is malformed: {exc}") from None
    if len(body) > limit:
        raise over
    return body


def parse_json(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """JSON text as Python values; ``ValueError`` saying why when it is not JSON or nests
    deeper than ``max_depth`` (``{}`` is one level)."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ValueError(f"it nests deeper than {max_depth} levels") from None
    if _deeper_than(value, max_depth):
        raise ValueError(f"it nests deeper than {max_depth} levels")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def lone_surrogate(value: Any) -> str | None:
    """Where ``value`` (parsed JSON) holds a string with a lone UTF-16 surrogate (JSON's
    ``"\\ud800"``, which no UTF-8 text can hold), as a dotted path; None when nowhere."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return path or "the body"
        elif isinstance(node, dict):
            for key, child in node.items():
                if _SURROGATE.search(key):
                    return f"{path}.{key!a}".lstrip(".")
                stack.append((child, f"{path}.{key}".lstrip(".")))
        elif isinstance(node, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(node))
    return None


async def read_json(request: web.Request, *, surrogates: bool = False) -> dict[str, Any]:
    """The request body as a JSON object; ``SerializationException`` otherwise. A string with
    a lone surrogate is refused too, unless ``surrogates`` (the caller checks its strings)."""
    raw = await request.read()
    try:
        body = parse_json(raw or b"{}")
    except ValueError as exc:
        raise ApiError("SerializationException", f"the request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError("SerializationException", "the request body must be a JSON object")
    if not surrogates and (where := lone_surrogate(body)) is not None:
        raise ApiError(
            "SerializationException",
            f"{where}: a string holds a lone UTF-16 surrogate (such as \\ud800), "
            "which is not a Unicode character",
        )
    return body


def require(body: dict[str, Any], name: str, kind: type | tuple[type, ...] = str) -> Any:
    value = body.get(name)
    if value is None:
        raise ApiError("MissingParameter", f"the request must contain the parameter {name}")
    return _typed(name, value, kind)


def optional(
    body: dict[str, Any], name: str, kind: type | tuple[type, ...] = str, default: Any = None
) -> Any:
    """``body[name]`` checked against ``kind``, or ``default`` when absent (or null)."""
    value = body.get(name)
    return default if value is None else _typed(name, value, kind)


def _typed(name: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in kinds:
        raise ApiError("InvalidParameterValue", f"{name} has the wrong type: {value!r}")
    return value


# --- error shapes ---------------------------------------------------------------------------


def error_response(
    protocol: Protocol, error: ApiError, content_type: str = AMZ_JSON
) -> web.Response:
    """``error`` in ``protocol``'s shape (see the module docstring); ``content_type`` is the
    awsJson version a ``json`` client sent."""
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id}
    message = str(error)
    if protocol == "json":
        response = json_response({"__type": error.code, "message": message}, error.status,
                                 content_type)  # fmt: skip
    elif protocol == "rest-json":
        response = json_response({"message": message}, error.status, "application/json")
        headers["x-amzn-ErrorType"] = error.code
    elif protocol == "cbor":
        body = _cbor_map({"__type": error.code, "message": message})
        response = web.Response(status=error.status, body=body, content_type="application/cbor")
        headers["smithy-protocol"] = "rpc-v2-cbor"
    else:
        fault = "Receiver" if error.status >= 500 else "Sender"
        inner = f"<Code>{escape(error.code)}</Code><Message>{escape(message)}</Message>"
        text = (
            f"<Error>{inner}<RequestId>{request_id}</RequestId></Error>"
            if protocol == "rest-xml"
            else f"<ErrorResponse><Error><Type>{fault}</Type>{inner}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        response = web.Response(
            status=error.status,
            body=('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode(errors="replace"),
            content_type="text/xml",
        )
    response.headers.update(headers)
    return response


def _cbor_map(fields: dict[str, str]) -> bytes:
    """A CBOR map of text strings (RFC 8949 major types 5 and 3): all an error needs."""
    out = bytearray(_cbor_head(5, len(fields)))
    for key, value in fields.items():
        for text in (key, value):
            data = text.encode(errors="replace")
            out += _cbor_head(3, len(data)) + data
    return bytes(out)


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for info, fmt in ((24, "!B"), (25, "!H"), (26, "!I")):
        if length < 1 << (8 * struct.calcsize(fmt)):
            return bytes([major << 5 | info]) + struct.pack(fmt, length)
    return bytes([major << 5 | 27]) + struct.pack("!Q", length)
