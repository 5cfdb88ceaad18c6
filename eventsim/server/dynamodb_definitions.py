"""The parts of a table's definition that CreateTable and UpdateTable take, read from the
request and refused in DynamoDB's words and order: AttributeDefinitions, a KeySchema, an
index's Projection, a global index, ProvisionedThroughput and BillingMode, a
StreamSpecification, Tags; and the ``TableConfig`` they make. The operations are
``dynamodb_control``'s.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..config import GlobalIndexConfig, TableConfig
from .dynamodb_protocol import invalid
from .protocol import optional, require

INVALID = "One or more parameter values were invalid"
_VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
_PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
MAX_TAGS = 50


def table_config(**fields: Any) -> TableConfig:
    try:
        return TableConfig.model_validate(fields)
    except ValidationError as exc:
        problem = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise invalid(f"{INVALID}: {problem}") from None


def read_attribute_definitions(body: dict[str, Any]) -> dict[str, str]:
    definitions: dict[str, str] = {}
    for definition in require(body, "AttributeDefinitions", list):
        if not isinstance(definition, dict):
            raise invalid(f"{INVALID}: an AttributeDefinition is an object")
        name = require(definition, "AttributeName")
        kind = require(definition, "AttributeType")
        if kind not in ("S", "N", "B"):
            raise invalid(
                f"1 validation error detected: Value '{kind}' at 'attributeDefinitions.member."
                "attributeType' failed to satisfy constraint: Member must satisfy enum value "
                "set: [B, N, S]"
            )
        if name in definitions:
            raise invalid(f"{INVALID}: Cannot have two attributes with the same name")
        definitions[name] = kind
    return definitions


def read_key_schema(
    schema: list[Any], definitions: dict[str, str], what: str, at: str = ""
) -> tuple[tuple[str, str], tuple[str, str] | None]:
    """A KeySchema's partition and sort key (name, type); ``at`` is where it is in the request
    (``globalSecondaryIndexes.1.member.``), as DynamoDB names it in its refusals."""
    if not 1 <= len(schema) <= 2:
        raise invalid(
            f"1 validation error detected: Value at '{at}keySchema' failed to satisfy "
            "constraint: Member must have length less than or equal to 2"
            if schema
            else f"1 validation error detected: Value at '{at}keySchema' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    elements = []
    for n, element in enumerate(schema, 1):
        if not isinstance(element, dict):
            raise invalid(f"{INVALID}: a KeySchemaElement is an object")
        name = require(element, "AttributeName")
        kind = require(element, "KeyType")
        if kind not in ("HASH", "RANGE"):
            raise invalid(
                f"1 validation error detected: Value '{kind}' at "
                f"'{at}keySchema.{n}.member.keyType' failed to satisfy constraint: Member must "
                "satisfy enum value set: [HASH, RANGE]"
            )
        elements.append((name, kind))
    # In DynamoDB's order: the request's constraints (above), then definitions, then kinds.
    if what == "table" and len(elements) > len(definitions):
        raise invalid("Invalid KeySchema: Some index key attribute have no definition")
    missing = [name for name, _ in elements if name not in definitions]
    if missing:
        raise invalid(
            f"{INVALID}: Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(missing)}], AttributeDefinitions: [{', '.join(definitions)}]"
        )
    if len(elements) == 2 and elements[0][0] == elements[1][0]:
        raise invalid(f"{INVALID}: Both the Hash Key and the Range Key element in the "
                      f"KeySchema have the same name")  # fmt: skip
    if elements[0][1] != "HASH":
        raise invalid("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(elements) == 2 and elements[1][1] != "RANGE":
        raise invalid("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
    for name, _ in elements:
        if '"' in name or "\\" in name:
            raise invalid(f"{INVALID}: eventsim cannot store a key attribute named {name!r} "
                          f"(quotes and backslashes break its table files) in {what}")  # fmt: skip
    partition = (elements[0][0], definitions[elements[0][0]])
    sort = (elements[1][0], definitions[elements[1][0]]) if len(elements) == 2 else None
    return partition, sort


def read_projection(index: dict[str, Any]) -> tuple[str, list[str]]:
    projection = require(index, "Projection", dict)
    kind = optional(projection, "ProjectionType", str, "ALL")
    if kind not in _PROJECTIONS:
        raise invalid(
            f"1 validation error detected: Value '{kind}' at 'projection.projectionType' failed "
            "to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]"
        )
    include = optional(projection, "NonKeyAttributes", list, [])
    if kind == "INCLUDE" and not include:
        raise invalid(f"{INVALID}: NonKeyAttributes must be specified when ProjectionType is "
                      "INCLUDE")  # fmt: skip
    if kind != "INCLUDE" and include:
        raise invalid(f"{INVALID}: ProjectionType is {kind}, but NonKeyAttributes is "
                      "specified")  # fmt: skip
    return kind, include


def read_global_index(
    index: Any, definitions: dict[str, str], billing: str, at: str = ""
) -> tuple[str, GlobalIndexConfig]:
    if not isinstance(index, dict):
        raise invalid(f"{INVALID}: an index is an object")
    name = require(index, "IndexName")
    schema = require(index, "KeySchema", list)
    partition, sort = read_key_schema(schema, definitions, f"index {name}", at)
    projection, include = read_projection(index)
    if billing == "PROVISIONED" and index.get("ProvisionedThroughput") is None:
        raise invalid(f"{INVALID}: ProvisionedThroughput must be specified for index: {name}")
    if billing == "PAY_PER_REQUEST" and index.get("ProvisionedThroughput") is not None:
        raise invalid(f"{INVALID}: ProvisionedThroughput should not be specified for index: "
                      f"{name} when BillingMode is PAY_PER_REQUEST")  # fmt: skip
    try:
        config = GlobalIndexConfig.model_validate({
            "partition_key": partition[0], "partition_key_type": partition[1],
            "sort_key": sort[0] if sort else None, "sort_key_type": sort[1] if sort else "S",
            "projection": projection, "non_key_attributes": include,
        })  # fmt: skip
    except ValidationError as exc:
        raise invalid(f"{INVALID}: index {name}: {exc.errors()[0]['msg']}") from None
    return name, config


def read_throughput(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise invalid(f"{INVALID}: ProvisionedThroughput is an object")
    read = require(value, "ReadCapacityUnits", int)
    write = require(value, "WriteCapacityUnits", int)
    for field, units in (("readCapacityUnits", read), ("writeCapacityUnits", write)):
        if units < 1:
            raise invalid(
                f"1 validation error detected: Value '{units}' at 'provisionedThroughput."
                f"{field}' failed to satisfy constraint: Member must have value greater than or "
                "equal to 1"
            )
    return {"ReadCapacityUnits": read, "WriteCapacityUnits": write}


def read_billing(body: dict[str, Any], mode: str, *, partial: bool = False) -> dict[str, Any]:
    if mode not in ("PROVISIONED", "PAY_PER_REQUEST"):
        raise invalid(
            f"1 validation error detected: Value '{mode}' at 'billingMode' failed to satisfy "
            "constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]"
        )
    given = body.get("ProvisionedThroughput")
    if mode == "PROVISIONED":
        if given is None:
            if partial:
                return {}
            raise invalid(f"{INVALID}: ReadCapacityUnits and WriteCapacityUnits must both be "
                          "specified when BillingMode is PROVISIONED")  # fmt: skip
        return {"BillingMode": mode, "ProvisionedThroughput": read_throughput(given)}
    if given is not None:
        raise invalid(f"{INVALID}: Neither ReadCapacityUnits nor WriteCapacityUnits can be "
                      "specified when BillingMode is PAY_PER_REQUEST")  # fmt: skip
    return {"BillingMode": mode, "ProvisionedThroughput": {"ReadCapacityUnits": 0,
                                                           "WriteCapacityUnits": 0}}  # fmt: skip


def read_stream(spec: Any, *, current: str | None, table: str = "") -> str | None:
    """The stream view type a StreamSpecification asks for (None: no stream)."""
    if spec is None:
        return current
    if not isinstance(spec, dict):
        raise invalid(f"{INVALID}: StreamSpecification is an object")
    enabled = require(spec, "StreamEnabled", bool)
    view = optional(spec, "StreamViewType", str)
    if view is not None and view not in _VIEW_TYPES:
        raise invalid(
            f"1 validation error detected: Value '{view}' at 'streamSpecification."
            "streamViewType' failed to satisfy constraint: Member must satisfy enum value set: "
            "[NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]"
        )
    if not enabled:
        if view is not None:
            raise invalid(f"{INVALID}: StreamViewType cannot be specified when "
                          "StreamEnabled is false")  # fmt: skip
        if table and current is None:
            raise invalid(f"Table does not have an enabled stream: TableName: {table}")
        return None
    if view is None:
        raise invalid(f"{INVALID}: StreamViewType is required when StreamEnabled is true")
    if table and current is not None:
        raise invalid(f"Table already has an enabled stream: TableName: {table}")
    return str(view)


def read_tags(given: list[Any]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in given:
        if not isinstance(tag, dict):
            raise invalid(f"{INVALID}: a Tag is an object with Key and Value")
        key = require(tag, "Key")
        value = require(tag, "Value")
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise invalid(f"{INVALID}: a tag key is 1-128 characters, its value up to 256")
        tags[key] = value
    if len(tags) > MAX_TAGS:
        raise invalid("The number of tags exceeds the limit of 50 tags per resource")
    return tags
