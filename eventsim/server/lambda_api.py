"""Lambda's Invoke API: ``POST /2015-03-31/functions/{name}/invocations``.

As docs/aws-behaviour.md §8.6 describes it.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from ..errors import FunctionNotFound, InvokeError, TooManyRequests
from ..invocation.sync import SYNC_PAYLOAD_LIMIT
from ..runtime.logs import TAIL_BYTES
from .protocol import ApiError, json_response, parse_json
from .services import Service

if TYPE_CHECKING:
    from ..simulator import InvocationType, Simulator

#: §8.6: the largest X-Amz-Client-Context Lambda takes (base64 text).
CLIENT_CONTEXT_BYTES = 3583
#: How deep an event may nest. Lambda takes any JSON; a Python runtime decodes it with the
#: ``json`` module, which fails near Python's recursion limit (1,000 frames) and so would
#: the simulator. 512 levels is far beyond any real event and safely below that.
MAX_EVENT_DEPTH = 512
_TYPES = ("RequestResponse", "Event", "DryRun")
_LOG_TYPES = ("None", "Tail")
_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    response = json_response(
        {"Type": "User", "message": message, **extra}, status, "application/json"
    )
    response.headers["x-amzn-ErrorType"] = code
    return response


class LambdaApi:
    service: ClassVar[Service] = Service(
        "lambda", "rest-json", SYNC_PAYLOAD_LIMIT, too_large_code="RequestTooLargeException",
        path_prefix="/2015-03-31/functions/",
    )  # fmt: skip

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    def error(self, request: web.Request, error: ApiError) -> web.Response:
        if error.code == "RequestTooLargeException":  # Lambda's own words for its limit
            error = ApiError(error.code, f"Request must be smaller than {SYNC_PAYLOAD_LIMIT} "
                             "bytes for the InvokeFunction operation", 413)  # fmt: skip
        return error_response(error.status, error.code, str(error), **error.extra)

    async def handle(self, request: web.Request) -> web.Response:
        match = _INVOKE.match(request.path)
        if match is None or request.method != "POST":
            return error_response(
                404, "UnknownOperationException",
                f"eventsim serves Lambda's Invoke only (POST /2015-03-31/functions/<name>/"
                f"invocations); {request.method} {request.path} was not sent to AWS",
            )  # fmt: skip
        return await self.invoke(request, match.group("name"))

    async def invoke(self, request: web.Request, name: str) -> web.Response:
        qualifier = request.query.get("Qualifier")
        if qualifier is not None and qualifier not in ("$LATEST",):
            return error_response(
                404, "ResourceNotFoundException",
                f"Function not found: {name}:{qualifier} (eventsim runs $LATEST only)",
            )  # fmt: skip
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type not in _TYPES:
            return error_response(
                400, "InvalidParameterValueException",
                f"X-Amz-Invocation-Type must be one of {', '.join(_TYPES)}",
            )  # fmt: skip
        log_type = request.headers.get("X-Amz-Log-Type", "None")
        if log_type not in _LOG_TYPES:
            return error_response(
                400, "InvalidParameterValueException",
                f"1 validation error detected: Value {log_type!r} at 'logType' failed to "
                "satisfy constraint: Member must satisfy enum value set: [None, Tail]",
            )  # fmt: skip
        try:
            client_context = _client_context(request.headers.get("X-Amz-Client-Context"))
        except ValueError as exc:
            return error_response(400, "InvalidRequestContentException", str(exc))
        body = await request.read()
        # Counting brackets is cheap; only a body with enough of them can nest too deep.
        if body.count(b"[") + body.count(b"{") > MAX_EVENT_DEPTH:
            try:
                parse_json(body, MAX_EVENT_DEPTH)
            except ValueError as exc:
                return error_response(
                    400, "InvalidRequestContentException",
                    f"Could not parse request body into json: {exc}",
                )  # fmt: skip
        kind: InvocationType = invocation_type  # type: ignore[assignment]
        try:
            result = await self._sim.invoke(
                name, body, invocation_type=kind, client_context=client_context
            )
        except FunctionNotFound:
            arn = f"arn:aws:lambda:{self._sim.config.region}:{self._sim.config.account}"
            return error_response(
                404, "ResourceNotFoundException",
                f"Function not found: {arn}:function:{name}",
            )  # fmt: skip
        except TooManyRequests as exc:
            return error_response(429, exc.error_code, str(exc), Reason=exc.reason)
        except InvokeError as exc:
            return error_response(exc.status, exc.error_code, str(exc))
        headers = {"X-Amz-Executed-Version": result.executed_version}
        if invocation_type != "RequestResponse":
            return web.Response(status=result.status_code, headers=headers)
        if result.function_error is not None:
            headers["X-Amz-Function-Error"] = result.function_error
        if log_type == "Tail":
            tail = result.log_tail.encode()[-TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        return web.Response(
            status=200, body=result.raw_payload, headers=headers, content_type="application/json"
        )


def _client_context(header: str | None) -> dict[str, Any] | None:
    if header is None:
        return None
    if len(header) > CLIENT_CONTEXT_BYTES:
        raise ValueError(f"X-Amz-Client-Context is over {CLIENT_CONTEXT_BYTES} bytes")
    try:
        value = parse_json(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError):
        raise ValueError("X-Amz-Client-Context must be base64-encoded JSON") from None
    if not isinstance(value, dict):
        raise ValueError("X-Amz-Client-Context must encode a JSON object")
    return value
