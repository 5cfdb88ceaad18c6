"""A function's settings (``FunctionConfig``): handler, code, limits, environment, async
retries and destinations, triggers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from .fields import Destination, DestinationRef, EnvGlob, Model, ResolvedPath
from .triggers import Trigger

#: A function's name as AWS accepts it.
FUNCTION_NAME = r"^[A-Za-z0-9_-]{1,64}$"
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
