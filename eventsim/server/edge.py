"""The edge server: one port for the AWS APIs eventsim serves (Lambda's Invoke, SQS,
DynamoDB, S3, STS's GetCallerIdentity) and eventsim's admin endpoints.

Example::

    edge = EdgeServer(sim, port=0)
    await edge.start()
    boto3.client("sqs", endpoint_url=edge.url, ...)
    await edge.stop()

Every request passes the gate first (loopback ``Host``; no foreign ``Origin``: see guard.py).
Then the service it is for is told from its signature, ``X-Amz-Target`` or path (see
services.py): a served one gets its body (bounded in size and time) and answers; any other
gets a 501 in the protocol its client reads. The edge listens before the simulator has
started (so that handlers started meanwhile reach it): a request that comes in that window
waits for the start to finish (up to ``STARTING_WAIT_S``); one that comes while it stops is a
503 ``ServiceUnavailable``, which the SDKs retry. A refusal is always the service's own error
shape; an unexpected failure is logged and answered with a 500 error shape, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from ..errors import ApiError
from ..ledger import Attempt
from ..triggers.schedule import ScheduleBinding
from . import dashboard
from .dynamodb_api import DynamoDbApi
from .dynamodb_streams_api import DynamoDbStreamsApi
from .events_api import EventsApi
from .guard import Gate
from .lambda_api import LambdaApi
from .protocol import DEFAULT_TIMEOUTS, Timeouts, json_response, parse_json, read_body, serve
from .s3_api import S3Api
from .services import FORM, Api, error_for, identify, not_served
from .sns_api import SnsApi
from .sqs_api import SqsApi
from .sts_api import StsApi

if TYPE_CHECKING:
    from ..simulator import Simulator

log = structlog.get_logger("eventsim.edge")

#: The body of a request for a service not served is read only to name its operation (a
#: query protocol's Action), and only up to this size.
UNSERVED_BODY_BYTES = 64 * 1024
#: How long a request that comes in while the simulator starts waits for it (real seconds).
STARTING_WAIT_S = 30.0


class EdgeServer:
    """Serves one simulator on ``host:port`` (port 0: any free port; see ``port``).

    ``timeouts`` bound how long a client may take to send a request's headers and body.
    """

    def __init__(
        self,
        sim: Simulator,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
    ) -> None:
        self._sim = sim
        self.host = host
        self.port = port
        self.timeouts = timeouts
        self._s3 = S3Api(sim)
        self._sqs = SqsApi(sim, lambda: self.url)
        # The served services, one entry each; every other service gets a 501.
        apis: list[Api] = [
            LambdaApi(sim),
            self._sqs,
            DynamoDbApi(sim),
            DynamoDbStreamsApi(sim),
            StsApi(sim),
            self._s3,
            SnsApi(sim),
            EventsApi(sim),
        ]
        self._apis = {api.service.name: api for api in apis}
        self._services = [api.service for api in apis]
        server = sim.config.server
        self._gate = Gate.serving(host, server.allowed_hosts, server.allowed_origins)
        self._runner: web.AppRunner | None = None
        #: Requests being handled now (a long poll counts until it returns).
        self.in_flight = 0
        self._in_flight_changed = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def app(self) -> web.Application:
        largest = max(api.service.max_request_bytes for api in self._apis.values())
        app = web.Application(
            client_max_size=largest, middlewares=[self._count, self._gatekeeper, self._no_500]
        )
        app.router.add_get("/_eventsim/health", self._health)
        app.router.add_get("/_eventsim/ledger", self._ledger)
        app.router.add_get("/_eventsim/explain", self._explain)
        app.router.add_get("/_eventsim/schedules", self._schedules)
        dashboard.add_routes(app, self._sim)
        app.router.add_route("*", "/{tail:.*}", self._aws)
        return app

    async def start(self) -> None:
        # Bodies are taken as sent, as AWS takes them: Lambda, SQS, DynamoDB and STS accept no
        # Content-Encoding, and a gzip bomb (1 MB that inflates to 1 GB) costs nothing unread.
        self._runner, self.port = await serve(
            self.app(), self.host, self.port, self.timeouts, decompress=False
        )

    async def wait_in_flight(self, count: int) -> None:
        """Until ``count`` requests are being handled at once (for tests of long polling)."""
        while self.in_flight < count:
            self._in_flight_changed.clear()
            await self._in_flight_changed.wait()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- every request ------------------------------------------------------------------

    @web.middleware
    async def _count(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.in_flight += 1
        self._in_flight_changed.set()
        try:
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            self.in_flight -= 1
            self._in_flight_changed.set()

    @web.middleware
    async def _gatekeeper(self, request: web.Request, handler: Any) -> web.StreamResponse:
        reason = self._gate.refusal(request.headers.get("Host"), request.headers.get("Origin"))
        if reason is not None:
            log.warning("edge.refused", method=request.method, path=request.path, reason=reason)
            return self._error(request, ApiError("AccessDenied", reason, 403))
        response: web.StreamResponse = await handler(request)
        return response

    @web.middleware
    async def _no_500(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """The last resort: an unexpected failure is logged and answered with a 500 in the
        client's error shape; never a traceback on the wire."""
        try:
            response: web.StreamResponse = await handler(request)
            return response
        except web.HTTPException:
            raise
        except Exception:
            log.exception("edge.request_failed", method=request.method, path=request.path)
            failure = ApiError("InternalFailure", "eventsim failed to handle the request", 500)
            return self._error(request, failure)

    def _identify(self, request: web.Request) -> str | None:
        """The service ``request`` is for: see services.py; S3 also claims what its clients
        send unsigned or signed the old way (SigV2 presigned URLs, virtual-hosted buckets), and
        SQS the query protocol's unsigned requests (curl, a browser)."""
        return (
            identify(request, self._services)
            or self._s3.claims(request)
            or self._sqs.claims(request)
        )

    def _error(self, request: web.Request, error: ApiError) -> web.Response:
        name = self._identify(request)
        api = self._apis.get(name) if name is not None else None
        return api.error(request, error) if api is not None else error_for(request, name, error)

    # --- AWS APIs -----------------------------------------------------------------------

    async def _aws(self, request: web.Request) -> web.Response:
        name = self._identify(request)
        api = self._apis.get(name) if name is not None else None
        if api is not None:
            service = api.service
            try:
                if not getattr(api, "streams_body", False):  # S3 streams its own bodies
                    await read_body(
                        request, service.max_request_bytes, self.timeouts.body,
                        service.too_large_code,
                    )  # fmt: skip
            except ApiError as exc:
                return api.error(request, exc)
            if not await self._sim.until_started(STARTING_WAIT_S):
                reason = "eventsim is not running (it is stopping, or did not start); try again"
                return api.error(request, ApiError("ServiceUnavailable", reason, 503))
            return await api.handle(request)
        if name is not None:
            return not_served(request, name, self._apis, await self._small_body(request))
        if "X-Amz-Target" in request.headers:
            return error_for(request, None, ApiError(
                "UnknownOperationException",
                "eventsim's edge serves Lambda (/2015-03-31/functions/...), SQS, DynamoDB and "
                "STS (X-Amz-Target: AmazonSQS.* or DynamoDB_20120810.*, or a SigV4 signature "
                "naming the service)",
            ))  # fmt: skip
        return json_response(
            {"message": f"eventsim's edge has nothing at {request.method} {request.path}"},
            404,
            "application/json",
        )

    async def _small_body(self, request: web.Request) -> bytes:
        if request.content_type != FORM:
            return b""
        try:
            return await read_body(request, UNSERVED_BODY_BYTES, self.timeouts.body)
        except ApiError:
            return b""

    # --- admin --------------------------------------------------------------------------

    async def _health(self, request: web.Request) -> web.Response:
        """200 ``{"status": "ok", ...}`` while every part runs; 503 with ``degraded``,
        ``failed`` or ``stopping`` and each part's state (``parts``) otherwise."""
        sim = self._sim
        health = sim.health()
        return json_response(
            {
                **health,
                "functions": sorted(sim.functions),
                "queues": sorted(sim.queues),
                "tables": sorted(sim.tables),
                "buckets": sorted(sim.config.buckets),
                "pending": sim.activity.pending(),
                "attempts": len(sim.ledger),
            },
            200 if health["status"] == "ok" else 503,
            content_type="application/json",
        )

    async def _schedules(self, request: web.Request) -> web.Response:
        """Each running schedule and its next fire times (``?next=N``, default 5)."""
        try:
            count = max(1, min(1000, int(request.query.get("next", "5"))))
        except ValueError:
            return json_response({"message": "next must be an integer"}, 400, "application/json")
        return json_response(
            [
                {"function": binding.functions[0], "name": binding.name,
                 "expression": binding.trigger.expression, "timezone": binding.trigger.timezone,
                 "enabled": binding.trigger.enabled,
                 "next": [when.isoformat() for when in binding.next_times(count)]}
                for binding in self._sim.bindings if isinstance(binding, ScheduleBinding)
            ],
            content_type="application/json",
        )  # fmt: skip

    async def _explain(self, request: web.Request) -> web.Response:
        status, text = _explain_text(self._sim, request.query)
        return web.Response(status=status, text=text + "\n")

    async def _ledger(self, request: web.Request) -> web.Response:
        function = request.query.get("function")
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return json_response({"message": "limit must be an integer"}, 400, "application/json")
        chosen = self._sim.ledger.recent(limit, function) if limit > 0 else []
        body = json.dumps([_attempt(a) for a in chosen], default=str)
        return web.Response(body=body.encode(), content_type="application/json")


def _explain_text(sim: Simulator, query: Any) -> tuple[int, str]:
    item = query.get("item")
    if not any(query.get(k) for k in ("key", "message", "item")):
        return 400, "give one of key=, message= or item= (a JSON object of the item's key)"
    try:
        parsed = parse_json(item) if item else None
    except ValueError:
        return 400, "item= must be a JSON object of the item's key"
    text = sim.explain(key=query.get("key"), message_id=query.get("message"), item=parsed)
    return 200, text


def _attempt(attempt: Attempt) -> dict[str, Any]:
    data = asdict(attempt)
    data["started_at"] = attempt.started_at.isoformat()
    data["outcome"] = attempt.outcome.value
    return data
