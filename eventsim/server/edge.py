"""The edge server: one port for the Lambda Invoke API, SQS and DynamoDB (the JSON protocols
boto3 speaks) and eventsim's admin endpoints.

Example::

    edge = EdgeServer(sim, port=0)
    await edge.start()
    boto3.client("sqs", endpoint_url=edge.url, ...)
    await edge.stop()

Requests are told apart by path and ``X-Amz-Target``. A bad request gets the service's own
4xx error shape; an unexpected failure is logged and answered with a 500 error shape, never a
traceback.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from ..ledger import Attempt
from .dynamodb_api import DynamoDbApi
from .dynamodb_api import error_response as dynamodb_error
from .lambda_api import LambdaApi
from .lambda_api import error_response as lambda_error
from .protocol import json_response, serve
from .sqs_api import SqsApi

if TYPE_CHECKING:
    from ..simulator import Simulator

log = structlog.get_logger("eventsim.edge")

#: Requests larger than this are refused before they are read (Lambda's sync payload + slack).
MAX_REQUEST_BYTES = 7 * 1024 * 1024


class EdgeServer:
    """Serves one simulator on ``host:port`` (port 0: any free port; see ``port``)."""

    def __init__(self, sim: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sim = sim
        self.host = host
        self.port = port
        self._sqs = SqsApi(sim, lambda: self.url)
        self._dynamodb = DynamoDbApi(sim)
        self._lambda = LambdaApi(sim)
        self._runner: web.AppRunner | None = None
        #: Requests being handled now (a long poll counts until it returns).
        self.in_flight = 0
        self._in_flight_changed = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(
            client_max_size=MAX_REQUEST_BYTES, middlewares=[self._count, _never_a_traceback]
        )
        app.router.add_post("/2015-03-31/functions/{name}/invocations", self._lambda.invoke)
        app.router.add_get("/_eventsim/health", self._health)
        app.router.add_get("/_eventsim/ledger", self._ledger)
        app.router.add_get("/_eventsim/explain", self._explain)
        app.router.add_post("/{tail:.*}", self._json_protocol)
        return app

    async def start(self) -> None:
        self._runner, self.port = await serve(self.app(), self.host, self.port)

    async def wait_in_flight(self, count: int) -> None:
        """Until ``count`` requests are being handled at once (for tests of long polling)."""
        while self.in_flight < count:
            self._in_flight_changed.clear()
            await self._in_flight_changed.wait()

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

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _json_protocol(self, request: web.Request) -> web.Response:
        service, _, operation = request.headers.get("X-Amz-Target", "").partition(".")
        if service == "AmazonSQS":
            return await self._sqs.handle(request, operation)
        if service == "DynamoDB_20120810":
            return await self._dynamodb.handle(request, operation)
        return dynamodb_error(
            "UnknownOperationException",
            "eventsim's edge serves Lambda (/2015-03-31/functions/...), SQS and DynamoDB "
            "(X-Amz-Target: AmazonSQS.* or DynamoDB_20120810.*)",
        )

    async def _health(self, request: web.Request) -> web.Response:
        sim = self._sim
        return json_response(
            {
                "status": "ok" if sim.running else "stopping",
                "functions": sorted(sim.functions),
                "queues": sorted(sim.queues),
                "tables": sorted(sim.tables),
                "buckets": sorted(sim.config.buckets),
                "pending": sim.activity.pending(),
                "attempts": len(sim.ledger),
            },
            content_type="application/json",
        )

    async def _explain(self, request: web.Request) -> web.Response:
        status, text = _explain_text(self._sim, request.query)
        return web.Response(status=status, text=text + "\n")

    async def _ledger(self, request: web.Request) -> web.Response:
        function = request.query.get("function")
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return json_response({"message": "limit must be an integer"}, 400, "application/json")
        attempts = self._sim.ledger.for_function(function) if function else self._sim.ledger.all()
        chosen = attempts[-limit:] if limit > 0 else []
        body = json.dumps([_attempt(a) for a in chosen], default=str)
        return web.Response(body=body.encode(), content_type="application/json")


def _explain_text(sim: Simulator, query: Any) -> tuple[int, str]:
    item = query.get("item")
    if not any(query.get(k) for k in ("key", "message", "item")):
        return 400, "give one of key=, message= or item= (a JSON object of the item's key)"
    try:
        parsed = json.loads(item) if item else None
    except ValueError:
        return 400, "item= must be a JSON object of the item's key"
    text = sim.explain(key=query.get("key"), message_id=query.get("message"), item=parsed)
    return 200, text


def _attempt(attempt: Attempt) -> dict[str, Any]:
    data = asdict(attempt)
    data["started_at"] = attempt.started_at.isoformat()
    data["outcome"] = attempt.outcome.value
    return data


@web.middleware
async def _never_a_traceback(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as exc:
        if exc.status == 413:
            return lambda_error(413, "RequestTooLargeException", "the request is too large")
        if exc.status in (404, 405):
            return json_response(
                {"message": f"eventsim's edge has nothing at {request.method} {request.path}"},
                exc.status,
                "application/json",
            )
        raise
    except Exception:
        log.exception("edge.request_failed", method=request.method, path=request.path)
        return json_response(
            {"__type": "InternalFailure", "message": "eventsim failed to handle the request"},
            500,
            "application/json",
        )
