"""DynamoDB's control plane on the edge: CreateTable, UpdateTable, DeleteTable, DescribeTable,
ListTables, UpdateTimeToLive, DescribeTimeToLive, TagResource, UntagResource,
ListTagsOfResource — over the simulator's ``TableRegistry``.

A table made here lasts across restarts (its definition is kept in its file). Its status is
``ACTIVE`` at once (and ``DELETING`` in DeleteTable's answer), so waiters return at their
first poll. Capacity settings are kept and described, never enforced. The parts of a
definition (key schema, indexes, billing, stream, tags) are read and checked by
``dynamodb_definitions``.

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

from ..config import GlobalIndexConfig, LocalIndexConfig, TableConfig
from ..errors import ApiError
from ..resources.table import Index, Table
from ..resources.tables import TableRegistry
from .dynamodb_definitions import (
    INVALID,
    MAX_TAGS,
    read_attribute_definitions,
    read_billing,
    read_global_index,
    read_key_schema,
    read_projection,
    read_stream,
    read_tags,
    read_throughput,
    table_config,
)
from .dynamodb_protocol import invalid
from .protocol import optional, require

NOT_FOUND = "Requested resource not found"
_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]+")
_TABLE_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:([a-z0-9-]+):(\d{12}):table/([a-zA-Z0-9_.-]+)")


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
        definitions = read_attribute_definitions(body)
        partition, sort = read_key_schema(require(body, "KeySchema", list), definitions, "table")
        billing = optional(body, "BillingMode", str, "PROVISIONED")
        settings = read_billing(body, billing)
        for kind in ("LocalSecondaryIndexes", "GlobalSecondaryIndexes"):
            if optional(body, kind, list) == []:
                raise invalid(f"{INVALID}: List of {kind} is empty")
        globals_: dict[str, GlobalIndexConfig] = {}
        for n, index in enumerate(optional(body, "GlobalSecondaryIndexes", list, []), 1):
            at = f"globalSecondaryIndexes.{n}.member."
            index_name, global_index = read_global_index(index, definitions, billing, at)
            if index_name in globals_:
                raise invalid(f"{INVALID}: Duplicate index name: {index_name}")
            globals_[index_name] = global_index
            if "ProvisionedThroughput" in index:
                settings.setdefault("IndexThroughput", {})[index_name] = read_throughput(
                    index["ProvisionedThroughput"]
                )
        locals_: dict[str, LocalIndexConfig] = {}
        for n, index in enumerate(optional(body, "LocalSecondaryIndexes", list, []), 1):
            if not isinstance(index, dict):
                raise invalid(f"{INVALID}: an index is an object")
            index_name = require(index, "IndexName")
            index_partition, index_sort = read_key_schema(
                require(index, "KeySchema", list), definitions, f"index {index_name}",
                f"localSecondaryIndexes.{n}.member.",
            )  # fmt: skip
            if index_partition[0] != partition[0]:
                raise invalid(
                    f"{INVALID}: Index KeySchema does not have the same leading hash key as "
                    f"table KeySchema for index: {index_name}. index hash key: "
                    f"{index_partition[0]}, table hash key: {partition[0]}"
                )
            if index_sort is None:
                raise invalid(f"{INVALID}: Index KeySchema of a local index needs a RANGE key: "
                              f"{index_name}")  # fmt: skip
            if index_name in locals_ or index_name in globals_:
                raise invalid(f"{INVALID}: Duplicate index name: {index_name}")
            projection, include = read_projection(index)
            locals_[index_name] = LocalIndexConfig(
                sort_key=index_sort[0], sort_key_type=index_sort[1],  # type: ignore[arg-type]
                projection=projection, non_key_attributes=include,  # type: ignore[arg-type]
            )  # fmt: skip
        if locals_ and sort is None:
            raise invalid(f"{INVALID}: Table KeySchema does not have a range key, which is "
                          "required when specifying a LocalSecondaryIndex")  # fmt: skip
        used = {partition[0], *([sort[0]] if sort else [])}
        for g in globals_.values():
            used |= {g.partition_key, *([g.sort_key] if g.sort_key else [])}
        used |= {i.sort_key for i in locals_.values()}
        if set(definitions) != used and (globals_ or locals_):
            raise invalid(
                f"{INVALID}: Some AttributeDefinitions are not used. AttributeDefinitions: "
                f"[{', '.join(sorted(definitions))}], keys used: [{', '.join(sorted(used))}]"
            )
        if set(definitions) != used:
            raise invalid(
                f"{INVALID}: Number of attributes in KeySchema does not exactly match number of "
                "attributes defined in AttributeDefinitions"
            )
        stream = read_stream(body.get("StreamSpecification"), current=None)
        tags = read_tags(optional(body, "Tags", list, []))
        if optional(body, "DeletionProtectionEnabled", bool, False):
            settings["DeletionProtectionEnabled"] = True
        table_class = optional(body, "TableClass", str)
        if table_class is not None:
            settings["TableClass"] = table_class
        settings["TableId"] = str(uuid.uuid4())
        config = table_config(
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
            settings.update(read_billing(body, mode, partial=billing is None))
        if "DeletionProtectionEnabled" in body:
            settings["DeletionProtectionEnabled"] = optional(
                body, "DeletionProtectionEnabled", bool, False
            )
        if "TableClass" in body:
            settings["TableClass"] = optional(body, "TableClass", str)
        if body.get("StreamSpecification") is not None:
            changes["stream"] = read_stream(body["StreamSpecification"], current=config.stream,
                                        table=table.name)  # fmt: skip
        updates = optional(body, "GlobalSecondaryIndexUpdates", list, [])
        if updates:
            definitions = {
                **_known_types(config),
                **(read_attribute_definitions(body) if body.get("AttributeDefinitions") else {}),
            }
            indexes = dict(config.global_indexes)
            for update in updates:
                if not isinstance(update, dict) or len(update) != 1:
                    raise invalid(f"{INVALID}: each GlobalSecondaryIndexUpdate is one of "
                                  "Create, Update or Delete")  # fmt: skip
                [(action, index)] = update.items()
                if not isinstance(index, dict):
                    raise invalid(f"{INVALID}: {action} is an object")
                index_name = require(index, "IndexName")
                if action == "Create":
                    if index_name in indexes or index_name in config.local_indexes:
                        raise invalid(f"{INVALID}: Index already exists: {index_name}")
                    mode = settings.get("BillingMode", "PAY_PER_REQUEST")
                    _, indexes[index_name] = read_global_index(index, definitions, mode)
                elif action == "Delete":
                    if indexes.pop(index_name, None) is None:
                        raise ApiError("ResourceNotFoundException",
                                       f"{NOT_FOUND}: Index: {index_name} not found")  # fmt: skip
                elif action == "Update":
                    if index_name not in indexes:
                        raise ApiError("ResourceNotFoundException",
                                       f"{NOT_FOUND}: Index: {index_name} not found")  # fmt: skip
                    if "ProvisionedThroughput" in index:
                        settings.setdefault("IndexThroughput", {})[index_name] = read_throughput(
                            index["ProvisionedThroughput"]
                        )
                else:
                    raise invalid(f"{INVALID}: unknown GlobalSecondaryIndexUpdate {action}")
            changes["global_indexes"] = indexes
        if not changes and settings == table.settings:
            raise invalid(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
                "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
            )
        if changes:
            self.tables.redefine(table, table_config(**{**config.model_dump(), **changes}))
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
            raise invalid(f"{INVALID}: TimeToLiveSpecification.AttributeName {attribute!r}")
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
        tags = {**table.tags, **read_tags(require(body, "Tags", list))}
        if len(tags) > MAX_TAGS:
            raise invalid("The number of tags exceeds the limit of 50 tags per resource")
        table.tags = tags
        table.save()
        return {}

    async def untag_resource(self, body: dict[str, Any]) -> dict[str, Any]:
        table = self.by_arn(body)
        keys = require(body, "TagKeys", list)
        if not all(isinstance(k, str) for k in keys):
            raise invalid(f"{INVALID}: TagKeys are strings")
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
