"""A SAM function's ``Events`` as eventsim triggers.

Each event type has a small reader turning its ``Properties`` into one trigger (two for an
``SNS`` event with ``SqsSubscription``: the queue's subscription and its ``sqs`` trigger):

=================  ==========================================================================
``S3``             ``s3`` (Events, Filter.S3Key.Rules)
``SQS``            ``sqs`` (BatchSize, MaximumBatchingWindowInSeconds, ScalingConfig,
                   FunctionResponseTypes, FilterCriteria, Enabled)
``DynamoDB``       ``dynamodb`` (and the stream mapping's every setting)
``Schedule``       ``schedule``, an EventBridge rule
``ScheduleV2``     ``schedule`` with ``style: scheduler``
``Api``            ``http`` with payload 1.0 (REST)
``HttpApi``        ``http`` with PayloadFormatVersion (default 2.0)
``SNS``            ``sns`` (FilterPolicy, FilterPolicyScope, SqsSubscription)
``EventBridgeRule``, ``CloudWatchEvent``   ``eventbridge``
=================  ==========================================================================

A property eventsim does not honour is a notice at its line; an event type it has no trigger
for (Kinesis, MSK, IoT...) is one too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import names
from .build import MISSING, Builder, KeyPath
from .intrinsics import Unresolved
from .resources import s3_events, s3_filter

_UNSET: Any = object()


@dataclass
class Event:
    """One entry of a function's ``Events``, being read into a trigger."""

    builder: Builder
    function: str  # eventsim's name of the function
    function_id: str  # its logical id
    name: str  # the event's logical id
    properties: dict[str, Any]
    at: KeyPath  # the event's path in the template
    spec: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, KeyPath] = field(default_factory=dict)
    #: Where ``properties`` stand, if not under ``at``'s ``Properties`` (a rule's target).
    within: KeyPath | None = None

    def path(self, key: str) -> KeyPath:
        return (*(self.within or (*self.at, "Properties")), key)

    def get(self, key: str) -> Any:
        return self.builder.get(self.properties, key, self.path(key)[:-1])

    def take(self, option: str, key: str, convert: str = "", value: Any = _UNSET) -> Any:
        """``spec[option]`` from ``value`` if given, else from property ``key`` (``convert``:
        a ``Builder`` method); nothing if MISSING."""
        if value is _UNSET:
            value = self.get(key)
        if convert and value is not MISSING:
            value = getattr(self.builder, convert)(value, self.path(key))
        if value is not MISSING:
            self.spec[option] = value
            self.origins[option] = self.path(key)
        return value

    def add(self, kind: str) -> None:
        self.builder.add_trigger(self.function, kind, self.spec, self.at, self.origins)

    def notice(self, key: str, message: str) -> None:
        self.builder.notice(self.path(key), message)

    def generated_name(self, type_: str) -> str:
        """What CloudFormation names the resource SAM makes for this event."""
        return names.generated(self.builder.stack, f"{self.function_id}{self.name}", type_)


Reader = Callable[[Event], set[str]]

#: Properties that change nothing locally, per event type (taken without a notice).
QUIET = {
    "Schedule": {"Description"},
    "ScheduleV2": {
        "Description",
        "GroupName",
        "OmitName",
        "KmsKeyArn",
        "RoleArn",
        "PermissionsBoundary",
    },  # fmt: skip
    "SQS": {"KmsKeyArn", "MetricsConfig"},
    "DynamoDB": {"KmsKeyArn", "MetricsConfig"},
    "EventBridgeRule": {"Target"},
    "CloudWatchEvent": {"Target"},
    "HttpApi": {"TimeoutInMillis"},
    "Api": {"TimeoutInMillis"},
    "SNS": {"Region"},
}


def map_events(builder: Builder, function: str, function_id: str, events: Any,
               at: KeyPath) -> None:  # fmt: skip
    """Every event of one function as its triggers."""
    for name, event in builder.mapping(events, at).items():
        where: KeyPath = (*at, name)
        if not isinstance(event, dict) or "Type" not in event:
            builder.problem(where, "an event is a mapping with Type and Properties")
            continue
        type_ = str(event["Type"])
        reader = READERS.get(type_)
        if reader is None:
            builder.notice((*where, "Type"), f"event type {type_}: eventsim has no such "
                           "trigger; this event never fires")  # fmt: skip
            continue
        properties = builder.mapping(event.get("Properties") or {}, (*where, "Properties"))
        read = Event(builder, function, function_id, str(name), properties, where)
        handled = reader(read)
        for key in properties:
            if key not in handled and key not in QUIET.get(type_, set()):
                read.notice(key, f"{key}: not honoured by eventsim's {type_} trigger")


def read_filters(event: Event) -> None:
    """``FilterCriteria: {Filters: [{Pattern: JSON}]}`` as the trigger's ``filters``."""
    criteria = event.builder.mapping(event.get("FilterCriteria"), event.path("FilterCriteria"))
    patterns = []
    for index, item in enumerate(criteria.get("Filters") or []):
        where: KeyPath = (*event.path("FilterCriteria"), "Filters", index)
        pattern = item.get("Pattern") if isinstance(item, dict) else None
        if pattern is None:
            event.builder.problem(where, "a filter is {Pattern: JSON text}")
            continue
        value = event.builder.json_value(pattern, where)
        if value is not MISSING:
            patterns.append(value)
    if patterns:
        event.take("filters", "FilterCriteria", value=patterns)


def read_response_types(event: Event) -> None:
    types = event.get("FunctionResponseTypes")
    if isinstance(types, list) and "ReportBatchItemFailures" in types:
        event.take("report_batch_item_failures", "FunctionResponseTypes", value=True)


def _state(event: Event) -> None:
    """``Enabled`` (a boolean) or ``State`` (ENABLED, DISABLED) as ``enabled``."""
    state = event.get("State")
    if isinstance(state, str):
        event.take("enabled", "State", value=state.upper() != "DISABLED")
    else:
        event.take("enabled", "Enabled", "boolean")


def _s3(event: Event) -> set[str]:
    builder = event.builder
    bucket = event.get("Bucket")
    if bucket is MISSING:
        return {"Bucket"}
    if bucket not in builder.data.get("buckets", {}):
        builder.problem(event.path("Bucket"), f"{bucket}: an S3 event's Bucket is a bucket of "
                        "this template (!Ref BucketLogicalId)")  # fmt: skip
        return {"Bucket", "Events", "Filter"}
    event.take("bucket", "Bucket", value=bucket)
    events = event.get("Events")
    if events is not MISSING:
        known = s3_events(builder, events, event.path("Events"))
        if not known:
            return {"Bucket", "Events", "Filter"}
        event.take("events", "Events", value=known)
    for option, value in s3_filter(builder, event.get("Filter"), event.path("Filter")).items():
        event.take(option, "Filter", value=value)
    event.add("s3")
    return {"Bucket", "Events", "Filter"}


def _sqs(event: Event) -> set[str]:
    queue = event.builder.queue_named(event.get("Queue"), event.path("Queue"))
    handled = {"Queue", "BatchSize", "MaximumBatchingWindowInSeconds", "ScalingConfig",
               "FunctionResponseTypes", "FilterCriteria", "Enabled"}  # fmt: skip
    if queue is None:
        return handled
    event.take("queue", "Queue", value=queue)
    event.take("batch_size", "BatchSize", "integer")
    event.take("batching_window", "MaximumBatchingWindowInSeconds", "integer")
    scaling = event.builder.mapping(event.get("ScalingConfig"), event.path("ScalingConfig"))
    if "MaximumConcurrency" in scaling:
        event.take("maximum_concurrency", "ScalingConfig", "integer",
                   scaling["MaximumConcurrency"])  # fmt: skip
    read_response_types(event)
    read_filters(event)
    event.take("enabled", "Enabled", "boolean")
    event.add("sqs")
    return handled


STREAM_OPTIONS = {
    "BatchSize": "batch_size",
    "MaximumBatchingWindowInSeconds": "batching_window",
    "MaximumRetryAttempts": "maximum_retry_attempts",
    "MaximumRecordAgeInSeconds": "maximum_record_age",
    "ParallelizationFactor": "parallelization_factor",
    "TumblingWindowInSeconds": "tumbling_window",
}


def stream_trigger(event: Event, arn: Any) -> None:
    """The settings of a DynamoDB stream mapping (a SAM event or an EventSourceMapping)."""
    builder = event.builder
    if arn is MISSING:  # absent (the config says it is required) or unresolved (recorded)
        return
    table = names.name_from_arn(arn, "dynamodb") if isinstance(arn, str) else None
    key = "Stream" if "Stream" in event.properties else "EventSourceArn"
    if table is None:
        builder.problem(event.path(key), f"expected a DynamoDB stream ARN, got {arn!r}")
        return
    if table not in builder.data.get("tables", {}):
        event.notice(key, f"the table {table} is not in the template: eventsim does not know "
                     "its keys, and this stream mapping never runs")  # fmt: skip
        return
    event.take("table", key, value=table)
    position = event.get("StartingPosition")
    if position == "AT_TIMESTAMP":
        event.notice("StartingPosition", "AT_TIMESTAMP: eventsim starts at LATEST")
        position = "LATEST"
    event.take("starting_position", "StartingPosition", value=position)
    if "StartingPositionTimestamp" in event.properties:
        event.notice("StartingPositionTimestamp", "StartingPositionTimestamp: eventsim starts "
                     "at LATEST")  # fmt: skip
    for prop, option in STREAM_OPTIONS.items():
        event.take(option, prop, "integer")
    event.take("bisect_on_error", "BisectBatchOnFunctionError", "boolean")
    config = builder.mapping(event.get("DestinationConfig"), event.path("DestinationConfig"))
    failure = builder.mapping(config.get("OnFailure"), event.path("DestinationConfig"))
    if failure:
        where = (*event.path("DestinationConfig"), "OnFailure")
        target = builder.destination(failure.get("Destination"), failure.get("Type"), where)
        if target is not None and target.startswith(("queue:", "topic:")):
            event.take("on_failure", "DestinationConfig", value=target)
        elif target is not None:
            builder.notice(where, "a stream mapping's on-failure destination is a queue or a "
                           "topic in eventsim; this one receives nothing")  # fmt: skip
    read_response_types(event)
    read_filters(event)
    event.take("enabled", "Enabled", "boolean")
    event.add("dynamodb")


def _dynamodb(event: Event) -> set[str]:
    stream_trigger(event, event.get("Stream"))
    return {"Stream", "StartingPosition", "StartingPositionTimestamp", "BisectBatchOnFunctionError",
            "DestinationConfig", "FunctionResponseTypes", "FilterCriteria", "Enabled",
            *STREAM_OPTIONS}  # fmt: skip


def _schedule(event: Event) -> set[str]:
    event.take("expression", "Schedule", "string")
    name = event.get("Name")
    event.take("name", "Name", value=name if name else event.generated_name(names.RULE))
    event.take("input", "Input", "json_value")
    _state(event)
    for key in ("RetryPolicy", "DeadLetterConfig"):
        if key in event.properties:
            event.notice(key, f"{key}: eventsim's schedules invoke the function asynchronously "
                         "(Lambda's retries apply); the rule's own is not simulated")  # fmt: skip
    event.add("schedule")
    return {"Schedule", "Name", "Input", "State", "Enabled", "RetryPolicy", "DeadLetterConfig"}


def _schedule_v2(event: Event) -> set[str]:
    event.take("expression", "ScheduleExpression", "string")
    event.take("timezone", "ScheduleExpressionTimezone", "string")
    name = event.get("Name")
    event.take("name", "Name", value=name if name else f"{event.function_id}{event.name}"[:64])
    event.take("input", "Input", "json_value")
    event.take("start", "StartDate")
    event.take("end", "EndDate")
    _state(event)
    window = event.builder.mapping(event.get("FlexibleTimeWindow"),
                                   event.path("FlexibleTimeWindow"))  # fmt: skip
    if str(window.get("Mode", "OFF")).upper() != "OFF":
        event.notice("FlexibleTimeWindow", "FlexibleTimeWindow: eventsim fires at the scheduled "
                     "time exactly")  # fmt: skip
    for key in ("RetryPolicy", "DeadLetterConfig"):
        if key in event.properties:
            event.notice(
                key,
                f"{key}: eventsim's schedules invoke the function asynchronously "
                "(Lambda's retries apply); the schedule's own is not simulated",
            )
    event.spec["style"] = "scheduler"
    event.add("schedule")
    return {"ScheduleExpression", "ScheduleExpressionTimezone", "Name", "Input", "StartDate",
            "EndDate", "State", "Enabled", "FlexibleTimeWindow", "RetryPolicy",
            "DeadLetterConfig"}  # fmt: skip


def _route(event: Event, api_key: str, implicit: str, rest: bool) -> None:
    method = event.get("Method")
    if isinstance(method, str):
        upper = method.upper()
        event.take("method", "Method", value="ANY" if upper.endswith("ANY-METHOD") else upper)
    event.take("path", "Path", "string")
    raw = event.properties.get(api_key)
    api = raw.get("Ref") if isinstance(raw, dict) and isinstance(raw.get("Ref"), str) else None
    if raw is not None and api is None:
        event.notice(api_key, f"{api_key}: eventsim serves every route on one port, whichever "
                     "API it belongs to")  # fmt: skip
    try:
        stage = event.builder.resolver.stage(api or implicit, rest)
    except Unresolved as exc:
        event.builder.problem(exc.path, exc.message)
    else:
        if stage != ("prod" if rest else "$default"):  # not eventsim's own default
            event.spec["stage"] = stage
    auth = event.builder.mapping(event.get("Auth"), event.path("Auth"))
    if auth and auth.get("Authorizer") != "NONE":
        event.notice("Auth", "Auth: eventsim does not run authorizers; every request reaches "
                     "the function")  # fmt: skip


def _api(event: Event) -> set[str]:
    _route(event, "RestApiId", "ServerlessRestApi", rest=True)
    event.spec["payload_version"] = "1.0"  # a REST API's (api: rest is then implied)
    event.add("http")
    return {"Path", "Method", "RestApiId", "Auth"}


def _http_api(event: Event) -> set[str]:
    default = "Path" not in event.properties and "Method" not in event.properties
    if default:
        event.builder.notice(
            event.at,
            "the $default route: eventsim routes ANY / and ANY "
            "/{proxy+} to the function (routeKey: those, not $default)",
        )
        event.spec.update(method="ANY", path="/")
    _route(event, "ApiId", "ServerlessHttpApi", rest=False)
    version = event.get("PayloadFormatVersion")
    event.take("payload_version", "PayloadFormatVersion", "string", version)
    if event.spec.get("payload_version") == "1.0":
        event.spec["api"] = "http"  # else a REST API's format
    event.add("http")
    if default:  # every other path too
        event.spec = {**event.spec, "path": "/{proxy+}"}
        event.add("http")
    return {"Path", "Method", "ApiId", "Auth", "PayloadFormatVersion"}


def _sns(event: Event) -> set[str]:
    builder = event.builder
    handled = {"Topic", "FilterPolicy", "FilterPolicyScope", "SqsSubscription"}
    topic = builder.topic_named(event.get("Topic"), event.path("Topic"))
    if topic is None:
        return handled
    policy = event.get("FilterPolicy")
    policy = builder.json_value(policy, event.path("FilterPolicy"))
    scope = event.get("FilterPolicyScope")
    subscription = event.get("SqsSubscription")
    if subscription is MISSING or subscription is False:
        event.take("topic", "Topic", value=topic)
        event.take("filter_policy", "FilterPolicy", value=policy)
        event.take("filter_policy_scope", "FilterPolicyScope", value=scope)
        event.add("sns")
        return handled
    # SAM puts a queue between the topic and the function: the topic's subscription, then an
    # SQS mapping from it.
    settings = subscription if isinstance(subscription, dict) else {}
    where = event.path("SqsSubscription")
    if "QueueArn" in settings:
        queue = builder.queue_named(settings["QueueArn"], where)
    else:
        logical = f"{event.function_id}{event.name}Queue"
        queue = names.generated(builder.stack, logical, names.QUEUE)
        builder.entry("queues", queue, where, logical)
    if queue is None:
        return handled
    entry: dict[str, Any] = {"queue": queue}
    if policy is not MISSING:
        entry["filter_policy"] = policy
    if scope is not MISSING:
        entry["filter_policy_scope"] = scope
    subscriptions = builder.data["topics"][topic].setdefault("subscriptions", [])
    builder.origins[("topics", topic, "subscriptions", len(subscriptions))] = where
    subscriptions.append(entry)
    event.take("queue", "SqsSubscription", value=queue)
    event.take("batch_size", "SqsSubscription", "integer", settings.get("BatchSize", MISSING))
    event.take("enabled", "SqsSubscription", "boolean", settings.get("Enabled", MISSING))
    event.add("sqs")
    return handled


def rule_target(event: Event) -> None:
    """A rule target's input, retry policy and dead-letter queue: a SAM event's, or a
    CloudFormation rule's target (the same keys)."""
    builder = event.builder
    event.take("input", "Input", "json_value")
    event.take("input_path", "InputPath", "string")
    transformer = builder.mapping(event.get("InputTransformer"), event.path("InputTransformer"))
    if transformer:
        value = {"input_paths_map": transformer.get("InputPathsMap", {}),
                 "input_template": transformer.get("InputTemplate")}  # fmt: skip
        event.take("input_transformer", "InputTransformer", value=value)
    retry = builder.mapping(event.get("RetryPolicy"), event.path("RetryPolicy"))
    if retry:
        policy = {}
        for key, option in (("MaximumRetryAttempts", "maximum_retry_attempts"),
                            ("MaximumEventAgeInSeconds", "maximum_event_age")):  # fmt: skip
            value = builder.integer(retry.get(key, MISSING), event.path("RetryPolicy"))
            if value is not MISSING:
                policy[option] = value
        event.take("retry_policy", "RetryPolicy", value=policy)
    dead = builder.mapping(event.get("DeadLetterConfig"), event.path("DeadLetterConfig"))
    if "Arn" in dead:
        queue = builder.queue_named(dead["Arn"], event.path("DeadLetterConfig"))
        event.take("dead_letter_queue", "DeadLetterConfig", value=queue or MISSING)
    elif dead.get("Type") == "SQS":  # SAM makes the queue
        logical = str(dead.get("QueueLogicalId") or f"{event.function_id}{event.name}Queue")
        queue = names.generated(builder.stack, logical, names.QUEUE)
        builder.entry("queues", queue, event.path("DeadLetterConfig"), logical)
        event.take("dead_letter_queue", "DeadLetterConfig", value=queue)


def bus_named(builder: Builder, value: Any, at: KeyPath) -> str:
    """The bus a name or ARN names (``default`` if none); one outside the template is made."""
    if value is MISSING or value is None:
        return "default"
    name = str(value)
    if name.startswith("arn:"):
        name = name.rsplit("/", 1)[-1]
    if name != "default" and name not in builder.data.get("buses", {}):
        builder.notice(at, f"the bus {name} is not in the template: eventsim makes it")
        builder.entry("buses", name, at)
    return name


def _eventbridge(event: Event) -> set[str]:
    event.take("pattern", "Pattern", "json_value")
    bus = bus_named(event.builder, event.get("EventBusName"), event.path("EventBusName"))
    if bus != "default":
        event.take("bus", "EventBusName", value=bus)
    name = event.get("RuleName")
    event.take("rule", "RuleName", value=name if name else event.generated_name(names.RULE))
    rule_target(event)
    _state(event)
    event.add("eventbridge")
    return {"Pattern", "EventBusName", "RuleName", "Input", "InputPath", "InputTransformer",
            "RetryPolicy", "DeadLetterConfig", "State", "Enabled"}  # fmt: skip


READERS: dict[str, Reader] = {
    "S3": _s3,
    "SQS": _sqs,
    "DynamoDB": _dynamodb,
    "Schedule": _schedule,
    "ScheduleV2": _schedule_v2,
    "Api": _api,
    "HttpApi": _http_api,
    "SNS": _sns,
    "EventBridgeRule": _eventbridge,
    "CloudWatchEvent": _eventbridge,
}
