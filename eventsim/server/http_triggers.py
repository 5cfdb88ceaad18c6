"""The HTTP triggers' server: ``eventsim up`` serves a local API Gateway on its own port.

It only carries requests to and from a ``respond`` callable (``triggers.http.HttpRoutes``),
which knows the routes and the API Gateway behaviour; the server knows HTTP. Like the edge, it
serves only loopback (or configured) ``Host`` and ``Origin`` headers (``guard.Gate``): a web
page on another origin cannot call the routes through the visitor's browser, while a front end
served from ``http://localhost:5173`` can.

Example::

    server = HttpTriggerServer(routes.respond, "127.0.0.1", 3000)
    await server.start()          # server.url
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from ..events import apigateway
from ..events.apigateway import HttpRequest, HttpResponse
from .guard import Gate
from .protocol import serve

log = structlog.get_logger("eventsim.http")

#: §5.4: API Gateway's payload limit.
MAX_BODY_BYTES = 10 * 1024 * 1024

Respond = Callable[[HttpRequest], Awaitable[HttpResponse]]


class HttpTriggerServer:
    """Serves ``respond`` on ``host:port`` (0: any free port)."""

    def __init__(
        self, respond: Respond, host: str = "127.0.0.1", port: int = 3000, gate: Gate | None = None
    ) -> None:
        self._respond = respond
        self.host = host
        self.port = port
        self._gate = gate or Gate.serving(host, (), ())
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner, self.port = await serve(app, self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        reason = self._gate.refusal(request.headers.get("Host"), request.headers.get("Origin"))
        if reason is not None:
            log.warning("http.refused", method=request.method, path=request.path, reason=reason)
            return _send(apigateway.rest_error(403, reason))
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _send(apigateway.rest_error(413, "Request Too Long"))
        incoming = HttpRequest(
            method=request.method,
            path=request.path,
            query=list(request.query.items()),
            headers=list(request.headers.items()),
            body=body,
            source_ip=request.remote or "127.0.0.1",
            protocol=f"HTTP/{request.version.major}.{request.version.minor}",
            raw_query=request.query_string,
        )
        return _send(await self._respond(incoming))


def _send(response: HttpResponse) -> web.Response:
    out = web.Response(status=response.status, body=response.body)
    for name, value in response.headers:
        out.headers.add(name, value)
    return out
