"""Lambda's Invoke API (reference §8.6): ``POST /2015-03-31/functions/{name}/invocations``."""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..errors import FunctionNotFound, InvokeError, TooManyRequests
from ..runtime.logs import TAIL_BYTES
from .protocol import json_response

if TYPE_CHECKING:
    from ..simulator import InvocationType, Simulator

#: §8.6: the largest X-Amz-Client-Context Lambda takes (base64 text).
CLIENT_CONTEXT_BYTES = 3583
_TYPES = ("RequestResponse", "Event", "DryRun")


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    response = json_response(
        {"Type": "User", "message": message, **extra}, status, "application/json"
    )
    response.headers["x-amzn-ErrorType"] = code
    return response


class LambdaApi:
    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    async def invoke(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
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
        try:
            client_context = _client_context(request.headers.get("X-Amz-Client-Context"))
        except ValueError as exc:
            return error_response(400, "InvalidRequestContentException", str(exc))
        body = await request.read()
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
        if request.headers.get("X-Amz-Log-Type") == "Tail":
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
        value = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError):
        raise ValueError("X-Amz-Client-Context must be base64-encoded JSON") from None
    if not isinstance(value, dict):
        raise ValueError("X-Amz-Client-Context must encode a JSON object")
    return value
