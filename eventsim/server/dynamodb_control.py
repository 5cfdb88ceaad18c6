"""DynamoDB's control plane on the edge: CreateTable, UpdateTable, DeleteTable, DescribeTable,
ListTables, UpdateTimeToLive, DescribeTimeToLive, TagResource, UntagResource,
ListTagsOfResource — over the simulator's ``TableRegistry``.

A table made here lasts across restarts (its definition is kept in its file). Its status is
``ACTIVE`` at once (and ``DELETING`` in DeleteTable's answer), so waiters return at their
first poll. Capacity settings are kept and described, never enforced.

Example (boto3)::

    ddb.create_table(TableName="audit", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pydantic import ValidationError

from ..config import GlobalIndexConfig, LocalIndexConfig, TableConfig
from ..errors import ApiError
from ..resources.table import Index, Table
from ..resources.tables import TableRegistry
from .protocol import optional, require

NOT_FOUND = "Requested resource not found"
_INVALID = "One or more parameter values were invalid"
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
_TABLE_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:([a-z0-9-]+):(\d{12}):table/([a-zA-Z0-9_.-]+)")
_VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
_PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
MAX_TAGS = 50


def invalid(message: str) -> ApiError:
    return ApiError("ValidationException", message)


def check_table_name(name: str, field: str = "TableName") -> None:
    """DynamoDB's constraints on a table name, with its words."""
    where = field[0].lower() + field[1:]
    if len(name) < 3 or len(name) > 255:
        bound = "greater than or equal to 3" if len(name) < 3 else "less than or equal to 255"
        raise invalid(
            f"1 validation error detected: Value '{name}' at '{where}' failed to satisfy "
            f"constraint: Member must have length {bound}"
        )
    if not _TABLE_NAME.fullmatch(name):
        raise invalid(
            f"1 validation error detected: Value '{name}' at '{where}' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )


class TableControl:
    """The control-plane operations, each taking a request body and giving the answer."""

    def __init__(self, tables: TableRegistry) -> None:
        self.tables = tables

    # --- naming ---------------------------------------------------------------------------

    def name(self, body: dict[str, Any], key: str = "TableName") -> str:
        """A table's name from ``body[key]``: a name, or a table ARN of this region and
        account (an ARN of another names no table here)."""
        given = require(body, key)
        arn = _TABLE_ARN.fullmatch(given)
        if arn is not None:
            region, account, name = arn.groups()
            here = (region, account) == (self.tables.region, self.tables.account)
            return name if here else given
        check_table_name(given, key)
        return str(given)

    def find(self, body: dict[str, Any], key: str = "TableName", *, long: bool = False) -> Table:
        """The table ``body[key]`` names; ``long``: the not-found message names it (as the
        control plane's do)."""
        name = self.name(body, key)
        table = self.tables.get(name)
        if table is None:
            message = f"{NOT_FOUND}: Table: {name} not found" if long else NOT_FOUND
            raise ApiError("ResourceNotFoundException", message)
        return table

    def by_arn(self, body: dict[str, Any]) -> Table:
        arn = require(body, "ResourceArn")
        match = _TABLE_ARN.fullmatch(arn)
        table = self.tables.get(match.group(3)) if match else None
        if table is None or table.arn != arn:
            raise ApiError("ResourceNotFoundException", f"{NOT_FOUND}: ResourceArn: {arn}")
        return table

    # --- tables ---------------------------------------------------------------------------

    async def create_table(self, body: dict[str, Any]) -> dict[str, Any]:
        name = self.name(body)
        definitions = _attribute_definitions(body)
        partition, sort = _key_schema(require(body, "KeySchema", list), definitions, "table")
        billing = optional(body, "BillingMode", str, "PROVISIONED")
        settings = _billing(body, billing)
        for kind in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
            if optional(body, kind, list) == []:
                raise invalid(f"{_INVALID}: List of {kind} is empty")
        globals_: dict[str, GlobalIndexConfig] = {}
        for n, index in enumerate(optional(body, "GlobalSecondaryIndexes", list, []), 1):
            at = f"globalSecondaryIndexes.{n}.member."
            index_name, global_index = _global_index(index, definitions, billing, at)
            if index_name in globals_:
                raise invalid(f"{_INVALID}: Duplicate index name: {index_name}")
            globals_[index_name] = global_index
            if "ProvisionedThroughput" in index:
                settings.setdefault("IndexThroughput", {})[index_name] = _throughput(
                    index["ProvisionedThroughput"]
                )
        locals_: dict[str, LocalIndexConfig] = {}
        for n, index in enumerate(optional(body, "LocalSecondaryIndexes", list, []), 1):
            if not isinstance(index, dict):
                raise invalid(f"{_INVALID}: an index is an object")
            index_name = require(index, "IndexName")
            index_partition, index_sort = _key_schema(
                require(index, "KeySchema", list), definitions, f"index {index_name}",
                f"localSecondaryIndexes.{n}.member.",
            )  # fmt: skip
            if index_partition[0] != partition[0]:
                raise invalid(
                    f"{_INVALID}: Index KeySchema does not have the same leading hash key as "
                    f"table KeySchema for index: {index_name}. index hash key: "
                    f"{index_partition[0]}, table hash key: {partition[0]}"
                )
            if index_sort is None:
                raise invalid(f"{_INVALID}: Index KeySchema of a local index needs a RANGE key: "
                              f"{index_name}")  # fmt: skip
            if index_name in locals_ or index_name in globals_:
                raise invalid(f"{_INVALID}: Duplicate index name: {index_name}")
            projection, include = _projection(index)
            locals_[index_name] = LocalIndexConfig(
                sort_key=index_sort[0], sort_key_type=index_sort[1],  # type: ignore[arg-type]
                projection=projection, non_key_attributes=include,  # type: ignore[arg-type]
            )  # fmt: skip
        if locals_ and sort is None:
            raise invalid(f"{_INVALID}: Table KeySchema does not have a range key, which is "
                          "required when specifying a LocalSecondaryIndex")  # fmt: skip
        used = {partition[0], *([sort[0]] if sort else [])}
        for g in globals_.values():
            used |= {g.partition_key, *([g.sort_key] if g.sort_key else [])}
        used |= {i.sort_key for i in locals_.values()}
        if set(definitions) != used and (globals_ or locals_):
            raise invalid(
                f"{_INVALID}: Some AttributeDefinitions are not used. AttributeDefinitions: "
                f"[{', '.join(sorted(definitions))}], keys used: [{', '.join(sorted(used))}]"
            )
        if set(definitions) != used:
            raise invalid(
                f"{_INVALID}: Number of attributes in KeySchema does not exactly match number of "
                "attributes defined in AttributeDefinitions"
            )
        stream = _stream(body.get("StreamSpecification"), current=None)
        tags = _tags(optional(body, "Tags", list, []))
        if optional(body, "DeletionProtectionEnabled", bool, False):
            settings["DeletionProtectionEnabled"] = True
        table_class = optional(body, "TableClass", str)
        if table_class is not None:
            settings["TableClass"] = table_class
        settings["TableId"] = str(uuid.uuid4())
        config = _table_config(
            partition_key=partition[0], partition_key_type=partition[1],
            sort_key=sort[0] if sort else None, sort_key_type=sort[1] if sort else "S",
            stream=stream, global_indexes=globals_, local_indexes=locals_,
        )  # fmt: skip
        table = self.tables.create(name, config, tags=tags, settings=settings)
        return {"TableDescription": describe(table)}

    async def delete_table(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self.find(body, long=True)
        if table.settings.get("DeletionProtectionEnabled"):
            raise invalid(
                "Resource cannot be deleted as it is currently protected against deletion. "
                "Disable deletion protection first."
            )
        description = describe(table)
        self.tables.delete(table.name)
        description["TableStatus"] = "DELETING"
        return {"TableDescription": description}

    async def describe_table(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"Table": describe(self.find(body, long=True))}

    async def list_tables(self, body: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self.tables)
        start = optional(body, "ExclusiveStartTableName")
        if start:
            names = [n for n in names if n > start]
        limit = optional(body, "Limit", int, 100)
        if not 1 <= limit <= 100:
            bound = "greater than or equal to 1" if limit < 1 else "less than or equal to 100"
            raise invalid(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                f"constraint: Member must have value {bound}"
            )
        result: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            result["LastEvaluatedTableName"] = names[limit - 1]
        return result

    async def update_table(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self.find(body, long=True)
        config = table.config
        settings = dict(table.settings)
        changes: dict[str, Any] = {}
        billing = optional(body, "BillingMode", str)
        if billing is not None or "ProvisionedThroughput" in body:
            mode = billing or settings.get("BillingMode", "PROVISIONED")
            settings.update(_billing(body, mode, partial=billing is None))
        if "DeletionProtectionEnabled" in body:
            settings["DeletionProtectionEnabled"] = optional(
                body, "DeletionProtectionEnabled", bool, False
            )
        if "TableClass" in body:
            settings["TableClass"] = optional(body, "TableClass", str)
        if body.get("StreamSpecification") is not None:
            changes["stream"] = _stream(body["StreamSpecification"], current=config.stream,
                                        table=table.name)  # fmt: skip
        updates = optional(body, "GlobalSecondaryIndexUpdates", list, [])
        if updates:
            definitions = {
                **_known_types(config),
                **(_attribute_definitions(body) if body.get("AttributeDefinitions") else {}),
            }
            indexes = dict(config.global_indexes)
            for update in updates:
                if not isinstance(update, dict) or len(update) != 1:
                    raise invalid(f"{_INVALID}: each GlobalSecondaryIndexUpdate is one of "
                                  "Create, Update or Delete")  # fmt: skip
                [(action, index)] = update.items()
                if not isinstance(index, dict):
                    raise invalid(f"{_INVALID}: {action} is an object")
                index_name = require(index, "IndexName")
                if action == "Create":
                    if index_name in indexes or index_name in config.local_indexes:
                        raise invalid(f"{_INVALID}: Index already exists: {index_name}")
                    mode = settings.get("BillingMode", "PAY_PER_REQUEST")
                    _, indexes[index_name] = _global_index(index, definitions, mode)
                elif action == "Delete":
                    if indexes.pop(index_name, None) is None:
                        raise ApiError("ResourceNotFoundException",
                                       f"{NOT_FOUND}: Index: {index_name} not found")  # fmt: skip
                elif action == "Update":
                    if index_name not in indexes:
                        raise ApiError("ResourceNotFoundException",
                                       f"{NOT_FOUND}: Index: {index_name} not found")  # fmt: skip
                    if "ProvisionedThroughput" in index:
                        settings.setdefault("IndexThroughput", {})[index_name] = _throughput(
                            index["ProvisionedThroughput"]
                        )
                else:
                    raise invalid(f"{_INVALID}: unknown GlobalSecondaryIndexUpdate {action}")
            changes["global_indexes"] = indexes
        if not changes and settings == table.settings:
            raise invalid(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
            )
        if changes:
            self.tables.redefine(table, _table_config(**{**config.model_dump(), **changes}))
        table.settings = settings
        table.save()
        return {"TableDescription": describe(table)}

    # --- TTL ------------------------------------------------------------------------------

    async def update_time_to_live(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self.find(body, long=True)
        spec = require(body, "TimeToLiveSpecification", dict)
        enabled = require(spec, "Enabled", bool)
        attribute = require(spec, "AttributeName")
        if not attribute or len(attribute) > 255 or '"' in attribute or "\\" in attribute:
            raise invalid(f"{_INVALID}: TimeToLiveSpecification.AttributeName {attribute!r}")
        current = table.config.ttl
        if enabled and current is not None:
            raise invalid("TimeToLive is already enabled")
        if not enabled:
            if current is None:
                raise invalid("TimeToLive is already disabled")
            if current != attribute:
                raise invalid(
                    f"TimeToLive is active on a different AttributeName: current AttributeName "
                    f"is {current}"
                )
        self.tables.redefine(table, table.config.model_copy(
            update={"ttl": attribute if enabled else None}))  # fmt: skip
        return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": attribute}}

    async def describe_time_to_live(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self.find(body, long=True)
        if table.config.ttl is None:
            return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED",
                                          "AttributeName": table.config.ttl}}  # fmt: skip

    # --- tags -----------------------------------------------------------------------------

    async def tag_resource(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self.by_arn(body)
        tags = {**table.tags, **_tags(require(body, "Tags", list))}
        if len(tags) > MAX_TAGS:
            raise invalid("The number of tags exceeds the limit of 50 tags per resource")
        table.tags = tags
        table.save()
        return {}

    async def untag_resource(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self.by_arn(body)
        keys = require(body, "TagKeys", list)
        if not all(isinstance(k, str) for k in keys):
            raise invalid(f"{_INVALID}: TagKeys are strings")
        table.tags = {k: v for k, v in table.tags.items() if k not in keys}
        table.save()
        return {}

    async def list_tags_of_resource(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self.by_arn(body)
        return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(table.tags.items())]}


def describe(table: Table) -> dict[str, Any]:
    """DescribeTable's TableDescription."""
    c = table.config
    settings = table.settings
    keys = [(c.partition_key, c.partition_key_type, "HASH")]
    if c.sort_key is not None:
        keys.append((c.sort_key, c.sort_key_type, "RANGE"))
    count = len(table)
    size = table.store.size()
    billing = settings.get("BillingMode", "PAY_PER_REQUEST")
    description: dict[str, Any] = {
        "TableName": table.name,
        "TableStatus": "ACTIVE",
        "TableArn": table.arn,
        "TableId": settings.get("TableId", str(uuid.uuid5(uuid.NAMESPACE_URL, table.arn))),
        "KeySchema": [{"AttributeName": n, "KeyType": k} for n, _, k in keys],
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in sorted(_known_types(c).items())
        ],
        "ItemCount": count,
        "TableSizeBytes": size,
        "CreationDateTime": table.created,
        "BillingModeSummary": {"BillingMode": billing},
        "ProvisionedThroughput": {
            "NumberOfDecreasesToday": 0,
            **settings.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
            ),
        },  # fmt: skip
        "DeletionProtectionEnabled": bool(settings.get("DeletionProtectionEnabled", False)),
    }
    if settings.get("TableClass"):
        description["TableClassSummary"] = {"TableClass": settings["TableClass"]}
    if c.stream is not None:
        description["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": c.stream}
        description["LatestStreamArn"] = table.stream_arn
        description["LatestStreamLabel"] = table.stream_arn.rsplit("/", 1)[-1]
    globals_ = [_describe_index(table, i) for i in table.indexes.values() if not i.local]
    locals_ = [_describe_index(table, i) for i in table.indexes.values() if i.local]
    if globals_:
        description["GlobalSecondaryIndexes"] = globals_
    if locals_:
        description["LocalSecondaryIndexes"] = locals_
    return description


def _describe_index(table: Table, index: Index) -> dict[str, Any]:
    keys = [{"AttributeName": index.partition[0], "KeyType": "HASH"}]
    if index.sort is not None:
        keys.append({"AttributeName": index.sort[0], "KeyType": "RANGE"})
    projection: dict[str, Any] = {"ProjectionType": index.projection}
    if index.include:
        projection["NonKeyAttributes"] = sorted(index.include)
    out: dict[str, Any] = {
        "IndexName": index.name,
        "KeySchema": keys,
        "Projection": projection,
        "IndexSizeBytes": 0,
        "ItemCount": table.store.count_index(index.access),
        "IndexArn": f"{table.arn}/index/{index.name}",
    }
    if not index.local:
        throughput = table.settings.get("IndexThroughput", {}).get(
            index.name, {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
        )
        out["IndexStatus"] = "ACTIVE"
        out["ProvisionedThroughput"] = {"NumberOfDecreasesToday": 0, **throughput}
    return out


def _known_types(config: TableConfig) -> dict[str, str]:
    types: dict[str, str] = {config.partition_key: config.partition_key_type}
    if config.sort_key:
        types[config.sort_key] = config.sort_key_type
    for g in config.global_indexes.values():
        types[g.partition_key] = g.partition_key_type
        if g.sort_key:
            types[g.sort_key] = g.sort_key_type
    for i in config.local_indexes.values():
        types[i.sort_key] = i.sort_key_type
    return types


def _table_config(**fields: Any) -> TableConfig:
    try:
        return TableConfig.model_validate(fields)
    except ValidationError as exc:
        problem = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise invalid(f"{_INVALID}: {problem}") from None


def _attribute_definitions(body: dict[str, Any]) -> dict[str, str]:
    definitions: dict[str, str] = {}
    for definition in require(body, "AttributeDefinitions", list):
        if not isinstance(definition, dict):
            raise invalid(f"{_INVALID}: an AttributeDefinition is an object")
        name = require(definition, "AttributeName")
        kind = require(definition, "AttributeType")
        if kind not in ("S", "N", "B"):
            raise invalid(
                f"1 validation error detected: Value '{kind}' at 'attributeDefinitions.member."
                "attributeType' failed to satisfy constraint: Member must satisfy enum value "
                "set: [B, N, S]"
            )
        if name in definitions:
            raise invalid(f"{_INVALID}: Cannot have two attributes with the same name")
        definitions[name] = kind
    return definitions


def _key_schema(
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
            raise invalid(f"{_INVALID}: a KeySchemaElement is an object")
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
            f"{_INVALID}: Some index key attributes are not defined in AttributeDefinitions. "
            f"Keys: [{', '.join(missing)}], AttributeDefinitions: [{', '.join(definitions)}]"
        )
    if len(elements) == 2 and elements[0][0] == elements[1][0]:
        raise invalid(f"{_INVALID}: Both the Hash Key and the Range Key element in the "
                      f"KeySchema have the same name")  # fmt: skip
    if elements[0][1] != "HASH":
        raise invalid("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(elements) == 2 and elements[1][1] != "RANGE":
        raise invalid("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
    for name, _ in elements:
        if '"' in name or "\\" in name:
            raise invalid(f"{_INVALID}: eventsim cannot store a key attribute named {name!r} "
                          f"(quotes and backslashes break its table files) in {what}")  # fmt: skip
    partition = (elements[0][0], definitions[elements[0][0]])
    sort = (elements[1][0], definitions[elements[1][0]]) if len(elements) == 2 else None
    return partition, sort


def _projection(index: dict[str, Any]) -> tuple[str, list[str]]:
    projection = require(index, "Projection", dict)
    kind = optional(projection, "ProjectionType", str, "ALL")
    if kind not in _PROJECTIONS:
        raise invalid(
            f"1 validation error detected: Value '{kind}' at 'projection.projectionType' failed "
            "to satisfy constraint: Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]"
        )
    include = optional(projection, "NonKeyAttributes", list, [])
    if kind == "INCLUDE" and not include:
        raise invalid(f"{_INVALID}: NonKeyAttributes must be specified when ProjectionType is "
                      "INCLUDE")  # fmt: skip
    if kind != "INCLUDE" and include:
        raise invalid(f"{_INVALID}: ProjectionType is {kind}, but NonKeyAttributes is "
                      "specified")  # fmt: skip
    return kind, include


def _global_index(
    index: Any, definitions: dict[str, str], billing: str, at: str = ""
) -> tuple[str, GlobalIndexConfig]:
    if not isinstance(index, dict):
        raise invalid(f"{_INVALID}: an index is an object")
    name = require(index, "IndexName")
    schema = require(index, "KeySchema", list)
    partition, sort = _key_schema(schema, definitions, f"index {name}", at)
    projection, include = _projection(index)
    if billing == "PROVISIONED" and index.get("ProvisionedThroughput") is None:
        raise invalid(f"{_INVALID}: ProvisionedThroughput must be specified for index: {name}")
    if billing == "PAY_PER_REQUEST" and index.get("ProvisionedThroughput") is not None:
        raise invalid(f"{_INVALID}: ProvisionedThroughput should not be specified for index: "
                      f"{name} when BillingMode is PAY_PER_REQUEST")  # fmt: skip
    try:
        config = GlobalIndexConfig.model_validate({
            "partition_key": partition[0], "partition_key_type": partition[1],
            "sort_key": sort[0] if sort else None, "sort_key_type": sort[1] if sort else "S",
            "projection": projection, "non_key_attributes": include,
        })  # fmt: skip
    except ValidationError as exc:
        raise invalid(f"{_INVALID}: index {name}: {exc.errors()[0]['msg']}") from None
    return name, config


def _throughput(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise invalid(f"{_INVALID}: ProvisionedThroughput is an object")
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


def _billing(body: dict[str, Any], mode: str, *, partial: bool = False) -> dict[str, Any]:
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
            raise invalid(f"{_INVALID}: ReadCapacityUnits and WriteCapacityUnits must both be "
                          "specified when BillingMode is PROVISIONED")  # fmt: skip
        return {"BillingMode": mode, "ProvisionedThroughput": _throughput(given)}
    if given is not None:
        raise invalid(f"{_INVALID}: Neither ReadCapacityUnits nor WriteCapacityUnits can be "
                      "specified when BillingMode is PAY_PER_REQUEST")  # fmt: skip
    return {"BillingMode": mode, "ProvisionedThroughput": {"ReadCapacityUnits": 0,
                                                           "WriteCapacityUnits": 0}}  # fmt: skip


def _stream(spec: Any, *, current: str | None, table: str = "") -> str | None:
    """The stream view type a StreamSpecification asks for (None: no stream)."""
    if spec is None:
        return current
    if not isinstance(spec, dict):
        raise invalid(f"{_INVALID}: StreamSpecification is an object")
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
            raise invalid(f"{_INVALID}: StreamViewType cannot be specified when "
                          "StreamEnabled is false")  # fmt: skip
        if table and current is None:
            raise invalid(f"Table does not have an enabled stream: TableName: {table}")
        return None
    if view is None:
        raise invalid(f"{_INVALID}: StreamViewType is required when StreamEnabled is true")
    if table and current is not None:
        raise invalid(f"Table already has an enabled stream: TableName: {table}")
    return str(view)


def _tags(given: list[Any]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in given:
        if not isinstance(tag, dict):
            raise invalid(f"{_INVALID}: a Tag is an object with Key and Value")
        key = require(tag, "Key")
        value = require(tag, "Value")
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise invalid(f"{_INVALID}: a tag key is 1-128 characters, its value up to 256")
        tags[key] = value
    if len(tags) > MAX_TAGS:
        raise invalid("The number of tags exceeds the limit of 50 tags per resource")
    return tags
