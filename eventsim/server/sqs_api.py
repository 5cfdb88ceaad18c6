"""SQS on the edge: the JSON protocol (``X-Amz-Target: AmazonSQS.<Operation>``) as boto3 speaks
it, and, for SDKs from before it, the query protocol (``sqs_query.py``), over one set of
operations.

Queue URLs are ``<edge>/<account>/<queue>`` in the config's region and
``<edge>/queue/<region>/<account>/<queue>`` in others; a caller's region is the one its
request is signed for. An operation takes and returns the JSON protocol's shapes.

Errors carry SQS's JSON type in ``__type`` and the query protocol's code in
``x-amzn-query-error`` (which botocore reports as the error's ``Code``, as AWS's own answers
do: ``AWS.SimpleQueueService.NonExistentQueue``, ``QueueAlreadyExists``...). A request's
parameters are read and checked in ``sqs_params.py``; the rules a message must meet are the
queue's (``resources/messages.py``), so the Python API refuses the same.

Example::

    boto3.client("sqs", endpoint_url=sim.endpoint_url).create_queue(QueueName="jobs")
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from ..errors import ApiError, QueueError
from ..events.sqs import md5_of_message_attributes
from ..resources import queue_attributes
from ..resources.messages import Message, Sent, receive_limits
from ..resources.queue import Queue
from ..resources.queues import QueueRegistry, list_page, not_found
from . import sqs_query
from .protocol import json_response, read_json
from .services import FORM, Service, json_version
from .sqs_params import (
    batch_entries,
    check_tag_count,
    missing,
    optional,
    required,
    string_map,
    strings,
    visibility_timeout,
)
from .sqs_query import codes

if TYPE_CHECKING:
    from ..simulator import Simulator

_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")
#: The largest request: a message (or a batch) holds at most 1 MiB, but JSON may spell each
#: byte of it in up to three (``\u00e9`` for the two bytes of an é).
MAX_REQUEST_BYTES = 4 * 1024 * 1024
MAX_BATCH_BYTES = 1024 * 1024

Operation = Callable[["SqsApi", dict[str, Any], "Call"], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Call:
    """Who is calling: the region its request is signed for, the edge's URL as it reached
    it, and its ``X-Amzn-Trace-Id`` header."""

    region: str
    base_url: str
    trace_header: str | None = None


def error_response(error: ApiError, content_type: str | None = None) -> web.Response:
    json_type, query_code, status = codes(error.code)
    status = error.status if error.status != 400 else status
    response = json_response(
        {"__type": f"com.amazonaws.sqs#{json_type}", "message": str(error)}, status,
        *([content_type] if content_type else []),
    )  # fmt: skip
    fault = "Receiver" if status >= 500 else "Sender"
    response.headers["x-amzn-query-error"] = f"{query_code};{fault}"
    return response


def refused(exc: QueueError) -> ApiError:
    return ApiError(exc.code, str(exc), codes(exc.code)[2])


def region_of(request: web.Request, default: str) -> str:
    """The region the request is signed for (SigV4 credential scope), else ``default``."""
    match = _CREDENTIAL.search(request.headers.get("Authorization", ""))
    scope = match.group(1) if match else request.query.get("X-Amz-Credential", "")
    parts = scope.split("/")
    return parts[2] if len(parts) == 5 and parts[2] else default


class SqsApi:
    service: ClassVar[Service] = Service(
        "sqs", "json", MAX_REQUEST_BYTES, target_prefix="AmazonSQS"
    )

    def __init__(self, sim: Simulator, base_url: Callable[[], str]) -> None:
        self._sim = sim
        self._base_url = base_url

    @property
    def queues(self) -> QueueRegistry:
        return self._sim.queues

    def call(self, request: web.Request) -> Call:
        host = request.headers.get("Host")
        base = f"{request.scheme}://{host}" if host else self._base_url()
        return Call(region_of(request, self._sim.config.region), base,
                    request.headers.get("X-Amzn-Trace-Id"))  # fmt: skip

    def claims(self, request: web.Request) -> str | None:
        """``"sqs"`` for a query-protocol request no signature names (curl, a browser): an SQS
        action in the URL's query, or a GET or form POST to an existing queue's URL. (A form
        POST to ``/`` names its action only in the body, which is read later.)"""
        if "X-Amz-Target" in request.headers:
            return None
        action = request.query.get("Action")
        if action is not None:
            return "sqs" if action in OPERATIONS else None
        if request.method != "GET" and request.content_type != FORM:
            return None
        parts = [p for p in request.path.split("/") if p]
        region = self._sim.config.region
        if len(parts) == 4 and parts[0] == "queue":
            region, parts = parts[1], parts[2:]
        if len(parts) == 2 and parts[0] == self.queues.account:
            return "sqs" if self.queues.get_queue(parts[1], region) is not None else None
        return None

    def error(self, request: web.Request, error: ApiError) -> web.Response:
        if "X-Amz-Target" not in request.headers:
            return sqs_query.error_response(request, error)  # an SDK from before JSON
        return error_response(error, json_version(request))

    async def handle(self, request: web.Request) -> web.Response:
        if "X-Amz-Target" not in request.headers:
            return await sqs_query.handle(self, request)
        prefix, _, name = request.headers["X-Amz-Target"].partition(".")
        try:
            if prefix != "AmazonSQS" or name not in OPERATIONS:
                raise ApiError(
                    "UnsupportedOperation",
                    f"eventsim does not support {name or 'this request'} (it serves SQS's "
                    "JSON protocol: X-Amz-Target: AmazonSQS.<Operation>, and its query protocol)",
                )
            # Strings with lone surrogates are let through: SQS names its own error for a
            # body or attribute value (InvalidMessageContents); other strings are checked.
            body = await read_json(request, surrogates=True)
            return json_response(await self.run(name, body, self.call(request)))
        except ApiError as exc:
            return self.error(request, exc)

    def serves(self, name: str) -> bool:
        return name in OPERATIONS

    async def run(self, name: str, body: dict[str, Any], call: Call) -> dict[str, Any]:
        """Operation ``name`` with a JSON-shaped body; QueueError as an ApiError."""
        try:
            return await OPERATIONS[name](self, body, call)
        except QueueError as exc:
            raise refused(exc) from None

    # --- queues ---------------------------------------------------------------------------

    def url(self, call: Call, queue: Queue) -> str:
        return self.queues.url(call.base_url, queue)

    def _queue(self, body: dict[str, Any], call: Call, name: str = "QueueUrl") -> Queue:
        return self.queues.by_url(required(body, name), call.region)

    async def get_queue_url(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        name = required(body, "QueueName")
        owner = optional(body, "QueueOwnerAWSAccountId", str)
        queue = self.queues.get_queue(name, call.region)
        if queue is None or owner not in (None, self.queues.account):
            raise not_found()
        return {"QueueUrl": self.url(call, queue)}

    async def list_queues(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        prefix = optional(body, "QueueNamePrefix", str) or ""
        limit = optional(body, "MaxResults", int)
        if limit is not None and not 1 <= limit <= 1000:
            raise ApiError(
                "InvalidParameterValue",
                f"Value {limit} for parameter MaxResults is "
                "invalid. Reason: MaxResults must be an integer between 1 and 1000.",
            )
        names, token = list_page(self.queues.names(call.region, prefix), limit,
                                 optional(body, "NextToken", str))  # fmt: skip
        result: dict[str, Any] = {}
        if names:
            found = (self.queues.get_queue(n, call.region) for n in names)
            result["QueueUrls"] = [self.url(call, q) for q in found if q is not None]
        if token:
            result["NextToken"] = token
        return result

    async def create_queue(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        name = required(body, "QueueName")
        attributes = string_map(body, "Attributes")
        tags = string_map(body, "tags")
        check_tag_count(name, tags)
        queue = self.queues.create(name, attributes, tags, region=call.region)
        return {"QueueUrl": self.url(call, queue)}

    async def delete_queue(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        self.queues.delete(self._queue(body, call))
        return {}

    async def get_queue_attributes(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        queue = self._queue(body, call)
        attributes = queue_attributes.select(queue, strings(body, "AttributeNames"))
        return {"Attributes": attributes} if attributes else {}

    async def set_queue_attributes(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        queue = self._queue(body, call)
        if body.get("Attributes") is None:
            raise missing("Attributes")
        self.queues.set_attributes(queue, string_map(body, "Attributes"))
        return {}

    async def purge_queue(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        self._queue(body, call).purge()
        return {}

    async def tag_queue(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        queue = self._queue(body, call)
        if not body.get("Tags"):
            raise missing("Tags")
        tags = string_map(body, "Tags")
        check_tag_count(queue.name, {**queue.config.tags, **tags})
        self.queues.tag(queue, tags)
        return {}

    async def untag_queue(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        queue = self._queue(body, call)
        if not body.get("TagKeys"):
            raise missing("TagKeys")
        self.queues.untag(queue, strings(body, "TagKeys"))
        return {}

    async def list_queue_tags(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        tags = dict(self._queue(body, call).config.tags)
        return {"Tags": tags} if tags else {}

    async def list_dead_letter_source_queues(
        self, body: dict[str, Any], call: Call
    ) -> dict[str, Any]:
        queue = self._queue(body, call)
        limit = optional(body, "MaxResults", int)
        if limit is not None and not 1 <= limit <= 1000:
            raise ApiError(
                "InvalidParameterValue",
                f"Value {limit} for parameter MaxResults is "
                "invalid. Reason: MaxResults must be an integer between 1 and 1000.",
            )
        sources = {q.name: q for q in self.queues.dead_letter_sources(queue)}
        names, token = list_page(sorted(sources), limit, optional(body, "NextToken", str))
        result: dict[str, Any] = {"queueUrls": [self.url(call, sources[n]) for n in names]}
        if token:
            result["NextToken"] = token
        return result

    async def add_permission(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        """AddPermission: a statement in the queue's Policy (stored, not enforced)."""
        queue = self._queue(body, call)
        label = required(body, "Label")
        accounts, actions = strings(body, "AWSAccountIds"), strings(body, "Actions")
        if not accounts:
            raise missing("PrincipalId")
        if not actions:
            raise missing("Actions")
        policy, statements = _policy(queue)
        if any(s.get("Sid") == label for s in statements if isinstance(s, dict)):
            raise ApiError("InvalidParameterValue", f"Value {label} for parameter Label is "
                           "invalid. Reason: Already exists.")  # fmt: skip
        principals = [f"arn:aws:iam::{a}:root" for a in accounts]
        names = [f"SQS:{a}" for a in actions]
        statements.append({
            "Sid": label, "Effect": "Allow",
            "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
            "Action": names[0] if len(names) == 1 else names, "Resource": queue.arn,
        })  # fmt: skip
        policy["Statement"] = statements
        self.queues.set_attributes(queue, {"Policy": json.dumps(policy, separators=(",", ":"))})
        return {}

    async def remove_permission(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        queue = self._queue(body, call)
        label = required(body, "Label")
        policy, statements = _policy(queue)
        kept = [s for s in statements if not (isinstance(s, dict) and s.get("Sid") == label)]
        if len(kept) == len(statements):
            raise ApiError("InvalidParameterValue", f"Value {label} for parameter Label is "
                           "invalid. Reason: can't find label.")  # fmt: skip
        policy["Statement"] = kept
        text = json.dumps(policy, separators=(",", ":")) if kept else ""
        self.queues.set_attributes(queue, {"Policy": text})
        return {}

    # --- message move tasks -----------------------------------------------------------------

    async def start_message_move_task(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        handle = self.queues.moves.start(
            required(body, "SourceArn"),
            optional(body, "DestinationArn", str),
            optional(body, "MaxNumberOfMessagesPerSecond", int),
        )
        return {"TaskHandle": handle}

    async def list_message_move_tasks(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        results = self.queues.moves.list(
            required(body, "SourceArn"), optional(body, "MaxResults", int)
        )
        return {"Results": results}

    async def cancel_message_move_task(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        moved = self.queues.moves.cancel(required(body, "TaskHandle"))
        return {"ApproximateNumberOfMessagesMoved": moved}

    # --- messages -------------------------------------------------------------------------

    async def send_message(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        queue = self._queue(body, call)
        return _sent(queue.send(**_send_options(body, call)))

    async def send_message_batch(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        queue = self._queue(body, call)
        entries = batch_entries(body, "SendMessageBatchRequestEntry")
        size = sum(len(str(e.get("MessageBody", "")).encode(errors="replace")) for e in entries)
        if size > MAX_BATCH_BYTES:
            raise ApiError("BatchRequestTooLong", f"Batch requests cannot be longer than "
                           f"{MAX_BATCH_BYTES} bytes. You have sent {size} bytes.")  # fmt: skip
        if queue.fifo:  # these refuse the whole batch
            for entry in entries:
                if entry.get("MessageGroupId") is None:
                    raise ApiError(
                        "InvalidParameterValue",
                        "The request must contain the parameter MessageGroupId.",
                    )
                if entry.get("MessageDeduplicationId") is None and not (
                    queue.config.content_based_deduplication
                ):
                    raise ApiError("InvalidParameterValue", "The queue should either have "
                                   "ContentBasedDeduplication enabled or MessageDeduplicationId "
                                   "provided explicitly")  # fmt: skip
        outcomes = queue.send_each([_send_options(entry, call) for entry in entries])
        successful, failed = [], []
        for entry, outcome in zip(entries, outcomes, strict=True):
            if isinstance(outcome, QueueError):
                failed.append(_failure(entry["Id"], outcome, batch=True))
            else:
                successful.append({"Id": entry["Id"], **_sent(outcome)})
        return {"Successful": successful, "Failed": failed}

    async def receive_message(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        queue = self._queue(body, call)
        count = optional(body, "MaxNumberOfMessages", int)
        wait = optional(body, "WaitTimeSeconds", int)
        visibility = optional(body, "VisibilityTimeout", int)
        receive_limits(1 if count is None else count, wait, visibility)
        system = set(strings(body, "AttributeNames")) | set(
            strings(body, "MessageSystemAttributeNames")
        )
        names = strings(body, "MessageAttributeNames")
        optional(body, "ReceiveRequestAttemptId", str)
        messages = await queue.receive_messages(
            max_messages=1 if count is None else count,
            wait_seconds=wait,
            visibility_timeout=visibility,
        )
        if not messages:
            return {}
        return {"Messages": [_message(m, system, names) for m in messages]}

    async def delete_message(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        self._queue(body, call).delete_message(required(body, "ReceiptHandle"))
        return {}

    async def delete_message_batch(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        queue = self._queue(body, call)
        entries = batch_entries(body, "DeleteMessageBatchRequestEntry")
        return _each(entries, lambda e: queue.delete_message(required(e, "ReceiptHandle")))

    async def change_message_visibility(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        self._queue(body, call).change_message_visibility(
            required(body, "ReceiptHandle"), visibility_timeout(body)
        )
        return {}

    async def change_message_visibility_batch(
        self, body: dict[str, Any], call: Call
    ) -> dict[str, Any]:
        queue = self._queue(body, call)
        entries = batch_entries(body, "ChangeMessageVisibilityBatchRequestEntry")
        return _each(
            entries,
            lambda e: queue.change_message_visibility(
                required(e, "ReceiptHandle"), visibility_timeout(e)
            ),  # fmt: skip
        )


OPERATIONS: dict[str, Operation] = {
    "GetQueueUrl": SqsApi.get_queue_url,
    "ListQueues": SqsApi.list_queues,
    "CreateQueue": SqsApi.create_queue,
    "DeleteQueue": SqsApi.delete_queue,
    "GetQueueAttributes": SqsApi.get_queue_attributes,
    "SetQueueAttributes": SqsApi.set_queue_attributes,
    "PurgeQueue": SqsApi.purge_queue,
    "TagQueue": SqsApi.tag_queue,
    "UntagQueue": SqsApi.untag_queue,
    "ListQueueTags": SqsApi.list_queue_tags,
    "ListDeadLetterSourceQueues": SqsApi.list_dead_letter_source_queues,
    "AddPermission": SqsApi.add_permission,
    "RemovePermission": SqsApi.remove_permission,
    "StartMessageMoveTask": SqsApi.start_message_move_task,
    "ListMessageMoveTasks": SqsApi.list_message_move_tasks,
    "CancelMessageMoveTask": SqsApi.cancel_message_move_task,
    "SendMessage": SqsApi.send_message,
    "SendMessageBatch": SqsApi.send_message_batch,
    "ReceiveMessage": SqsApi.receive_message,
    "DeleteMessage": SqsApi.delete_message,
    "DeleteMessageBatch": SqsApi.delete_message_batch,
    "ChangeMessageVisibility": SqsApi.change_message_visibility,
    "ChangeMessageVisibilityBatch": SqsApi.change_message_visibility_batch,
}


# --- requests and answers --------------------------------------------------------------------


def _policy(queue: Queue) -> tuple[dict[str, Any], list[Any]]:
    """The queue's Policy document (a new one if it has none) and its statements."""
    policy: Any = json.loads(queue.config.policy) if queue.config.policy else None
    if not isinstance(policy, dict):
        policy = {"Version": "2008-10-17", "Id": f"{queue.arn}/SQSDefaultPolicy"}
    statements = policy.get("Statement", [])
    return policy, list(statements) if isinstance(statements, list) else [statements]


def _send_options(body: dict[str, Any], call: Call) -> dict[str, Any]:
    """``Queue.send`` keywords from a SendMessage body or batch entry (binary values are
    base64 text in JSON; the queue checks the rest)."""
    return {
        "body": body.get("MessageBody"),
        "attributes": body.get("MessageAttributes"),
        "delay_seconds": body.get("DelaySeconds"),
        "group_id": body.get("MessageGroupId"),
        "deduplication_id": body.get("MessageDeduplicationId"),
        "system_attributes": body.get("MessageSystemAttributes"),
        "trace_header": call.trace_header,
    }


def _sent(sent: Sent) -> dict[str, Any]:
    result: dict[str, Any] = {"MessageId": sent.message_id, **sent.digests()}
    if sent.sequence_number is not None:
        result["SequenceNumber"] = sent.sequence_number
    return result


def _failure(entry_id: str, exc: QueueError | ApiError, batch: bool = False) -> dict[str, Any]:
    message = str(exc)
    if batch:  # SQS's wording inside a batch
        message = message.replace("One or more parameters are invalid.",
                                  "One or more parameters cannot be validated.")  # fmt: skip
    return {"Id": entry_id, "SenderFault": True, "Code": exc.code, "Message": message}


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
    attributes = {k: v for k, v in message.attributes.items() if "All" in system or k in system}
    if attributes:
        out["Attributes"] = attributes
    chosen = {
        name: _attribute_out(value)
        for name, value in message.message_attributes.items()
        if _wanted(name, names)
    }
    if chosen:
        out["MD5OfMessageAttributes"] = md5_of_message_attributes(
            {n: message.message_attributes[n] for n in chosen}
        )
        out["MessageAttributes"] = chosen
    return out


def _wanted(name: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern in ("All", ".*", "*") or pattern == name:
            return True
        if pattern.endswith(".*") and name.startswith(pattern[:-2]):  # "Hel.*": Hello too
            return True
    return False


def _attribute_out(value: dict[str, Any]) -> dict[str, Any]:
    out = dict(value)
    if isinstance(out.get("BinaryValue"), bytes | bytearray):
        out["BinaryValue"] = base64.b64encode(out["BinaryValue"]).decode()
    return out
