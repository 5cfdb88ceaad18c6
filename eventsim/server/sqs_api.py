"""SQS's JSON protocol (``X-Amz-Target: AmazonSQS.<Operation>``), as boto3 speaks it.

Queue URLs are ``<edge>/<account>/<queue>``; every operation finds its queue by the URL's
last segment. Errors carry SQS's code in ``__type`` and in ``x-amzn-query-error``, which is
where botocore reads it from.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..events.sqs import md5_of_body, md5_of_message_attributes
from ..sources.messages import Message, QueueError
from ..sources.queue import Queue
from .protocol import ApiError, json_response, read_json, require

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

Operation = Callable[["SqsApi", dict[str, Any]], Awaitable[dict[str, Any]]]


def error_response(error: ApiError) -> web.Response:
    response = json_response(
        {"__type": f"com.amazonaws.sqs#{error.code}", "message": str(error)}, error.status
    )
    response.headers["x-amzn-query-error"] = f"{_QUERY_CODES.get(error.code, error.code)};Sender"
    return response


class SqsApi:
    def __init__(self, sim: Simulator, base_url: Callable[[], str]) -> None:
        self._sim = sim
        self._base_url = base_url

    async def handle(self, request: web.Request, operation: str) -> web.Response:
        method = _OPERATIONS.get(operation)
        try:
            if method is None:
                raise ApiError("UnsupportedOperation", f"eventsim does not support {operation}")
            return json_response(await method(self, await read_json(request)))
        except ApiError as exc:
            return error_response(exc)
        except QueueError as exc:
            return error_response(ApiError(exc.code, str(exc)))

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
        prefix = body.get("QueueNamePrefix") or ""
        names = sorted(n for n in self._sim.queues if n.startswith(prefix))
        return {"QueueUrls": [self.url(n) for n in names]} if names else {}

    async def create_queue(self, body: dict[str, Any]) -> dict[str, Any]:
        name = require(body, "QueueName")
        attributes = body.get("Attributes") or {}
        if name not in self._sim.queues:
            try:
                self._sim.create_queue(name, attributes)
            except ValueError as exc:
                raise ApiError("InvalidAttributeValue", str(exc)) from None
        return {"QueueUrl": self.url(name)}

    async def get_queue_attributes(self, body: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(body)
        wanted = set(body.get("AttributeNames") or ["All"])
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
        count = _int(body, "MaxNumberOfMessages", 1)
        messages = await queue.receive_messages(
            max_messages=1 if count is None else count,
            wait_seconds=_int(body, "WaitTimeSeconds", None),
            visibility_timeout=_int(body, "VisibilityTimeout", None),
        )
        system = set(body.get("AttributeNames") or []) | set(
            body.get("MessageSystemAttributeNames") or []
        )
        names = body.get("MessageAttributeNames") or []
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
            require(body, "ReceiptHandle"), require(body, "VisibilityTimeout", int)
        )
        return {}

    async def change_message_visibility_batch(self, body: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(body)
        return _each(
            _entries(body),
            lambda e: queue.change_message_visibility(
                require(e, "ReceiptHandle"), require(e, "VisibilityTimeout", int)
            ),
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
        if "BinaryValue" in value:
            try:
                value["BinaryValue"] = base64.b64decode(value["BinaryValue"], validate=True)
            except (binascii.Error, TypeError):
                raise ApiError(
                    "InvalidParameterValue", f"message attribute {name!r}: invalid base64"
                ) from None
        out[name] = value
    return out


def _send(queue: Queue, body: dict[str, Any]) -> dict[str, Any]:
    text = require(body, "MessageBody")
    attributes = _attributes_in(body.get("MessageAttributes"))
    message_id = queue.send_message(
        text,
        attributes=attributes,
        delay_seconds=_int(body, "DelaySeconds", None),
        group_id=body.get("MessageGroupId"),
        deduplication_id=body.get("MessageDeduplicationId"),
    )
    result = {"MessageId": message_id, "MD5OfMessageBody": md5_of_body(text)}
    digest = md5_of_message_attributes(attributes)
    if digest is not None:
        result["MD5OfMessageAttributes"] = digest
    return result


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
