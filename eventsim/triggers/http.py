"""The ``http`` trigger: routes of a local API Gateway (docs/aws-behaviour.md §5).

Each ``http`` trigger is a route (method, path with ``{param}`` and ``{proxy+}``). A request
is matched as API Gateway matches routes — exact segments before ``{param}`` before
``{proxy+}``, a method before ``ANY`` — turned into a REST (payload ``1.0``) or HTTP API
(``2.0``) event, handed to the function synchronously, and the result mapped back (§5.3).
Function errors, malformed results, rejected invocations and the integration timeout are
answered as API Gateway answers them (§5.4).

``HttpRoutes.respond`` answers one ``HttpRequest``; ``sim.request()`` calls it without a port,
and ``eventsim up`` serves it over HTTP (``eventsim.server.http_triggers``).

Config::

    triggers:
      - http: {method: GET, path: /items/{id}, payload_version: "2.0"}
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import structlog
from pydantic import field_validator

from ..clock import Clock
from ..config import Config, Model
from ..errors import InvokeError
from ..events import apigateway
from ..events.apigateway import HttpRequest, HttpResponse
from ..invocation.sync import InvokeResult, new_request_id
from ..unconfirmed import (
    HTTP_API_NOT_FOUND,
    HTTP_INTEGRATION_TIMEOUT_S,
    REST_INTEGRATION_TIMEOUT_S,
)
from .base import Binding, Context, References, TriggerKind, TriggerRef

log = structlog.get_logger("eventsim.http")

API_ID = "local"

Invoke = Callable[[str, str, Any], Coroutine[Any, Any, InvokeResult]]


class HttpTrigger(Model):
    """One API Gateway route: method (or ``ANY``), path template, payload version."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"] = "ANY"
    path: str
    payload_version: Literal["1.0", "2.0"] = "2.0"

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"a route path starts with '/' (got {value!r})")
        return value

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


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


class HttpRoutes(Binding):
    """Every ``http`` route of a config, answering requests as API Gateway does."""

    kind = "http"
    part = "http"
    source = "http"

    def __init__(
        self, routes: list[Route], *, config: Config, clock: Clock, invoke: Invoke
    ) -> None:
        self.routes = sorted(routes, key=Route.rank)
        self.functions = tuple(dict.fromkeys(route.function for route in self.routes))
        self._config = config
        self._clock = clock
        self._invoke = invoke
        self._rest_only = bool(self.routes) and all(
            r.trigger.payload_version == "1.0" for r in self.routes
        )

    async def start(self) -> None:
        pass  # nothing to watch: requests arrive through respond()

    async def stop(self) -> None:
        pass

    def describe(self) -> str:
        return ", ".join(
            f"{r.trigger.method} {r.trigger.path} -> {r.function}" for r in self.routes
        )

    def match(self, method: str, path: str) -> Route | None:
        parts = [p for p in path.split("/") if p]
        return next((r for r in self.routes if r.matches(method, parts)), None)

    async def respond(self, request: HttpRequest) -> HttpResponse:
        """What API Gateway answers ``request`` with: the route's function run, or an error."""
        route = self.match(request.method, request.path)
        if route is None:
            if self._rest_only:
                return apigateway.rest_error(403, "Missing Authentication Token")
            return apigateway.rest_error(404, HTTP_API_NOT_FOUND)
        return await self._run(route, request)

    async def _run(self, route: Route, request: HttpRequest) -> HttpResponse:
        trigger, config = route.trigger, self._config
        rest = trigger.payload_version == "1.0"
        parameters = apigateway.path_parameters(trigger.path, request.path)
        common: dict[str, Any] = {
            "path_parameters": parameters,
            "request_id": new_request_id(),
            "time": self._clock.now(),
            "api_id": API_ID,
            "account": config.account,
            "region": config.region,
        }
        if rest:
            event = apigateway.rest_event(request, resource=trigger.path, **common)
        else:
            route_key = f"{trigger.method if trigger.method != 'ANY' else 'ANY'} {trigger.path}"
            event = apigateway.http_event(request, route_key=route_key, **common)
        timeout = REST_INTEGRATION_TIMEOUT_S if rest else HTTP_INTEGRATION_TIMEOUT_S
        invocation = asyncio.create_task(
            self._invoke(f"http:{trigger.method} {trigger.path}", route.function, event)
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


class HttpKind(TriggerKind):
    name = "http"
    model = HttpTrigger

    def check(self, references: References, triggers: Sequence[TriggerRef]) -> None:
        routes: dict[tuple[str, str], str] = {}
        for ref in triggers:
            spec: HttpTrigger = ref.spec
            route = (spec.method, spec.path)
            if route in routes:
                references.problem(
                    (*ref.at, self.name, "path"),
                    f"{spec.method} {spec.path} is already routed to {routes[route]!r}",
                )
            routes.setdefault(route, ref.function)

    def bind(self, context: Context, triggers: Sequence[TriggerRef]) -> list[Binding]:
        """One binding for every route (an API has one router), even for none: a request to
        no route is answered 404 as API Gateway does."""
        routes = [Route(ref.function, ref.spec) for ref in triggers]
        return [HttpRoutes(routes, config=context.config, clock=context.delivery.clock,
                           invoke=context.invoke)]  # fmt: skip

    def summary(self, spec: Any) -> str:
        return f"http {spec.method} {spec.path}"
