"""Queue attributes by AWS's names (CreateQueue, SetQueueAttributes, GetQueueAttributes).

``changes`` reads attributes as SQS's API takes them (every value a string) into updates of a
``QueueConfig``, refusing what SQS refuses in SQS's words: an unknown name is
``InvalidAttributeName`` ("Unknown Attribute X."), a value out of range ``InvalidAttributeValue``
("Invalid value for the parameter X."), a malformed ``RedrivePolicy`` or
``RedriveAllowPolicy`` ``InvalidParameterValue``. ``render`` is the other way, for
GetQueueAttributes. Policies are kept as given; KMS and SSE settings are stored, not enforced.

Example::

    updates = changes({"VisibilityTimeout": "60"}, fifo=False, creating=True, target=lookup)
    config = config.model_copy(update=updates)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..config import QueueConfig, Redrive
from ..errors import QueueError

if TYPE_CHECKING:
    from .queue import Queue

#: What GetQueueAttributes may name (besides ``All``).
READABLE = frozenset({
    "Policy", "VisibilityTimeout", "MaximumMessageSize", "MessageRetentionPeriod",
    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "CreatedTimestamp",
    "LastModifiedTimestamp", "QueueArn", "ApproximateNumberOfMessagesDelayed", "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds", "RedrivePolicy", "FifoQueue", "ContentBasedDeduplication",
    "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "DeduplicationScope", "FifoThroughputLimit",
    "RedriveAllowPolicy", "SqsManagedSseEnabled",
})  # fmt: skip
#: Integer attributes: config key and range.
_NUMBERS = {
    "VisibilityTimeout": ("visibility_timeout", 0, 43200),
    "DelaySeconds": ("delay_seconds", 0, 900),
    "MessageRetentionPeriod": ("message_retention_period", 60, 1209600),
    "MaximumMessageSize": ("maximum_message_size", 1024, 1048576),
    "ReceiveMessageWaitTimeSeconds": ("receive_message_wait_time_seconds", 0, 20),
    "KmsDataKeyReusePeriodSeconds": ("kms_data_key_reuse_period_seconds", 60, 86400),
}
_FIFO_ONLY = {
    "DeduplicationScope": ("deduplication_scope", ("queue", "messageGroup")),
    "FifoThroughputLimit": ("fifo_throughput_limit", ("perQueue", "perMessageGroupId")),
}
_QUEUE_ARN = re.compile(
    r"^arn:aws[\w-]*:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$"
)
_REDRIVE_KEYS = ("deadLetterTargetArn", "maxReceiveCount")
_PERMISSIONS = ("allowAll", "denyAll", "byQueue")
_SSE_BOTH = (
    "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS "
    "SSE or SQS SSE."
)

#: Finds a queue by (name, region) for a RedrivePolicy's target.
Lookup = Callable[[str, str], "Queue | None"]


def unknown(name: str) -> QueueError:
    return QueueError("InvalidAttributeName", f"Unknown Attribute {name}.")


def bad_value(name: str, reason: str = "") -> QueueError:
    return QueueError(
        "InvalidAttributeValue",
        f"Invalid value for the parameter {name}." + (f" Reason: {reason}" if reason else ""),
    )


def parse_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of an SQS queue ARN, or None."""
    match = _QUEUE_ARN.match(arn)
    return (match[1], match[2], match[3]) if match else None


def _boolean(name: str, value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise bad_value(name)
    return value.lower() == "true"


def changes(
    attributes: Mapping[str, Any],
    *,
    fifo: bool,
    creating: bool,
    region: str,
    account: str,
    target: Lookup,
) -> dict[str, Any]:
    """``QueueConfig`` updates from attributes by AWS's names; ``QueueError`` as SQS refuses."""
    updates: dict[str, Any] = {}
    for name, raw in attributes.items():
        if not isinstance(raw, str):
            raise bad_value(str(name))
        value = raw
        if name in _NUMBERS:
            key, low, high = _NUMBERS[name]
            if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
                raise bad_value(name)
            updates[key] = int(value)
        elif name == "FifoQueue":
            if not fifo:
                raise unknown(name)
            if not _boolean(name, value):
                raise bad_value(name, "Modifying queue type is not supported.")
        elif name == "ContentBasedDeduplication":
            if not fifo:
                raise unknown(name)
            updates["content_based_deduplication"] = _boolean(name, value)
        elif name in _FIFO_ONLY:
            if not fifo:
                raise QueueError("InvalidAttributeName", f"You can specify the {name} only when "
                                 "FifoQueue is set to true.")  # fmt: skip
            key, allowed = _FIFO_ONLY[name]
            if value not in allowed:
                raise bad_value(name)
            updates[key] = value
        elif name == "RedrivePolicy":
            updates["redrive"] = _redrive(value, fifo, region, account, target) if value else None
        elif name == "RedriveAllowPolicy":
            updates["redrive_allow_policy"] = _redrive_allow(value) if value else None
        elif name == "Policy":
            updates["policy"] = _policy(value) if value else None
        elif name == "KmsMasterKeyId":
            updates["kms_master_key_id"] = value or None
        elif name == "SqsManagedSseEnabled":
            updates["sqs_managed_sse_enabled"] = _boolean(name, value)
        else:
            raise unknown(str(name))
    if updates.get("kms_master_key_id"):
        if updates.get("sqs_managed_sse_enabled"):
            raise QueueError("InvalidAttributeName", _SSE_BOTH)
        updates["sqs_managed_sse_enabled"] = False  # one kind of encryption at a time
    elif updates.get("sqs_managed_sse_enabled"):
        updates["kms_master_key_id"] = None
    return updates


def _redrive(value: str, fifo: bool, region: str, account: str, target: Lookup) -> Redrive:
    def refused(reason: str) -> QueueError:
        return QueueError(
            "InvalidParameterValue",
            f"Value {value} for parameter RedrivePolicy is invalid. Reason: {reason}",
        )

    try:
        policy = json.loads(value)
    except ValueError:
        policy = None
    if not isinstance(policy, dict):
        raise QueueError(
            "InvalidParameterValue",
            "Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a "
            "valid JSON map.",
        )
    for key in reversed(_REDRIVE_KEYS):
        if key not in policy:
            raise refused(f"Redrive policy does not contain mandatory attribute: {key}.")
    if set(policy) - set(_REDRIVE_KEYS):
        raise refused(
            "Only following attributes are supported: [maxReceiveCount, deadLetterTargetArn]."
        )
    count = policy["maxReceiveCount"]
    if isinstance(count, str) and count.strip().lstrip("-").isdigit():
        count = int(count)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 1000:
        raise refused(f"Invalid value for maxReceiveCount: {policy['maxReceiveCount']}, valid "
                      "values are from 1 to 1000 both inclusive.")  # fmt: skip
    arn = policy["deadLetterTargetArn"]
    parsed = parse_arn(arn) if isinstance(arn, str) else None
    if parsed is None:
        raise refused("Only SQS queues are valid resources for deadLetterTargetArn.")
    dlq_region, dlq_account, dlq_name = parsed
    if dlq_region != region:
        raise refused("Dead-letter target must be in same region as the source.")
    if dlq_account != account:
        raise refused("Dead-letter target owner should be same as the source.")
    dead_letter = target(dlq_name, dlq_region)
    if dead_letter is None:
        raise refused("Dead letter target does not exist.")
    if dead_letter.fifo != fifo:
        raise refused("Dead-letter queue must be same type of queue as the source..")
    return Redrive(dead_letter_queue=dlq_name, max_receive_count=count)


def _redrive_allow(value: str) -> str:
    def unsupported() -> QueueError:
        return QueueError(
            "InvalidParameterValue",
            "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't "
            "create the redrive allow policy, as it’s in an unsupported format.",
        )

    def refused(reason: str) -> QueueError:
        return QueueError(
            "InvalidParameterValue",
            f"Value {value} for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS "
            f"can't create the redrive allow policy. {reason}",
        )

    try:
        policy = json.loads(value)
    except ValueError:
        raise unsupported() from None
    if not isinstance(policy, dict) or set(policy) - {"redrivePermission", "sourceQueueArns"}:
        raise unsupported()
    permission, sources = policy.get("redrivePermission"), policy.get("sourceQueueArns")
    if permission not in _PERMISSIONS:
        raise unsupported()
    if sources is not None and (
        not isinstance(sources, list) or not all(isinstance(s, str) for s in sources)
    ):
        raise unsupported()
    if permission == "byQueue":
        if not sources:
            raise refused("When you specify the byQueue permission type, you must also specify "
                          "one or more sourceQueueArns values.")  # fmt: skip
        if len(sources) > 10:
            raise refused("The maximum number of source queue ARNs you can specify is 10.")
    elif sources is not None:
        raise refused("To specify one or more source queue ARNs, you must set redrivePermission "
                      "to byQueue.")  # fmt: skip
    return value


def _policy(value: str) -> str:
    try:
        policy = json.loads(value)
    except ValueError:
        policy = None
    if not isinstance(policy, dict):
        raise bad_value("Policy")
    return value


def differing(queue: Queue, updates: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    """The first attribute of a CreateQueue for an existing queue whose value differs from the
    queue's (SQS answers ``QueueAlreadyExists`` naming it), or None when all match."""
    current = queue.config.model_dump()
    parsed = QueueConfig.model_validate({**current, **updates}).model_dump()
    for name in given:
        keys = _config_keys(str(name))
        if any(parsed[key] != current[key] for key in keys):
            return str(name)
    return None


def _config_keys(name: str) -> tuple[str, ...]:
    if name in _NUMBERS:
        return (_NUMBERS[name][0],)
    if name in _FIFO_ONLY:
        return (_FIFO_ONLY[name][0],)
    return {
        "ContentBasedDeduplication": ("content_based_deduplication",),
        "RedrivePolicy": ("redrive",),
        "RedriveAllowPolicy": ("redrive_allow_policy",),
        "Policy": ("policy",),
        "KmsMasterKeyId": ("kms_master_key_id",),
        "SqsManagedSseEnabled": ("sqs_managed_sse_enabled",),
    }.get(name, ())


def render(queue: Queue) -> dict[str, str]:
    """Every attribute GetQueueAttributes ``All`` shows, as strings."""
    c = queue.config
    counts = queue.counts()
    attributes = {
        "QueueArn": queue.arn,
        "ApproximateNumberOfMessages": str(counts.visible),
        "ApproximateNumberOfMessagesNotVisible": str(counts.in_flight),
        "ApproximateNumberOfMessagesDelayed": str(counts.delayed),
        "CreatedTimestamp": str(int(queue.created_at)),
        "LastModifiedTimestamp": str(int(queue.modified_at)),
        "VisibilityTimeout": str(c.visibility_timeout),
        "DelaySeconds": str(c.delay_seconds),
        "MessageRetentionPeriod": str(c.message_retention_period),
        "MaximumMessageSize": str(c.maximum_message_size),
        "ReceiveMessageWaitTimeSeconds": str(c.receive_message_wait_time_seconds),
        "SqsManagedSseEnabled": str(c.sqs_managed_sse_enabled).lower(),
    }
    if queue.fifo:
        attributes["FifoQueue"] = "true"
        attributes["ContentBasedDeduplication"] = str(c.content_based_deduplication).lower()
        attributes["DeduplicationScope"] = c.deduplication_scope
        attributes["FifoThroughputLimit"] = c.fifo_throughput_limit
    if c.redrive is not None:
        target = f"arn:aws:sqs:{queue.region}:{queue.account}:{c.redrive.dead_letter_queue}"
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": target, "maxReceiveCount": c.redrive.max_receive_count},
            separators=(",", ":"),
        )
    if c.redrive_allow_policy is not None:
        attributes["RedriveAllowPolicy"] = c.redrive_allow_policy
    if c.policy is not None:
        attributes["Policy"] = c.policy
    if c.kms_master_key_id is not None:
        attributes["KmsMasterKeyId"] = c.kms_master_key_id
        attributes["KmsDataKeyReusePeriodSeconds"] = str(c.kms_data_key_reuse_period_seconds)
    return attributes


def select(queue: Queue, names: list[str]) -> dict[str, str]:
    """GetQueueAttributes: the named ones (``All``: every one); nothing without names."""
    for name in names:
        if name != "All" and name not in READABLE:
            raise unknown(name)
    if not names:
        return {}
    attributes = render(queue)
    return attributes if "All" in names else {k: v for k, v in attributes.items() if k in names}
