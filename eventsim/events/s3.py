"""S3 event notification records (docs/aws-behaviour.md §1), as Lambda receives them.

Example::

    record = object_created(
        "Put", bucket="uploads", key="images/red flower.jpg", size=1024,
        etag="d41d8cd98f00b204e9800998ecf8427e", sequencer="0055AED6DCD90281E5",
        configuration_id="thumbs", time=now, region="us-east-1",
        request_id="C3D13FE58DE4C810", host_id="FMyUVURIY8...",
    )
    event = notification(record)          # {"Records": [record]}
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote_plus

from ..unconfirmed import S3_KEY_SAFE
from .common import iso_ms

CreatedKind = Literal["Put", "Post", "Copy", "CompleteMultipartUpload"]
RemovedKind = Literal["Delete", "DeleteMarkerCreated"]

#: Identities eventsim reports as the caller and the bucket owner.
PRINCIPAL_ID = "AWS:AIDAEVENTSIMLOCALUSER"
OWNER_ID = "A3EVENTSIMLOCALOWNER"


def encode_key(key: str) -> str:
    """The key as S3 puts it in events: form-encoded, ``/`` kept, space as ``+`` (§1.3)."""
    return quote_plus(key, safe=S3_KEY_SAFE)


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_created(
    kind: CreatedKind,
    *,
    bucket: str,
    key: str,
    size: int,
    etag: str,
    sequencer: str,
    configuration_id: str,
    time: datetime,
    region: str,
    request_id: str,
    host_id: str,
    version_id: str | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An ``ObjectCreated:<kind>`` record; ``etag`` is unquoted (hex MD5 for a single PUT)."""
    obj: dict[str, Any] = {"key": encode_key(key), "size": size, "eTag": etag}
    if version_id is not None:
        obj["versionId"] = version_id
    obj["sequencer"] = sequencer
    return _record(
        f"ObjectCreated:{kind}", bucket, obj, configuration_id, time, region, request_id,
        host_id, source_ip,
    )  # fmt: skip


def object_removed(
    kind: RemovedKind,
    *,
    bucket: str,
    key: str,
    sequencer: str,
    configuration_id: str,
    time: datetime,
    region: str,
    request_id: str,
    host_id: str,
    version_id: str | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An ``ObjectRemoved:<kind>`` record: the object has only key, sequencer (, versionId)."""
    obj: dict[str, Any] = {"key": encode_key(key)}
    if version_id is not None:
        obj["versionId"] = version_id
    obj["sequencer"] = sequencer
    return _record(
        f"ObjectRemoved:{kind}", bucket, obj, configuration_id, time, region, request_id,
        host_id, source_ip,
    )  # fmt: skip


def notification(record: dict[str, Any]) -> dict[str, Any]:
    """The event Lambda receives: each notification carries exactly one record."""
    return {"Records": [record]}


def test_event(*, bucket: str, time: datetime, request_id: str, host_id: str) -> dict[str, Any]:
    """The ``s3:TestEvent`` S3 sends when a configuration is saved (§1.6)."""
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": iso_ms(time),
        "Bucket": bucket,
        "RequestId": request_id,
        "HostId": host_id,
    }


def sequencer(counter: int) -> str:
    """An 18-digit upper-case hex sequencer; larger means later for the same key (§1.4)."""
    return f"{counter:018X}"


def _record(
    event_name: str,
    bucket: str,
    obj: dict[str, Any],
    configuration_id: str,
    time: datetime,
    region: str,
    request_id: str,
    host_id: str,
    source_ip: str,
) -> dict[str, Any]:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": iso_ms(time),
        "eventName": event_name,
        "userIdentity": {"principalId": PRINCIPAL_ID},
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": host_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": OWNER_ID},
                "arn": bucket_arn(bucket),
            },
            "object": obj,
        },
    }
