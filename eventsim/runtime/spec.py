"""A function as the runtime sees it, decided once from the config."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..config import Config, Destination, FunctionConfig
from ..unconfirmed import TZ, XRAY_DAEMON_ADDRESS

VERSION = "$LATEST"
EXECUTION_ENV = f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}"
_RUNTIME_DIR = str(Path(__file__).resolve().parent)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str
    code_dir: Path
    timeout_s: int
    memory_mb: int
    isolation: str
    reserved_concurrency: int | None
    region: str
    account: str
    user_environment: dict[str, str]
    retries: int = 2
    max_event_age_s: int = 21600
    on_success: Destination | None = None
    on_failure: Destination | None = None
    dead_letter: Destination | None = None  # a queue or topic
    inherit_env: tuple[str, ...] = ()  # names or globs of the developer's variables it may see

    @classmethod
    def from_config(cls, name: str, function: FunctionConfig, config: Config) -> FunctionSpec:
        return cls(
            name=name,
            handler=function.handler,
            code_dir=function.code,
            timeout_s=function.timeout,
            memory_mb=function.memory,
            isolation=function.isolation,
            reserved_concurrency=function.reserved_concurrency,
            region=config.region,
            account=config.account,
            user_environment=dict(function.environment),
            retries=function.retries,
            max_event_age_s=function.max_event_age,
            on_success=function.on_success,
            on_failure=function.on_failure,
            dead_letter=function.dead_letter_queue,
            inherit_env=tuple(function.inherit_env),
        )

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"

    @property
    def qualified_arn(self) -> str:
        return f"{self.arn}:{VERSION}"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"

    def log_stream(self, env_id: str, when: datetime) -> str:
        return f"{when:%Y/%m/%d}/[{VERSION}]{env_id}"

    def runtime_environment(self, log_stream: str) -> dict[str, str]:
        """The variables the Lambda runtime sets (docs/aws-behaviour.md §8.3), then the function's
        own (``runtime.environment.World`` adds the rest: credentials, endpoints, basics)."""
        env = {
            "_HANDLER": self.handler,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EXECUTION_ENV": EXECUTION_ENV,
            "AWS_LAMBDA_FUNCTION_NAME": self.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": VERSION,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": self.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
            "LAMBDA_TASK_ROOT": str(self.code_dir),
            "LAMBDA_RUNTIME_DIR": _RUNTIME_DIR,
            "TZ": TZ,
            "LANG": "en_US.UTF-8",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": XRAY_DAEMON_ADDRESS,
        }
        env.update(self.user_environment)
        return env
