"""SQS's JSON protocol (``X-Amz-Target: AmazonSQS.<Operation>``), as boto3 speaks it.

Queue URLs are ``<edge>/<account>/<queue>``; every operation finds its queue by the URL's
last segment. Errors carry SQS's code in ``__type`` and in ``x-amzn-query-error``, which is
where botocore reads it from.

Values SQS refuses are refused here with SQS's code and words: a wait over 20 s, a visibility
timeout outside 0..43200, characters outside XML's set in a body or string attribute
(``InvalidMessageContents``), a ``Number`` attribute that is not a number. (The queue checks
sizes, names, delays and FIFO rules for every sender; see sources/messages.py.)
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from ..events.sqs import md5_of_body, md5_of_message_attributes
from ..resources.messages import Message, QueueError
from ..resources.queue import Queue
from .protocol import ApiError, json_response, optional, parse_json, read_json, require
from .protocol import error_response as shaped
from .services import Service, json_version

if TYPE_CHECKING:
    from ..simulator import Simulator

#: SQS's own codes for the legacy names botocore maps onto its exception classes.
_QUERY_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "ReceiptHandleIsInvalid": "ReceiptHandleIsInvalid",
    "MessageNotInflight": "AWS.SimpleQueueService.MessageNotInflight",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "PurgeQueueInProgress": "AWS.SimpleQueueService.PurgeQueueInProgress",
}
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
#: MessageGroupId, MessageDeduplicationId: alphanumerics and punctuation, 1..128.
_TOKEN = re.compile(r"^[!-~]{1,128}$")
#: A DataType: String, Number or Binary, optionally ".<custom label>" (printable ASCII).
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\.[!-~]*)?$")
#: What SQS refuses in a body or string value: anything outside XML 1.0's Char production.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_CHARSETS = "the set of allowed characters is available at http://www.w3.org/TR/REC-xml/#charsets"
#: The largest request: a message (or a batch) holds at most 1 MiB, but JSON may spell each
#: byte of it in up to three (``\u00e9`` for the two bytes of an é).
MAX_REQUEST_BYTES = 4 * 1024 * 1024

Operation = Callable[["SqsApi", dict[str, Any]], Awaitable[dict[str, Any]]]


def error_response(error: ApiError, content_type: str | None = None) -> web.Response:
    response = json_response(
        {"__type": f"com.amazonaws.sqs#{error.code}", "message": str(error)}, error.status,
        *([content_type] if content_type else []),
    )  # fmt: skip
    fault = "Receiver" if error.status >= 500 else "Sender"
    response.headers["x-amzn-query-error"] = f"{_QUERY_CODES.get(error.code, error.code)};{fault}"
    return response


class SqsApi:
    service: ClassVar[Service] = Service(
        "sqs", "json", MAX_REQUEST_BYTES, target_prefix="AmazonSQS"
    )

    def __init__(self, sim: Simulator, base_url: Callable[[], str]) -> None:
        self._sim = sim
        self._base_url = base_url

    def error(self, request: web.Request, error: ApiError) -> web.Response:
        if "X-Amz-Target" not in request.headers and request.content_type.endswith("urlencoded"):
            # An SDK from before SQS's JSON protocol (botocore < 1.31) reads XML errors.
            return shaped("query", error)
        return error_response(error, json_version(request))

    async def handle(self, request: web.Request) -> web.Response:
        prefix, _, operation = request.headers.get("X-Amz-Target", "").partition(".")
        method = _OPERATIONS.get(operation) if prefix == "AmazonSQS" else None
        try:
            if method is None:
                raise ApiError(
                    "UnsupportedOperation",
                    f"eventsim does not support {operation or 'this request'} (it serves SQS's "
                    "JSON protocol: X-Amz-Target: AmazonSQS.<Operation>, botocore >= 1.31)",
                )
            # Strings with lone surrogates are let through: SQS names its own error for a
            # body or attribute value (InvalidMessageContents); other strings are checked.
            return json_response(await method(self, await read_json(request, surrogates=True)))
        except ApiError as exc:
            return self.error(request, exc)
        except QueueError as exc:
            return self.error(request, ApiError(exc.code, str(exc)))

    # --- queues ---------------------------------------------------------------------------

    def url(self, name: str) -> str:
        return f"{self._base_url()}/{self._sim.config.account}/{name}"

    def _queue(self, body: dict[str, Any]) -> Queue:
        url = require(body, "QueueUrl")
        return self._named(url.rstrip("/").rsplit("/", 1)[-1])

    def _named(self, name: str) -> Queue:
        queue = self._sim.queues.get(name)
        if queue is None:
            raise ApiError("QueueDoesNotExist", "The specified queue does not exist.")
        return queue

    async def get_queue_url(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"QueueUrl": self.url(self._named(require(body, "QueueName")).name)}

    async def list_queues(self, body: dict[str, Any]) -> dict[str, Any]:
        prefix = optional(body, "QueueNamePrefix", str, "")
        names = sorted(n for n in self._sim.queues if n.startswith(prefix))
        return {"QueueUrls": [self.url(n) for n in names]} if names else {}

    async def create_queue(self, body: dict[str, Any]) -> dict[str, Any]:
        name = require(body, "QueueName")
        attributes = optional(body, "Attributes", dict, {})
        if not all(isinstance(v, str) for v in attributes.values()):
            raise ApiError("InvalidAttributeValue", "queue attribute values are strings")
        try:
            parse_json(attributes.get("RedrivePolicy") or "{}")
        except ValueError as exc:
            raise ApiError("InvalidAttributeValue", f"invalid RedrivePolicy: {exc}") from None
        if name not in self._sim.queues:
            try:
                self._sim.create_queue(name, attributes)
            except ValueError as exc:
                raise ApiError("InvalidAttributeValue", str(exc)) from None
        return {"QueueUrl": self.url(name)}

    async def get_queue_attributes(self, body: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(body)
        wanted = set(_strings(body, "AttributeNames") or ["All"])
        attributes = queue_attributes(queue)
        if "All" not in wanted:
            attributes = {k: v for k, v in attributes.items() if k in wanted}
        return {"Attributes": attributes}

    async def purge_queue(self, body: dict[str, Any]) -> dict[str, Any]:
        self._queue(body).purge()
        return {}

    # --- messages -------------------------------------------------------------------------

    async def send_message(self, body: dict[str, Any]) -> dict[str, Any]:
        return _send(self._queue(body), body)

    async def send_message_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(body)
        entries = _entries(body)
        successful, failed = [], []
        for entry in entries:
            try:
                successful.append({"Id": entry["Id"], **_send(queue, entry)})
            except (QueueError, ApiError) as exc:
                failed.append(_failure(entry["Id"], exc))
        return {"Successful": successful, "Failed": failed}

    async def receive_message(self, body: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(body)
        count = _ranged(body, "MaxNumberOfMessages", 1, 10, "Must be between 1 and 10")
        wait = _ranged(body, "WaitTimeSeconds", 0, 20, "Must be >= 0 and <= 20")
        visibility = _ranged(body, "VisibilityTimeout", 0, 43200, "Must be >= 0 and <= 43200")
        system = set(_strings(body, "AttributeNames")) | set(
            _strings(body, "MessageSystemAttributeNames")
        )
        names = _strings(body, "MessageAttributeNames")
        messages = await queue.receive_messages(
            max_messages=1 if count is None else count,
            wait_seconds=wait,
            visibility_timeout=visibility,
        )
        if not messages:
            return {}
        return {"Messages": [_message(m, system, names) for m in messages]}

    async def delete_message(self, body: dict[str, Any]) -> dict[str, Any]:
        self._queue(body).delete_message(require(body, "ReceiptHandle"))
        return {}

    async def delete_message_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(body)
        return _each(_entries(body), lambda e: queue.delete_message(require(e, "ReceiptHandle")))

    async def change_message_visibility(self, body: dict[str, Any]) -> dict[str, Any]:
        self._queue(body).change_message_visibility(
            require(body, "ReceiptHandle"), _visibility(body)
        )
        return {}

    async def change_message_visibility_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(body)
        return _each(
            _entries(body),
            lambda e: queue.change_message_visibility(require(e, "ReceiptHandle"), _visibility(e)),
        )


_OPERATIONS: dict[str, Operation] = {
    "GetQueueUrl": SqsApi.get_queue_url,
    "ListQueues": SqsApi.list_queues,
    "CreateQueue": SqsApi.create_queue,
    "GetQueueAttributes": SqsApi.get_queue_attributes,
    "PurgeQueue": SqsApi.purge_queue,
    "SendMessage": SqsApi.send_message,
    "SendMessageBatch": SqsApi.send_message_batch,
    "ReceiveMessage": SqsApi.receive_message,
    "DeleteMessage": SqsApi.delete_message,
    "DeleteMessageBatch": SqsApi.delete_message_batch,
    "ChangeMessageVisibility": SqsApi.change_message_visibility,
    "ChangeMessageVisibilityBatch": SqsApi.change_message_visibility_batch,
}


def queue_attributes(queue: Queue) -> dict[str, str]:
    c = queue.config
    counts = queue.counts()
    attributes = {
        "QueueArn": queue.arn,
        "ApproximateNumberOfMessages": str(counts.visible),
        "ApproximateNumberOfMessagesNotVisible": str(counts.in_flight),
        "ApproximateNumberOfMessagesDelayed": str(counts.delayed),
        "VisibilityTimeout": str(c.visibility_timeout),
        "DelaySeconds": str(c.delay_seconds),
        "MessageRetentionPeriod": str(c.message_retention_period),
        "MaximumMessageSize": str(c.maximum_message_size),
        "ReceiveMessageWaitTimeSeconds": str(c.receive_message_wait_time_seconds),
    }
    if queue.fifo:
        attributes["FifoQueue"] = "true"
        attributes["ContentBasedDeduplication"] = str(c.content_based_deduplication).lower()
    if c.redrive is not None:
        target = queue.arn.rsplit(":", 1)[0] + ":" + c.redrive.dead_letter_queue
        attributes["RedrivePolicy"] = (
            f'{{"deadLetterTargetArn":"{target}","maxReceiveCount":{c.redrive.max_receive_count}}}'
        )
    return attributes


def _int(body: dict[str, Any], name: str, default: int | None) -> int | None:
    value = body.get(name, default)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise ApiError("InvalidParameterValue", f"{name} must be an integer, got {value!r}")
    return value


def _ranged(body: dict[str, Any], name: str, low: int, high: int, reason: str) -> int | None:
    """An optional integer in ``low..high``, refused in SQS's words."""
    value = _int(body, name, None)
    if value is not None and not low <= value <= high:
        raise ApiError(
            "InvalidParameterValue",
            f"Value {value} for parameter {name} is invalid. Reason: {reason}, if provided.",
        )
    return value


def _visibility(body: dict[str, Any]) -> int:
    if body.get("VisibilityTimeout") is None:
        raise ApiError(
            "MissingParameter", "The request must contain the parameter VisibilityTimeout."
        )
    value = _ranged(body, "VisibilityTimeout", 0, 43200, "Must be >= 0 and <= 43200")
    assert value is not None
    return value


def _strings(body: dict[str, Any], name: str) -> list[str]:
    values = optional(body, name, list, [])
    if not all(isinstance(v, str) for v in values):
        raise ApiError("InvalidParameterValue", f"{name} must be a list of strings")
    return values  # type: ignore[no-any-return]


def _check_text(text: str, where: str) -> None:
    """Refuse characters SQS does not take (XML 1.0's Char production) in ``text``."""
    bad = _NOT_XML_CHAR.search(text)
    if bad is not None:
        raise ApiError(
            "InvalidMessageContents",
            f"Invalid binary character '#x{ord(bad.group()):X}' was found in {where}, {_CHARSETS}",
        )


def _check_number(name: str, text: str) -> None:
    """A Number attribute: a decimal of up to 38 digits between 10^-128 and 10^126."""
    if not _NUMBER.fullmatch(text):
        raise ApiError(
            "InvalidParameterValue",
            f"Can't cast the value of message (user) attribute '{name}' to a number.",
        )
    number = Decimal(text.strip())
    significant = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(significant) > 38 or number and not -128 <= number.adjusted() <= 126:
        raise ApiError(
            "InvalidParameterValue",
            f"The value of message attribute '{name}' is out of range for a Number: up to 38 "
            "digits, between 10^-128 and 10^126",
        )


def _attributes_in(raw: Any) -> dict[str, dict[str, Any]]:
    """MessageAttributes from JSON (binary values base64) to the queue's API form (bytes)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ApiError("InvalidParameterValue", "MessageAttributes must be a map")
    out: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        if not isinstance(value, dict):
            raise ApiError("InvalidParameterValue", f"message attribute {name!r} must be a map")
        value = {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        data_type = value.get("DataType")
        if not isinstance(data_type, str) or not _DATA_TYPE.match(data_type):
            raise ApiError(
                "InvalidParameterValue",
                f"message attribute {name!r}: DataType must be String, Number or Binary "
                f"(optionally with a .label of printable ASCII), got {data_type!r}",
            )
        kind = data_type.partition(".")[0]
        key = "BinaryValue" if kind == "Binary" else "StringValue"
        given = value.get(key)
        if given is None or given == "":
            raise ApiError(
                "InvalidParameterValue",
                f"Message (user) attribute '{name}' must contain a non-empty value of type "
                f"'{kind}'.",
            )
        if not isinstance(given, str):
            raise ApiError("InvalidParameterValue", f"message attribute {name!r}: {key} must "
                           "be a string")  # fmt: skip
        if kind == "Binary":
            try:
                value["BinaryValue"] = base64.b64decode(given, validate=True)
            except (binascii.Error, ValueError):
                raise ApiError(
                    "InvalidParameterValue", f"message attribute {name!r}: invalid base64"
                ) from None
        else:
            _check_text(given, f"the value of message attribute '{name}'")
            if kind == "Number":
                _check_number(name, given)
        out[name] = value
    return out


def _send(queue: Queue, body: dict[str, Any]) -> dict[str, Any]:
    text = require(body, "MessageBody")
    _check_text(text, "the message body")
    attributes = _attributes_in(body.get("MessageAttributes"))
    message_id = queue.send_message(
        text,
        attributes=attributes,
        delay_seconds=_int(body, "DelaySeconds", None),
        group_id=_token(body, "MessageGroupId"),
        deduplication_id=_token(body, "MessageDeduplicationId"),
    )
    result = {"MessageId": message_id, "MD5OfMessageBody": md5_of_body(text)}
    digest = md5_of_message_attributes(attributes)
    if digest is not None:
        result["MD5OfMessageAttributes"] = digest
    return result


def _token(body: dict[str, Any], name: str) -> str | None:
    value = optional(body, name)
    if value is not None and not _TOKEN.match(value):
        raise ApiError(
            "InvalidParameterValue",
            f"{name} is 1 to 128 alphanumeric or punctuation characters, got {value!r}",
        )
    return value  # type: ignore[no-any-return]


def _entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    entries = require(body, "Entries", list)
    if not entries:
        raise ApiError("EmptyBatchRequest", "There should be at least one entry in the request.")
    if len(entries) > 10:
        raise ApiError(
            "TooManyEntriesInBatchRequest", f"Maximum number of entries is 10, got {len(entries)}"
        )
    ids = [e.get("Id") if isinstance(e, dict) else None for e in entries]
    for entry_id in ids:
        if not isinstance(entry_id, str) or not _BATCH_ID.match(entry_id):
            raise ApiError("InvalidBatchEntryId", f"invalid batch entry id {entry_id!r}")
    if len(set(ids)) != len(ids):
        raise ApiError("BatchEntryIdsNotDistinct", "Two or more batch entries have the same Id.")
    return entries  # type: ignore[no-any-return]


def _failure(entry_id: str, exc: QueueError | ApiError) -> dict[str, Any]:
    return {"Id": entry_id, "SenderFault": True, "Code": exc.code, "Message": str(exc)}


def _each(entries: list[dict[str, Any]], act: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    successful, failed = [], []
    for entry in entries:
        try:
            act(entry)
            successful.append({"Id": entry["Id"]})
        except (QueueError, ApiError) as exc:
            failed.append(_failure(entry["Id"], exc))
    return {"Successful": successful, "Failed": failed}


def _message(message: Message, system: set[str], names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": message.md5_of_body,
        "Body": message.body,
    }
    if system:
        out["Attributes"] = {
            k: v for k, v in message.attributes.items() if "All" in system or k in system
        }
    chosen = {
        name: _attribute_out(value)
        for name, value in message.message_attributes.items()
        if _wanted(name, names)
    }
    if chosen:
        out["MessageAttributes"] = chosen
        out["MD5OfMessageAttributes"] = md5_of_message_attributes(
            {n: message.message_attributes[n] for n in chosen}
        )
    return out


def _wanted(name: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern in ("All", ".*") or pattern == name:
            return True
        if pattern.endswith(".*") and name.startswith(pattern[:-1]):
            return True
    return False


def _attribute_out(value: dict[str, Any]) -> dict[str, Any]:
    out = dict(value)
    if isinstance(out.get("BinaryValue"), bytes | bytearray):
        out["BinaryValue"] = base64.b64encode(out["BinaryValue"]).decode()
    return out
