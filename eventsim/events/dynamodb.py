"""DynamoDB stream records (docs/aws-behaviour.md §2.1, §2.2), as a stream event source mapping
delivers.

Example::

    record = stream_record(
        "MODIFY", keys={"pk": {"S": "a"}}, new_image=new, old_image=old,
        view_type="NEW_AND_OLD_IMAGES", sequence_number=17, event_id="c81e...",
        created=now, region="us-east-1",
        stream_arn=stream_arn("us-east-1", "123456789012", "orders", label),
    )
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from ..unconfirmed import stream_record_size

EventName = Literal["INSERT", "MODIFY", "REMOVE"]
ViewType = Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
Item = dict[str, Any]  # DynamoDB JSON

#: §2.2: which images each view type carries.
_NEW = {"NEW_IMAGE", "NEW_AND_OLD_IMAGES"}
_OLD = {"OLD_IMAGE", "NEW_AND_OLD_IMAGES"}


def stream_label(created: datetime) -> str:
    """A stream's label: its creation time, ISO-8601 with milliseconds and no zone."""
    when = created.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}"


def stream_arn(region: str, account: str, table: str, label: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{table}/stream/{label}"


def sequence_number(counter: int) -> str:
    """A stream SequenceNumber: decimal digits, at least 21, increasing."""
    return f"{counter:021d}"


def stream_record(
    event_name: EventName,
    *,
    keys: Item,
    new_image: Item | None,
    old_image: Item | None,
    view_type: ViewType,
    sequence_number: int | str,
    event_id: str,
    created: datetime,
    region: str,
    stream_arn: str,
    ttl_delete: bool = False,
) -> dict[str, Any]:
    """One stream record, carrying the images ``view_type`` asks for (none it does not)."""
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": int(created.timestamp()),
        "Keys": keys,
    }
    if view_type in _NEW and event_name != "REMOVE" and new_image is not None:
        change["NewImage"] = new_image
    if view_type in _OLD and event_name != "INSERT" and old_image is not None:
        change["OldImage"] = old_image
    seq = sequence_number if isinstance(sequence_number, str) else f"{sequence_number:021d}"
    change["SequenceNumber"] = seq
    change["SizeBytes"] = stream_record_size(
        change["Keys"], change.get("NewImage"), change.get("OldImage")
    )
    change["StreamViewType"] = view_type
    record: dict[str, Any] = {
        "eventID": event_id,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }
    if ttl_delete:
        if event_name != "REMOVE":
            raise ValueError("only REMOVE records come from TTL expiry")
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


def batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The event a stream mapping hands the function."""
    return {"Records": records}
