"""What the AWS JSON protocols share: request bodies, error responses, the error codes."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..errors import EventsimError

AMZ_JSON = "application/x-amz-json-1.0"


class ApiError(EventsimError):
    """A request the service refuses: HTTP ``status``, the service's ``code`` and message."""

    def __init__(self, code: str, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.extra = extra


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Listen with ``app`` on ``host:port`` (0: any free port); the runner and the real port."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_address=True).start()
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return runner, int(address[1])
    return runner, port


def json_response(payload: Any, status: int = 200, content_type: str = AMZ_JSON) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(payload, separators=(",", ":")).encode(),
        content_type=content_type,
    )


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; ``SerializationException`` otherwise."""
    raw = await request.read()
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        raise ApiError("SerializationException", f"the request body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError("SerializationException", "the request body must be a JSON object")
    return body


def require(body: dict[str, Any], name: str, kind: type | tuple[type, ...] = str) -> Any:
    value = body.get(name)
    if value is None:
        raise ApiError("MissingParameter", f"the request must contain the parameter {name}")
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ApiError("InvalidParameterValue", f"{name} has the wrong type: {value!r}")
    return value
