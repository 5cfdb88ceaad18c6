"""An eventsim config as a SAM template, to deploy the same functions and triggers to AWS.

``export_template(config, folder)`` returns the template's YAML text (paths relative to
``folder``, where the template will be written). Functions become ``AWS::Serverless::Function``
with their triggers as ``Events``; queues, tables, buckets, topics and buses become their
CloudFormation resources, keeping their names (``QueueName``, ``TableName``...) so that code
that names them keeps working. What AWS needs and eventsim does not know is filled in and
marked with an ``# eventsim:`` comment:

* each function's ``Policies``: SAM policy templates for what its triggers and destinations
  read and write (``SQSPollerPolicy``, ``DynamoDBStreamReadPolicy``, ``S3ReadPolicy``...), and
  nothing for what the handler's own code does;
* bucket names, which are global in S3: ``<name>-<account>-<region>``, with the eventsim name
  and folder in the bucket's ``Metadata`` (``eventsim import`` reads them back);
* queue and topic policies letting SNS and EventBridge deliver to them;
* ``BillingMode: PAY_PER_REQUEST`` for tables, and the Python runtime.

What has no CloudFormation equivalent (isolation, ``inherit_env``, ports, the state folder,
``run_on_start``...) is left out; the template's first lines say so.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from ..config import Config, Destination, FunctionConfig
from ..triggers.base import TriggerRef
from ..triggers.eventbridge import rule_name
from ..triggers.schedule import schedule_name
from . import names

#: Python runtimes Lambda offers; the local version is exported when it is one of them.
PYTHON_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")
FALLBACK_RUNTIME = "python3.12"
HEADER = """\
# A SAM template exported by eventsim (`eventsim export sam`) from {source}.
# The same functions, triggers and resources, for `sam deploy`. Lines marked `# eventsim:` hold
# what AWS needs and eventsim does not know: check them. Not exported (eventsim's own):
# isolation, inherit_env, ports, the state folder, schedules' run_on_start and jitter.
"""


class Ref(str):
    """``!Ref name`` in the output."""


class GetAtt(str):
    """``!GetAtt Logical.Attribute`` in the output."""


class Sub(str):
    """``!Sub "..."`` in the output."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Ref, lambda d, v: d.represent_scalar("!Ref", str(v)))
_Dumper.add_representer(GetAtt, lambda d, v: d.represent_scalar("!GetAtt", str(v)))
_Dumper.add_representer(Sub, lambda d, v: d.represent_scalar("!Sub", str(v)))


@dataclass
class _Export:
    config: Config
    folder: Path
    resources: dict[str, Any] = field(default_factory=dict)
    #: Logical ids by (section, name).
    ids: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Key path in the template -> the comment marking what eventsim filled in or left out.
    marks: dict[tuple[str, ...], str] = field(default_factory=dict)
    #: queue or topic logical id -> (service principal, source ARN) allowed to send to it.
    senders: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    #: Rules already named, by (bus, rule): triggers sharing one become rules of their own.
    rules: set[tuple[str, str]] = field(default_factory=set)

    def mark(self, path: tuple[str, ...], comment: str) -> None:
        """A comment at the end of the line of ``Resources.<path>``."""
        self.marks[("Resources", *path)] = comment


def export_template(config: Config, folder: Path) -> str:
    """The SAM template of ``config`` (see the module's docstring) as YAML text."""
    export = _Export(config, folder.resolve())
    _logical_ids(export)
    for name, queue in config.queues.items():
        _queue(export, name, queue)
    for name, table in config.tables.items():
        _table(export, name, table)
    for name, bucket in config.buckets.items():
        _bucket(export, name, bucket)
    for name, topic in config.topics.items():
        _topic(export, name, topic)
    for name, bus in config.buses.items():
        _bus(export, name, bus)
    for name, function in config.functions.items():
        _function(export, name, function)
    _policies(export)
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"Exported by eventsim from {_source(config)}",
        "Resources": export.resources,
    }
    text = yaml.dump(template, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    header = HEADER.format(source=_source(config))
    if config.extensions:
        kinds = ", ".join(config.extensions)
        header += f"# Not exported either: the plug-in resources of {kinds} (extensions).\n"
    return header + _marked(text, export.marks)


def _source(config: Config) -> str:
    return config.source.name if config.source is not None else "a config"


def _logical_ids(export: _Export) -> None:
    """A logical id per resource: its alias (a template's logical id), else its name in
    CamelCase with the type's word when names clash."""
    config, taken = export.config, set[str]()
    aliases: dict[str, dict[str, str]] = {str(k): v for k, v in config.aliases.items()}
    words = {"functions": "Function", "queues": "Queue", "tables": "Table", "buckets": "Bucket",
             "topics": "Topic", "buses": "Bus"}  # fmt: skip
    for section, word in words.items():
        reverse = {v: k for k, v in aliases.get(section, {}).items()}
        for name in getattr(config, section):
            wanted = reverse.get(name) or _camel(name)
            candidate = wanted if wanted not in taken else f"{wanted}{word}"
            number = 2
            while candidate in taken:
                candidate, number = f"{wanted}{word}{number}", number + 1
            taken.add(candidate)
            export.ids[(section, name)] = candidate


def _camel(name: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", name)
    camel = "".join(w[:1].upper() + w[1:] for w in words if w)
    return camel if camel[:1].isalpha() else f"R{camel}"


def _id(export: _Export, section: str, name: str) -> str:
    return export.ids[(section, name)]


# --- resources --------------------------------------------------------------------------------

_QUEUE_ATTRIBUTES = {
    "visibility_timeout": "VisibilityTimeout",
    "delay_seconds": "DelaySeconds",
    "message_retention_period": "MessageRetentionPeriod",
    "maximum_message_size": "MaximumMessageSize",
    "receive_message_wait_time_seconds": "ReceiveMessageWaitTimeSeconds",
    "kms_master_key_id": "KmsMasterKeyId",
    "kms_data_key_reuse_period_seconds": "KmsDataKeyReusePeriodSeconds",
}


def _queue(export: _Export, name: str, queue: Any) -> None:
    given = queue.model_dump(exclude_defaults=True)
    properties: dict[str, Any] = {"QueueName": name}
    fifo = name.endswith(".fifo")
    if fifo:
        properties["FifoQueue"] = True
        if queue.content_based_deduplication:
            properties["ContentBasedDeduplication"] = True
        if "deduplication_scope" in given:
            properties["DeduplicationScope"] = queue.deduplication_scope
        if "fifo_throughput_limit" in given:
            properties["FifoThroughputLimit"] = queue.fifo_throughput_limit
    for option, key in _QUEUE_ATTRIBUTES.items():
        if option in given:
            properties[key] = given[option]
    if "sqs_managed_sse_enabled" in given and "kms_master_key_id" not in given:
        properties["SqsManagedSseEnabled"] = queue.sqs_managed_sse_enabled
    if queue.redrive is not None:
        dlq = _id(export, "queues", queue.redrive.dead_letter_queue)
        properties["RedrivePolicy"] = {
            "deadLetterTargetArn": GetAtt(f"{dlq}.Arn"),
            "maxReceiveCount": queue.redrive.max_receive_count,
        }
    if queue.redrive_allow_policy:
        properties["RedriveAllowPolicy"] = json.loads(queue.redrive_allow_policy)
    if queue.tags:
        properties["Tags"] = [{"Key": k, "Value": v} for k, v in queue.tags.items()]
    export.resources[_id(export, "queues", name)] = {
        "Type": names.QUEUE,
        "Properties": properties,
    }


def _table(export: _Export, name: str, table: Any) -> None:
    types: dict[str, str] = {}

    def schema(partition: str | None, p_type: str, sort: str | None, s_type: str) -> list[Any]:
        keys = []
        for key, kind, role in ((partition, p_type, "HASH"), (sort, s_type, "RANGE")):
            if key is not None:
                types[key] = kind
                keys.append({"AttributeName": key, "KeyType": role})
        return keys

    properties: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": schema(
            table.partition_key, table.partition_key_type, table.sort_key, table.sort_key_type
        ),  # fmt: skip
    }
    if table.stream is not None:
        properties["StreamSpecification"] = {"StreamViewType": table.stream}
    for option, key in (("global_indexes", "GlobalSecondaryIndexes"),
                        ("local_indexes", "LocalSecondaryIndexes")):  # fmt: skip
        indexes = []
        for index_name, index in getattr(table, option).items():
            partition = getattr(index, "partition_key", table.partition_key)
            p_type = getattr(index, "partition_key_type", table.partition_key_type)
            projection: dict[str, Any] = {"ProjectionType": index.projection}
            if index.non_key_attributes:
                projection["NonKeyAttributes"] = index.non_key_attributes
            indexes.append({
                "IndexName": index_name,
                "KeySchema": schema(partition, p_type, index.sort_key, index.sort_key_type),
                "Projection": projection,
            })  # fmt: skip
        if indexes:
            properties[key] = indexes
    if table.ttl is not None:
        properties["TimeToLiveSpecification"] = {"AttributeName": table.ttl, "Enabled": True}
    properties["AttributeDefinitions"] = [
        {"AttributeName": key, "AttributeType": kind} for key, kind in types.items()
    ]
    logical = _id(export, "tables", name)
    export.resources[logical] = {"Type": "AWS::DynamoDB::Table", "Properties": properties}
    export.mark((logical, "Properties", "BillingMode"), "on-demand: eventsim does not throttle")


def _bucket_name(name: str) -> Sub:
    return Sub(f"{name[:35]}-${{AWS::AccountId}}-${{AWS::Region}}")


def _bucket(export: _Export, name: str, bucket: Any) -> None:
    logical = _id(export, "buckets", name)
    properties: dict[str, Any] = {"BucketName": _bucket_name(name)}
    if bucket.eventbridge:
        properties["NotificationConfiguration"] = {
            "EventBridgeConfiguration": {"EventBridgeEnabled": True}
        }
    export.resources[logical] = {
        "Type": names.BUCKET,
        "Metadata": {"eventsim": {"name": name, "path": _relative(export, bucket.path)}},
        "Properties": properties,
    }
    export.marks[("Resources", logical, "Properties", "BucketName")] = (
        f"bucket names are global in S3: eventsim's bucket {name!r}, made unique"
    )


def _topic(export: _Export, name: str, topic: Any) -> None:
    logical = _id(export, "topics", name)
    properties: dict[str, Any] = {"TopicName": name}
    if name.endswith(".fifo"):
        properties["FifoTopic"] = True
        if topic.content_based_deduplication:
            properties["ContentBasedDeduplication"] = True
    if topic.display_name:
        properties["DisplayName"] = topic.display_name
    if topic.tags:
        properties["Tags"] = [{"Key": k, "Value": v} for k, v in topic.tags.items()]
    export.resources[logical] = {"Type": names.TOPIC, "Properties": properties}
    for index, subscription in enumerate(topic.subscriptions):
        queue = _id(export, "queues", subscription.queue)
        sub: dict[str, Any] = {
            "TopicArn": Ref(logical),
            "Protocol": "sqs",
            "Endpoint": GetAtt(f"{queue}.Arn"),
        }
        if subscription.raw_message_delivery:
            sub["RawMessageDelivery"] = True
        if subscription.filter_policy is not None:
            sub["FilterPolicy"] = subscription.filter_policy
            sub["FilterPolicyScope"] = subscription.filter_policy_scope
        export.resources[f"{logical}Subscription{index + 1}"] = {
            "Type": "AWS::SNS::Subscription",
            "Properties": sub,
        }
        export.senders.setdefault(queue, []).append(("sns.amazonaws.com", Ref(logical)))


def _bus(export: _Export, name: str, bus: Any) -> None:
    if name != "default":
        export.resources[_id(export, "buses", name)] = {
            "Type": names.BUS,
            "Properties": {"Name": name},
        }
    for rule_id, rule in bus.rules.items():
        logical = f"{_camel(name)}{_camel(rule_id)}Rule"
        targets = []
        for index, target in enumerate(rule.targets):
            section = "queues" if target.queue is not None else "topics"
            target_id = _id(export, section, target.queue or target.topic)
            entry: dict[str, Any] = {"Id": f"Target{index + 1}", "Arn": _arn(section, target_id)}
            entry.update(_target_input(export, target))
            if target.message_group_id is not None:
                entry["SqsParameters"] = {"MessageGroupId": target.message_group_id}
            targets.append(entry)
            export.senders.setdefault(target_id, []).append(
                ("events.amazonaws.com", GetAtt(f"{logical}.Arn"))
            )
        properties: dict[str, Any] = {
            "Name": rule_id,
            "EventPattern": rule.pattern,
            "State": "ENABLED" if rule.enabled else "DISABLED",
            "Targets": targets,
        }
        if name != "default":
            properties["EventBusName"] = Ref(_id(export, "buses", name))
        if rule.description:
            properties["Description"] = rule.description
        export.resources[logical] = {"Type": names.RULE, "Properties": properties}


def _arn(section: str, logical: str) -> Any:
    return GetAtt(f"{logical}.Arn") if section == "queues" else Ref(logical)


def _target_input(export: _Export, target: Any) -> dict[str, Any]:
    """A rule target's Input, InputPath, InputTransformer, RetryPolicy, DeadLetterConfig."""
    entry: dict[str, Any] = {}
    if target.input is not None:
        entry["Input"] = json.dumps(target.input)
    if target.input_path is not None:
        entry["InputPath"] = target.input_path
    if target.input_transformer is not None:
        entry["InputTransformer"] = {
            "InputPathsMap": target.input_transformer.input_paths_map,
            "InputTemplate": target.input_transformer.input_template,
        }
    given = target.retry_policy.model_dump(exclude_defaults=True)
    if given:
        entry["RetryPolicy"] = {
            key: given[option]
            for option, key in (("maximum_retry_attempts", "MaximumRetryAttempts"),
                                ("maximum_event_age", "MaximumEventAgeInSeconds"))
            if option in given
        }  # fmt: skip
    if target.dead_letter_queue is not None:
        dlq = _id(export, "queues", target.dead_letter_queue)
        entry["DeadLetterConfig"] = {"Arn": GetAtt(f"{dlq}.Arn")}
    return entry


# --- functions --------------------------------------------------------------------------------


def _runtime() -> str:
    local = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return local if local in PYTHON_RUNTIMES else FALLBACK_RUNTIME


def _function(export: _Export, name: str, function: FunctionConfig) -> None:
    logical = _id(export, "functions", name)
    properties: dict[str, Any] = {
        "FunctionName": name,
        "Handler": function.handler,
        "CodeUri": _relative(export, function.code),
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


def _destination(export: _Export, destination: Destination, policies: list[Any]) -> Any:
    if destination.kind == "queue":
        queue = _id(export, "queues", destination.name)
        policies.append({"SQSSendMessagePolicy": {"QueueName": GetAtt(f"{queue}.QueueName")}})
        return {"Type": "SQS", "Destination": GetAtt(f"{queue}.Arn")}
    target = _id(export, "functions", destination.name)
    policies.append({"LambdaInvokePolicy": {"FunctionName": destination.name}})
    return {"Type": "Lambda", "Destination": GetAtt(f"{target}.Arn")}


def _filters(patterns: list[Any]) -> dict[str, Any]:
    return {"Filters": [{"Pattern": json.dumps(p)} for p in patterns]}


def _event(export: _Export, kind: str, ref: TriggerRef,
           policies: list[Any]) -> dict[str, Any] | None:  # fmt: skip
    """The SAM event of one trigger (``marks``: comments on its properties), or None."""
    spec = ref.spec
    given = spec.model_dump(exclude_defaults=True)
    if kind == "s3":
        bucket = _id(export, "buckets", spec.bucket)
        properties: dict[str, Any] = {"Bucket": Ref(bucket), "Events": spec.events}
        rules = [{"Name": k, "Value": getattr(spec, k)} for k in ("prefix", "suffix") if k in given]
        if rules:
            properties["Filter"] = {"S3Key": {"Rules": rules}}
        policies.append({"S3ReadPolicy": {"BucketName": _bucket_name(spec.bucket)}})
        return {"Type": "S3", "Properties": properties}
    if kind == "sqs":
        queue = _id(export, "queues", spec.queue)
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
        method = "any" if spec.method == "ANY" else spec.method.lower()
        properties = {"Path": spec.path, "Method": method}
        if spec.payload_version == "1.0":
            return {"Type": "Api", "Properties": properties}
        return {"Type": "HttpApi", "Properties": properties}
    if kind == "sns":
        properties = {"Topic": Ref(_id(export, "topics", spec.topic))}
        if spec.filter_policy is not None:
            properties["FilterPolicy"] = spec.filter_policy
            properties["FilterPolicyScope"] = spec.filter_policy_scope
        return {"Type": "SNS", "Properties": properties}
    if kind == "eventbridge":
        properties = {"Pattern": spec.pattern}
        if spec.bus != "default":
            properties["EventBusName"] = Ref(_id(export, "buses", spec.bus))
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
        properties.update(_target_input(export, spec))
        return {"Type": "EventBridgeRule", "Properties": properties, "marks": event_marks}
    return None  # a plug-in's kind: no SAM event


def _stream_event(export: _Export, spec: Any, given: dict[str, Any],
                  policies: list[Any]) -> dict[str, Any]:  # fmt: skip
    table = _id(export, "tables", spec.table)
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
        queue = _id(export, "queues", spec.on_failure.name)
        properties["DestinationConfig"] = {"OnFailure": {"Destination": GetAtt(f"{queue}.Arn")}}
        policies.append({"SQSSendMessagePolicy": {"QueueName": GetAtt(f"{queue}.QueueName")}})
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


def _policies(export: _Export) -> None:
    """Queue and topic policies letting SNS and EventBridge deliver to them."""
    for target, senders in export.senders.items():
        queue = export.resources[target]["Type"] == names.QUEUE
        statements = [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sqs:SendMessage" if queue else "sns:Publish",
                "Resource": GetAtt(f"{target}.Arn") if queue else Ref(target),
                "Condition": {"ArnEquals": {"aws:SourceArn": source}},
            }
            for service, source in senders
        ]
        logical = f"{target}Policy"
        key = "Queues" if queue else "Topics"
        export.resources[logical] = {
            "Type": "AWS::SQS::QueuePolicy" if queue else "AWS::SNS::TopicPolicy",
            "Properties": {
                key: [Ref(target)],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
            },
        }
        export.mark((logical, "Type"), "lets SNS and EventBridge deliver here")


def _unique(policies: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for policy in policies:
        if policy not in seen:
            seen.append(policy)
    return seen


def _relative(export: _Export, path: Path) -> str:
    text = os.path.relpath(path, export.folder)
    return "." if text == "." else text.replace(os.sep, "/")


def _marked(text: str, marks: dict[tuple[str, ...], str]) -> str:
    """``text`` with the marks as comments at the end of their key's line (keys of mappings
    nested in mappings; PyYAML indents them by two spaces a level)."""
    # A tagged scalar is quoted by PyYAML; a logical id (and Logical.Attribute) needs no quotes.
    text = re.sub(r"(!(?:Ref|GetAtt)) '([A-Za-z0-9.]+)'", r"\1 \2", text)
    lines, path = [], list[str]()
    for line in text.splitlines():
        key = re.match(r"^( *)([A-Za-z0-9_.-]+):", line)
        mark = None
        if key:
            depth = len(key[1]) // 2
            path = [*path[:depth], key[2]]
            mark = marks.get(tuple(path))
        lines.append(f"{line}  # eventsim: {mark}" if mark else line)
    return "\n".join(lines) + "\n"
