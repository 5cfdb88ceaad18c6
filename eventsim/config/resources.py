"""The stores eventsim simulates: buckets (``BucketConfig``), SQS queues (``QueueConfig``)
and DynamoDB tables (``TableConfig`` with their secondary indexes)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from .fields import Model, WorkFolder

# Names as AWS accepts them.
BUCKET_NAME = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
QUEUE_NAME = r"^[A-Za-z0-9_-]+(\.fifo)?$"  # and at most 80 characters
TABLE_NAME = r"^[A-Za-z0-9_.-]{3,255}$"


class BucketConfig(Model):
    """A bucket: a folder (created if missing; not a file, not a system folder)."""

    path: WorkFolder
    announce_existing: bool = False  # on a first start (no manifest): Put every file found
    ignore: list[str] = Field(
        default_factory=lambda: [
            "*.tmp",
            "*.part",
            "*.crdownload",
            "*.swp",
            "*~",
            ".#*",
            ".DS_Store",
        ]
    )
    eventbridge: bool = False  # send every change to the default bus (S3's EventBridge shape)


class Redrive(Model):
    dead_letter_queue: str
    max_receive_count: int = Field(default=10, ge=1, le=1000)


#: Queue tags: up to 50, keys 1..128 characters, values up to 256.
TagKey = Annotated[str, Field(min_length=1, max_length=128)]
QueueTags = Annotated[dict[TagKey, Annotated[str, Field(max_length=256)]], Field(max_length=50)]


class QueueConfig(Model):
    """SQS queue attributes, with AWS's names in snake_case (docs/aws-behaviour.md §3.4).

    ``policy`` and ``redrive_allow_policy`` are JSON text kept as given; the KMS and SSE
    attributes are stored and reported, not enforced. ``deduplication_scope`` and
    ``fifo_throughput_limit`` are FIFO queues' (``messageGroup`` scope deduplicates within a
    group). ``persist`` (eventsim's own): messages survive restarts in the state folder.
    """

    visibility_timeout: int = Field(default=30, ge=0, le=43200)
    delay_seconds: int = Field(default=0, ge=0, le=900)
    message_retention_period: int = Field(default=345600, ge=60, le=1209600)
    maximum_message_size: int = Field(default=1048576, ge=1024, le=1048576)
    receive_message_wait_time_seconds: int = Field(default=0, ge=0, le=20)
    content_based_deduplication: bool = False
    deduplication_scope: Literal["queue", "messageGroup"] = "queue"
    fifo_throughput_limit: Literal["perQueue", "perMessageGroupId"] = "perQueue"
    redrive: Redrive | None = None
    redrive_allow_policy: str | None = None
    policy: str | None = None
    kms_master_key_id: str | None = None
    kms_data_key_reuse_period_seconds: int = Field(default=300, ge=60, le=86400)
    sqs_managed_sse_enabled: bool = True
    tags: QueueTags = Field(default_factory=dict)
    persist: bool = False


KeyType = Literal["S", "N", "B"]
KEY_NAME = r'^[^"\\]+$'  # any name but quotes and backslashes (they would break the SQL layout)
INDEX_NAME = r"^[A-Za-z0-9_.-]{3,255}$"
Projection = Literal["ALL", "KEYS_ONLY", "INCLUDE"]


def _projected(value: list[str], info: ValidationInfo) -> list[str]:
    projection = info.data.get("projection")
    if projection == "INCLUDE" and not value:
        raise ValueError("projection INCLUDE names the attributes it includes")
    if projection not in ("INCLUDE", None) and value:
        raise ValueError("only projection INCLUDE takes non_key_attributes")
    if len(set(value)) != len(value):
        raise ValueError("non_key_attributes holds a name twice")
    return value


class GlobalIndexConfig(Model):
    """A global secondary index: its own key and the attributes it projects (ALL, KEYS_ONLY, or
    INCLUDE the ``non_key_attributes``)."""

    partition_key: str = Field(min_length=1, max_length=255, pattern=KEY_NAME)
    partition_key_type: KeyType = "S"
    sort_key: str | None = Field(default=None, min_length=1, max_length=255, pattern=KEY_NAME)
    sort_key_type: KeyType = "S"
    projection: Projection = "ALL"
    non_key_attributes: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        default_factory=list, max_length=100, validate_default=True
    )

    _check_projection = field_validator("non_key_attributes")(_projected)


class LocalIndexConfig(Model):
    """A local secondary index: the table's partition key with another sort key."""

    sort_key: str = Field(min_length=1, max_length=255, pattern=KEY_NAME)
    sort_key_type: KeyType = "S"
    projection: Projection = "ALL"
    non_key_attributes: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(
        default_factory=list, max_length=100, validate_default=True
    )

    _check_projection = field_validator("non_key_attributes")(_projected)


class TableConfig(Model):
    """A DynamoDB table: its key, stream, secondary indexes (up to 20 global, 5 local) and
    the attribute holding each item's expiry time (``ttl``, epoch seconds)."""

    partition_key: str = Field(min_length=1, max_length=255, pattern=KEY_NAME)
    partition_key_type: KeyType = "S"
    sort_key: str | None = Field(default=None, min_length=1, max_length=255, pattern=KEY_NAME)
    sort_key_type: KeyType = "S"
    stream: Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"] | None = None
    global_indexes: dict[Annotated[str, Field(pattern=INDEX_NAME)], GlobalIndexConfig] = Field(
        default_factory=dict, max_length=20
    )
    local_indexes: dict[Annotated[str, Field(pattern=INDEX_NAME)], LocalIndexConfig] = Field(
        default_factory=dict, max_length=5, validate_default=True
    )
    ttl: str | None = Field(default=None, min_length=1, max_length=255, pattern=KEY_NAME)

    @field_validator("local_indexes")
    @classmethod
    def _indexes_fit(
        cls, local: dict[str, LocalIndexConfig], info: ValidationInfo
    ) -> dict[str, LocalIndexConfig]:
        data = info.data
        if local and data.get("sort_key", "") is None:
            raise ValueError("a local index needs a table with a sort key")
        both = set(local) & set(data.get("global_indexes") or {})
        if both:
            raise ValueError(f"an index name is used twice: {', '.join(sorted(both))}")
        types: dict[str, str] = {}
        keys = [(data.get("partition_key"), data.get("partition_key_type")),
                (data.get("sort_key"), data.get("sort_key_type"))]  # fmt: skip
        for g in (data.get("global_indexes") or {}).values():
            keys += [(g.partition_key, g.partition_key_type), (g.sort_key, g.sort_key_type)]
        keys += [(i.sort_key, i.sort_key_type) for i in local.values()]
        for name, kind in keys:
            if name is None or kind is None:
                continue
            if types.setdefault(name, kind) != kind:
                raise ValueError(
                    f"attribute {name!r} is a key of type {types[name]} and of type {kind}: "
                    "an attribute has one type in every key"
                )
        return local
