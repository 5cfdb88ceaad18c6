"""SQS records (docs/aws-behaviour.md §3.1) and the digests SQS computes (§3.3).

Message attributes travel in two forms: the API form a sender uses (``{"DataType": "String",
"StringValue": "1"}``, ``BinaryValue`` as bytes) and the form inside a Lambda record
(``{"stringValue": "1", "stringListValues": [], "binaryListValues": [], "dataType":
"String"}``, binary as base64). ``record`` takes the API form.

Example::

    record(message_id=mid, receipt_handle=handle, body='{"order": 42}',
           attributes=system_attributes(sent_ms=..., receive_count=1, first_receive_ms=...),
           message_attributes={"kind": {"DataType": "String", "StringValue": "resize"}},
           queue_arn=queue_arn("us-east-1", "123456789012", "jobs"), region="us-east-1")
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Mapping
from typing import Any

#: The SenderId eventsim reports for messages its own API sent.
SENDER_ID = "AIDAEVENTSIMLOCALSENDER"

#: §3.3: the transport byte for each data type's base.
_TRANSPORT = {"String": 1, "Number": 1, "Binary": 2}


def queue_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


def md5_of_body(body: str) -> str:
    """``md5OfBody``: hex MD5 of the UTF-8 body."""
    return hashlib.md5(body.encode()).hexdigest()


def md5_of_message_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> str | None:
    """``md5OfMessageAttributes`` by SQS's algorithm (§3.3); None without attributes.

    Attributes are sorted by name; each contributes its name and data type, each as a 4-byte
    big-endian length and the UTF-8 bytes, then a transport byte (1 string/number, 2 binary),
    then the value as length and bytes.
    """
    if not attributes:
        return None
    buffer = bytearray()
    for name in sorted(attributes):
        attribute = attributes[name]
        data_type = attribute["DataType"]
        for part in (name.encode(), data_type.encode()):
            buffer += struct.pack("!I", len(part)) + part
        if _base_type(data_type) == "Binary":
            value = _binary(attribute["BinaryValue"])
        else:
            value = attribute["StringValue"].encode()
        buffer.append(_TRANSPORT[_base_type(data_type)])
        buffer += struct.pack("!I", len(value)) + value
    return hashlib.md5(buffer).hexdigest()


def lambda_message_attributes(
    attributes: Mapping[str, Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Message attributes as a Lambda SQS record carries them."""
    out: dict[str, dict[str, Any]] = {}
    for name, attribute in attributes.items():
        data_type = attribute["DataType"]
        entry: dict[str, Any] = {}
        if _base_type(data_type) == "Binary":
            entry["binaryValue"] = base64.b64encode(_binary(attribute["BinaryValue"])).decode()
        else:
            entry["stringValue"] = attribute["StringValue"]
        entry.update(stringListValues=[], binaryListValues=[], dataType=data_type)
        out[name] = entry
    return out


def system_attributes(
    *,
    sent_ms: int,
    receive_count: int,
    first_receive_ms: int,
    sender_id: str = SENDER_ID,
    group_id: str | None = None,
    deduplication_id: str | None = None,
    sequence_number: str | None = None,
    trace_header: str | None = None,
    dead_letter_source_arn: str | None = None,
) -> dict[str, str]:
    """A record's ``attributes``: every value a string, FIFO ones only when given."""
    attributes = {
        "ApproximateReceiveCount": str(receive_count),
        "SentTimestamp": str(sent_ms),
        "SenderId": sender_id,
        "ApproximateFirstReceiveTimestamp": str(first_receive_ms),
    }
    optional = {
        "SequenceNumber": sequence_number,
        "MessageGroupId": group_id,
        "MessageDeduplicationId": deduplication_id,
        "AWSTraceHeader": trace_header,
        "DeadLetterQueueSourceArn": dead_letter_source_arn,
    }
    attributes.update({k: v for k, v in optional.items() if v is not None})
    return attributes


def record(
    *,
    message_id: str,
    receipt_handle: str,
    body: str,
    attributes: dict[str, str],
    message_attributes: Mapping[str, Mapping[str, Any]],
    queue_arn: str,
    region: str,
    digests: tuple[str, str | None] | None = None,
) -> dict[str, Any]:
    """One record of an SQS event, keys in the order AWS sends them.

    ``digests`` is (md5OfBody, md5OfMessageAttributes) when the queue already computed them.
    """
    body_md5, attributes_md5 = digests or (
        md5_of_body(body),
        md5_of_message_attributes(message_attributes),
    )
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle,
        "body": body,
        "attributes": attributes,
        "messageAttributes": lambda_message_attributes(message_attributes),
        "md5OfMessageAttributes": attributes_md5,
        "md5OfBody": body_md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The event an SQS mapping hands the function."""
    return {"Records": records}


def _base_type(data_type: str) -> str:
    base = data_type.split(".", 1)[0]
    if base not in _TRANSPORT:
        raise ValueError(f"message attribute DataType must start with String, Number or Binary: "
                         f"{data_type!r}")  # fmt: skip
    return base


def _binary(value: bytes | str) -> bytes:
    # boto3 users pass bytes; the JSON protocol carries base64 text.
    return value if isinstance(value, bytes) else base64.b64decode(value)
