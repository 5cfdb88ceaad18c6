"""SNS's query protocol, as boto3 speaks it: a form-encoded POST (``Action=Publish&...``),
answered in XML.

Served: Publish, PublishBatch, CreateTopic, ListTopics, GetTopicAttributes, Subscribe and
Unsubscribe (``sqs`` and ``lambda`` endpoints, by ARN), ListSubscriptions,
ListSubscriptionsByTopic, GetSubscriptionAttributes and SetSubscriptionAttributes
(``RawMessageDelivery``, ``FilterPolicy``, ``FilterPolicyScope``). Errors carry SNS's codes
(``NotFound`` with 404, ``InvalidParameter``, ``InvalidParameterValue``...) in the query
protocol's ``<ErrorResponse>``. Any other action is refused with ``InvalidAction``.

Example::

    sns = boto3.client("sns", endpoint_url=sim.endpoint_url, ...)
    arn = sns.create_topic(Name="orders")["TopicArn"]
    sns.publish(TopicArn=arn, Message='{"id": 1}')
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar
from xml.sax.saxutils import escape

from aiohttp import web

from ..errors import ApiError, SimulatorStateError, TopicError
from ..resources.topics import (
    Publication,
    Subscription,
    Topic,
    Topics,
    parse_filter_policy,
    parse_raw_delivery,
)
from .protocol import error_response
from .services import Service, form_params

if TYPE_CHECKING:
    from ..simulator import Simulator

_VERSION = "2010-03-31"
_NAMESPACE = f"http://sns.amazonaws.com/doc/{_VERSION}/"
#: Ten messages of 256 KB, form-encoded (up to three bytes per byte) with their attributes.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
#: SNS lists 100 topics or subscriptions per page.
PAGE = 100
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_MEMBER = re.compile(r"^(?P<index>\d+)\.(?P<rest>.+)$")
_SUBSCRIBE_ATTRIBUTES = ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope")

Operation = Callable[["SnsApi", dict[str, str]], Awaitable[str | None]]


class SnsApi:
    service: ClassVar[Service] = Service("sns", "query", MAX_REQUEST_BYTES)

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    def error(self, request: web.Request, error: ApiError) -> web.Response:
        return error_response("query", error)

    async def handle(self, request: web.Request) -> web.Response:
        try:
            params = {**form_params(await request.read()), **request.query}
            action = params.get("Action", "")
            operation = _OPERATIONS.get(action)
            if operation is None:
                raise ApiError(
                    "InvalidAction" if action else "MissingAction",
                    f"Could not find operation {action or '(none)'} for version {_VERSION}: "
                    f"eventsim serves {', '.join(sorted(_OPERATIONS))}",
                )
            result = await operation(self, params)
        except ApiError as exc:
            return self.error(request, exc)
        except TopicError as exc:
            return self.error(request, ApiError(exc.code, str(exc), exc.status))
        except SimulatorStateError as exc:
            return self.error(request, ApiError("ServiceUnavailable", str(exc), 503))
        return _respond(action, result)

    @property
    def _topics(self) -> Topics:
        return self._sim.topics

    def _topic(self, params: dict[str, str], name: str = "TopicArn") -> Topic:
        return self._topics.by_arn(_required(params, name))

    # --- topics ---------------------------------------------------------------------------

    async def create_topic(self, params: dict[str, str]) -> str:
        attributes = {e["key"]: e.get("value", "") for e in _list(params, "Attributes", "entry")}
        tags = {e["Key"]: e.get("Value", "") for e in _list(params, "Tags", "member")}
        topic = self._topics.create(_required(params, "Name"), attributes, tags)
        return _tag("TopicArn", topic.arn)

    async def list_topics(self, params: dict[str, str]) -> str:
        arns = [topic.arn for topic in self._topics.values()]
        page, token = _page(arns, params.get("NextToken"))
        members = "".join(f"<member>{_tag('TopicArn', arn)}</member>" for arn in page)
        return f"<Topics>{members}</Topics>" + (_tag("NextToken", token) if token else "")

    async def get_topic_attributes(self, params: dict[str, str]) -> str:
        return _attributes(self._topic(params).attributes())

    # --- publishing -----------------------------------------------------------------------

    async def publish(self, params: dict[str, str]) -> str:
        topic = self._topic(params)
        if "TargetArn" in params or "PhoneNumber" in params:
            raise ApiError("InvalidParameter", "eventsim publishes to topics (TopicArn) only")
        published = topic.publish(**_message(params))
        result = _tag("MessageId", published.message_id)
        if published.sequence_number is not None:
            result += _tag("SequenceNumber", published.sequence_number)
        return result

    async def publish_batch(self, params: dict[str, str]) -> str:
        topic = self._topic(params)
        entries = _list(params, "PublishBatchRequestEntries", "member")
        if not entries:
            raise ApiError("EmptyBatchRequest", "The batch request doesn't contain any entries")
        if len(entries) > 10:
            raise ApiError(
                "TooManyEntriesInBatchRequest", "The batch request contains more entries than "
                "permissible (10)",
            )  # fmt: skip
        ids = [entry.get("Id", "") for entry in entries]
        if len(set(ids)) != len(ids):
            raise ApiError("BatchEntryIdsNotDistinct", "Two or more batch entries in the "
                           "request have the same Id.")  # fmt: skip
        bad = next((i for i in ids if not _BATCH_ID.match(i)), None)
        if bad is not None:
            raise ApiError("InvalidBatchEntryId", f"The Id of a batch entry in a batch request "
                           f"doesn't abide by the specification: {bad!r}")  # fmt: skip
        size = sum(len(entry.get("Message", "").encode()) for entry in entries)
        if size > 256 * 1024:
            raise ApiError("BatchRequestTooLong", "The length of all the messages put together "
                           "is more than the limit.")  # fmt: skip
        checked: list[tuple[str, Publication | TopicError]] = []
        for entry in entries:
            try:
                checked.append((entry["Id"], topic.check(**_message(entry))))
            except TopicError as exc:
                checked.append((entry["Id"], exc))
        ok, failed = [], []
        for id, outcome in checked:
            if isinstance(outcome, TopicError):
                failed.append(
                    f"<member>{_tag('Id', id)}{_tag('Code', outcome.code)}"
                    f"{_tag('Message', str(outcome))}{_tag('SenderFault', 'true')}</member>"
                )
                continue
            published = topic.deliver(outcome)
            sequence = published.sequence_number
            ok.append(
                f"<member>{_tag('Id', id)}{_tag('MessageId', published.message_id)}"
                + (_tag("SequenceNumber", sequence) if sequence else "")
                + "</member>"
            )
        return f"<Successful>{''.join(ok)}</Successful><Failed>{''.join(failed)}</Failed>"

    # --- subscriptions --------------------------------------------------------------------

    async def subscribe(self, params: dict[str, str]) -> str:
        topic = self._topic(params)
        protocol = _required(params, "Protocol")
        endpoint = _required(params, "Endpoint")
        attributes = {e["key"]: e.get("value", "") for e in _list(params, "Attributes", "entry")}
        unknown = sorted(set(attributes) - set(_SUBSCRIBE_ATTRIBUTES))
        if unknown:
            takes = ", ".join(_SUBSCRIBE_ATTRIBUTES)
            raise ApiError(
                "InvalidParameter",
                f"Invalid parameter: Attributes Reason: eventsim takes {takes}, "
                f"not {', '.join(unknown)}",
            )
        self._check_endpoint(protocol, endpoint)
        scope = attributes.get("FilterPolicyScope", "MessageAttributes")
        if scope not in ("MessageAttributes", "MessageBody"):
            raise ApiError("InvalidParameter", "Invalid parameter: FilterPolicyScope: Invalid "
                           f"value [{scope}]. Please use either MessageBody or "
                           "MessageAttributes")  # fmt: skip
        raw = parse_raw_delivery(attributes.get("RawMessageDelivery", "false"), protocol)
        policy = parse_filter_policy(attributes.get("FilterPolicy", ""))
        before = set(topic.subscriptions)
        subscription = topic.subscribe(
            protocol, endpoint, raw_message_delivery=raw, filter_policy=policy,
            filter_policy_scope=scope,  # type: ignore[arg-type]  # checked above
        )  # fmt: skip
        if subscription.arn in before and attributes and (
            subscription.raw_message_delivery, subscription.filter_policy,
            subscription.filter_policy_scope,
        ) != (raw, policy, scope):  # fmt: skip
            raise ApiError("InvalidParameter", "Invalid parameter: Attributes Reason: "
                           "Subscription already exists with different attributes")  # fmt: skip
        return _tag("SubscriptionArn", subscription.arn)

    def _check_endpoint(self, protocol: str, endpoint: str) -> None:
        """The endpoint exists (AWS would take any ARN; eventsim says at once what it cannot
        deliver to)."""
        name = endpoint.rsplit(":", 1)[-1]
        if protocol == "sqs":
            queue = self._sim.queues.get(name)
            if queue is None or queue.arn != endpoint:
                raise ApiError("InvalidParameter", f"Invalid parameter: Endpoint Reason: the "
                               f"queue {endpoint} does not exist")  # fmt: skip
        elif protocol == "lambda":
            try:
                self._sim.function(endpoint)
            except KeyError:
                raise ApiError("InvalidParameter", f"Invalid parameter: Endpoint Reason: the "
                               f"function {endpoint} does not exist") from None  # fmt: skip

    async def unsubscribe(self, params: dict[str, str]) -> None:
        topic, subscription = self._topics.subscription(_required(params, "SubscriptionArn"))
        topic.unsubscribe(subscription.arn)

    async def list_subscriptions(self, params: dict[str, str]) -> str:
        found = [s for topic in self._topics.values() for s in topic.subscriptions.values()]
        return _subscriptions(found, params.get("NextToken"))

    async def list_subscriptions_by_topic(self, params: dict[str, str]) -> str:
        found = list(self._topic(params).subscriptions.values())
        return _subscriptions(found, params.get("NextToken"))

    async def get_subscription_attributes(self, params: dict[str, str]) -> str:
        _, subscription = self._topics.subscription(_required(params, "SubscriptionArn"))
        return _attributes(subscription.attributes())

    async def set_subscription_attributes(self, params: dict[str, str]) -> None:
        _, subscription = self._topics.subscription(_required(params, "SubscriptionArn"))
        subscription.set_attribute(
            _required(params, "AttributeName"), params.get("AttributeValue", "")
        )


_OPERATIONS: dict[str, Operation] = {
    "CreateTopic": SnsApi.create_topic,
    "ListTopics": SnsApi.list_topics,
    "GetTopicAttributes": SnsApi.get_topic_attributes,
    "Publish": SnsApi.publish,
    "PublishBatch": SnsApi.publish_batch,
    "Subscribe": SnsApi.subscribe,
    "Unsubscribe": SnsApi.unsubscribe,
    "ListSubscriptions": SnsApi.list_subscriptions,
    "ListSubscriptionsByTopic": SnsApi.list_subscriptions_by_topic,
    "GetSubscriptionAttributes": SnsApi.get_subscription_attributes,
    "SetSubscriptionAttributes": SnsApi.set_subscription_attributes,
}


# --- reading the form -----------------------------------------------------------------------


def _required(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise ApiError("InvalidParameter", f"Invalid parameter: {name} Reason: no value was "
                       "given")  # fmt: skip
    return value


def _list(params: dict[str, str], name: str, kind: str) -> list[dict[str, str]]:
    """``Name.<kind>.N.Field=value`` as a list of ``{Field: value}``, in N's order."""
    prefix = f"{name}.{kind}."
    found: dict[int, dict[str, str]] = {}
    for key, value in params.items():
        if key.startswith(prefix) and (match := _MEMBER.match(key[len(prefix) :])):
            found.setdefault(int(match["index"]), {})[match["rest"]] = value
    return [found[i] for i in sorted(found)]


def _message(params: dict[str, str]) -> dict[str, Any]:
    """Publish's (or a batch entry's) arguments of ``Topic.publish``."""
    attributes: dict[str, dict[str, Any]] = {}
    for entry in _list(params, "MessageAttributes", "entry"):
        name = entry.get("Name", "")
        attribute: dict[str, Any] = {"DataType": entry.get("Value.DataType", "")}
        if "Value.BinaryValue" in entry:
            try:
                attribute["BinaryValue"] = base64.b64decode(entry["Value.BinaryValue"],
                                                            validate=True)  # fmt: skip
            except (binascii.Error, ValueError):
                raise ApiError("InvalidParameterValue", f"The message attribute '{name}' has "
                               "a binary value that is not base64") from None  # fmt: skip
        else:
            attribute["StringValue"] = entry.get("Value.StringValue")
        attributes[name] = attribute
    return {
        "message": params.get("Message", ""),
        "subject": params.get("Subject"),
        "attributes": attributes,
        "group_id": params.get("MessageGroupId"),
        "deduplication_id": params.get("MessageDeduplicationId"),
        "structure": params.get("MessageStructure"),
    }


def _page(items: list[str], token: str | None) -> tuple[list[str], str | None]:
    start = int(token) if token and token.isdigit() else 0
    end = start + PAGE
    return items[start:end], str(end) if end < len(items) else None


# --- writing XML ----------------------------------------------------------------------------


def _tag(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>"


def _attributes(attributes: dict[str, str]) -> str:
    entries = "".join(
        f"<entry>{_tag('key', k)}{_tag('value', v)}</entry>" for k, v in attributes.items()
    )
    return f"<Attributes>{entries}</Attributes>"


def _subscriptions(subscriptions: list[Subscription], token: str | None) -> str:
    by_arn = {s.arn: s for s in subscriptions}
    page, next_token = _page(list(by_arn), token)
    members = "".join(
        "<member>"
        + "".join(
            _tag(k, v)
            for k, v in (
                ("SubscriptionArn", s.arn),
                ("Owner", s.owner),
                ("Protocol", s.protocol),
                ("Endpoint", s.endpoint),
                ("TopicArn", s.topic_arn),
            )
        )  # fmt: skip
        + "</member>"
        for s in (by_arn[arn] for arn in page)
    )
    return f"<Subscriptions>{members}</Subscriptions>" + (
        _tag("NextToken", next_token) if next_token else ""
    )


def _respond(action: str, result: str | None) -> web.Response:
    body = f"<{action}Result>{result}</{action}Result>" if result is not None else ""
    text = (
        f'<?xml version="1.0"?>\n<{action}Response xmlns="{_NAMESPACE}">{body}'
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )
    return web.Response(text=text, content_type="text/xml")
