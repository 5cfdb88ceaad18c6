"""The template's resources other than functions, as eventsim's buckets, queues, tables,
topics and buses.

``name_resources`` runs first: it decides every resource's name (so that references between
resources, in any order, resolve) and makes its config entry. ``map_resources`` then fills the
entries from the properties. What a property asks that eventsim does not do is a notice at
its line; properties without a local meaning (tags, billing, encryption at rest) are taken
silently.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import names
from .build import MISSING, Builder, KeyPath
from .intrinsics import Unresolved

#: Properties of each type that change nothing eventsim simulates: taken without a notice.
QUIET: dict[str, frozenset[str]] = {
    names.QUEUE: frozenset({"Tags", "QueueName", "FifoQueue"}),
    names.TOPIC: frozenset(
        {"Tags", "TopicName", "FifoTopic", "KmsMasterKeyId", "SignatureVersion"}
    ),  # fmt: skip
    "AWS::DynamoDB::Table": frozenset(
        {
            "TableName",
            "Tags",
            "BillingMode",
            "SSESpecification",
            "TableClass",
            "PointInTimeRecoverySpecification",
            "DeletionProtectionEnabled",
            "ContributorInsightsSpecification",
            "OnDemandThroughput",
            "WarmThroughput",
        }
    ),  # fmt: skip
    "AWS::Serverless::SimpleTable": frozenset({"TableName", "Tags", "SSESpecification"}),
    names.BUCKET: frozenset({"BucketName", "Tags", "BucketEncryption"}),
    names.BUS: frozenset({"Name", "Tags", "Description", "KmsKeyIdentifier"}),
}

_ANNOUNCED = ("s3:ObjectCreated:", "s3:ObjectRemoved:")
_KEY_TYPES = {"String": "S", "Number": "N", "Binary": "B"}
_QUEUE_ATTRIBUTES = {
    "VisibilityTimeout": ("visibility_timeout", "integer"),
    "DelaySeconds": ("delay_seconds", "integer"),
    "MessageRetentionPeriod": ("message_retention_period", "integer"),
    "MaximumMessageSize": ("maximum_message_size", "integer"),
    "ReceiveMessageWaitTimeSeconds": ("receive_message_wait_time_seconds", "integer"),
    "ContentBasedDeduplication": ("content_based_deduplication", "boolean"),
    "DeduplicationScope": ("deduplication_scope", "string"),
    "FifoThroughputLimit": ("fifo_throughput_limit", "string"),
    "KmsMasterKeyId": ("kms_master_key_id", "string"),
    "KmsDataKeyReusePeriodSeconds": ("kms_data_key_reuse_period_seconds", "integer"),
    "SqsManagedSseEnabled": ("sqs_managed_sse_enabled", "boolean"),
}
_SECTION = {
    names.QUEUE: "queues",
    names.TOPIC: "topics",
    "AWS::DynamoDB::Table": "tables",
    "AWS::Serverless::SimpleTable": "tables",
    names.BUCKET: "buckets",
    names.BUS: "buses",
}


def resources(builder: Builder) -> dict[str, dict[str, Any]]:
    """The template's resources whose condition holds, by logical id."""
    found = {}
    for logical_id, resource in builder.resolver.resources.items():
        if not isinstance(resource, dict) or "Type" not in resource:
            builder.problem(("Resources", logical_id), "a resource is a mapping with a Type")
            continue
        try:
            included = builder.resolver.included(logical_id)
        except Unresolved as exc:
            builder.problem(exc.path, exc.message)
            continue
        if included:
            found[logical_id] = resource
    return found


def eventsim_metadata(
    builder: Builder, logical_id: str, resource: dict[str, Any]
) -> dict[str, Any]:
    """``Metadata: {eventsim: {...}}`` of a resource: the name and (buckets) folder eventsim
    gives it; ``eventsim export sam`` writes it so that ``eventsim import`` finds them."""
    metadata = resource.get("Metadata")
    settings = metadata.get("eventsim") if isinstance(metadata, dict) else None
    at: KeyPath = ("Resources", logical_id, "Metadata", "eventsim")
    if settings is None:
        return {}
    if not isinstance(settings, dict) or set(settings) - {"name", "path"}:
        builder.problem(at, "expected {name: NAME} (and path: FOLDER for a bucket)")
        return {}
    return settings


def name_resources(builder: Builder, found: dict[str, dict[str, Any]]) -> None:
    """Decide the name of every simulated resource and make its (empty) config entry."""
    for logical_id, resource in found.items():
        settings = eventsim_metadata(builder, logical_id, resource)
        if isinstance(settings.get("name"), str):
            builder.resolver.named[logical_id] = settings["name"]
    for logical_id, resource in found.items():
        section = _SECTION.get(resource["Type"])
        if section is None:
            continue
        at: KeyPath = ("Resources", logical_id)
        try:
            name = builder.resolver.physical(logical_id)
        except Unresolved as exc:
            builder.problem(exc.path, exc.message)
            continue
        if section == "buses" and name == "default":
            builder.problem((*at, "Properties", "Name"), "the default bus exists already")
            continue
        builder.entry(section, name, at, logical_id)
        builder.named[logical_id] = (section, name)


def map_resources(builder: Builder, found: dict[str, dict[str, Any]]) -> None:
    """Fill the config entries of queues, tables, buckets and topics from their properties."""
    for logical_id, resource in found.items():
        type_ = resource["Type"]
        if logical_id not in builder.named:
            continue
        section, name = builder.named[logical_id]
        at: KeyPath = ("Resources", logical_id, "Properties")
        properties = resource.get("Properties") or {}
        if not isinstance(properties, dict):
            builder.problem(at, "expected a mapping of properties")
            continue
        entry = builder.data[section][name]
        config_path: KeyPath = (section, name)
        handled = {
            "queues": _queue,
            "tables": _table if type_ == "AWS::DynamoDB::Table" else _simple_table,
            "buckets": _bucket,
            "topics": _topic,
            "buses": _bus,
        }[section](builder, entry, config_path, properties, at, logical_id)
        for key in properties:
            if key not in handled and key not in QUIET.get(type_, ()):
                builder.notice((*at, key), f"{key}: not simulated by eventsim")


def _queue(
    builder: Builder,
    entry: dict[str, Any],
    config_path: KeyPath,
    properties: dict[str, Any],
    at: KeyPath,
    logical_id: str,
) -> set[str]:
    for key, (option, kind) in _QUEUE_ATTRIBUTES.items():
        value = getattr(builder, kind)(builder.get(properties, key, at), (*at, key))
        builder.put(entry, config_path, option, value, (*at, key))
    redrive = builder.mapping(builder.get(properties, "RedrivePolicy", at),
                              (*at, "RedrivePolicy"))  # fmt: skip
    redrive = builder.json_value(redrive, (*at, "RedrivePolicy")) if redrive else redrive
    if redrive:
        where: KeyPath = (*at, "RedrivePolicy")
        target = builder.queue_named(redrive.get("deadLetterTargetArn"), where)
        count = builder.integer(redrive.get("maxReceiveCount", MISSING), where)
        if target is not None:
            spec: dict[str, Any] = {"dead_letter_queue": target}
            if count is not MISSING:
                spec["max_receive_count"] = count
            builder.put(entry, config_path, "redrive", spec, where)
    allow = builder.get(properties, "RedriveAllowPolicy", at)
    if allow is not MISSING:
        text = allow if isinstance(allow, str) else _json_text(allow)
        builder.put(entry, config_path, "redrive_allow_policy", text, (*at, "RedriveAllowPolicy"))
    tags = _tags(builder, builder.get(properties, "Tags", at), (*at, "Tags"))
    builder.put(entry, config_path, "tags", tags, (*at, "Tags"))
    return {*_QUEUE_ATTRIBUTES, "RedrivePolicy", "RedriveAllowPolicy"}


def _table(
    builder: Builder,
    entry: dict[str, Any],
    config_path: KeyPath,
    properties: dict[str, Any],
    at: KeyPath,
    logical_id: str,
) -> set[str]:
    types: dict[str, str] = {}
    for index, definition in enumerate(builder.get(properties, "AttributeDefinitions", at) or []):
        if isinstance(definition, dict):
            types[str(definition.get("AttributeName"))] = str(definition.get("AttributeType"))
        else:
            builder.problem((*at, "AttributeDefinitions", index), "expected a mapping")
    schema = builder.get(properties, "KeySchema", at)
    _keys(builder, entry, config_path, schema, types, (*at, "KeySchema"))
    stream = builder.mapping(builder.get(properties, "StreamSpecification", at),
                             (*at, "StreamSpecification"))  # fmt: skip
    view = stream.get("StreamViewType", MISSING)
    builder.put(entry, config_path, "stream", view, (*at, "StreamSpecification"))
    for key, option in (("GlobalSecondaryIndexes", "global_indexes"),
                        ("LocalSecondaryIndexes", "local_indexes")):  # fmt: skip
        indexes = {}
        for index, spec in enumerate(builder.get(properties, key, at) or []):
            where: KeyPath = (*at, key, index)
            if not isinstance(spec, dict) or "IndexName" not in spec:
                builder.problem(where, "expected a mapping with IndexName and KeySchema")
                continue
            config: dict[str, Any] = {}
            _keys(builder, config, (*config_path, option, spec["IndexName"]),
                  spec.get("KeySchema"), types, (*where, "KeySchema"))  # fmt: skip
            if key == "LocalSecondaryIndexes":
                config.pop("partition_key", None)
                config.pop("partition_key_type", None)
            projection = builder.mapping(spec.get("Projection"), (*where, "Projection"))
            if "ProjectionType" in projection:
                config["projection"] = projection["ProjectionType"]
            if projection.get("NonKeyAttributes"):
                config["non_key_attributes"] = projection["NonKeyAttributes"]
            indexes[str(spec["IndexName"])] = config
            builder.origins[(*config_path, option, str(spec["IndexName"]))] = where
        builder.put(entry, config_path, option, indexes or MISSING, (*at, key))
    ttl = builder.mapping(builder.get(properties, "TimeToLiveSpecification", at),
                          (*at, "TimeToLiveSpecification"))  # fmt: skip
    if builder.boolean(ttl.get("Enabled", False), (*at, "TimeToLiveSpecification")) is True:
        builder.put(entry, config_path, "ttl", ttl.get("AttributeName", MISSING),
                    (*at, "TimeToLiveSpecification"))  # fmt: skip
    if "ProvisionedThroughput" in properties:
        builder.notice((*at, "ProvisionedThroughput"),
                       "ProvisionedThroughput: eventsim does not throttle tables")  # fmt: skip
    return {
        "AttributeDefinitions",
        "KeySchema",
        "StreamSpecification",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "TimeToLiveSpecification",
        "ProvisionedThroughput",
    }


def _keys(builder: Builder, entry: dict[str, Any], config_path: KeyPath, schema: Any,
          types: dict[str, str], at: KeyPath) -> None:  # fmt: skip
    """``KeySchema`` (with the types from ``AttributeDefinitions``) as eventsim's keys."""
    if not isinstance(schema, list):
        if schema is not MISSING:
            builder.problem(at, "expected a list of {AttributeName, KeyType}")
        return
    for index, key in enumerate(schema):
        if not isinstance(key, dict) or key.get("KeyType") not in ("HASH", "RANGE"):
            builder.problem((*at, index), "expected {AttributeName: NAME, KeyType: HASH|RANGE}")
            continue
        name = str(key.get("AttributeName"))
        role = "partition_key" if key["KeyType"] == "HASH" else "sort_key"
        builder.put(entry, config_path, role, name, (*at, index))
        if name not in types:
            builder.problem((*at, index), f"{name} is not in AttributeDefinitions")
        elif types[name] != "S":
            builder.put(entry, config_path, f"{role}_type", types[name], (*at, index))


def _simple_table(
    builder: Builder,
    entry: dict[str, Any],
    config_path: KeyPath,
    properties: dict[str, Any],
    at: KeyPath,
    logical_id: str,
) -> set[str]:
    key = builder.mapping(builder.get(properties, "PrimaryKey", at), (*at, "PrimaryKey"))
    where: KeyPath = (*at, "PrimaryKey") if key else ("Resources", logical_id)
    builder.put(entry, config_path, "partition_key", str(key.get("Name", "id")), where)
    kind = _KEY_TYPES.get(str(key.get("Type", "String")))
    if kind is None:
        builder.problem(where, "PrimaryKey.Type is String, Number or Binary")
    elif kind != "S":
        builder.put(entry, config_path, "partition_key_type", kind, where)
    if "ProvisionedThroughput" in properties:
        builder.notice((*at, "ProvisionedThroughput"),
                       "ProvisionedThroughput: eventsim does not throttle tables")  # fmt: skip
    return {"PrimaryKey", "ProvisionedThroughput"}


def _bucket(
    builder: Builder,
    entry: dict[str, Any],
    config_path: KeyPath,
    properties: dict[str, Any],
    at: KeyPath,
    logical_id: str,
) -> set[str]:
    resource = builder.resolver.resources[logical_id]
    settings = eventsim_metadata(builder, logical_id, resource)
    folder = settings.get("path", f"data/{logical_id}")
    where: KeyPath = ("Resources", logical_id, "Metadata", "eventsim", "path")
    builder.put(entry, config_path, "path", str(builder.template.folder / Path(str(folder))),
                where if "path" in settings else ("Resources", logical_id))  # fmt: skip
    notifications = builder.mapping(builder.get(properties, "NotificationConfiguration", at),
                                    (*at, "NotificationConfiguration"))  # fmt: skip
    eventbridge = builder.mapping(notifications.get("EventBridgeConfiguration"), at)
    enabled = builder.boolean(eventbridge.get("EventBridgeEnabled", MISSING), at)
    builder.put(entry, config_path, "eventbridge", enabled or MISSING,
                (*at, "NotificationConfiguration", "EventBridgeConfiguration"))  # fmt: skip
    for key in ("QueueConfigurations", "TopicConfigurations"):
        if key in notifications:
            builder.notice(
                (*at, "NotificationConfiguration", key),
                f"{key}: eventsim's buckets notify functions (and EventBridge) only",
            )
    return {"NotificationConfiguration"}


def _topic(
    builder: Builder,
    entry: dict[str, Any],
    config_path: KeyPath,
    properties: dict[str, Any],
    at: KeyPath,
    logical_id: str,
) -> set[str]:
    value = builder.boolean(builder.get(properties, "ContentBasedDeduplication", at),
                            (*at, "ContentBasedDeduplication"))  # fmt: skip
    builder.put(entry, config_path, "content_based_deduplication", value,
                (*at, "ContentBasedDeduplication"))  # fmt: skip
    display = builder.string(builder.get(properties, "DisplayName", at), (*at, "DisplayName"))
    builder.put(entry, config_path, "display_name", display, (*at, "DisplayName"))
    tags = _tags(builder, builder.get(properties, "Tags", at), (*at, "Tags"))
    builder.put(entry, config_path, "tags", tags, (*at, "Tags"))
    return {"ContentBasedDeduplication", "DisplayName", "Subscription"}


def _bus(
    builder: Builder,
    entry: dict[str, Any],
    config_path: KeyPath,
    properties: dict[str, Any],
    at: KeyPath,
    logical_id: str,
) -> set[str]:
    return set()


def _tags(builder: Builder, value: Any, at: KeyPath) -> Any:
    """CloudFormation's ``[{Key, Value}]`` as a mapping."""
    if value is MISSING:
        return MISSING
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    tags = {}
    for index, tag in enumerate(value if isinstance(value, list) else []):
        if isinstance(tag, dict) and "Key" in tag:
            tags[str(tag["Key"])] = str(tag.get("Value", ""))
        else:
            builder.problem((*at, index), "expected {Key: ..., Value: ...}")
    return tags or MISSING


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def s3_filter(builder: Builder, value: Any, at: KeyPath) -> dict[str, str]:
    """``Filter: {S3Key: {Rules: [{Name: prefix|suffix, Value}]}}`` as prefix and suffix."""
    rules = builder.mapping(builder.mapping(value, at).get("S3Key"), at).get("Rules", [])
    found: dict[str, str] = {}
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        name = str(rule.get("Name", "")).lower() if isinstance(rule, dict) else ""
        if name not in ("prefix", "suffix"):
            builder.problem((*at, "S3Key", "Rules", index), "a rule is {Name: prefix|suffix, "
                            "Value: ...}")  # fmt: skip
            continue
        found[name] = str(rule.get("Value", ""))
    return found


def s3_events(builder: Builder, value: Any, at: KeyPath) -> list[str]:
    """The S3 event types eventsim's buckets announce (objects created and removed; the s3
    trigger checks the names); the others (restores, tagging, replication...) are noticed."""
    given = value if isinstance(value, list) else [value]
    known = [str(e) for e in given if str(e).startswith(_ANNOUNCED)]
    for event in given:
        if not str(event).startswith(_ANNOUNCED):
            builder.notice(at, f"S3 event type {event}: eventsim's buckets announce objects "
                           "created and removed only")  # fmt: skip
    return known
