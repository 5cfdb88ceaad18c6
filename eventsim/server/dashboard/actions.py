"""The dashboard's JSON API, the side that changes things: ``POST /_eventsim/api/...``.

Invoke a function, send to a queue, purge it, redrive a dead-letter queue, upload an object,
fire a schedule. Each goes through the same Python API a test would use, so each does what
that does (an upload fires the bucket's trigger; a redrive is SQS's message move task; a
schedule fires through ``ScheduleBinding.fire``, asynchronously, as when it is due).

Only ``POST``, and like every request to the edge only from loopback ``Host``\\ s with no
foreign ``Origin`` (server/guard.py): a page of another site cannot use them. As one more
wall, a body in one of the three content types a cross-site form may send without asking
(``text/plain``, form encodings) is refused: the page sends JSON or ``application/octet-stream``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ...errors import (
    ApiError,
    EventsimError,
    InvalidKey,
    InvokeError,
    QueueError,
    RequestTooLarge,
    TooManyRequests,
)
from ..protocol import read_body
from .api import Refused, not_found, reply, schedule_bindings

if TYPE_CHECKING:
    from ...simulator import Simulator

#: Content types a cross-site page may POST without a CORS preflight.
SIMPLE_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})
#: The largest JSON body taken (an invoke's event: Lambda's 6 MB synchronous limit).
MAX_JSON = 6 * 1024 * 1024 + 1024
#: The largest file taken by an upload; larger ones go into the folder or through the S3 API.
MAX_UPLOAD = 64 * 1024 * 1024
BODY_SECONDS = 60.0


class Actions:
    """The ``POST`` endpoints."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def routes(self) -> list[web.RouteDef]:
        post = web.post
        return [
            post("/_eventsim/api/functions/{name}/invoke", self.invoke),
            post("/_eventsim/api/queues/{name}/send", self.send),
            post("/_eventsim/api/queues/{name}/purge", self.purge),
            post("/_eventsim/api/queues/{name}/redrive", self.redrive),
            post("/_eventsim/api/buckets/{name}/objects", self.upload),
            post("/_eventsim/api/schedules/{name}/fire", self.fire),
        ]

    async def _json(self, request: web.Request) -> dict[str, Any]:
        _refuse_simple(request)
        try:
            raw = await read_body(request, MAX_JSON, BODY_SECONDS)
        except ApiError as exc:
            raise Refused(exc.status, exc.code, str(exc)) from None
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise Refused(400, "InvalidJson", "the request body is not JSON") from None
        if not isinstance(data, dict):
            raise Refused(400, "InvalidJson", "the request body must be a JSON object")
        return data

    async def invoke(self, request: web.Request) -> web.Response:
        """``{"event": ..., "invocation_type": "RequestResponse" | "Event"}``."""
        name = request.match_info["name"]
        if name not in self.sim.functions:
            raise not_found("function", name, list(self.sim.functions))
        data = await self._json(request)
        kind = data.get("invocation_type", "RequestResponse")
        if kind not in ("RequestResponse", "Event"):
            raise Refused(400, "InvalidParameter", f"invocation_type must be RequestResponse "
                          f"or Event, not {kind!r}")  # fmt: skip
        try:
            result = await self.sim.invoke(name, data.get("event", {}), invocation_type=kind)
        except TooManyRequests as exc:
            raise Refused(429, "TooManyRequestsException", str(exc)) from None
        except RequestTooLarge as exc:
            raise Refused(413, "RequestTooLargeException", str(exc)) from None
        except InvokeError as exc:
            raise Refused(400, "InvalidRequestContentException", str(exc)) from None
        return reply({
            "request_id": result.request_id, "status_code": result.status_code,
            "payload": result.payload, "function_error": result.function_error,
            "duration_ms": result.duration_ms, "billed_ms": result.billed_duration_ms,
            "init_ms": result.init_duration_ms, "log": result.log_tail,
        })  # fmt: skip

    def _queue(self, request: web.Request) -> Any:
        name = request.match_info["name"]
        queue = self.sim.queues.get(name)
        if queue is None:
            raise not_found("queue", name, list(self.sim.queues))
        return queue

    async def send(self, request: web.Request) -> web.Response:
        """``{"body": "...", "delay_seconds": 0, "group_id": "...", "deduplication_id": "..."}``."""
        queue = self._queue(request)
        data = await self._json(request)
        body = data.get("body")
        if not isinstance(body, str):
            raise Refused(400, "InvalidParameter", "body must be a string (the message body)")
        options = {k: data[k] for k in ("delay_seconds", "group_id", "deduplication_id")
                   if data.get(k) not in (None, "")}  # fmt: skip
        try:
            message_id = queue.send_message(body, **options)
        except QueueError as exc:
            raise Refused(400, exc.code, str(exc)) from None
        return reply({"message_id": message_id})

    async def purge(self, request: web.Request) -> web.Response:
        queue = self._queue(request)
        _refuse_simple(request)
        before = len(queue)
        try:
            queue.purge()
        except QueueError as exc:
            raise Refused(409 if exc.code == "PurgeQueueInProgress" else 400, exc.code,
                          str(exc)) from None  # fmt: skip
        return reply({"purged": before})

    async def redrive(self, request: web.Request) -> web.Response:
        """Move a dead-letter queue's messages back to the queues they came from (SQS's
        StartMessageMoveTask without a destination)."""
        queue = self._queue(request)
        _refuse_simple(request)
        try:
            handle = self.sim.queues.moves.start(queue.arn)
        except QueueError as exc:
            status = 409 if "already a task running" in str(exc) else 400
            raise Refused(status, exc.code, str(exc)) from None
        [task] = self.sim.queues.moves.list(queue.arn, 1)
        return reply({"task_handle": handle, "to_move": task["ApproximateNumberOfMessagesToMove"]})

    async def upload(self, request: web.Request) -> web.Response:
        """The body, as the object ``?key=``: written into the bucket's folder, which fires
        the bucket's notifications as a file saved there would."""
        name = request.match_info["name"]
        bucket = self.sim.buckets.get(name)
        if bucket is None:
            raise not_found("bucket", name, list(self.sim.buckets))
        key = request.query.get("key", "")
        if not key:
            raise Refused(400, "InvalidParameter", "give the object's key: ?key=folder/name.txt")
        _refuse_simple(request)
        try:
            body = await read_body(request, MAX_UPLOAD, BODY_SECONDS)
        except ApiError as exc:
            raise Refused(exc.status, exc.code, f"{exc}: copy larger files into the bucket's "
                          "folder or upload them with the S3 API") from None  # fmt: skip
        try:
            change = await bucket.put_object(key, body)
        except InvalidKey as exc:
            raise Refused(400, exc.code, str(exc)) from None
        return reply({"key": change.key, "size": change.size, "etag": change.etag,
                      "event": change.event_name})  # fmt: skip

    async def fire(self, request: web.Request) -> web.Response:
        """Fire a schedule once now, as a due firing does: the event is queued for its
        function asynchronously (with its retries); the attempt appears in the ledger."""
        name = request.match_info["name"]
        found = [b for b in schedule_bindings(self.sim) if b.name == name]
        if not found:
            raise not_found("schedule", name, [b.name for b in schedule_bindings(self.sim)])
        _refuse_simple(request)
        try:
            firing = found[0].fire()
        except EventsimError as exc:
            raise Refused(400, type(exc).__name__, str(exc)) from None
        return reply({"request_id": firing.request_id, "status_code": 202,
                      "event": firing.event})  # fmt: skip


def _refuse_simple(request: web.Request) -> None:
    if request.content_type in SIMPLE_TYPES:
        raise Refused(415, "UnsupportedMediaType", f"the dashboard API takes JSON "
                      f"(application/json), not {request.content_type}")  # fmt: skip
