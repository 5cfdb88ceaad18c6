"""The config file: pydantic models of it, and the only parser of it.

``load_config(path)`` reads YAML, validates it once, resolves paths against the file's folder
(defaults included) and checks cross references (a trigger's bucket, a destination's
function...). Every problem found is reported together in one ``ConfigError``, sorted by line,
each with ``file:line:column``, the key path and what was expected; the references are checked
over whatever part of the file validated. ``find_config()`` finds the file when none is named.

A SAM or CloudFormation template is a config too (``eventsim.sam``): ``load_config`` knows one
by its top-level keys (``AWSTemplateFormatVersion``, ``Transform``, ``Resources``), and an
eventsim config may name one (``template: template.yaml``) and override or extend what it
says. Errors then point into the template, and ``Config.not_honoured`` lists what eventsim
does not do of what the template asks.

Input is untrusted: a file over 1 MB, not UTF-8, nested too deeply, with an alias bomb or a
``!!python`` tag is refused before anything expands (``yamlpos``). Scalars are strict: an int
key takes an int (``timeout: "3"`` and ``timeout: true`` are errors), a bool key only
``true``/``false``; paths and times are written as strings.

Example::

    config = load_config("config/eventsim.yaml")
    config.functions["hello"].timeout        # 3 unless set
"""

from __future__ import annotations

import functools
import operator
import re
import stat
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema

from . import yamlpos
from .config_checks import (
    check_references,
    declared_names,
    did_you_mean,
    error_message,
    prune,
    unsafe_folder,
)
from .errors import ConfigError, ConfigIssue
from .filters import EVENTBRIDGE, SNS_ATTRIBUTES, SNS_BODY, FilterSet, Pattern, PatternError
from .sam import overlay as sam_overlay
from .sam import template as sam_template
from .triggers import registry
from .unconfirmed import DEFAULT_IDLE_TIMEOUT_S

#: Where ``find_config`` looks, in order, relative to the current folder.
CONFIG_NAMES = (
    Path("eventsim.yaml"),
    Path("config/eventsim.yaml"),
    Path("template.yaml"),
    Path("template.yml"),
)
DEFAULT_CONFIG_PATH = CONFIG_NAMES[1]
#: Larger files are refused before they are read: no config needs a megabyte.
MAX_CONFIG_BYTES = 1024 * 1024

# Names as AWS accepts them.
FUNCTION_NAME = r"^[A-Za-z0-9_-]{1,64}$"
BUCKET_NAME = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
QUEUE_NAME = r"^[A-Za-z0-9_-]+(\.fifo)?$"  # and at most 80 characters
TABLE_NAME = r"^[A-Za-z0-9_.-]{3,255}$"
ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]+$")
ENV_GLOB = re.compile(r"^[A-Za-z_*?][A-Za-z0-9_*?]*$")
ROLE_ARN = r"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]{1,64}$"
ENV_TOTAL_BYTES = 4096

#: §8.3: variables the runtime sets; a function may not set them.
RESERVED_ENV = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
    }
)


def _to_path(value: Any) -> Any:
    # Validation is strict (no str -> Path coercion), and YAML has no path type: take strings.
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("expected a path, got an empty string")
        return Path(value)
    if isinstance(value, Path):
        return value
    raise ValueError(f"expected a path (a string), got {value!r}")


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    value = value.expanduser()
    if not value.is_absolute() and base is not None:
        value = Path(base) / value
    return value.resolve()


def _safe_folder(value: Path) -> Path:
    problem = unsafe_folder(value)
    if problem:
        raise ValueError(problem)
    return value


ResolvedPath = Annotated[Path, BeforeValidator(_to_path), AfterValidator(_resolve_path)]
#: A folder eventsim writes to or watches: not a file, not a system folder.
WorkFolder = Annotated[ResolvedPath, AfterValidator(_safe_folder)]

_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _to_datetime(value: Any) -> Any:
    # Strict validation takes datetime objects only; YAML gives them unquoted, or strings.
    if isinstance(value, str) or (isinstance(value, date) and not isinstance(value, datetime)):
        try:
            return _DATETIME.validate_python(value)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise ValueError(f"expected an ISO 8601 date and time, got {value!r}") from exc
    return value


Timestamp = Annotated[datetime, BeforeValidator(_to_datetime)]


def _env_glob(value: str) -> str:
    if not ENV_GLOB.match(value):
        raise ValueError(
            f"invalid variable name or glob {value!r}: letters, digits, _ and the wildcards "
            "* and ?, not starting with a digit"
        )
    return value


#: ``inherit_env`` entries: ``HOME``, ``MYAPP_*``, ``LC_?``...
EnvGlob = Annotated[str, AfterValidator(_env_glob)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


DestinationKind = Literal["function", "queue", "topic", "bus"]
DESTINATION_KINDS: tuple[DestinationKind, ...] = ("function", "queue", "topic", "bus")


class Destination(Model):
    """Where an async result, a failed event or a failed batch goes: ``function:NAME``,
    ``queue:NAME``, ``topic:NAME`` or ``bus:NAME`` (each setting says which kinds it takes)."""

    kind: DestinationKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


def _parse_destination(value: Any) -> Any:
    if isinstance(value, str):
        kind, sep, name = value.partition(":")
        if not sep or kind not in DESTINATION_KINDS or not name:
            raise ValueError(
                f"expected 'function:NAME', 'queue:NAME', 'topic:NAME' or 'bus:NAME', got {value!r}"
            )
        return {"kind": kind, "name": name}
    return value


DestinationRef = Annotated[Destination, BeforeValidator(_parse_destination)]
FilterPattern = dict[str, Any]


def _check_filters(patterns: list[FilterPattern]) -> list[FilterPattern]:
    try:
        FilterSet.compile(patterns)
    except PatternError as exc:
        raise ValueError(str(exc)) from None
    return patterns


Filters = Annotated[list[FilterPattern], AfterValidator(_check_filters)]


# --- triggers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Trigger:
    """One entry of a function's ``triggers`` list: ``{<kind>: {settings}}``, exactly one kind.

    ``kind`` is a name from the trigger registry (``eventsim.triggers.registry``: the built-in
    ``s3``, ``sqs``, ``dynamodb``, ``schedule``, ``http``..., and plug-ins); ``spec`` holds the
    settings, validated by that kind's model. Errors keep their place in the file
    (``functions.f.triggers.0.sqs.batch_size``) whatever the kind.
    """

    kind: str
    spec: BaseModel

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # Built when a model holding triggers is first used (``defer_build``), so the registry
        # (and plug-ins) load then, not when this module is imported.
        choices: dict[Hashable, core_schema.CoreSchema] = {}
        for name, kind in registry.kinds().items():
            settings = handler.generate_schema(kind.model)
            choices[name] = core_schema.no_info_before_validator_function(
                operator.itemgetter(name),
                core_schema.no_info_after_validator_function(
                    functools.partial(cls, name), settings
                ),
            )
        union = core_schema.tagged_union_schema(choices, discriminator=_trigger_kind)
        return core_schema.no_info_wrap_validator_function(
            _trigger_shape,
            union,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda trigger: {trigger.kind: trigger.spec.model_dump(mode="json")}
            ),
        )


class Extensions(dict[str, dict[str, BaseModel]]):
    """``extensions:``: the resources of plug-in trigger kinds, ``{<kind>: {<name>: {...}}}``,
    each validated by its kind's ``resource_model`` (positions kept, as for triggers)."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        fields = {
            name: core_schema.typed_dict_field(
                core_schema.dict_schema(
                    core_schema.str_schema(), handler.generate_schema(kind.resource_model)
                ),
                required=False,
            )
            for name, kind in registry.kinds().items()
            if kind.resource_model is not None
        }
        return core_schema.no_info_after_validator_function(
            cls, core_schema.typed_dict_schema(fields, extra_behavior="forbid")
        )


def _trigger_kind(value: Any) -> str | None:
    return next(iter(value)) if isinstance(value, dict) and len(value) == 1 else None


def _trigger_shape(value: Any, handler: core_schema.ValidatorFunctionWrapHandler) -> Any:
    """A ``Trigger`` as is; a mapping with exactly one known kind; else a clear error."""
    if isinstance(value, Trigger):
        return value
    names = list(registry.kinds())
    given = list(value) if isinstance(value, dict) else None
    if given is None or len(given) != 1:
        got = "a mapping with none" if given == [] else f"{given}" if given else repr(value)
        raise PydanticCustomError(
            "trigger_shape", "a trigger has exactly one of {kinds}; got {got}",
            {"kinds": ", ".join(names), "got": got},
        )  # fmt: skip
    if given[0] not in names:
        raise PydanticCustomError(
            "trigger_kind", "unknown trigger kind {kind}{guess} (expected one of: {kinds})",
            {"kind": repr(given[0]), "guess": did_you_mean(str(given[0]), names),
             "kinds": ", ".join(names)},
        )  # fmt: skip
    return handler(value)


# --- functions and resources --------------------------------------------------------------


class FunctionConfig(Model):
    """One function. ``code`` defaults to the config file's folder.

    ``inherit_env`` names variables of the developer's environment this function's handler may
    see, besides the top-level ``inherit_env``: a name or a glob (``MYAPP_*``, ``LC_?``).
    Nothing else of the parent's environment reaches a handler.
    """

    # Its triggers' schema comes from the registry: built on first use, not at import.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    handler: str = Field(min_length=1, pattern=r"^\S+$")
    code: ResolvedPath = Field(default=Path("."), validate_default=True)
    timeout: int = Field(default=3, ge=1, le=900)
    memory: int = Field(default=128, ge=128, le=10240)
    environment: dict[str, str] = Field(default_factory=dict)
    reserved_concurrency: int | None = Field(default=None, ge=0)
    isolation: Literal["process", "thread"] = "process"
    retries: int = Field(default=2, ge=0, le=2)
    max_event_age: int = Field(default=21600, ge=60, le=21600)
    on_success: DestinationRef | None = None
    on_failure: DestinationRef | None = None
    dead_letter_queue: DestinationRef | None = None
    triggers: list[Trigger] = Field(default_factory=list)
    inherit_env: list[EnvGlob] = Field(default_factory=list)

    @field_validator("code")
    @classmethod
    def _code_exists(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"code folder {str(value)!r} does not exist")
        return value

    @field_validator("dead_letter_queue")
    @classmethod
    def _dead_letter_target(cls, value: Destination | None) -> Destination | None:
        if value is not None and value.kind not in ("queue", "topic"):
            raise ValueError(
                "a dead-letter target is a queue or a topic: 'queue:NAME' or 'topic:NAME'"
            )
        return value

    @field_validator("environment")
    @classmethod
    def _environment(cls, env: dict[str, str]) -> dict[str, str]:
        bad = [k for k in env if not ENV_KEY.match(k)]
        if bad:
            raise ValueError(
                f"invalid variable name(s) {bad}: a letter, then letters, digits or _ (2+ chars)"
            )
        reserved = sorted(RESERVED_ENV.intersection(env))
        if reserved:
            raise ValueError(f"reserved by the Lambda runtime: {reserved}")
        size = sum(len(k.encode()) + len(v.encode()) for k, v in env.items())
        if size > ENV_TOTAL_BYTES:
            raise ValueError(f"variables total {size} bytes; Lambda allows {ENV_TOTAL_BYTES}")
        return env


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


# --- SNS topics and EventBridge buses ------------------------------------------------------

TOPIC_NAME = r"^[A-Za-z0-9_-]+(\.fifo)?$"  # and at most 256 characters
BUS_NAME = r"^[/.\-_A-Za-z0-9]{1,256}$"
RULE_NAME = r"^[.\-_A-Za-z0-9]{1,64}$"
#: The bus every account has; AWS services (S3, schedules) send to it.
DEFAULT_BUS = "default"
FilterPolicyScope = Literal["MessageAttributes", "MessageBody"]


def check_filter_policy(value: FilterPattern | None, info: ValidationInfo) -> Any:
    """A ``filter_policy`` validator: the policy in SNS's dialect for the model's
    ``filter_policy_scope`` (a field declared before it)."""
    if value is None:
        return None
    scope = info.data.get("filter_policy_scope", "MessageAttributes")
    try:
        Pattern.compile(value, dialect=SNS_BODY if scope == "MessageBody" else SNS_ATTRIBUTES)
    except PatternError as exc:
        raise ValueError(str(exc)) from None
    return value


def _check_event_pattern(pattern: FilterPattern) -> FilterPattern:
    try:
        Pattern.compile(pattern, dialect=EVENTBRIDGE)
    except PatternError as exc:
        raise ValueError(str(exc)) from None
    return pattern


#: An EventBridge event pattern, checked in EventBridge's dialect of the pattern language.
EventPattern = Annotated[FilterPattern, AfterValidator(_check_event_pattern)]


class QueueSubscription(Model):
    """A topic's subscription of a queue (SNS's ``sqs`` protocol): the queue gets SNS's JSON
    envelope, or the message itself with its attributes when ``raw_message_delivery``."""

    queue: str
    raw_message_delivery: bool = False
    filter_policy_scope: FilterPolicyScope = "MessageAttributes"
    filter_policy: FilterPattern | None = None

    _check_policy = field_validator("filter_policy")(check_filter_policy)


class TopicConfig(Model):
    """An SNS topic: FIFO when its name ends in ``.fifo`` (then ``content_based_deduplication``
    may be set); ``subscriptions`` are its queues (functions subscribe with ``sns``
    triggers)."""

    display_name: str = Field(default="", max_length=100)
    content_based_deduplication: bool = False
    subscriptions: list[QueueSubscription] = Field(default_factory=list)
    tags: QueueTags = Field(default_factory=dict)


class RetryPolicy(Model):
    """How long EventBridge keeps trying to deliver to a target (``RetryPolicy``)."""

    maximum_retry_attempts: int = Field(default=185, ge=0, le=185)
    maximum_event_age: int = Field(default=86400, ge=60, le=86400)


INPUT_PATH_KEY = r"^[A-Za-z0-9_-]{1,256}$"
#: ``$``, ``$.detail.id``, ``$.detail.items[0].sku``: a JSON path as EventBridge takes it.
JSON_PATH = r"^\$(\.[^.\[\]\s]+|\[\d+\])*$"
#: The placeholders every input template may use without defining them.
PREDEFINED_PLACEHOLDERS = frozenset(
    {
        "aws.events.rule-arn",
        "aws.events.rule-name",
        "aws.events.event.ingestion-time",
        "aws.events.event",
        "aws.events.event.json",
    }
)


class InputTransformer(Model):
    """A target's ``InputTransformer``: values picked from the event by ``input_paths_map``
    (JSON paths), put into ``input_template`` at ``<name>``."""

    input_paths_map: dict[
        Annotated[str, Field(pattern=INPUT_PATH_KEY)], Annotated[str, Field(pattern=JSON_PATH)]
    ] = Field(default_factory=dict, max_length=100)
    input_template: str = Field(min_length=1, max_length=8192)

    @model_validator(mode="after")
    def _placeholders_defined(self) -> InputTransformer:
        clash = sorted(PREDEFINED_PLACEHOLDERS.intersection(self.input_paths_map))
        if clash:
            raise ValueError(f"input_paths_map may not define the predefined {clash}")
        used = set(re.findall(r"<([^<>\s]+)>", self.input_template))
        unknown = sorted(used - set(self.input_paths_map) - PREDEFINED_PLACEHOLDERS)
        if unknown:
            raise ValueError(
                f"input_template uses {', '.join(f'<{u}>' for u in unknown)}, which "
                "input_paths_map does not define"
            )
        return self


class TargetInput(Model):
    """What a rule target receives: the event (default), a constant ``input``, the part at
    ``input_path``, or ``input_transformer``'s result; at most one of the three."""

    input: Any = None
    input_path: str | None = Field(default=None, pattern=JSON_PATH)
    input_transformer: InputTransformer | None = None
    retry_policy: RetryPolicy = Field(default_factory=RetryPolicy)
    dead_letter_queue: str | None = None

    @model_validator(mode="after")
    def _one_input(self) -> TargetInput:
        given = [k for k in ("input", "input_path", "input_transformer") if getattr(self, k)]
        if len(given) > 1:
            raise ValueError(f"a target takes one of input, input_path, input_transformer; "
                             f"got {', '.join(given)}")  # fmt: skip
        return self


class RuleTarget(TargetInput):
    """A rule target that is a queue or a topic (functions are targets through their
    ``eventbridge`` triggers). ``message_group_id``: a FIFO queue's ``SqsParameters``."""

    queue: str | None = None
    topic: str | None = None
    message_group_id: str | None = Field(default=None, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _one_target(self) -> RuleTarget:
        if (self.queue is None) == (self.topic is None):
            raise ValueError("a target is one of queue: NAME or topic: NAME")
        return self


class RuleConfig(Model):
    """A rule on a bus: events its ``pattern`` matches go to each of its ``targets``."""

    pattern: EventPattern
    description: str = Field(default="", max_length=512)
    enabled: bool = True
    targets: list[RuleTarget] = Field(min_length=1, max_length=5)


class BusConfig(Model):
    """An EventBridge event bus (the ``default`` bus exists without being configured)."""

    rules: dict[Annotated[str, Field(pattern=RULE_NAME)], RuleConfig] = Field(default_factory=dict)


HOST_NAME = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$|^\[[0-9A-Fa-f:.]+\]$"
)
ORIGIN = re.compile(r"(?i)^https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")


def _host_name(value: str) -> str:
    if not HOST_NAME.match(value) or len(value) > 253:
        raise ValueError(
            f"invalid host name {value!r}: a name or address as in a Host header, without port"
        )
    return value.lower()


def _origin(value: str) -> str:
    if not ORIGIN.match(value):
        raise ValueError(
            f"invalid origin {value!r}: scheme://host[:port] as a browser sends it, "
            "e.g. http://localhost:5173 (no path, no trailing /)"
        )
    return value.lower()


class LedgerConfig(Model):
    """How much the ledger keeps (see ``eventsim.ledger``): at most ``max_attempts`` entries
    and about ``max_bytes`` of events and payloads; the ``keep_full`` most recent large events
    and payloads whole, older ones truncated with a marker."""

    max_attempts: int = Field(default=100_000, ge=1)
    max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    keep_full: int = Field(default=1_000, ge=0)


class ServerConfig(Model):
    """Where ``eventsim up`` listens: the edge (AWS APIs) and the HTTP triggers.

    ``allowed_hosts``: Host names the edge answers besides ``127.0.0.1``, ``localhost`` and
    ``[::1]`` (lowercased, without port), e.g. a name in ``/etc/hosts`` or a container's name.
    ``allowed_origins``: browser origins allowed to call the edge besides loopback ones
    (``scheme://host[:port]``, lowercased), e.g. ``http://localhost:5173``.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8642, ge=0, le=65535)
    http_port: int = Field(default=3000, ge=0, le=65535)  # 0: any free port
    allowed_hosts: list[Annotated[str, AfterValidator(_host_name)]] = Field(default_factory=list)
    allowed_origins: list[Annotated[str, AfterValidator(_origin)]] = Field(default_factory=list)


#: A template parameter's or import's value, as YAML gives it.
TemplateValue = str | int | float | bool
AliasSection = Literal["functions", "buckets", "queues", "tables", "topics", "buses"]


class Config(Model):
    """A whole eventsim config. Build it with ``load_config`` or ``Config.from_dict``.

    ``state_dir`` (default ``.eventsim`` beside the config file) is a folder, not a system one.
    ``inherit_env``: variables of the developer's environment every handler may see (names or
    globs such as ``MYAPP_*``; see ``FunctionConfig``). ``role_arn``: the role eventsim
    reports (STS ``GetCallerIdentity``...); ``role`` is the effective one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    account: str = Field(default="123456789012", pattern=r"^\d{12}$")
    state_dir: WorkFolder = Field(default=Path(".eventsim"), validate_default=True)
    inherit_env: list[EnvGlob] = Field(default_factory=list)
    role_arn: str | None = Field(default=None, pattern=ROLE_ARN)
    account_concurrency: int = Field(default=1000, ge=1)
    #: Environments eventsim runs at once per function; more concurrent requests wait for one.
    #: AWS would scale further; a laptop cannot run a thousand Python processes.
    max_environments: int = Field(default=10, ge=1, le=1000)
    idle_timeout: float = Field(default=DEFAULT_IDLE_TIMEOUT_S, gt=0, allow_inf_nan=False)
    server: ServerConfig = Field(default_factory=ServerConfig)
    ledger: LedgerConfig = Field(default_factory=LedgerConfig)
    functions: dict[Annotated[str, Field(pattern=FUNCTION_NAME)], FunctionConfig] = Field(
        default_factory=dict
    )
    buckets: dict[Annotated[str, Field(pattern=BUCKET_NAME)], BucketConfig] = Field(
        default_factory=dict
    )
    queues: dict[Annotated[str, Field(pattern=QUEUE_NAME, max_length=80)], QueueConfig] = Field(
        default_factory=dict
    )
    tables: dict[Annotated[str, Field(pattern=TABLE_NAME)], TableConfig] = Field(
        default_factory=dict
    )

    topics: dict[Annotated[str, Field(pattern=TOPIC_NAME, max_length=256)], TopicConfig] = Field(
        default_factory=dict
    )
    buses: dict[Annotated[str, Field(pattern=BUS_NAME)], BusConfig] = Field(default_factory=dict)

    extensions: Extensions = Field(default_factory=Extensions)
    """The resources of plug-in trigger kinds (see ``Extensions``)."""

    template: ResolvedPath | None = None
    """A SAM or CloudFormation template this config starts from; the rest of the file
    overrides and extends what it says (``eventsim.sam.overlay``)."""
    parameters: dict[str, TemplateValue | list[TemplateValue]] = Field(default_factory=dict)
    """Values of the template's parameters (and ``AWS::StackName``, ``AWS::Region``...)."""
    imports: dict[str, TemplateValue] = Field(default_factory=dict)
    """Values of the template's ``Fn::ImportValue`` exports, by export name."""
    aliases: dict[AliasSection, dict[str, str]] = Field(default_factory=dict)
    """Other names of resources, per section: a template's logical ids (``{queues: {Jobs:
    local-Jobs-1A2B3C4D5E6F}}``)."""

    not_honoured: tuple[ConfigIssue, ...] = Field(default=(), exclude=True)
    """What the template asks that eventsim does not do, each at its line (set by loading)."""

    source: Path | None = Field(default=None, exclude=True)
    """The file this config was read from, if any (set by ``load_config``)."""

    @property
    def role(self) -> str:
        """The role ARN eventsim reports: ``role_arn``, else ``role/eventsim`` in ``account``.

        Example: ``Config().role == "arn:aws:iam::123456789012:role/eventsim"``
        """
        return self.role_arn or f"arn:aws:iam::{self.account}:role/eventsim"

    @classmethod
    def from_dict(cls, data: dict[str, Any], base_dir: str | Path | None = None) -> Config:
        """Validate a config given as a dict; relative paths resolve against ``base_dir``."""
        base = Path(base_dir or Path.cwd())
        if data.get("template") is not None:
            return _from_template(data, base, None, yamlpos.Positions())
        return _validate(data, base, None, yamlpos.Positions())


def find_config(cwd: Path | None = None) -> Path:
    """The config to use when none is named: ``eventsim.yaml``, else ``config/eventsim.yaml``,
    else a SAM template, ``template.yaml`` or ``template.yml``.

    Relative to ``cwd`` (the returned path is relative when ``cwd`` is ``None``); a
    ``ConfigError`` names every place when none holds a file.

    Example::

        load_config(find_config())
    """
    for name in CONFIG_NAMES:
        candidate = name if cwd is None else cwd / name
        if candidate.is_file():
            return candidate
    where = cwd if cwd is not None else Path.cwd()
    looked = ", ".join(str(where / name) for name in CONFIG_NAMES)
    raise ConfigError([ConfigIssue(None, None, None, "", f"no config: looked for {looked}")])


def load_config(
    path: str | Path = DEFAULT_CONFIG_PATH, parameters: Mapping[str, Any] | None = None
) -> Config:
    """Read and validate a YAML config file, or a SAM or CloudFormation template; raise
    ``ConfigError`` listing every problem. ``parameters``: values of the template's parameters
    (``--parameter-overrides``), over the config's ``parameters``."""
    path = Path(path)

    def fail(problems: list[yamlpos.YamlProblem]) -> ConfigError:
        return ConfigError(
            [
                ConfigIssue(str(path), p.line, p.column, yamlpos.dotted(p.path), p.message)
                for p in problems
            ]
        )

    text = _read(path)
    parsed = sam_template.parse(path, text) if sam_template.looks_like_template(text) else None
    if parsed is not None:
        loaded = sam_overlay.load(parsed, {}, parameters=parameters)
        return _loaded(loaded, path.resolve().parent, path)
    try:
        data, positions, duplicates = yamlpos.load(text)
    except yamlpos.YamlError as exc:
        raise fail(exc.problems) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problem = yamlpos.YamlProblem("expected a mapping of settings at the top level", 1, 1)
        raise fail([problem])
    if data.get("template") is not None and not duplicates:
        return _from_template(data, path.resolve().parent, path, positions, parameters)
    try:
        config = _validate(data, path.resolve().parent, path, positions)
    except ConfigError as exc:
        issues = exc.issues
    else:
        if not duplicates:
            return config
        issues = []  # valid, but a duplicate key's first value was silently lost
    raise ConfigError(_in_order([*fail(duplicates).issues, *issues]))


def _read(path: Path) -> str:
    """The text of the file at ``path``: a regular file of at most 1 MB, in UTF-8."""

    def fail(message: str) -> ConfigError:
        return ConfigError([ConfigIssue(str(path), None, None, "", message)])

    too_large = (
        f"over {MAX_CONFIG_BYTES} bytes (1 MB); a config is far smaller: is it the right file?"
    )
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise fail("is a folder: name the config file (e.g. eventsim.yaml)")
        if not stat.S_ISREG(info.st_mode):  # a FIFO or a device could block or never end
            raise fail("not a regular file")
        if info.st_size > MAX_CONFIG_BYTES:
            raise fail(f"{info.st_size} bytes: {too_large}")
        with path.open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise fail("no such file") from None
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:  # it grew since stat()
        raise fail(too_large)
    try:
        return yamlpos.decode(data)
    except yamlpos.YamlError as exc:
        raise ConfigError(
            [ConfigIssue(str(path), p.line, p.column, "", p.message) for p in exc.problems]
        ) from None


def _from_template(
    data: dict[str, Any],
    base_dir: Path,
    source: Path | None,
    positions: yamlpos.Positions,
    parameters: Mapping[str, Any] | None = None,
) -> Config:
    """A config naming a template: the template's config with this one over it."""
    file = str(source) if source is not None else None
    named = data["template"]
    if not isinstance(named, str) or not named.strip():
        line, column = positions.find(("template",)) or (None, None)
        message = f"expected the path of a SAM or CloudFormation template, got {named!r}"
        raise ConfigError([ConfigIssue(file, line, column, "template", message)])
    template = (base_dir / Path(named).expanduser()).resolve()
    try:
        text = _read(template)
    except ConfigError as exc:
        line, column = positions.find(("template",)) or (None, None)
        message = f"{template}: {exc.issues[0].message}"
        raise ConfigError([ConfigIssue(file, line, column, "template", message)]) from None
    loaded = sam_overlay.load(
        sam_template.load(template, text), data, overlay_file=source,
        overlay_positions=positions, parameters=parameters,
    )  # fmt: skip
    return _loaded(loaded, base_dir, source)


def _loaded(loaded: sam_overlay.Loaded, base_dir: Path, source: Path | None) -> Config:
    """The config of a template (and overlay): the template's problems and the config's are
    reported together."""
    try:
        config = _validate(loaded.data, base_dir, source, yamlpos.Positions(), loaded.locate)
    except ConfigError as exc:
        issues = exc.issues
    else:
        if not loaded.problems:
            return config.model_copy(update={"not_honoured": loaded.notices})
        issues = []
    unique = list(dict.fromkeys([*loaded.problems, *issues]))
    raise ConfigError(_in_order(unique))


def _validate(
    data: dict[str, Any],
    base_dir: Path,
    source: Path | None,
    positions: yamlpos.Positions,
    locate: Callable[[yamlpos.Path, str], ConfigIssue] | None = None,
) -> Config:
    """Validate ``data``; ``locate`` places problems (a template's), else ``positions``."""
    file = str(source) if source is not None else None
    context = {"base_dir": base_dir}

    def issue(path: yamlpos.Path, message: str) -> ConfigIssue:
        if locate is not None:
            return locate(path, message)
        line, column = positions.find(path) or (None, None)
        return ConfigIssue(file, line, column, yamlpos.dotted(path), message)

    try:
        # Strict: YAML gives typed scalars, and "3" or true for an int is a mistake to report.
        config = Config.model_validate(data, strict=True, context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        issues = [issue(_key_path(e["loc"]), error_message(e, Config)) for e in errors]
        issues += [issue(path, message) for path, message in _check_the_rest(data, errors, context)]
        raise ConfigError(_in_order(issues)) from None
    found = [*check_references(config), *_check_template_keys(config)]
    problems = [issue(path, message) for path, message in found]
    if problems:
        raise ConfigError(_in_order(problems))
    return config.model_copy(update={"source": source.resolve() if source else None})


def _check_template_keys(config: Config) -> list[tuple[yamlpos.Path, str]]:
    """Parameters and imports belong to a template; each alias names an entry of its section,
    and no entry is named by an alias too."""
    problems: list[tuple[yamlpos.Path, str]] = []
    for key in ("parameters", "imports"):
        if getattr(config, key) and config.template is None:
            problems.append(((key,), f"{key} are a template's: name it with template: FILE"))
    for section, aliases in config.aliases.items():
        names = getattr(config, section)
        for alias, name in aliases.items():
            at = ("aliases", section, alias)
            if name not in names:
                problems.append((at, f"{name!r} is not in {section}"))
            elif alias in names and alias != name:
                problems.append((at, f"{alias!r} names another entry of {section}"))
    return problems


def _check_the_rest(
    data: dict[str, Any], errors: list[Any], context: dict[str, Any]
) -> list[tuple[yamlpos.Path, str]]:
    """Reference problems among the parts of ``data`` that validated, beside schema errors."""
    pruned = prune(data, [tuple(e["loc"]) for e in errors])
    for _ in range(2):
        try:
            partial = Config.model_validate(pruned.data, strict=True, context=context)
        except ValidationError as exc:  # e.g. a required key missing: drop whole entries
            locs = [tuple(e["loc"]) for e in exc.errors(include_url=False)]
            pruned.data = prune(pruned.data, locs, coarse=True).data
            continue
        return check_references(partial, declared_names(data), pruned.kept)
    return []


def _key_path(loc: Any) -> yamlpos.Path:
    return tuple(p for p in loc if p != "[key]")


def _in_order(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    """Sorted by position; issues without a line (whole-file) first."""
    return sorted(issues, key=lambda i: (i.line or 0, i.column or 0))
