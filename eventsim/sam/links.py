"""Resources that connect others to functions, as triggers, subscriptions and rules: what a
CloudFormation template (or a SAM one beside its ``Events``) says with resources.

=====================================  ====================================================
``AWS::Lambda::EventSourceMapping``    an ``sqs`` or ``dynamodb`` trigger
``AWS::Lambda::EventInvokeConfig``     the function's ``retries``, ``max_event_age``,
                                       ``on_success``, ``on_failure``
``AWS::SNS::Subscription``, a topic's  an ``sns`` trigger (``lambda``) or a topic's queue
``Subscription`` property              subscription (``sqs``)
``AWS::Events::Rule``                  ``eventbridge`` triggers (function targets), a bus rule
                                       (queue and topic targets), or ``schedule`` triggers
``AWS::Scheduler::Schedule``           a ``schedule`` trigger with ``style: scheduler``
an S3 bucket's ``LambdaConfigurations``  ``s3`` triggers
=====================================  ====================================================

Every other resource type is a notice: IAM and resource policies (eventsim checks no
permission), log groups, alarms, state machines... each named with its line.
"""

from __future__ import annotations

from typing import Any

from . import names
from .build import MISSING, Builder, KeyPath
from .events import (
    Event,
    bus_named,
    read_filters,
    read_response_types,
    rule_target,
    stream_trigger,
)
from .resources import s3_events, s3_filter

#: Types whose resources change nothing locally, taken without a notice.
QUIET = frozenset(
    {"AWS::CloudFormation::WaitConditionHandle", "AWS::CDK::Metadata",
     "AWS::Serverless::Application"}  # the last: noticed by the caller, with its name
)  # fmt: skip
PERMISSIONS = frozenset(
    {"AWS::Lambda::Permission", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy",
     "AWS::S3::BucketPolicy", "AWS::Events::EventBusPolicy"}
)  # fmt: skip
#: Properties of an API that eventsim takes without a notice.
API_QUIET = frozenset(
    {"Name", "Description", "Tags", "StageName", "OpenApiVersion", "EndpointConfiguration",
     "PropagateTags", "DisableExecuteApiEndpoint", "FailOnWarnings", "AlwaysDeploy"}
)  # fmt: skip


def map_links(builder: Builder, found: dict[str, dict[str, Any]]) -> None:
    """Triggers, subscriptions and rules from the resources that make them."""
    for logical_id, resource in found.items():
        type_ = resource["Type"]
        at: KeyPath = ("Resources", logical_id)
        properties = builder.mapping(resource.get("Properties") or {}, (*at, "Properties"))
        if type_ == "AWS::Lambda::EventSourceMapping":
            _event_source_mapping(builder, logical_id, properties, at)
        elif type_ == "AWS::Lambda::EventInvokeConfig":
            _invoke_config(builder, properties, at)
        elif type_ == "AWS::SNS::Subscription":
            _subscription(builder, properties, (*at, "Properties"))
        elif type_ == names.TOPIC:
            topic = builder.named.get(logical_id, ("", ""))[1]
            for index, item in enumerate(builder.get(properties, "Subscription",
                                                     (*at, "Properties")) or []):  # fmt: skip
                where: KeyPath = (*at, "Properties", "Subscription", index)
                item = builder.mapping(item, where)
                _subscribe(builder, topic, item, where)
        elif type_ == names.RULE:
            _rule(builder, logical_id, properties, at)
        elif type_ == names.SCHEDULE:
            _schedule(builder, logical_id, properties, at)
        elif type_ == names.BUCKET and logical_id in builder.named:
            _bucket_notifications(builder, logical_id, properties, at)
        elif type_ in PERMISSIONS or type_.startswith("AWS::IAM::"):
            builder.notice(at, f"{type_}: eventsim checks no permissions; every call is allowed")
        elif type_ in names.REST_APIS or type_ in names.HTTP_APIS:
            api_notices(builder, logical_id, type_, properties, (*at, "Properties"))
        elif type_ in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            builder.notice(at, f"{type_}: layers are not added to handlers' path; install what "
                           "the layer holds where eventsim runs")  # fmt: skip
        elif type_ == "AWS::Logs::LogGroup":
            builder.notice(at, "AWS::Logs::LogGroup: functions' logs go to state_dir/logs/")
        elif not _simulated(type_) and type_ not in QUIET:
            builder.notice(at, f"{type_}: not simulated by eventsim")


def _simulated(type_: str) -> bool:
    return (
        type_ in names.FUNCTIONS
        or type_ in names.TABLES
        or type_ in (names.QUEUE, names.TOPIC, names.BUCKET, names.BUS)
    )


def api_notices(builder: Builder, logical_id: str, type_: str, properties: dict[str, Any],
                at: KeyPath) -> None:  # fmt: skip
    """What an API's own properties (or ``Globals.Api``) say that eventsim does not do."""
    for key in properties:
        if key not in API_QUIET:
            builder.notice((*at, key), f"{key}: not honoured by eventsim's HTTP triggers")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _event_source_mapping(builder: Builder, logical_id: str, properties: dict[str, Any],
                          at: KeyPath) -> None:  # fmt: skip
    where: KeyPath = (*at, "Properties")
    function = builder.function_named(builder.get(properties, "FunctionName", where),
                                      (*where, "FunctionName"))  # fmt: skip
    arn = builder.get(properties, "EventSourceArn", where)
    if function is None or arn is MISSING:
        return
    fid = next((k for k, v in builder.aliases.get("functions", {}).items() if v == function),
               function)  # fmt: skip
    event = Event(builder, function, fid, logical_id, properties, at)
    service = str(arn).split(":")[2] if str(arn).count(":") >= 5 else ""
    if service == "sqs":
        queue = builder.queue_named(arn, (*where, "EventSourceArn"))
        if queue is None:
            return
        event.take("queue", "EventSourceArn", value=queue)
        event.take("batch_size", "BatchSize", "integer")
        event.take("batching_window", "MaximumBatchingWindowInSeconds", "integer")
        scaling = builder.mapping(event.get("ScalingConfig"), event.path("ScalingConfig"))
        if "MaximumConcurrency" in scaling:
            event.take("maximum_concurrency", "ScalingConfig", "integer",
                       scaling["MaximumConcurrency"])  # fmt: skip
        read_response_types(event)
        read_filters(event)
        event.take("enabled", "Enabled", "boolean")
        event.add("sqs")
    elif service == "dynamodb":
        stream_trigger(event, arn)
    else:
        builder.notice((*where, "EventSourceArn"), f"event source {arn}: eventsim maps SQS "
                       "queues and DynamoDB streams only; this mapping never runs")  # fmt: skip


def invoke_config(builder: Builder, function: str, config: dict[str, Any],
                  at: KeyPath) -> None:  # fmt: skip
    """``EventInvokeConfig`` (SAM) or ``AWS::Lambda::EventInvokeConfig``'s settings."""
    entry = builder.data["functions"][function]
    base: KeyPath = ("functions", function)
    for key, option in (("MaximumRetryAttempts", "retries"),
                        ("MaximumEventAgeInSeconds", "max_event_age")):  # fmt: skip
        value = builder.integer(builder.get(config, key, at), (*at, key))
        builder.put(entry, base, option, value, (*at, key))
    destinations = builder.mapping(builder.get(config, "DestinationConfig", at),
                                   (*at, "DestinationConfig"))  # fmt: skip
    for key, option in (("OnSuccess", "on_success"), ("OnFailure", "on_failure")):
        where: KeyPath = (*at, "DestinationConfig", key)
        target = builder.mapping(destinations.get(key), where)
        if not target:
            continue
        arn = target.get("Destination")
        if arn is None and target.get("Type") == "SQS":  # SAM makes the queue
            logical = f"{function}EventInvokeConfig{key}Queue"
            queue = names.generated(builder.stack, logical, names.QUEUE)
            builder.entry("queues", queue, where, logical)
            chosen: str | None = f"queue:{queue}"
        elif arn is None:
            builder.notice(
                where,
                f"a {target.get('Type')} destination SAM would make: eventsim makes only an "
                "SQS one (give the destination's ARN)",
            )
            chosen = None
        else:
            chosen = builder.destination(arn, target.get("Type"), where)
        builder.put(entry, base, option, chosen if chosen else MISSING, where)


def _invoke_config(builder: Builder, properties: dict[str, Any], at: KeyPath) -> None:
    where: KeyPath = (*at, "Properties")
    function = builder.function_named(builder.get(properties, "FunctionName", where),
                                      (*where, "FunctionName"))  # fmt: skip
    qualifier = builder.get(properties, "Qualifier", where)
    if qualifier not in ("$LATEST", MISSING):
        builder.notice((*where, "Qualifier"), f"Qualifier {qualifier}: eventsim has no versions "
                       "or aliases; the settings apply to the function")  # fmt: skip
    if function is not None:
        invoke_config(builder, function, properties, where)


def _subscription(builder: Builder, properties: dict[str, Any], at: KeyPath) -> None:
    topic = builder.topic_named(builder.get(properties, "TopicArn", at), (*at, "TopicArn"))
    if topic is not None:
        _subscribe(builder, topic, properties, at)


def _subscribe(builder: Builder, topic: str, properties: dict[str, Any], at: KeyPath) -> None:
    """A subscription of ``topic``: a function (``lambda``) or a queue (``sqs``)."""
    if not topic:
        return
    protocol = builder.get(properties, "Protocol", at)
    endpoint = builder.get(properties, "Endpoint", at)
    policy = builder.json_value(builder.get(properties, "FilterPolicy", at),
                                (*at, "FilterPolicy"))  # fmt: skip
    scope = builder.get(properties, "FilterPolicyScope", at)
    for key in ("RedrivePolicy", "DeliveryPolicy", "ReplayPolicy"):
        if key in properties:
            builder.notice((*at, key), f"{key}: not honoured by eventsim's topics")
    if protocol == "lambda":
        function = builder.function_named(endpoint, (*at, "Endpoint"))
        if function is None:
            return
        spec: dict[str, Any] = {"topic": topic}
        origins = {"topic": (*at, "TopicArn")}
        for option, value, key in (
            ("filter_policy", policy, "FilterPolicy"),
            ("filter_policy_scope", scope, "FilterPolicyScope"),
        ):
            if value is not MISSING:
                spec[option] = value
                origins[option] = (*at, key)
        builder.add_trigger(function, "sns", spec, at, origins)
    elif protocol == "sqs":
        queue = builder.queue_named(endpoint, (*at, "Endpoint"))
        if queue is None:
            return
        entry: dict[str, Any] = {"queue": queue}
        raw = builder.boolean(builder.get(properties, "RawMessageDelivery", at),
                              (*at, "RawMessageDelivery"))  # fmt: skip
        for option, value in (("raw_message_delivery", raw), ("filter_policy", policy),
                              ("filter_policy_scope", scope)):  # fmt: skip
            if value is not MISSING:
                entry[option] = value
        subscriptions = builder.data["topics"][topic].setdefault("subscriptions", [])
        builder.origins[("topics", topic, "subscriptions", len(subscriptions))] = at
        subscriptions.append(entry)
    elif protocol is not MISSING:
        builder.notice((*at, "Protocol"), f"protocol {protocol}: eventsim's topics deliver to "
                       "functions and queues only")  # fmt: skip


def _rule(builder: Builder, logical_id: str, properties: dict[str, Any], at: KeyPath) -> None:
    where: KeyPath = (*at, "Properties")
    name = builder.physical(logical_id)
    if name is None:
        return
    bus = bus_named(builder, builder.get(properties, "EventBusName", where),
                    (*where, "EventBusName"))  # fmt: skip
    state = builder.get(properties, "State", where)
    enabled = state is MISSING or str(state).upper() != "DISABLED"
    schedule = builder.get(properties, "ScheduleExpression", where)
    pattern = builder.json_value(builder.get(properties, "EventPattern", where),
                                 (*where, "EventPattern"))  # fmt: skip
    others: list[dict[str, Any]] = []
    targets = builder.get(properties, "Targets", where)
    for index, target in enumerate(targets if isinstance(targets, list) else []):
        target_at: KeyPath = (*where, "Targets", index)
        target = builder.mapping(target, target_at)
        arn = str(target.get("Arn", ""))
        service = arn.split(":")[2] if arn.count(":") >= 5 else ""
        if service == "lambda":
            function = builder.function_named(arn, (*target_at, "Arn"))
            if function is None:
                continue
            event = Event(builder, function, function, logical_id, target, target_at,
                          within=target_at)  # fmt: skip
            _target_event(builder, event, name, bus, pattern, schedule, enabled, target_at)
        elif service in ("sqs", "sns") and schedule is MISSING:
            others.append(_rule_target(builder, target, service, target_at))
        else:
            builder.notice(
                (*target_at, "Arn"),
                f"target {arn or '?'}: eventsim's rules target "
                "functions, queues and topics (schedules: functions only)",
            )
    others = [t for t in others if t]
    if others and pattern is not MISSING:
        rules = builder.data.setdefault("buses", {}).setdefault(bus, {}).setdefault("rules", {})
        # A rule with function targets is the functions' triggers' (eventbridge triggers name
        # their rule); its queue and topic targets go to a twin rule with the same pattern.
        own = any(name == t.get("eventbridge", {}).get("rule")
                  for f in builder.data.get("functions", {}).values()
                  for t in f.get("triggers", []))  # fmt: skip
        rule_name = f"{name[:60]}-sqs" if own else name
        rules[rule_name] = {"pattern": pattern, "enabled": enabled, "targets": others}
        builder.origins[("buses", bus, "rules", rule_name)] = at


def _target_event(builder: Builder, event: Event, name: str, bus: str, pattern: Any,
                  schedule: Any, enabled: bool, at: KeyPath) -> None:  # fmt: skip
    """A rule's function target as an eventbridge or schedule trigger."""
    event.spec["enabled"] = enabled
    if schedule is not MISSING:
        event.spec.update(expression=schedule, name=name)
        event.origins["expression"] = at
        value = builder.json_value(builder.get(event.properties, "Input", at), (*at, "Input"))
        if value is not MISSING:
            event.spec["input"] = value
        for key in ("InputPath", "InputTransformer", "RetryPolicy", "DeadLetterConfig"):
            if key in event.properties:
                builder.notice((*at, key), f"{key}: not honoured by eventsim's schedules")
        event.add("schedule")
        return
    event.spec.update(pattern=pattern, rule=name)
    if bus != "default":
        event.spec["bus"] = bus
    rule_target(event)
    event.add("eventbridge")


def _rule_target(builder: Builder, target: dict[str, Any], service: str,
                 at: KeyPath) -> dict[str, Any]:  # fmt: skip
    """A queue or topic target of a rule, as a bus rule's target."""
    entry: dict[str, Any] = {}
    arn = target["Arn"]
    name = (
        builder.queue_named(arn, (*at, "Arn"))
        if service == "sqs"
        else builder.topic_named(arn, (*at, "Arn"))
    )
    if name is None:
        return {}
    entry["queue" if service == "sqs" else "topic"] = name
    event = Event(builder, "", "", "", target, at, within=at)
    rule_target(event)
    entry.update(event.spec)
    group = builder.mapping(target.get("SqsParameters"), at).get("MessageGroupId")
    if group is not None:
        entry["message_group_id"] = group
    return entry


def _schedule(builder: Builder, logical_id: str, properties: dict[str, Any],
              at: KeyPath) -> None:  # fmt: skip
    where: KeyPath = (*at, "Properties")
    target = builder.mapping(builder.get(properties, "Target", where), (*where, "Target"))
    arn = str(target.get("Arn", ""))
    if not arn.startswith("arn:") or arn.split(":")[2] != "lambda":
        builder.notice((*where, "Target"), f"target {arn or '?'}: eventsim's schedules invoke "
                       "functions only")  # fmt: skip
        return
    function = builder.function_named(arn, (*where, "Target", "Arn"))
    if function is None:
        return
    event = Event(builder, function, function, logical_id, properties, at)
    event.take("expression", "ScheduleExpression", "string")
    event.take("timezone", "ScheduleExpressionTimezone", "string")
    event.take("name", "Name", value=builder.physical(logical_id) or MISSING)
    event.take("start", "StartDate")
    event.take("end", "EndDate")
    state = event.get("State")
    if isinstance(state, str):
        event.take("enabled", "State", value=state.upper() != "DISABLED")
    if "Input" in target:
        event.take("input", "Target", "json_value", target["Input"])
    window = builder.mapping(event.get("FlexibleTimeWindow"), event.path("FlexibleTimeWindow"))
    if str(window.get("Mode", "OFF")).upper() != "OFF":
        event.notice("FlexibleTimeWindow", "FlexibleTimeWindow: eventsim fires at the "
                     "scheduled time exactly")  # fmt: skip
    for key in ("RetryPolicy", "DeadLetterConfig"):
        if key in target:
            builder.notice((*where, "Target", key), f"{key}: eventsim's schedules invoke the "
                           "function asynchronously (Lambda's retries apply); the schedule's "
                           "own is not simulated")  # fmt: skip
    event.spec["style"] = "scheduler"
    event.add("schedule")


def _bucket_notifications(builder: Builder, logical_id: str, properties: dict[str, Any],
                          at: KeyPath) -> None:  # fmt: skip
    """A bucket's ``NotificationConfiguration.LambdaConfigurations`` as ``s3`` triggers."""
    where: KeyPath = (*at, "Properties", "NotificationConfiguration")
    notifications = builder.mapping(builder.get(properties, "NotificationConfiguration",
                                                (*at, "Properties")), where)  # fmt: skip
    bucket = builder.named[logical_id][1]
    configurations = notifications.get("LambdaConfigurations") or []
    for index, item in enumerate(configurations if isinstance(configurations, list) else []):
        item_at: KeyPath = (*where, "LambdaConfigurations", index)
        item = builder.mapping(item, item_at)
        function = builder.function_named(item.get("Function"), (*item_at, "Function"))
        if function is None:
            continue
        known = s3_events(builder, item.get("Event"), (*item_at, "Event"))
        if not known:
            continue
        spec: dict[str, Any] = {"bucket": bucket, "events": known}
        spec.update(s3_filter(builder, item.get("Filter"), (*item_at, "Filter")))
        builder.add_trigger(function, "s3", spec, item_at, {"events": (*item_at, "Event")})
