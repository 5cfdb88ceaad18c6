"""EventBridge events, what a rule's target makes of them, and S3's events on EventBridge.

* ``event``: an event as EventBridge fills it (``version``, ``id``, ``detail-type``, ``source``,
  ``account``, ``time`` to the second, ``region``, ``resources``, ``detail``);
* ``target_input``: what a target receives: the event, a constant ``Input``, the part at an
  ``InputPath``, or an ``InputTransformer``'s result;
* ``transform``: an input template with its ``<placeholders>`` filled by AWS's quoting rules;
* ``s3_event``: S3's "Object Created" / "Object Deleted" events;
* ``entry_size``: a PutEvents entry's size as AWS counts it (limit 256 KB).

Example::

    e = event(event_id=uuid, source="shop", detail_type="OrderPlaced", detail={"id": 1},
              time=now, region="us-east-1", account="123456789012", resources=[])
    transform(e, {"id": "$.detail.id"}, '{"order": <id>}', rule_arn=..., rule_name="r")
    # '{"order": 1}'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from .common import iso_s

#: PutEvents: at most this many entries per request, and this many bytes in all of them.
MAX_ENTRIES = 10
MAX_ENTRY_BYTES = 256 * 1024
#: §4.1: AWS counts a given Time as this many bytes.
TIME_BYTES = 14

_PLACEHOLDER = re.compile(r"<([^<>\s]+)>")
_STEP = re.compile(r"\.([^.\[\]\s]+)|\[(\d+)\]")
_MISSING = object()


def bus_arn(region: str, account: str, bus: str) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{bus}"


def rule_arn(region: str, account: str, bus: str, rule: str) -> str:
    """A rule's ARN: ``rule/NAME`` on the default bus, ``rule/BUS/NAME`` on others."""
    where = rule if bus == "default" else f"{bus}/{rule}"
    return f"arn:aws:events:{region}:{account}:rule/{where}"


def event(
    *,
    event_id: str,
    source: str,
    detail_type: str,
    detail: Any,
    time: datetime,
    region: str,
    account: str,
    resources: list[str],
) -> dict[str, Any]:
    """An event on a bus, its fields in AWS's order."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": iso_s(time),
        "region": region,
        "resources": resources,
        "detail": detail,
    }


def entry_size(entry: Mapping[str, Any]) -> int:
    """A PutEvents entry's size: UTF-8 bytes of Source, DetailType, Detail and each resource,
    and 14 bytes for a Time."""
    size = TIME_BYTES if entry.get("Time") is not None else 0
    for name in ("Source", "DetailType", "Detail"):
        value = entry.get(name)
        if isinstance(value, str):
            size += len(value.encode())
    for resource in entry.get("Resources") or []:
        if isinstance(resource, str):
            size += len(resource.encode())
    return size


# --- JSON paths and input transformers ------------------------------------------------------


def json_path(document: Any, path: str) -> Any:
    """The value at ``path`` (``$``, ``$.detail.id``, ``$.items[0]``), or ``MISSING``."""
    value = document
    for name, index in _STEP.findall(path[1:]):
        if name and isinstance(value, dict) and name in value:
            value = value[name]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return _MISSING
    return value


def target_input(
    event: dict[str, Any],
    *,
    constant: Any = None,
    path: str | None = None,
    paths_map: Mapping[str, str] | None = None,
    template: str | None = None,
    rule_arn: str = "",
    rule_name: str = "",
) -> str:
    """The text a target receives for ``event``: the event as JSON (nothing set), the constant
    ``Input`` (JSON), the value at ``InputPath`` (JSON; ``null`` when absent), or the
    transformer's result (see ``transform``)."""
    if template is not None:
        return transform(event, paths_map or {}, template, rule_arn=rule_arn, rule_name=rule_name)
    if constant is not None:
        return json.dumps(constant)
    if path is not None:
        found = json_path(event, path)
        return json.dumps(None if found is _MISSING else found)
    return json.dumps(event)


def transform(
    event: dict[str, Any],
    paths_map: Mapping[str, str],
    template: str,
    *,
    rule_arn: str = "",
    rule_name: str = "",
) -> str:
    """``template`` with each ``<name>`` replaced, as EventBridge does:

    * in a JSON template (one that starts with ``{``, ``[`` or ``"``), a placeholder standing
      as a value goes in as JSON: a string with its quotes, an object as an object;
    * inside a quoted string of the template, and anywhere in a plain-text template, a value
      goes in as raw text: a string as it is (not escaped), anything else as JSON text.

    A path the event does not have leaves nothing. ``<aws.events.event>`` is the event without
    ``detail``, ``<aws.events.event.json>`` the whole event; ``<aws.events.rule-arn>``,
    ``<aws.events.rule-name>`` and ``<aws.events.event.ingestion-time>`` are the rule's and the
    event's.
    """
    values: dict[str, Any] = {name: json_path(event, path) for name, path in paths_map.items()}
    values.update(
        {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": event.get("time", ""),
            "aws.events.event": {k: v for k, v in event.items() if k != "detail"},
            "aws.events.event.json": event,
        }
    )
    stripped = template.lstrip()
    is_json = stripped[:1] in ("{", "[", '"')
    out: list[str] = []
    position = 0
    quoted = False
    for match in _PLACEHOLDER.finditer(template):
        if match.group(1) not in values:
            continue  # not a placeholder: literal text
        before = template[position : match.start()]
        quoted = _still_quoted(before, quoted) if is_json else False
        out.append(before)
        out.append(_render(values[match.group(1)], "json" if is_json and not quoted else "text"))
        position = match.end()
    out.append(template[position:])
    return "".join(out)


def _still_quoted(text: str, quoted: bool) -> bool:
    """Whether a JSON template is inside a string after ``text`` (given it was or not before)."""
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = quoted
        elif char == '"':
            quoted = not quoted
    return quoted


def _render(value: Any, where: Literal["json", "text"]) -> str:
    if value is _MISSING:
        return ""
    if where == "json" or not isinstance(value, str):
        return json.dumps(value)
    return value


# --- S3 on EventBridge ----------------------------------------------------------------------

#: S3's ``reason`` for each kind of change.
S3_REASONS = {
    "Put": "PutObject",
    "Post": "POST Object",
    "Copy": "CopyObject",
    "CompleteMultipartUpload": "CompleteMultipartUpload",
    "Delete": "DeleteObject",
}


def s3_event(
    *,
    event_id: str,
    kind: str,
    bucket: str,
    key: str,
    sequencer: str,
    time: datetime,
    region: str,
    account: str,
    request_id: str,
    size: int | None = None,
    etag: str | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """S3's event for a change (``kind``: Put, Post, Copy, CompleteMultipartUpload, Delete):
    ``Object Created`` or ``Object Deleted``, the key as written (not URL-encoded)."""
    deleted = kind == "Delete"
    obj: dict[str, Any] = {"key": key}
    if not deleted:
        obj.update({"size": size, "etag": etag})
    obj["sequencer"] = sequencer
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket},
        "object": obj,
        "request-id": request_id,
        "requester": account,
        "source-ip-address": source_ip,
        "reason": S3_REASONS.get(kind, kind),
    }
    if deleted:
        detail["deletion-type"] = "Permanently Deleted"
    return event(
        event_id=event_id,
        source="aws.s3",
        detail_type="Object Deleted" if deleted else "Object Created",
        detail=detail,
        time=time,
        region=region,
        account=account,
        resources=[f"arn:aws:s3:::{bucket}"],
    )


# --- dead-letter queues ---------------------------------------------------------------------


def dead_letter_attributes(
    *,
    error_code: str,
    error_message: str,
    exhausted: str | None,
    retry_attempts: int,
    rule_arn: str,
    target_arn: str,
) -> dict[str, dict[str, str]]:
    """The message attributes of an event EventBridge sends to a target's dead-letter queue
    (the event is the body)."""
    attributes = {
        "ERROR_CODE": error_code,
        "ERROR_MESSAGE": error_message[:256],
        "RETRY_ATTEMPTS": str(retry_attempts),
        "RULE_ARN": rule_arn,
        "TARGET_ARN": target_arn,
    }
    if exhausted is not None:
        attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
    return {
        name: {"DataType": "Number" if name == "RETRY_ATTEMPTS" else "String",
               "StringValue": value}
        for name, value in attributes.items()
    }  # fmt: skip
