"""SQS's query protocol, for SDKs from before the JSON protocol (botocore < 1.31, boto 2, the
AWS SDK for Java 1.x, the PHP and Ruby SDKs of their time, curl scripts).

A request is ``Action=SendMessage&QueueUrl=...&MessageBody=...`` (form-encoded in a POST body,
or in a GET's query string), lists and maps spelled out flat: ``AttributeName.1=All``,
``Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=60``,
``MessageAttribute.1.Name=kind&MessageAttribute.1.Value.DataType=String&...``,
``SendMessageBatchRequestEntry.1.Id=a&...``; the ``.member.N`` and ``.entry.N.key`` spellings of
later SDKs are read too. The queue may be named by the request's path (a POST or GET to the
queue's URL) instead of ``QueueUrl``. Parameters are turned into the JSON protocol's shapes
and run by the same operations (``sqs_api.py``); the answer is XML in SQS's 2012-11-05 shapes,
``<SendMessageResponse><SendMessageResult>...</SendMessageResult><ResponseMetadata>
<RequestId>...``, or the same document as JSON for a GET that asks for
``Accept: application/json``. Errors are ``<ErrorResponse>`` with SQS's query codes
(``AWS.SimpleQueueService.NonExistentQueue``...).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
import uuid
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from aiohttp import web

from ..errors import ApiError

if TYPE_CHECKING:
    from .sqs_api import SqsApi

NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"
MAX_FIELDS = 10_000
#: Operations answered without a ...Result element (their output shape is empty).
_NO_RESULT = frozenset({
    "DeleteMessage", "DeleteQueue", "SetQueueAttributes", "PurgeQueue", "TagQueue", "UntagQueue",
    "ChangeMessageVisibility", "AddPermission", "RemovePermission",
})  # fmt: skip
#: Operations a queue's URL does not take (they are the service's).
_NOT_ON_QUEUE = frozenset({"CreateQueue", "ListQueues"})
_INTEGERS = frozenset({
    "DelaySeconds", "MaxNumberOfMessages", "VisibilityTimeout", "WaitTimeSeconds", "MaxResults",
    "MaxNumberOfMessagesPerSecond",
})  # fmt: skip
#: Flat list name -> the JSON member it fills.
_LISTS = {
    "AttributeName": "AttributeNames", "MessageAttributeName": "MessageAttributeNames",
    "MessageSystemAttributeName": "MessageSystemAttributeNames", "TagKey": "TagKeys",
    "AWSAccountId": "AWSAccountIds", "ActionName": "Actions",
}  # fmt: skip
_ENTRIES = frozenset({
    "SendMessageBatchRequestEntry", "DeleteMessageBatchRequestEntry",
    "ChangeMessageVisibilityBatchRequestEntry",
})  # fmt: skip
#: A batch's result entry element, by operation.
_RESULT_ENTRY = {
    "SendMessageBatch": "SendMessageBatchResultEntry",
    "DeleteMessageBatch": "DeleteMessageBatchResultEntry",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibilityBatchResultEntry",
}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ENTITIES = {'"': "&quot;", "\r": "&#xD;"}

Tree = dict[str, Any]

#: Our codes -> (the JSON protocol's error type, the query protocol's code, HTTP status).
ERRORS: dict[str, tuple[str, str, int]] = {
    "QueueDoesNotExist": ("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueAlreadyExists": ("QueueNameExists", "QueueAlreadyExists", 400),
    "InvalidParameterValue": ("InvalidParameterValueException", "InvalidParameterValue", 400),
    "MissingParameter": ("MissingRequiredParameterException", "MissingParameter", 400),
    "PurgeQueueInProgress": ("PurgeQueueInProgress",
                             "AWS.SimpleQueueService.PurgeQueueInProgress", 403),
    "ResourceNotFoundException": ("ResourceNotFoundException", "ResourceNotFoundException", 404),
    "OverLimit": ("OverLimit", "OverLimit", 403),
    **{
        code: (code, f"AWS.SimpleQueueService.{code}", 400)
        for code in ("QueueDeletedRecently", "TooManyEntriesInBatchRequest", "EmptyBatchRequest",
                     "BatchEntryIdsNotDistinct", "InvalidBatchEntryId", "BatchRequestTooLong",
                     "MessageNotInflight", "UnsupportedOperation")
    },
}  # fmt: skip


def codes(code: str) -> tuple[str, str, int]:
    """(JSON type, query code, HTTP status) of one of our error codes."""
    return ERRORS.get(code, (code, code, 400))


# --- requests -------------------------------------------------------------------------------


def parameters(request: web.Request, body: bytes) -> dict[str, str]:
    """The request's parameters: its URL's query, then its form body (first value of each)."""
    found: dict[str, str] = {}
    for key, value in request.query.items():
        found.setdefault(key, value)
    if body and request.content_type == "application/x-www-form-urlencoded":
        try:
            pairs = urllib.parse.parse_qsl(body.decode(errors="replace"), keep_blank_values=True,
                                           max_num_fields=MAX_FIELDS)  # fmt: skip
        except ValueError:
            raise ApiError("MalformedQueryString", f"over {MAX_FIELDS} parameters") from None
        for key, value in pairs:
            found.setdefault(key, value)
    return found


def _tree(params: dict[str, str]) -> Tree:
    """Dotted keys as nested dicts: ``A.1.Name=x`` -> ``{"A": {"1": {"Name": "x"}}}``."""
    root: Tree = {}
    for key, value in params.items():
        node = root
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ApiError("MalformedQueryString", f"parameter {key!r} conflicts with another")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise ApiError("MalformedQueryString", f"parameter {key!r} conflicts with another")
        node[parts[-1]] = value
    return root


def _numbered(node: Any) -> list[Any]:
    """The children of ``{"1": a, "2": b}`` in number order (``.member.N`` unwrapped)."""
    if not isinstance(node, dict):
        return []
    if set(node) <= {"member", "entry"} and node:
        node = node.get("member", node.get("entry"))
        if not isinstance(node, dict):
            return []
    return [node[k] for k in sorted((k for k in node if k.isdigit()), key=int)]


def _map(node: Any, key: str, value: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in _numbered(node):
        if isinstance(item, dict) and isinstance(item.get(key), str):
            out[item[key]] = item.get(value, "")
    return out


def _attribute_values(node: Any) -> dict[str, Any]:
    """``MessageAttribute.N.Name`` / ``.Value.{DataType,StringValue,BinaryValue}``."""
    out: dict[str, Any] = {}
    for item in _numbered(node):
        if not isinstance(item, dict):
            continue
        name = item.get("Name", item.get("key"))
        value = item.get("Value", item.get("value"))
        if isinstance(name, str):
            out[name] = (
                {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
                if isinstance(value, dict) else value
            )  # fmt: skip
    return out


def _shape(node: Tree, action: str) -> dict[str, Any]:
    """Query parameters (as a tree) in the JSON protocol's shape."""
    body: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("Action", "Version") or key.startswith("X-Amz-"):
            continue
        if key in _LISTS:
            body[_LISTS[key]] = [v for v in _numbered(value) if isinstance(v, str)]
        elif key in _LISTS.values():
            body[key] = [v for v in _numbered(value) if isinstance(v, str)]
        elif key in ("Attribute", "Attributes"):
            body["Attributes"] = _map(value, "Name", "Value") or _map(value, "key", "value")
        elif key in ("Tag", "Tags", "tags"):
            name = "tags" if action == "CreateQueue" else "Tags"
            body[name] = _map(value, "Key", "Value") or _map(value, "key", "value")
        elif key in ("MessageAttribute", "MessageAttributes"):
            body["MessageAttributes"] = _attribute_values(value)
        elif key in ("MessageSystemAttribute", "MessageSystemAttributes"):
            body["MessageSystemAttributes"] = _attribute_values(value)
        elif key in _ENTRIES or key == "Entries":
            body["Entries"] = [_shape(e, action) if isinstance(e, dict) else e
                               for e in _numbered(value)]  # fmt: skip
        elif key in _INTEGERS and isinstance(value, str):
            try:
                body[key] = int(value)
            except ValueError:
                raise ApiError(
                    "InvalidParameterValue",
                    f"Value {value} for parameter {key} is "
                    "invalid. Reason: Must be an integer value.",
                ) from None
        else:
            body[key] = value
    return body


def _binary_text(body: dict[str, Any]) -> None:
    """Binary attribute values arrive base64, as in JSON: check them here, where the query
    protocol's error is InvalidParameterValue."""
    for attributes in (body.get("MessageAttributes"), body.get("MessageSystemAttributes")):
        for value in (attributes or {}).values():
            if isinstance(value, dict) and isinstance(value.get("BinaryValue"), str):
                try:
                    base64.b64decode(value["BinaryValue"], validate=True)
                except (binascii.Error, ValueError):
                    raise ApiError("InvalidParameterValue",
                                   "BinaryValue is not valid base64") from None  # fmt: skip


def _queue_path(path: str) -> bool:
    parts = [p for p in path.split("/") if p]
    return (len(parts) == 2 and parts[0].isdigit()) or (len(parts) == 4 and parts[0] == "queue")


async def handle(api: SqsApi, request: web.Request) -> web.Response:
    """A query-protocol request, answered in XML (or JSON when a GET asks for it)."""
    request_id = str(uuid.uuid4())
    try:
        params = parameters(request, await request.read())
        action = params.get("Action")
        on_queue = _queue_path(request.path)
        if not action:
            if request.method == "GET" and on_queue:
                return _xml(request_id, "<UnknownOperationException/>", 404)
            raise ApiError("MissingAction", "The request must contain the parameter Action.")
        if not api.serves(action) or (on_queue and action in _NOT_ON_QUEUE):
            raise ApiError("InvalidAction", f"The action {action} is not valid for this endpoint.")
        body = _shape(_tree(params), action)
        call = api.call(request)
        if on_queue and "QueueUrl" not in body:
            body["QueueUrl"] = call.base_url + request.path
        _binary_text(body)
        result = await api.run(action, body, call)
    except ApiError as exc:
        return error_response(request, exc, request_id)
    if "application/json" in request.headers.get("Accept", "") and request.method == "GET":
        document = {f"{action}Response": {
            **({} if action in _NO_RESULT else {f"{action}Result": _as_json(result)}),
            "ResponseMetadata": {"RequestId": request_id},
        }}  # fmt: skip
        response = web.json_response(document)
        response.headers["x-amzn-RequestId"] = request_id
        return response
    inner = "" if action in _NO_RESULT else _element(f"{action}Result", _result(action, result))
    text = (
        f'<{action}Response xmlns="{NAMESPACE}">{inner}<ResponseMetadata><RequestId>'
        f"{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
    return _xml(request_id, text)


# --- answers --------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    return escape(_NOT_XML.sub("\ufffd", str(value)), _ENTITIES)


def _element(name: str, inner: str) -> str:
    return f"<{name}>{inner}</{name}>" if inner else f"<{name}/>"


def _pairs(element: str, key: str, value: str, items: dict[str, Any]) -> str:
    return "".join(
        f"<{element}><{key}>{_text(k)}</{key}><{value}>{_text(v)}</{value}></{element}>"
        for k, v in items.items()
    )


def _fields(item: dict[str, Any]) -> str:
    return "".join(f"<{k}>{_text(v)}</{k}>" for k, v in item.items())


def _message(message: dict[str, Any]) -> str:
    out = []
    for key, value in message.items():
        if key == "Attributes":
            out.append(_pairs("Attribute", "Name", "Value", value))
        elif key == "MessageAttributes":
            for name, attribute in value.items():
                out.append(f"<MessageAttribute><Name>{_text(name)}</Name><Value>"
                           f"{_fields(attribute)}</Value></MessageAttribute>")  # fmt: skip
        else:
            out.append(f"<{key}>{_text(value)}</{key}>")
    return "".join(out)


def _result(action: str, result: dict[str, Any]) -> str:
    out = []
    for key, value in result.items():
        if key in ("QueueUrls", "queueUrls"):
            out.append("".join(f"<QueueUrl>{_text(url)}</QueueUrl>" for url in value))
        elif key == "Attributes":
            out.append(_pairs("Attribute", "Name", "Value", value))
        elif key == "Tags":
            out.append(_pairs("Tag", "Key", "Value", value))
        elif key == "Messages":
            out.append("".join(_element("Message", _message(m)) for m in value))
        elif key == "Successful":
            entry = _RESULT_ENTRY.get(action, "ResultEntry")
            out.append("".join(_element(entry, _fields(item)) for item in value))
        elif key == "Failed":
            out.append("".join(_element("BatchResultErrorEntry", _fields(i)) for i in value))
        elif key == "Results":
            out.append("".join(_element("ListMessageMoveTasksResultEntry", _fields(i))
                               for i in value))  # fmt: skip
        else:
            out.append(f"<{key}>{_text(value)}</{key}>")
    return "".join(out)


def _as_json(result: dict[str, Any]) -> dict[str, Any]:
    """The XML answer's structure as JSON (what SQS sends a GET that accepts JSON): maps are
    lists of ``{"Name": ..., "Value": ...}`` (``Key`` for tags), as in the XML."""
    out: dict[str, Any] = {}
    for key, value in result.items():
        if key in ("Attributes", "MessageAttributes") and isinstance(value, dict):
            out[key] = [{"Name": k, "Value": v} for k, v in value.items()]
        elif key == "Tags" and isinstance(value, dict):
            out[key] = [{"Key": k, "Value": v} for k, v in value.items()]
        elif key == "Messages":
            out[key] = [_as_json(message) for message in value]
        else:
            out[key] = value
    return out


def _xml(request_id: str, text: str, status: int = 200) -> web.Response:
    response = web.Response(
        status=status,
        body=('<?xml version="1.0"?>' + text).encode(),
        content_type="text/xml",
    )
    response.headers["x-amzn-RequestId"] = request_id
    return response


def error_response(
    request: web.Request, error: ApiError, request_id: str | None = None
) -> web.Response:
    """``<ErrorResponse>`` with SQS's query code for ``error``."""
    request_id = request_id or str(uuid.uuid4())
    _, code, status = codes(error.code)
    status = error.status if error.status != 400 else status
    message = str(error)
    if code == "AWS.SimpleQueueService.NonExistentQueue":
        message = "The specified queue does not exist for this wsdl version."
    fault = "Receiver" if status >= 500 else "Sender"
    if "application/json" in request.headers.get("Accept", "") and request.method == "GET":
        document = {"Error": {"Type": fault, "Code": code, "Message": message},
                    "RequestId": request_id}  # fmt: skip
        response = web.Response(status=status, body=json.dumps(document).encode(),
                                content_type="application/json")  # fmt: skip
        response.headers["x-amzn-RequestId"] = request_id
        return response
    text = (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{fault}</Type><Code>{_text(code)}'
        f"</Code><Message>{_text(message)}</Message><Detail/></Error><RequestId>{request_id}"
        "</RequestId></ErrorResponse>"
    )
    return _xml(request_id, text, status)
