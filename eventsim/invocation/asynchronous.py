"""Asynchronous invocation (``Event``): accept now, run later.

``submit`` checks the 1 MB limit, counts the event as pending work and hands it to a task in the
simulator's task group; the caller gets the request id at once (HTTP 202 in the Invoke API).

This is the foundation's version: each event runs once. Retries with AWS's delays, maximum
event age and destinations arrive with the S3/asynchronous issue. TODO(#4)
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from ..activity import Activity
from ..errors import RequestTooLarge, TooManyRequests
from ..runtime.spec import FunctionSpec
from .sync import ASYNC_PAYLOAD_LIMIT, Invoker, new_request_id

log = structlog.get_logger("eventsim.invocation")

Spawn = Callable[[Coroutine[Any, Any, None]], object]


class AsyncInvoker:
    """The internal event queue of asynchronous invocation."""

    def __init__(self, invoker: Invoker, activity: Activity, spawn: Spawn) -> None:
        self._invoker = invoker
        self._activity = activity
        self._spawn = spawn

    def submit(self, spec: FunctionSpec, body: bytes, *, event: Any, source: str = "invoke") -> str:
        """Queue one event for ``spec``; return its request id."""
        if len(body) > ASYNC_PAYLOAD_LIMIT:
            raise RequestTooLarge(
                f"{spec.name}: asynchronous payload must be at most {ASYNC_PAYLOAD_LIMIT} bytes "
                f"(got {len(body)})"
            )
        request_id = new_request_id()
        self._activity.begin("event")
        self._spawn(self._deliver(spec, body, event, source, request_id))
        return request_id

    async def _deliver(
        self, spec: FunctionSpec, body: bytes, event: Any, source: str, request_id: str
    ) -> None:
        try:
            await self._invoker.invoke(
                spec,
                body,
                event=event,
                invocation_type="Event",
                source=source,
                request_id=request_id,
            )
        except TooManyRequests:
            pass  # recorded in the ledger as throttled; retried with backoff in TODO(#4)
        except Exception:
            log.exception("event.delivery_failed", function=spec.name, request_id=request_id)
        finally:
            self._activity.end("event")
