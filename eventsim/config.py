"""The config file: pydantic models of it, and the only parser of it.

``load_config(path)`` reads YAML, validates it once, resolves paths against the file's folder
and checks cross references (a trigger's bucket, a destination's function...). Every problem
found is reported together in one ``ConfigError``, each with ``file:line:column``, the key
path and what was expected.

Example::

    config = load_config("config/eventsim.yaml")
    config.functions["hello"].timeout        # 3 unless set
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from . import cron, yamlpos
from .config_checks import check_references, error_message
from .errors import ConfigError, ConfigIssue
from .filters import FilterSet, PatternError
from .unconfirmed import DEFAULT_IDLE_TIMEOUT_S

DEFAULT_CONFIG_PATH = Path("config/eventsim.yaml")

# Names as AWS accepts them.
FUNCTION_NAME = r"^[A-Za-z0-9_-]{1,64}$"
BUCKET_NAME = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
QUEUE_NAME = r"^[A-Za-z0-9_-]+(\.fifo)?$"  # and at most 80 characters
TABLE_NAME = r"^[A-Za-z0-9_.-]{3,255}$"
ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]+$")
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

#: §1.2: event types a notification configuration may name.
S3_EVENT_TYPES = frozenset(
    {
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
    }
)


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    if not value.is_absolute() and base is not None:
        value = Path(base) / value
    return value.expanduser().resolve()


ResolvedPath = Annotated[Path, AfterValidator(_resolve_path)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Destination(Model):
    """Where an async result or a failed batch goes: ``function:NAME`` or ``queue:NAME``."""

    kind: Literal["function", "queue"]
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


def _parse_destination(value: Any) -> Any:
    if isinstance(value, str):
        kind, sep, name = value.partition(":")
        if not sep or kind not in ("function", "queue") or not name:
            raise ValueError(f"expected 'function:NAME' or 'queue:NAME', got {value!r}")
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


class S3Trigger(Model):
    bucket: str
    events: list[str] = Field(default_factory=lambda: ["s3:ObjectCreated:*"], min_length=1)
    prefix: str = Field(default="", max_length=1024)
    suffix: str = Field(default="", max_length=1024)
    id: str | None = None  # the notification configurationId; generated when absent

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str]) -> list[str]:
        unknown = [e for e in events if e not in S3_EVENT_TYPES]
        if unknown:
            raise ValueError(
                f"unknown S3 event type(s) {unknown}; expected some of {sorted(S3_EVENT_TYPES)}"
            )
        return events


class SqsTrigger(Model):
    queue: str
    batch_size: int = Field(default=10, ge=1, le=10000)
    batching_window: int = Field(default=0, ge=0, le=300)
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = Field(default=None, ge=2, le=1000)
    filters: Filters = Field(default_factory=list, max_length=10)
    enabled: bool = True

    @model_validator(mode="after")
    def _window_for_large_batches(self) -> SqsTrigger:
        if self.batch_size > 10 and self.batching_window < 1:
            raise ValueError("batch_size over 10 needs batching_window of at least 1 second")
        return self


class DynamoDbTrigger(Model):
    table: str
    starting_position: Literal["TRIM_HORIZON", "LATEST"]
    batch_size: int = Field(default=100, ge=1, le=10000)
    batching_window: int = Field(default=0, ge=0, le=300)
    maximum_retry_attempts: int = Field(default=-1, ge=-1, le=10000)
    maximum_record_age: int = Field(default=-1, ge=-1, le=604800)
    bisect_on_error: bool = False
    parallelization_factor: int = Field(default=1, ge=1, le=10)
    tumbling_window: int = Field(default=0, ge=0, le=900)
    on_failure: DestinationRef | None = None
    report_batch_item_failures: bool = False
    filters: Filters = Field(default_factory=list, max_length=10)
    enabled: bool = True

    @field_validator("maximum_record_age")
    @classmethod
    def _record_age(cls, value: int) -> int:
        if value != -1 and value < 60:
            raise ValueError("expected -1 (no limit) or 60..604800 seconds")
        return value


class ScheduleTrigger(Model):
    expression: str
    name: str | None = None
    input: Any = None
    timezone: str = "UTC"
    start: datetime | None = None
    end: datetime | None = None
    enabled: bool = True
    style: Literal["rule", "scheduler"] = "rule"
    run_on_start: bool = False
    jitter: bool = False  # fire at a random second of the minute, as AWS does; default :00

    @field_validator("expression")
    @classmethod
    def _expression(cls, value: str) -> str:
        try:
            cron.parse(value)
        except cron.ScheduleExpressionError as exc:
            raise ValueError(str(exc)) from None
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value


class HttpTrigger(Model):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"] = "ANY"
    path: str
    payload_version: Literal["1.0", "2.0"] = "2.0"

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"a route path starts with '/' (got {value!r})")
        return value

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


TRIGGER_KINDS = ("s3", "sqs", "dynamodb", "schedule", "http")


class Trigger(Model):
    """One entry of a function's ``triggers`` list: exactly one of the keys below."""

    s3: S3Trigger | None = None
    sqs: SqsTrigger | None = None
    dynamodb: DynamoDbTrigger | None = None
    schedule: ScheduleTrigger | None = None
    http: HttpTrigger | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Trigger:
        given = [kind for kind in TRIGGER_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a trigger has exactly one of {', '.join(TRIGGER_KINDS)}; got {given or 'none'}"
            )
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in TRIGGER_KINDS if getattr(self, kind) is not None)

    @property
    def spec(self) -> S3Trigger | SqsTrigger | DynamoDbTrigger | ScheduleTrigger | HttpTrigger:
        spec = getattr(self, self.kind)
        assert spec is not None
        return spec  # type: ignore[no-any-return]  # getattr over a fixed set of fields


# --- functions and resources --------------------------------------------------------------


class FunctionConfig(Model):
    handler: str = Field(min_length=1, pattern=r"^\S+$")
    code: ResolvedPath = Path(".")
    timeout: int = Field(default=3, ge=1, le=900)
    memory: int = Field(default=128, ge=128, le=10240)
    environment: dict[str, str] = Field(default_factory=dict)
    reserved_concurrency: int | None = Field(default=None, ge=0)
    isolation: Literal["process", "thread"] = "process"
    retries: int = Field(default=2, ge=0, le=2)
    max_event_age: int = Field(default=21600, ge=60, le=21600)
    on_success: DestinationRef | None = None
    on_failure: DestinationRef | None = None
    triggers: list[Trigger] = Field(default_factory=list)

    @field_validator("code")
    @classmethod
    def _code_exists(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"code folder {str(value)!r} does not exist")
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
    path: ResolvedPath
    announce_existing: bool = False  # on a first start (no manifest): Put every file found

    @field_validator("path")
    @classmethod
    def _folder(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{str(value)!r} exists and is not a folder")
        return value

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


class Redrive(Model):
    dead_letter_queue: str
    max_receive_count: int = Field(default=10, ge=1, le=1000)


class QueueConfig(Model):
    """SQS queue attributes, with AWS's names in snake_case (reference §3.4)."""

    visibility_timeout: int = Field(default=30, ge=0, le=43200)
    delay_seconds: int = Field(default=0, ge=0, le=900)
    message_retention_period: int = Field(default=345600, ge=60, le=1209600)
    maximum_message_size: int = Field(default=1048576, ge=1024, le=1048576)
    receive_message_wait_time_seconds: int = Field(default=0, ge=0, le=20)
    content_based_deduplication: bool = False
    redrive: Redrive | None = None
    persist: bool = False


KeyType = Literal["S", "N", "B"]
KEY_NAME = r'^[^"\\]+$'  # any name but quotes and backslashes (they would break the SQL layout)


class TableConfig(Model):
    partition_key: str = Field(min_length=1, max_length=255, pattern=KEY_NAME)
    partition_key_type: KeyType = "S"
    sort_key: str | None = Field(default=None, min_length=1, max_length=255, pattern=KEY_NAME)
    sort_key_type: KeyType = "S"
    stream: Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"] | None = None


class ServerConfig(Model):
    """Where ``eventsim up`` listens: the edge (AWS APIs) and the HTTP triggers."""

    host: str = "127.0.0.1"
    port: int = Field(default=8642, ge=0, le=65535)
    http_port: int = Field(default=3000, ge=0, le=65535)  # 0: any free port


class Config(Model):
    """A whole eventsim config. Build it with ``load_config`` or ``Config.from_dict``."""

    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    account: str = Field(default="123456789012", pattern=r"^\d{12}$")
    state_dir: ResolvedPath = Path(".eventsim")
    account_concurrency: int = Field(default=1000, ge=1)
    #: Environments eventsim runs at once per function; more concurrent requests wait for one.
    #: AWS would scale further; a laptop cannot run a thousand Python processes.
    max_environments: int = Field(default=10, ge=1, le=1000)
    idle_timeout: float = Field(default=DEFAULT_IDLE_TIMEOUT_S, gt=0)
    server: ServerConfig = Field(default_factory=ServerConfig)
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

    source: Path | None = Field(default=None, exclude=True)
    """The file this config was read from, if any (set by ``load_config``)."""

    @classmethod
    def from_dict(cls, data: dict[str, Any], base_dir: str | Path | None = None) -> Config:
        """Validate a config given as a dict; relative paths resolve against ``base_dir``."""
        return _validate(data, Path(base_dir or Path.cwd()), None, yamlpos.Positions())


def load_config(path: str | Path = DEFAULT_CONFIG_PATH) -> Config:
    """Read and validate a YAML config file; raise ``ConfigError`` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(str(path), None, None, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue(str(path), None, None, "", f"cannot read: {exc}")]) from None
    try:
        data, positions = yamlpos.load(text)
    except yamlpos.YamlError as exc:
        raise ConfigError(
            [
                ConfigIssue(str(path), p.line, p.column, yamlpos.dotted(p.path), p.message)
                for p in exc.problems
            ]
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigIssue(str(path), 1, 1, "", "expected a mapping of settings at the top level")]
        )
    return _validate(data, path.resolve().parent, path, positions)


def _validate(
    data: dict[str, Any], base_dir: Path, source: Path | None, positions: yamlpos.Positions
) -> Config:
    file = str(source) if source is not None else None

    def issue(path: yamlpos.Path, message: str) -> ConfigIssue:
        line, column = positions.find(path) or (None, None)
        return ConfigIssue(file, line, column, yamlpos.dotted(path), message)

    try:
        config = Config.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ConfigError(
            [
                issue(tuple(p for p in e["loc"] if p != "[key]"), error_message(e, Config))
                for e in exc.errors(include_url=False)
            ]
        ) from None
    problems = [issue(path, message) for path, message in check_references(config)]
    if problems:
        raise ConfigError(problems)
    return config.model_copy(update={"source": source.resolve() if source else None})
