"""What a queue holds and hands out, and the rules a sent message must meet (§3.1, §3.2).

Every sender (the Python API, the edge, destinations) goes through the same checks, so
``sim.queue(name).send_message(...)`` refuses what SQS refuses, with SQS's code and, where AWS
documents or returns one, its exact words: characters outside XML 1.0's set in a body
(``InvalidMessageContents``) or a string attribute, ``Number`` attributes that are not numbers,
empty values, data types, attribute names, ``MessageGroupId``/``MessageDeduplicationId``
formats, sizes, and the ranges of the receive parameters.

A stored message is a ``_Message`` with ``__slots__``: a million queued messages cost little
more than a plain dict each. Digests are computed when a message is handed out, not stored.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import QueueError
from ..events.sqs import md5_of_body, md5_of_message_attributes

#: ``_Message.state``: waiting for its delay, visible, or received and not yet deleted.
DELAYED, VISIBLE, IN_FLIGHT = 0, 1, 2
MAX_BATCH = 10
MAX_ATTRIBUTES = 10
#: A name: letters (any script, as SQS takes them), digits, ``_``, ``-``, ``.``.
_ATTRIBUTE_NAME = re.compile(r"^[\w.-]{1,256}$")
#: A DataType: String, Number or Binary, optionally ``.<custom label>`` (printable ASCII).
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\.[!-~]*)?$")
#: MessageGroupId, MessageDeduplicationId: alphanumerics and punctuation, 1..128.
_TOKEN = re.compile(r"^[!-~]{1,128}$")
#: What SQS refuses in a body or string value: anything outside XML 1.0's Char production.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_CHARSETS = "the set of allowed characters is available at http://www.w3.org/TR/REC-xml/#charsets"
_WRONG_QUEUE_TYPE = "The request include parameter that is not valid for this queue type."


def invalid(name: str, value: object, reason: str) -> QueueError:
    """SQS's ``InvalidParameterValue`` sentence for parameter ``name``."""
    return QueueError(
        "InvalidParameterValue", f"Value {value} for parameter {name} is invalid. Reason: {reason}"
    )


def missing(name: str) -> QueueError:
    return QueueError("MissingParameter", f"The request must contain the parameter {name}.")


class _Extra:
    """What few messages carry: FIFO ids, a trace header, where a dead letter came from, the
    receipt handles of earlier receives (a standard queue still honours them)."""

    __slots__ = ("group_id", "deduplication_id", "sequence_number", "trace_header",
                 "dead_letter_source", "old_handles")  # fmt: skip

    def __init__(
        self,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        sequence_number: str | None = None,
        trace_header: str | None = None,
        dead_letter_source: str | None = None,
    ) -> None:
        self.group_id = group_id
        self.deduplication_id = deduplication_id
        self.sequence_number = sequence_number
        self.trace_header = trace_header
        self.dead_letter_source = dead_letter_source
        self.old_handles: list[str] | None = None


class _Message:
    """A stored message. ``available_at``: when a delay ends or a visibility timeout expires;
    ``version`` invalidates its older entries in the queue's heaps."""

    __slots__ = ("id", "body", "attributes", "sent_at", "seq", "available_at", "state",
                 "receive_count", "first_receive_at", "handle", "version", "extra")  # fmt: skip

    def __init__(
        self,
        id: str,
        body: str,
        attributes: dict[str, dict[str, Any]] | None,
        sent_at: float,
        seq: int,
        available_at: float,
        extra: _Extra | None = None,
    ) -> None:
        self.id = id
        self.body = body
        self.attributes = attributes  # None without: most messages have none
        self.sent_at = sent_at
        self.seq = seq
        self.available_at = available_at
        self.state = DELAYED
        self.receive_count = 0
        self.first_receive_at: float | None = None
        self.handle: str | None = None
        self.version = 0
        self.extra = extra

    @property
    def group_id(self) -> str | None:
        return self.extra.group_id if self.extra is not None else None


@dataclass(frozen=True, slots=True)
class Message:
    """A received message, as ReceiveMessage returns it."""

    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str]
    message_attributes: dict[str, dict[str, Any]]
    md5_of_body: str
    md5_of_message_attributes: str | None


@dataclass(frozen=True, slots=True)
class Sent:
    """What SendMessage answers: the id (the original's for a FIFO duplicate), on FIFO queues
    the sequence number, and the digests of what was sent (computed when asked for)."""

    message_id: str
    sequence_number: str | None = None
    body: str = ""
    attributes: dict[str, dict[str, Any]] | None = None
    system_attributes: dict[str, dict[str, Any]] | None = None

    def digests(self) -> dict[str, str]:
        """``MD5OfMessageBody`` and, when given, ``MD5OfMessageAttributes`` and
        ``MD5OfMessageSystemAttributes``."""
        found = {"MD5OfMessageBody": md5_of_body(self.body)}
        for key, attributes in (
            ("MD5OfMessageAttributes", self.attributes),
            ("MD5OfMessageSystemAttributes", self.system_attributes),
        ):
            digest = md5_of_message_attributes(attributes or {})
            if digest is not None:
                found[key] = digest
        return found


@dataclass(frozen=True)
class Counts:
    visible: int
    in_flight: int
    delayed: int


# --- checks ---------------------------------------------------------------------------------


def check_text(text: str, where: str, code: str = "InvalidMessageContents") -> None:
    """Refuse characters SQS does not take (XML 1.0's Char production) in ``text``."""
    bad = _NOT_XML_CHAR.search(text)
    if bad is not None:
        raise QueueError(
            code, f"Invalid binary character '#x{ord(bad.group()):X}' was found in {where}, "
            f"{_CHARSETS}"
        )  # fmt: skip


def check_token(name: str, value: object) -> str:
    """A MessageGroupId or MessageDeduplicationId: 1..128 alphanumerics and punctuation."""
    if not isinstance(value, str) or not _TOKEN.match(value):
        raise invalid(
            name, value if isinstance(value, str) else repr(value),
            f"{name} can only include alphanumeric and punctuation characters. 1 to 128 in length.",
        )  # fmt: skip
    return value


def check_range(name: str, value: object, low: int, high: int, reason: str) -> int:
    """An integer parameter in ``low..high``, refused in SQS's words otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(name, value, reason)
    return value


def receive_limits(
    max_messages: object, wait_seconds: object | None, visibility_timeout: object | None
) -> None:
    """ReceiveMessage's ranges: MaxNumberOfMessages 1..10, WaitTimeSeconds 0..20,
    VisibilityTimeout 0..43200."""
    check_range("MaxNumberOfMessages", max_messages, 1, MAX_BATCH,
                "Must be between 1 and 10, if provided.")  # fmt: skip
    if wait_seconds is not None:
        check_range("WaitTimeSeconds", wait_seconds, 0, 20, "Must be >= 0 and <= 20, if provided.")
    if visibility_timeout is not None:
        check_range("VisibilityTimeout", visibility_timeout, 0, 43200,
                    "Must be >= 0 and <= 43200, if provided.")  # fmt: skip


def _check_number(name: str, text: str) -> None:
    """A Number attribute: a decimal of up to 38 digits between 10^-128 and 10^126."""
    if not _NUMBER.fullmatch(text):
        raise QueueError(
            "InvalidParameterValue",
            f"Can't cast the value of message (user) attribute '{name}' to a number.",
        )
    try:
        number = Decimal(text.strip())
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise QueueError("InvalidParameterValue", f"Can't cast the value of message (user) "
                         f"attribute '{name}' to a number.") from None  # fmt: skip
    significant = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(significant) > 38 or number and not -128 <= number.adjusted() <= 126:
        raise QueueError(
            "InvalidParameterValue",
            f"The value of message attribute '{name}' is out of range for a Number: up to 38 "
            "digits, between 10^-128 and 10^126",
        )


def _binary(name: str, value: object) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):  # base64 text, as the JSON protocol carries it
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise QueueError("InvalidParameterValue",
                     f"Message (user) attribute '{name}': BinaryValue must be bytes")  # fmt: skip


def check_attributes(
    raw: Mapping[str, Any] | None, *, system: bool = False
) -> dict[str, dict[str, Any]] | None:
    """Message attributes in the API form (``{"DataType": ..., "StringValue" | "BinaryValue":
    ...}``), checked and copied (binary values as bytes); None when there are none.
    ``system``: MessageSystemAttributes, where only ``AWSTraceHeader`` (a String) exists."""
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise QueueError("InvalidParameterValue", "MessageAttributes must be a map")
    if not system and len(raw) > MAX_ATTRIBUTES:
        raise QueueError(
            "InvalidParameterValue",
            f"Number of message attributes [{len(raw)}] exceeds the allowed maximum "
            f"[{MAX_ATTRIBUTES}].",
        )
    out: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        if system:
            if name != "AWSTraceHeader":
                raise QueueError("InvalidParameterValue", f"Message system attribute name "
                                 f"'{name}' is invalid.")  # fmt: skip
        elif (
            not isinstance(name, str)
            or not _ATTRIBUTE_NAME.match(name)
            or name.lower().startswith(("aws.", "amazon."))
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
        ):
            raise QueueError(
                "InvalidParameterValue",
                f"Message (user) attribute name '{name}' is invalid: up to 256 letters, digits, "
                "_, - and ., not starting with AWS. or Amazon., no leading, trailing or double "
                "period",
            )
        if not isinstance(value, Mapping):
            raise QueueError("InvalidParameterValue", f"message attribute {name!r} must be a map")
        data_type = value.get("DataType")
        if data_type is None or data_type == "":
            raise QueueError(
                "InvalidParameterValue",
                f"The message attribute '{name}' must contain non-empty message attribute type.",
            )
        if (
            not isinstance(data_type, str)
            or not _DATA_TYPE.match(data_type)
            or len(data_type) > 256
        ):
            raise QueueError(
                "InvalidParameterValue",
                f"The type of message (user) attribute '{name}' is invalid. You must use only "
                "the following supported type prefixes: Binary, Number, String.",
            )
        kind = data_type.partition(".")[0]
        if system and kind != "String":
            raise QueueError("InvalidParameterValue", "The message system attribute "
                             "AWSTraceHeader must be of type String.")  # fmt: skip
        key = "BinaryValue" if kind == "Binary" else "StringValue"
        given = value.get(key)
        if given is None or given == "" or given == b"":
            raise QueueError(
                "InvalidParameterValue",
                f"Message (user) attribute '{name}' must contain a non-empty value of type "
                f"'{kind}'.",
            )
        if kind == "Binary":
            out[name] = {"DataType": data_type, "BinaryValue": _binary(name, given)}
            continue
        if not isinstance(given, str):
            raise QueueError(
                "InvalidParameterValue", f"message attribute '{name}': StringValue must be a string"
            )
        check_text(given, f"the value of message (user) attribute '{name}'",
                   "InvalidParameterValue")  # fmt: skip
        if kind == "Number":
            _check_number(name, given)
        out[name] = {"DataType": data_type, "StringValue": given}
    return out


def attributes_size(attributes: Mapping[str, Mapping[str, Any]] | None) -> int:
    """What message attributes add to a message's size: name, type and value bytes."""
    size = 0
    for name, attribute in (attributes or {}).items():
        value = attribute.get("StringValue", attribute.get("BinaryValue", b""))
        size += len(name.encode()) + len(attribute["DataType"].encode())
        size += len(value) if isinstance(value, bytes) else len(value.encode())
    return size


def check_body(body: object, maximum: int, attributes_bytes: int = 0) -> str:
    """A message body: non-empty text of SQS's characters, within ``maximum`` bytes with its
    attributes."""
    if body is None or body == "":
        raise missing("MessageBody")
    if not isinstance(body, str):
        raise QueueError("InvalidParameterValue", "MessageBody must be a string")
    check_text(body, "the message body")
    if len(body.encode()) + attributes_bytes > maximum:
        raise QueueError(
            "InvalidParameterValue",
            f"One or more parameters are invalid. Reason: Message must be shorter than "
            f"{maximum} bytes.",
        )
    return body


def check_placement(
    fifo: bool,
    delay: object | None,
    group_id: object | None,
    deduplication_id: object | None,
) -> None:
    """DelaySeconds, MessageGroupId and MessageDeduplicationId against the queue's type."""
    if group_id is not None:
        check_token("MessageGroupId", group_id)
    if deduplication_id is not None:
        check_token("MessageDeduplicationId", deduplication_id)
        if not fifo:
            raise invalid("MessageDeduplicationId", deduplication_id, _WRONG_QUEUE_TYPE)
    if delay is not None:
        if isinstance(delay, bool) or not isinstance(delay, int):
            raise invalid("DelaySeconds", delay, "DelaySeconds must be an integer.")
        if fifo and delay != 0:  # 0 is what many SDK wrappers always send; AWS takes it
            raise invalid("DelaySeconds", delay, _WRONG_QUEUE_TYPE)
        check_range("DelaySeconds", delay, 0, 900, "DelaySeconds must be >= 0 and <= 900.")
    if fifo and group_id is None:
        raise missing("MessageGroupId")
