"""``export sam``'s functions: each function as an ``AWS::Serverless::Function``, its triggers
as SAM events, and the policy templates its triggers and destinations need (marked: the
handler's own calls are not known)."""

from __future__ import annotations

import json
import sys
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from ..config import Destination, FunctionConfig
from ..triggers.base import TriggerRef
from ..triggers.eventbridge import rule_name
from ..triggers.schedule import schedule_name
from .cfn import (
    Export,
    GetAtt,
    Ref,
    Sub,
    bucket_name,
    camel,
    logical_id,
    relative,
    target_input,
)

#: Python runtimes Lambda offers; the local version is exported when it is one of them.
PYTHON_RUNTIMES = tuple(f"python3.{minor}" for minor in range(9, 15))
FALLBACK_RUNTIME = "python3.12"


def _runtime() -> str:
    local = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return local if local in PYTHON_RUNTIMES else FALLBACK_RUNTIME


def export_function(export: Export, name: str, function: FunctionConfig) -> None:
    """The function's ``AWS::Serverless::Function``, with its events and policies."""
    logical = logical_id(export, "functions", name)
    properties: dict[str, Any] = {
        "FunctionName": name,
        "Handler": function.handler,
        "CodeUri": relative(export, function.code),
        "Runtime": _runtime(),
    }
    export.mark((logical, "Properties", "Runtime"), "the Python eventsim ran the handler with")
    export.mark((logical, "Properties", "FunctionName"), "eventsim's name; else AWS makes one")
    given = function.model_dump(exclude_defaults=True)
    for option, key in (("timeout", "Timeout"), ("memory", "MemorySize"),
                        ("reserved_concurrency", "ReservedConcurrentExecutions")):  # fmt: skip
        if option in given:
            properties[key] = given[option]
    if function.environment:
        properties["Environment"] = {"Variables": dict(function.environment)}
    policies: list[Any] = []
    invoke: dict[str, Any] = {}
    if "retries" in given:
        invoke["MaximumRetryAttempts"] = function.retries
    if "max_event_age" in given:
        invoke["MaximumEventAgeInSeconds"] = function.max_event_age
    destinations = {}
    for option, key in (("on_success", "OnSuccess"), ("on_failure", "OnFailure")):
        destination: Destination | None = getattr(function, option)
        if destination is not None:
            destinations[key] = _destination(export, destination, policies)
    if destinations:
        invoke["DestinationConfig"] = destinations
    if invoke:
        properties["EventInvokeConfig"] = invoke
    dead_letter = function.dead_letter_queue
    if dead_letter is not None:
        kind = "SQS" if dead_letter.kind == "queue" else "SNS"
        properties["DeadLetterQueue"] = {
            "Type": kind,
            "TargetArn": _destination(export, dead_letter, policies)["Destination"],
        }
    events: dict[str, Any] = {}
    for index, trigger in enumerate(function.triggers):
        ref = TriggerRef(name, index, trigger.spec)
        event = _event(export, trigger.kind, ref, policies)
        if event is None:
            export.mark((logical, "Properties", "Handler"),
                        f"its {trigger.kind} trigger has no SAM event")  # fmt: skip
            continue
        event_name = f"{event['Type']}Event{index + 1}"
        events[event_name] = event
        at = (logical, "Properties", "Events", event_name, "Properties")
        for key, comment in event.pop("marks", {}).items():
            export.mark((*at, key), comment)
    if events:
        properties["Events"] = events
    if policies:
        properties["Policies"] = _unique(policies)
        export.marks[("Resources", logical, "Properties", "Policies")] = (
            "what its triggers and destinations need; add what the handler's own code uses"
        )
    export.resources[logical] = {"Type": "AWS::Serverless::Function", "Properties": properties}


def _destination(export: Export, destination: Destination, policies: list[Any]) -> Any:
    if destination.kind == "queue":
        queue = logical_id(export, "queues", destination.name)
        policies.append({"SQSSendMessagePolicy": {"QueueName": GetAtt(f"{queue}.QueueName")}})
        return {"Type": "SQS", "Destination": GetAtt(f"{queue}.Arn")}
    if destination.kind == "topic":
        topic = logical_id(export, "topics", destination.name)
        policies.append({"SNSPublishMessagePolicy": {"TopicName": GetAtt(f"{topic}.TopicName")}})
        return {"Type": "SNS", "Destination": Ref(topic)}
    if destination.kind == "bus":
        policies.append({"EventBridgePutEventsPolicy": {"EventBusName": destination.name}})
        if destination.name == "default":
            bus_arn: Any = Sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:"
                               "event-bus/default")  # fmt: skip
        else:
            bus_arn = GetAtt(f"{logical_id(export, 'buses', destination.name)}.Arn")
        return {"Type": "EventBridge", "Destination": bus_arn}
    target = logical_id(export, "functions", destination.name)
    policies.append({"LambdaInvokePolicy": {"FunctionName": destination.name}})
    return {"Type": "Lambda", "Destination": GetAtt(f"{target}.Arn")}


def _http_event(export: Export, spec: Any) -> dict[str, Any]:
    """An ``Api`` or ``HttpApi`` event; a stage other than SAM's implicit API's (``Prod``,
    ``$default``) is an API of its own, one per stage."""
    method = "any" if spec.method == "ANY" else spec.method.lower()
    properties: dict[str, Any] = {"Path": spec.path, "Method": method}
    kind, api_key = ("Api", "RestApiId") if spec.rest else ("HttpApi", "ApiId")
    if spec.stage_name != ("Prod" if spec.rest else "$default"):
        api = f"{kind}{camel(spec.stage_name)}"
        export.resources.setdefault(api, {
            "Type": f"AWS::Serverless::{kind}",
            "Properties": {"StageName": spec.stage_name},
        })  # fmt: skip
        properties[api_key] = Ref(api)
    if not spec.rest and spec.payload_version == "1.0":
        properties["PayloadFormatVersion"] = "1.0"
    return {"Type": kind, "Properties": properties}


def _filters(patterns: list[Any]) -> dict[str, Any]:
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


def _event(export: Export, kind: str, ref: TriggerRef,
           policies: list[Any]) -> dict[str, Any] | None:  # fmt: skip
    """The SAM event of one trigger (``marks``: comments on its properties), or None."""
    spec = ref.spec
    given = spec.model_dump(exclude_defaults=True)
    if kind == "s3":
        bucket = logical_id(export, "buckets", spec.bucket)
        properties: dict[str, Any] = {"Bucket": Ref(bucket), "Events": spec.events}
        rules = [{"Name": k, "Value": getattr(spec, k)} for k in ("prefix", "suffix") if k in given]
        if rules:
            properties["Filter"] = {"S3Key": {"Rules": rules}}
        policies.append({"S3ReadPolicy": {"BucketName": bucket_name(spec.bucket)}})
        return {"Type": "S3", "Properties": properties}
    if kind == "sqs":
        queue = logical_id(export, "queues", spec.queue)
        properties = {"Queue": GetAtt(f"{queue}.Arn"), "BatchSize": spec.batch_size}
        if "batching_window" in given:
            properties["MaximumBatchingWindowInSeconds"] = spec.batching_window
        if spec.report_batch_item_failures:
            properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
        if spec.maximum_concurrency is not None:
            properties["ScalingConfig"] = {"MaximumConcurrency": spec.maximum_concurrency}
        if spec.filters:
            properties["FilterCriteria"] = _filters(spec.filters)
        if not spec.enabled:
            properties["Enabled"] = False
        policies.append({"SQSPollerPolicy": {"QueueName": GetAtt(f"{queue}.QueueName")}})
        return {"Type": "SQS", "Properties": properties}
    if kind == "dynamodb":
        return _stream_event(export, spec, given, policies)
    if kind == "schedule":
        return _schedule_event(spec, schedule_name(ref))
    if kind == "http":
        return _http_event(export, spec)
    if kind == "sns":
        properties = {"Topic": Ref(logical_id(export, "topics", spec.topic))}
        if spec.filter_policy is not None:
            properties["FilterPolicy"] = spec.filter_policy
            properties["FilterPolicyScope"] = spec.filter_policy_scope
        return {"Type": "SNS", "Properties": properties}
    if kind == "eventbridge":
        properties = {"Pattern": spec.pattern}
        if spec.bus != "default":
            properties["EventBusName"] = Ref(logical_id(export, "buses", spec.bus))
        rule = rule_name(ref)
        if (spec.bus, rule) in export.rules:
            marks = {"Pattern": f"shares the rule {rule} in eventsim; AWS makes one per event"}
            event_marks: dict[str, str] = marks
        else:
            export.rules.add((spec.bus, rule))
            properties["RuleName"] = rule
            event_marks = {}
        if not spec.enabled:
            properties["State"] = "DISABLED"
        properties.update(target_input(export, spec))
        return {"Type": "EventBridgeRule", "Properties": properties, "marks": event_marks}
    return None  # a plug-in's kind: no SAM event


def _stream_event(export: Export, spec: Any, given: dict[str, Any],
                  policies: list[Any]) -> dict[str, Any]:  # fmt: skip
    table = logical_id(export, "tables", spec.table)
    properties: dict[str, Any] = {
        "Stream": GetAtt(f"{table}.StreamArn"),
        "StartingPosition": spec.starting_position,
        "BatchSize": spec.batch_size,
    }
    for option, key in (("batching_window", "MaximumBatchingWindowInSeconds"),
                        ("maximum_retry_attempts", "MaximumRetryAttempts"),
                        ("maximum_record_age", "MaximumRecordAgeInSeconds"),
                        ("bisect_on_error", "BisectBatchOnFunctionError"),
                        ("parallelization_factor", "ParallelizationFactor"),
                        ("tumbling_window", "TumblingWindowInSeconds")):  # fmt: skip
        if option in given:
            properties[key] = given[option]
    if spec.on_failure is not None:
        target = _destination(export, spec.on_failure, policies)
        properties["DestinationConfig"] = {"OnFailure": {"Destination": target["Destination"]}}
    if spec.report_batch_item_failures:
        properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
    if spec.filters:
        properties["FilterCriteria"] = _filters(spec.filters)
    if not spec.enabled:
        properties["Enabled"] = False
    policies.append({"DynamoDBStreamReadPolicy": {"TableName": Ref(table), "StreamName": "*"}})
    return {"Type": "DynamoDB", "Properties": properties}


def _schedule_event(spec: Any, name: str) -> dict[str, Any]:
    """A ``Schedule`` event (an EventBridge rule) or a ``ScheduleV2`` one (Scheduler).

    A rule runs in UTC from its creation; a rule-style schedule with a time zone, a start or
    an end becomes a ``ScheduleV2``, which keeps the times (what it fires with differs only
    without ``input``: Scheduler's payload instead of the Scheduled Event; marked)."""
    properties: dict[str, Any] = {}
    marks: dict[str, str] = {}
    timed = spec.timezone != "UTC" or spec.start is not None or spec.end is not None
    if spec.style == "scheduler" or timed:
        properties["ScheduleExpression"] = spec.expression
        if spec.timezone != "UTC":
            properties["ScheduleExpressionTimezone"] = spec.timezone
        for option, key in (("start", "StartDate"), ("end", "EndDate")):
            value = getattr(spec, option)
            if value is not None:  # in UTC; eventsim reads a naive one in the time zone
                zone = value.tzinfo or ZoneInfo(spec.timezone)
                when = value.replace(tzinfo=zone).astimezone(UTC)
                properties[key] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        properties["FlexibleTimeWindow"] = {"Mode": "OFF"}
        kind = "ScheduleV2"
        if spec.style == "rule":
            what = "its input" if spec.input is not None else "Scheduler's payload, not the rule's"
            marks["ScheduleExpression"] = (
                "a schedule with a time zone, start or end: an EventBridge rule has none, "
                f"EventBridge Scheduler has them; the function gets {what}"
            )
    else:
        properties["Schedule"] = spec.expression
        kind = "Schedule"
    if spec.input is not None:
        properties["Input"] = json.dumps(spec.input)
    properties["Name"] = name
    if not spec.enabled:
        properties["State"] = "DISABLED"
    return {"Type": kind, "Properties": properties, "marks": marks}


def _unique(policies: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for policy in policies:
        if policy not in seen:
            seen.append(policy)
    return seen
