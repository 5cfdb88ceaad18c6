"""SNS topics (``TopicConfig``) and EventBridge buses (``BusConfig``): queue subscriptions,
rules and their targets, and the pattern dialect each filter is checked in."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from ..errors import PatternError
from ..filters import EVENTBRIDGE, SNS_ATTRIBUTES, SNS_BODY, Pattern
from .fields import FilterPattern, Model
from .resources import QueueTags

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

    def aws_input(self) -> dict[str, Any]:
        """The input settings as a target's ``Input``, ``InputPath`` and ``InputTransformer``
        (what PutTargets takes and ListTargetsByRule answers; a template's ``Targets``)."""
        entry: dict[str, Any] = {}
        if self.input is not None:
            entry["Input"] = json.dumps(self.input)
        if self.input_path is not None:
            entry["InputPath"] = self.input_path
        if self.input_transformer is not None:
            entry["InputTransformer"] = {
                "InputPathsMap": self.input_transformer.input_paths_map,
                "InputTemplate": self.input_transformer.input_template,
            }
        return entry

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
