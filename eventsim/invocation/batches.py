"""What every batch poller (an event source mapping: SQS, DynamoDB streams...) shares.

* ``BatchResponse``: a function's partial batch response (§7.1), parsed strictly — a malformed
  one fails the whole batch, as AWS does;
* ``invoke_batch``: one synchronous invocation of a batch, with throttles retried after an
  exponential back-off on the clock (they are not function errors and use up no retry) until
  the caller's ``give_up`` says the records are no longer worth it;
* ``THROTTLE_BACKOFF_S``: that back-off, for every mapping.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import TooManyRequests
from ..ledger import Code
from ..runtime.spec import FunctionSpec
from .sync import Invoker, InvokeResult

#: Back-off after a throttled batch: starts at 1 s, doubles, capped at 1 minute.
THROTTLE_BACKOFF_S = (1.0, 60.0)


class _ItemFailure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    itemIdentifier: str = Field(min_length=1)


class BatchResponse(BaseModel):
    """A function's partial batch response (§7.1), parsed strictly."""

    model_config = ConfigDict(extra="forbid")
    batchItemFailures: list[_ItemFailure] | None = None

    @classmethod
    def failed_ids(cls, payload: Any, batch_ids: set[str]) -> set[str] | None:
        """The ids to keep, or None when the response fails the whole batch."""
        if payload is None:
            return set()
        try:
            response = cls.model_validate(payload)
        except ValidationError:
            return None
        failed = {f.itemIdentifier for f in response.batchItemFailures or []}
        return failed if failed <= batch_ids else None


def throttle_delay(throttles: int) -> float:
    """How long to wait after the ``throttles``-th throttle in a row."""
    first, cap = THROTTLE_BACKOFF_S
    return min(first * 2.0 ** min(throttles - 1, 32), cap)


async def invoke_batch(
    invoker: Invoker,
    spec: FunctionSpec,
    event: dict[str, Any],
    *,
    source: str,
    reason_if_failed: str,
    code_if_failed: Code,
    sleep: Callable[[float], Awaitable[None]],
    give_up: Callable[[float], bool],
) -> InvokeResult | None:
    """Invoke ``spec`` with one batch; None if it stayed throttled until ``give_up(delay)``
    (asked before each back-off of ``delay`` seconds) said to stop."""
    body = json.dumps(event).encode()
    throttles = 0
    while True:
        try:
            return await invoker.invoke(
                spec, body, event=event, source=source, reason_if_failed=reason_if_failed,
                code_if_failed=code_if_failed,
            )  # fmt: skip
        except TooManyRequests:
            throttles += 1
            delay = throttle_delay(throttles)
            if give_up(delay):
                return None
            await sleep(delay)
