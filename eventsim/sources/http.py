"""HTTP triggers: a local API Gateway on its own port (reference §5).

Each ``http`` trigger is a route (method, path with ``{param}`` and ``{proxy+}``). A request
is matched as API Gateway matches routes — exact segments before ``{param}`` before
``{proxy+}``, a method before ``ANY`` — turned into a REST (payload ``1.0``) or HTTP API
(``2.0``) event, handed to the function synchronously, and the result mapped back (§5.3).
Function errors, malformed results, rejected invocations and the integration timeout are
answered as API Gateway answers them (§5.4).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from ..config import HttpTrigger
from ..errors import InvokeError
from ..events import apigateway
from ..events.apigateway import HttpRequest, HttpResponse
from ..invocation.sync import new_request_id
from ..server.protocol import serve
from ..unconfirmed import (
    HTTP_API_NOT_FOUND,
    HTTP_INTEGRATION_TIMEOUT_S,
    REST_INTEGRATION_TIMEOUT_S,
)

if TYPE_CHECKING:
    from ..simulator import Simulator

log = structlog.get_logger("eventsim.http")

#: §5.4: API Gateway's payload limit.
MAX_BODY_BYTES = 10 * 1024 * 1024
API_ID = "local"


@dataclass(frozen=True)
class Route:
    function: str
    trigger: HttpTrigger

    @cached_property
    def segments(self) -> list[str]:
        return [s for s in self.trigger.path.split("/") if s]

    def matches(self, method: str, parts: list[str]) -> bool:
        if self.trigger.method not in ("ANY", method):
            return False
        template = self.segments
        for index, segment in enumerate(template):
            if segment.startswith("{") and segment.endswith("+}"):
                return len(parts) > index  # a greedy parameter takes one segment or more
            if index >= len(parts):
                return False
            if not segment.startswith("{") and segment != parts[index]:
                return False
        return len(parts) == len(template)

    def rank(self) -> tuple[int, ...]:
        """Lower is more specific: exact segments, then parameters, then greedy; methods first."""
        kinds = [2 if s.endswith("+}") else 1 if s.startswith("{") else 0 for s in self.segments]
        return (*kinds, 9, int(self.trigger.method == "ANY"))


class HttpTriggerServer:
    """Serves every ``http`` trigger of a simulator on ``host:port`` (0: any free port)."""

    def __init__(self, sim: Simulator, host: str = "127.0.0.1", port: int = 3000) -> None:
        self._sim = sim
        self.host = host
        self.port = port
        self.routes = sorted(
            (
                Route(name, trigger.http)
                for name, function in sim.config.functions.items()
                for trigger in function.triggers
                if trigger.http is not None
            ),
            key=Route.rank,
        )
        self._runner: web.AppRunner | None = None
        self._rest_only = bool(self.routes) and all(
            r.trigger.payload_version == "1.0" for r in self.routes
        )

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

    def match(self, method: str, path: str) -> Route | None:
        parts = [p for p in path.split("/") if p]
        return next((r for r in self.routes if r.matches(method, parts)), None)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
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
        return _send(await self.respond(incoming))

    async def respond(self, request: HttpRequest) -> HttpResponse:
        """What API Gateway answers ``request`` with: the route's function run, or an error."""
        route = self.match(request.method, request.path)
        if route is None:
            if self._rest_only:
                return apigateway.rest_error(403, "Missing Authentication Token")
            return apigateway.rest_error(404, HTTP_API_NOT_FOUND)
        return await self._run(route, request)

    async def _run(self, route: Route, request: HttpRequest) -> HttpResponse:
        trigger, sim = route.trigger, self._sim
        rest = trigger.payload_version == "1.0"
        parameters = apigateway.path_parameters(trigger.path, request.path)
        common: dict[str, Any] = {
            "path_parameters": parameters,
            "request_id": new_request_id(),
            "time": sim.clock.now(),
            "api_id": API_ID,
            "account": sim.config.account,
            "region": sim.config.region,
        }
        if rest:
            event = apigateway.rest_event(request, resource=trigger.path, **common)
        else:
            route_key = f"{trigger.method if trigger.method != 'ANY' else 'ANY'} {trigger.path}"
            event = apigateway.http_event(request, route_key=route_key, **common)
        timeout = REST_INTEGRATION_TIMEOUT_S if rest else HTTP_INTEGRATION_TIMEOUT_S
        invocation = asyncio.create_task(
            sim.invoke_for(f"http:{trigger.method} {trigger.path}", route.function, event)
        )
        try:
            # The function keeps running after API Gateway gives up, as in AWS.
            result = await asyncio.wait_for(asyncio.shield(invocation), timeout)
        except TimeoutError:
            if rest:
                return apigateway.rest_error(504, "Endpoint request timed out")
            return apigateway.rest_error(503, "Service Unavailable")
        except InvokeError as exc:
            log.warning("http.invoke_rejected", function=route.function, error=str(exc))
            if rest:
                return apigateway.rest_error(500, "Internal server error")
            return apigateway.rest_error(500, "Internal Server Error")
        if rest:
            return apigateway.response_v1(result.raw_payload, result.function_error)
        return apigateway.response_v2(result.raw_payload, result.function_error)


def _send(response: HttpResponse) -> web.Response:
    out = web.Response(status=response.status, body=response.body)
    for name, value in response.headers:
        out.headers.add(name, value)
    return out
