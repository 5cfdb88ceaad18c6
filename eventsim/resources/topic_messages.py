"""What SNS checks and keeps of messages and subscriptions: a publication (message, subject,
attributes, FIFO ids) checked as Publish checks it, and a subscription with its delivery
settings and compiled filter policy. ``TopicError`` carries SNS's error code.

Example::

    attributes, per_protocol = check_message(
        "hello", None, {"kind": {"DataType": "String", "StringValue": "placed"}}, None
    )
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ..config import FilterPolicyScope
from ..errors import PatternError, TopicError
from ..filters import SNS_ATTRIBUTES, SNS_BODY, Pattern, sns_attributes_view, sns_body_view

#: A message and its attributes: at most 256 KB.
MAX_MESSAGE_BYTES = 256 * 1024
#: The protocols eventsim delivers to.
PROTOCOLS = ("sqs", "lambda")
_ATTRIBUTE_NAME = re.compile(r"^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$")
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\.[!-~]+)?$")
#: MessageGroupId, MessageDeduplicationId: 1 to 128 alphanumerics and punctuation.
TOKEN = re.compile(r"^[!-~]{1,128}$")
_SUBJECT = re.compile(r"^[ -~]{1,100}$")

SnsProtocol = Literal["sqs", "lambda"]


def not_found(what: str = "Topic") -> TopicError:
    return TopicError("NotFound", f"{what} does not exist", 404)


def invalid(name: str, reason: str = "") -> TopicError:
    """SNS's ``InvalidParameter`` sentence."""
    return TopicError("InvalidParameter", f"Invalid parameter: {name}" + (
        f" Reason: {reason}" if reason else ""))  # fmt: skip


@dataclass(frozen=True)
class Publication:
    """A message a topic accepted, as its subscriptions receive it."""

    message_id: str
    message: str
    subject: str | None
    attributes: Mapping[str, Mapping[str, Any]]
    timestamp: datetime
    signature: str
    per_protocol: Mapping[str, str] | None = None  # MessageStructure json
    group_id: str | None = None
    deduplication_id: str | None = None
    sequence_number: str | None = None

    def message_for(self, protocol: str) -> str:
        """The message a subscription of ``protocol`` gets (``MessageStructure: json`` may
        give one per protocol, with ``default`` for the rest)."""
        if self.per_protocol is None:
            return self.message
        return self.per_protocol.get(protocol, self.per_protocol["default"])


@dataclass(frozen=True)
class Published:
    """What ``publish`` answers: the message id and, from a FIFO topic, its sequence
    number."""

    message_id: str
    sequence_number: str | None = None


@dataclass
class Subscription:
    """One subscription: ``protocol`` (``sqs``, ``lambda``) and ``endpoint`` (the queue's or
    the function's ARN), with its delivery settings. ``origin``: ``config``, ``trigger`` or
    ``api``."""

    arn: str
    topic_arn: str
    protocol: SnsProtocol
    endpoint: str
    owner: str
    raw_message_delivery: bool = False
    filter_policy: dict[str, Any] | None = None
    filter_policy_scope: FilterPolicyScope = "MessageAttributes"
    origin: str = "api"
    _compiled: Pattern | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._compiled = _compile_policy(self.filter_policy, self.filter_policy_scope)

    def accepts(self, publication: Publication) -> bool:
        """Whether the filter policy (if any) lets ``publication`` through."""
        if self._compiled is None:
            return True
        if self.filter_policy_scope == "MessageBody":
            body = sns_body_view(publication.message_for(self.protocol))
            return body is not None and self._compiled.matches(body)
        return self._compiled.matches(sns_attributes_view(publication.attributes))

    def attributes(self) -> dict[str, str]:
        """GetSubscriptionAttributes' answer."""
        found = {
            "SubscriptionArn": self.arn,
            "TopicArn": self.topic_arn,
            "Owner": self.owner,
            "Protocol": self.protocol,
            "Endpoint": self.endpoint,
            "RawMessageDelivery": str(self.raw_message_delivery).lower(),
            "PendingConfirmation": "false",
            "ConfirmationWasAuthenticated": "true",
        }
        if self.filter_policy is not None:
            found["FilterPolicy"] = json.dumps(self.filter_policy)
            found["FilterPolicyScope"] = self.filter_policy_scope
        return found

    def set_attribute(self, name: str, value: str) -> None:
        """SetSubscriptionAttributes: ``RawMessageDelivery``, ``FilterPolicy`` (empty: none),
        ``FilterPolicyScope``; ``TopicError`` for what SNS refuses."""
        if name == "RawMessageDelivery":
            self.raw_message_delivery = parse_raw_delivery(value, self.protocol)
        elif name == "FilterPolicy":
            policy = parse_filter_policy(value)
            self._compiled = _compile_policy(policy, self.filter_policy_scope)
            self.filter_policy = policy
        elif name == "FilterPolicyScope":
            if value not in ("MessageAttributes", "MessageBody"):
                raise invalid("Attributes", "FilterPolicyScope: Invalid value [" + value + "]. "
                              "Please use either MessageBody or MessageAttributes")  # fmt: skip
            self._compiled = _compile_policy(self.filter_policy, value)  # type: ignore[arg-type]
            self.filter_policy_scope = value  # type: ignore[assignment]
        else:
            raise invalid("AttributeName", f"eventsim sets RawMessageDelivery, FilterPolicy and "
                          f"FilterPolicyScope, not {name}")  # fmt: skip


def parse_raw_delivery(value: str, protocol: str) -> bool:
    """A ``RawMessageDelivery`` value: ``true`` or ``false``, and not ``true`` for a function
    (``TopicError`` otherwise)."""
    if value.lower() not in ("true", "false"):
        raise invalid("Attributes", "RawMessageDelivery: Invalid value [" + value + "]. Must be "
                      "true or false.")  # fmt: skip
    if protocol == "lambda" and value.lower() == "true":
        raise invalid("Attributes", "Delivery protocol [lambda] does not support raw message "
                      "delivery.")  # fmt: skip
    return value.lower() == "true"


def parse_filter_policy(text: str) -> dict[str, Any] | None:
    """A ``FilterPolicy`` value: JSON text of an object, or empty (no policy)."""
    if not text.strip():
        return None
    try:
        policy = json.loads(text)
    except ValueError:
        raise invalid("FilterPolicy", "failed to parse JSON.") from None
    if not isinstance(policy, dict):
        raise invalid("FilterPolicy", "the policy must be a JSON object.")
    return policy or None


def _compile_policy(policy: dict[str, Any] | None, scope: FilterPolicyScope) -> Pattern | None:
    if policy is None:
        return None
    try:
        return Pattern.compile(
            policy, dialect=SNS_BODY if scope == "MessageBody" else SNS_ATTRIBUTES
        )
    except PatternError as exc:
        raise invalid("FilterPolicy", str(exc)) from None


def check_message(
    message: str,
    subject: str | None,
    attributes: Mapping[str, Mapping[str, Any]] | None,
    structure: str | None,
) -> tuple[dict[str, dict[str, Any]], dict[str, str] | None]:
    """A message checked as Publish checks it: its attributes (copied) and, with
    ``structure="json"``, its messages by protocol; ``TopicError`` for what SNS refuses."""
    if not isinstance(message, str) or not message:
        raise invalid("Empty message")
    checked = _check_attributes(attributes or {})
    size = len(message.encode()) + sum(
        len(name.encode()) + _attribute_size(value) for name, value in checked.items()
    )
    if size > MAX_MESSAGE_BYTES:
        raise invalid("Message too long", f"{size} bytes; at most {MAX_MESSAGE_BYTES}")
    if subject is not None and not _SUBJECT.match(subject):
        raise invalid("Subject", "1 to 100 printable ASCII characters, no line breaks")
    if structure not in (None, "json"):
        raise invalid("MessageStructure", "json or nothing")
    return checked, _per_protocol(message) if structure == "json" else None


def _per_protocol(message: str) -> dict[str, str]:
    try:
        messages = json.loads(message)
    except ValueError:
        raise invalid("Message Structure - JSON message body failed to parse") from None
    if not isinstance(messages, dict) or not isinstance(messages.get("default"), str):
        raise invalid("Message Structure - No default entry in JSON message body")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in messages.items()}


def _check_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Message attributes as SNS accepts them (the API form), copied."""
    checked: dict[str, dict[str, Any]] = {}
    for name, attribute in attributes.items():
        where = f"The message attribute '{name}'"
        if not isinstance(name, str) or not _ATTRIBUTE_NAME.match(name) or (
            name.lower().startswith(("aws.", "amazon."))
        ):  # fmt: skip
            raise TopicError("InvalidParameterValue", f"{where} has an invalid name: letters, "
                             "digits, _ - and . (not first, last or twice in a row), up to 256 "
                             "characters, not starting with AWS. or Amazon.")  # fmt: skip
        if not isinstance(attribute, Mapping):
            raise TopicError("InvalidParameterValue", f"{where} must be a DataType and a value")
        data_type = attribute.get("DataType")
        if not isinstance(data_type, str) or not _DATA_TYPE.match(data_type):
            raise TopicError("InvalidParameterValue", f"{where} has an invalid message attribute "
                             "type, the set of supported type prefixes is Binary, Number, and "
                             "String.")  # fmt: skip
        base = data_type.partition(".")[0]
        if base == "Binary":
            value = attribute.get("BinaryValue")
            if not isinstance(value, bytes | bytearray) or not value:
                raise TopicError("InvalidParameterValue", f"{where} must contain a non-empty "
                                 "binary value")  # fmt: skip
            checked[name] = {"DataType": data_type, "BinaryValue": bytes(value)}
            continue
        text = attribute.get("StringValue")
        if not isinstance(text, str) or not text:
            raise TopicError(
                "InvalidParameterValue",
                f"{where} must contain non-empty message attribute value for message attribute "
                f"type '{base}'.",
            )
        if base == "Number" and not _is_number(text):
            raise TopicError("InvalidParameterValue", f"{where} with type 'Number' must be a "
                             "number, not " + repr(text))  # fmt: skip
        if data_type == "String.Array" and not _is_json_array(text):
            raise TopicError(
                "InvalidParameterValue",
                f"{where} with type 'String.Array' must be a JSON array of strings, numbers, "
                "true, false or null",
            )
        checked[name] = {"DataType": data_type, "StringValue": text}
    return checked


def _attribute_size(attribute: Mapping[str, Any]) -> int:
    value = attribute.get("BinaryValue") or str(attribute.get("StringValue", "")).encode()
    return len(str(attribute["DataType"]).encode()) + len(value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")


def _is_json_array(text: str) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, list) and all(
        v is None or isinstance(v, str | int | float | bool) for v in value
    )
