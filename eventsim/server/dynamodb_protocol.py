"""What DynamoDB's two JSON services (DynamoDB and DynamoDB Streams) share on the edge: their
error shape and its ``ValidationException`` (``invalid``), the ``x-amz-crc32`` header, and
answering one request.

Example::

    return await answer(request, lambda body: operation(body))
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ..errors import ApiError, TableError
from .protocol import json_response, read_json
from .services import json_version

_PREFIX = {
    "ValidationException": "com.amazon.coral.validate#",
    "SerializationException": "com.amazon.coral.service#",
    "UnknownOperationException": "com.amazon.coral.service#",
}

#: A request of up to 16 MB (BatchWriteItem), as DynamoDB's quotas say.
MAX_REQUEST_BYTES = 16 * 1024 * 1024


def invalid(message: str) -> ApiError:
    """DynamoDB's ``ValidationException`` (a 400) saying ``message``."""
    return ApiError("ValidationException", message)


def error_response(
    code: str, message: str, status: int = 400, content_type: str | None = None, **extra: Any
) -> web.Response:
    prefix = _PREFIX.get(code, "com.amazonaws.dynamodb.v20120810#")
    return with_crc32(json_response(
        {"__type": prefix + code, "message": message, **extra}, status,
        *([content_type] if content_type else []),
    ))  # fmt: skip


def with_crc32(response: web.Response) -> web.Response:
    """``response`` with ``x-amz-crc32``: the CRC32 of its body, in decimal, as DynamoDB sends."""
    body = response.body if isinstance(response.body, bytes) else b""
    response.headers["x-amz-crc32"] = str(zlib.crc32(body))
    return response


def refusal(request: web.Request, error: ApiError) -> web.Response:
    """``error`` in DynamoDB's shape, in the awsJson version the client sent."""
    return error_response(
        error.code, str(error), error.status, json_version(request), **error.extra
    )


async def answer(
    request: web.Request, run: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
) -> web.Response:
    """Run one operation on the request's body; its answer or its refusal, with a CRC32."""
    try:
        body = await read_json(request)
        result = await run(body)
        return with_crc32(json_response(result, 200, json_version(request)))
    except ApiError as exc:
        return refusal(request, exc)
    except TableError as exc:
        extra: dict[str, Any] = dict(exc.extra)
        if exc.code == "ConditionalCheckFailedException" and exc.item is not None:
            extra["Item"] = exc.item
        return refusal(request, ApiError(exc.code, str(exc), **extra))
