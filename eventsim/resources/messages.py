"""What a queue holds and hands out, and the rules a sent message must meet (§3.1, §3.2)."""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..config import QUEUE_NAME, QueueConfig
from ..errors import EventsimError

_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")


class QueueError(EventsimError, ValueError):
    """A request SQS would refuse; ``code`` is SQS's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(slots=True)
class _Message:
    id: str
    body: str
    message_attributes: dict[str, dict[str, Any]]
    md5_of_body: str
    md5_of_attributes: str | None
    sent_at: float
    seq: int
    available_at: float
    group_id: str | None = None
    deduplication_id: str | None = None
    sequence_number: str | None = None
    receive_count: int = 0
    first_receive_at: float | None = None
    receipt_handle: str | None = None
    in_flight: bool = False
    version: int = 0
    dead_letter_source: str | None = None


@dataclass(frozen=True)
class Message:
    """A received message, as ReceiveMessage returns it."""

    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str]
    message_attributes: dict[str, dict[str, Any]]
    md5_of_body: str
    md5_of_message_attributes: str | None


@dataclass(frozen=True)
class Counts:
    visible: int
    in_flight: int
    delayed: int


@dataclass
class _Group:
    messages: deque[_Message] = field(default_factory=deque)
    in_flight: int = 0
    queued: bool = False  # an entry for it is in the ready heap


def check_send(
    name: str,
    config: QueueConfig,
    fifo: bool,
    body: str,
    attributes: dict[str, dict[str, Any]],
    delay: int | None,
    group_id: str | None,
) -> None:
    """Raise ``QueueError`` for a SendMessage SQS would refuse (reference §3.2, §3.4)."""
    size = len(body.encode()) + sum(
        len(n)
        + len(a.get("DataType", ""))
        + len(str(a.get("StringValue", a.get("BinaryValue", ""))))
        for n, a in attributes.items()
    )
    if not body:
        raise QueueError("InvalidParameterValue", "the message body must not be empty")
    if size > config.maximum_message_size:
        raise QueueError(
            "InvalidParameterValue",
            f"{name}: message of {size} bytes is over the maximum of {config.maximum_message_size}",
        )
    if len(attributes) > 10:
        raise QueueError("InvalidParameterValue", "at most 10 message attributes")
    for name, attribute in attributes.items():
        lowered = name.lower()
        if (
            not _ATTRIBUTE_NAME.match(name)
            or lowered.startswith(("aws.", "amazon."))
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
        ):
            raise QueueError("InvalidParameterValue", f"invalid message attribute name {name!r}")
        data_type = attribute.get("DataType", "")
        base = data_type.split(".", 1)[0]
        value_key = "BinaryValue" if base == "Binary" else "StringValue"
        if base not in ("String", "Number", "Binary") or value_key not in attribute:
            raise QueueError(
                "InvalidParameterValue",
                f"message attribute {name!r}: DataType String, Number or Binary with its value",
            )
    if delay is not None and not 0 <= delay <= 900:
        raise QueueError("InvalidParameterValue", "DelaySeconds must be 0..900")
    if fifo:
        if delay is not None:
            raise QueueError(
                "InvalidParameterValue", "FIFO queues take no per-message DelaySeconds"
            )
        if not group_id:
            raise QueueError("MissingParameter", f"{name}: FIFO messages need a MessageGroupId")
    elif group_id:
        raise QueueError("InvalidParameterValue", "MessageGroupId is for FIFO queues")


#: CreateQueue's attribute names and the config keys they set (reference §3.4).
_ATTRIBUTE_KEYS = {
    "VisibilityTimeout": "visibility_timeout",
    "DelaySeconds": "delay_seconds",
    "MessageRetentionPeriod": "message_retention_period",
    "MaximumMessageSize": "maximum_message_size",
    "ReceiveMessageWaitTimeSeconds": "receive_message_wait_time_seconds",
    "ContentBasedDeduplication": "content_based_deduplication",
}


def config_from_attributes(name: str, attributes: Mapping[str, str]) -> QueueConfig:
    """A queue's config from CreateQueue's attributes; ``ValueError`` says what is wrong."""
    if not re.match(QUEUE_NAME, name) or len(name) > 80:
        raise ValueError(f"invalid queue name {name!r}: 1-80 letters, digits, - or _ (.fifo)")
    fifo = str(attributes.get("FifoQueue", "false")).lower() == "true"
    if fifo != name.endswith(".fifo"):
        raise ValueError("a FIFO queue's name ends in .fifo, and only a FIFO queue's does")
    values: dict[str, Any] = {}
    for attribute, value in attributes.items():
        if attribute in _ATTRIBUTE_KEYS:
            values[_ATTRIBUTE_KEYS[attribute]] = value
        elif attribute == "RedrivePolicy":
            try:
                policy = json.loads(value)
                values["redrive"] = {
                    "dead_letter_queue": policy["deadLetterTargetArn"].rsplit(":", 1)[-1],
                    "max_receive_count": int(policy["maxReceiveCount"]),
                }
            except (ValueError, KeyError, TypeError, AttributeError):
                raise ValueError(f"invalid RedrivePolicy {value!r}") from None
        elif attribute != "FifoQueue":
            raise ValueError(f"unknown or unsupported queue attribute {attribute!r}")
    try:
        return QueueConfig.model_validate(values)
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise ValueError(f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}") from None
