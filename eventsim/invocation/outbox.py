"""Where Lambda sends what it is done with: a destination's record, a dead-letter message.

Three things leave an invocation (docs/aws-behaviour.md §6.2, §6.3, §7.2):

* an asynchronous invocation's record (``Success``, ``RetriesExhausted``, ``EventAgeExceeded``)
  goes to the function's ``on_success`` / ``on_failure`` destination;
* the event itself, unchanged, goes to the function's ``dead_letter_queue`` when it failed for
  good, with the message attributes ``RequestID``, ``ErrorCode`` and ``ErrorMessage``;
* a discarded stream batch's record (``DDBStreamBatchInfo``) goes to its mapping's
  ``on_failure`` destination.

By destination kind, as Lambda delivers: a queue gets the record as a message body, a topic as
the ``Message`` (without the payloads when the record is over SNS's 256 KB), an event bus as the
``detail`` of an event from ``source: lambda``. A function destination is an asynchronous
invocation, which the caller makes itself (``AsyncInvoker``).

A target that is gone or refuses the message raises ``TargetRefused``: the caller records that
the record could not be sent, as Lambda counts a ``DestinationDeliveryFailures``.

Example::

    outbox = Outbox(sim.resource)
    outbox.send_record(Destination(kind="queue", name="failed"), record, function_arn=arn)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ..config import Destination
from ..errors import EventsimError, TargetRefused

#: The config section each destination kind names a resource of.
SECTIONS = {"queue": "queues", "topic": "topics", "bus": "buses"}

#: SNS refuses a message over 256 KB; Lambda then leaves the payloads out of the record.
SNS_MESSAGE_BYTES = 256 * 1024

#: An invocation record's ``detail-type`` on an event bus, by whether it succeeded.
DETAIL_TYPES = {
    True: "Lambda Function Invocation Result - Success",
    False: "Lambda Function Invocation Result - Failure",
}

Lookup = Callable[[str, str], Any]  # (section, name) -> the resource; UnknownResourceError


class Outbox:
    """Sends records and dead-letter messages to queues, topics and buses found by ``lookup``
    (the simulator's ``resource``) when sent, so that a target made or deleted at run time is
    the one used."""

    def __init__(self, lookup: Lookup) -> None:
        self._lookup = lookup

    def send_record(
        self, destination: Destination, record: dict[str, Any], *, function_arn: str
    ) -> None:
        """Send an invocation or stream-batch record to a queue, topic or bus."""
        target = self._target(destination)
        body = json.dumps(record)
        try:
            if destination.kind == "queue":
                target.send_message(body)
            elif destination.kind == "topic":
                if len(body.encode()) > SNS_MESSAGE_BYTES:
                    body = json.dumps(_without_payloads(record))
                target.publish(body)
            else:
                success = record.get("requestContext", {}).get("condition") == "Success"
                target.put({
                    "source": "lambda",
                    "detail-type": DETAIL_TYPES[success],
                    "resources": [function_arn, target.arn],
                    "detail": record,
                })  # fmt: skip
        except EventsimError as exc:
            raise TargetRefused(destination, str(exc)) from exc

    def dead_letter(
        self, target: Destination, body: str, attributes: Mapping[str, Mapping[str, str]]
    ) -> None:
        """Send a failed event, unchanged, to a dead-letter queue or topic."""
        resource = self._target(target)
        try:
            if target.kind == "queue":
                resource.send_message(body, attributes=attributes)
            else:
                resource.publish(body, attributes=attributes)
        except EventsimError as exc:
            raise TargetRefused(target, str(exc)) from exc

    def _target(self, destination: Destination) -> Any:
        section = SECTIONS.get(destination.kind)
        if section is None:
            raise TargetRefused(destination, f"a {destination.kind} cannot receive this")
        try:
            return self._lookup(section, destination.name)
        except EventsimError:  # deleted at run time (DeleteQueue, DeleteTopic)
            raise TargetRefused(destination, "it no longer exists") from None


def _without_payloads(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("requestPayload", "responsePayload")}
