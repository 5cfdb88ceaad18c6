"""The ``http`` trigger: routes of a local API Gateway (docs/aws-behaviour.md §5).

Each ``http`` trigger is a route (method, path with ``{param}`` and ``{proxy+}``) of a REST
API or an HTTP API. A request is matched as API Gateway matches routes — exact segments before
``{param}`` before ``{proxy+}``, a method before ``ANY`` — turned into the API's event (a REST
API's, or an HTTP API's in payload format ``2.0`` or ``1.0``), handed to the function
synchronously, and the result mapped back (§5.3). Function errors, malformed results, rejected
invocations and the integration timeout are answered as that API answers them (§5.4).

``api`` defaults to ``rest`` for ``payload_version: "1.0"`` and ``http`` otherwise; ``stage``
to ``prod`` (REST) or ``$default`` (HTTP). The stage shows in the events where API Gateway puts
it; the routes are served at their paths without it, as ``sam local start-api`` serves them.

``HttpRoutes.respond`` answers one ``HttpRequest``; ``sim.request()`` calls it without a port,
and ``eventsim up`` serves it over HTTP (``eventsim.server.http_triggers``).

Config::

    triggers:
      - http: {method: GET, path: /items/{id}}                      # HTTP API, payload 2.0
      - http: {method: GET, path: /v1/items, payload_version: "1.0"} # REST API, stage prod
      - http: {method: POST, path: /hooks, api: http, payload_version: "1.0", stage: beta}
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import structlog
from pydantic import Field, field_validator, model_validator

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


#: API Gateway's stage names: letters, digits, ``-`` and ``_`` (HTTP APIs: also ``$default``).
STAGE = r"^(?:[A-Za-z0-9_-]{1,128}|\$default)$"


class HttpTrigger(Model):
    """One API Gateway route: method (or ``ANY``), path template, the kind of API, payload
    version and stage (defaults in the module's docstring)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"] = "ANY"
    path: str
    payload_version: Literal["1.0", "2.0"] = "2.0"
    api: Literal["rest", "http"] | None = None
    stage: str | None = Field(default=None, pattern=STAGE)

    @model_validator(mode="before")
    @classmethod
    def _rest_sends_one_zero(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("api") == "rest":
            if data.setdefault("payload_version", "1.0") != "1.0":
                raise ValueError("a REST API (api: rest) sends payload format 1.0 only")
        return data

    @model_validator(mode="after")
    def _stage_of_its_api(self) -> HttpTrigger:
        if self.stage == "$default" and self.rest:
            raise ValueError("$default is an HTTP API's stage; a REST API names its own")
        return self

    @property
    def rest(self) -> bool:
        """A REST API's route (else an HTTP API's)."""
        return self.api == "rest" or (self.api is None and self.payload_version == "1.0")

    @property
    def stage_name(self) -> str:
        return self.stage or ("prod" if self.rest else "$default")

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
        self._rest_only = bool(self.routes) and all(r.trigger.rest for r in self.routes)

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
        rest = trigger.rest
        parameters = apigateway.path_parameters(trigger.path, request.path)
        common: dict[str, Any] = {
            "path_parameters": parameters,
            "request_id": new_request_id(),
            "time": self._clock.now(),
            "api_id": API_ID,
            "account": config.account,
            "region": config.region,
            "stage": trigger.stage_name,
        }
        if rest:
            event = apigateway.rest_event(request, resource=trigger.path, **common)
        elif trigger.payload_version == "1.0":
            event = apigateway.rest_event(request, resource=trigger.path, version="1.0", **common)
        else:
            route_key = f"{trigger.method} {trigger.path}"
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
        if trigger.payload_version == "1.0":
            return apigateway.response_v1(result.raw_payload, result.function_error,
                                          http_api=not rest)  # fmt: skip
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
        api = "REST API" if spec.rest else f"HTTP API, payload {spec.payload_version}"
        return f"http {spec.method} {spec.path} ({api}, stage {spec.stage_name})"
