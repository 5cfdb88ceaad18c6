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
import re
from pathlib import Path
from typing import Any

import yaml

from ..config import Config
from . import names
from .cfn import (
    Export,
    GetAtt,
    Ref,
    Sub,
    arn,
    bucket_name,
    camel,
    logical_id,
    relative,
    target_input,
)
from .export_functions import export_function

HEADER = """\
# A SAM template exported by eventsim (`eventsim export sam`) from {source}.
# The same functions, triggers and resources, for `sam deploy`. Lines marked `# eventsim:` hold
# what AWS needs and eventsim does not know: check them. Not exported (eventsim's own):
# isolation, inherit_env, ports, the state folder, schedules' run_on_start and jitter.
"""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Ref, lambda d, v: d.represent_scalar("!Ref", str(v)))
_Dumper.add_representer(GetAtt, lambda d, v: d.represent_scalar("!GetAtt", str(v)))
_Dumper.add_representer(Sub, lambda d, v: d.represent_scalar("!Sub", str(v)))


def export_template(config: Config, folder: Path) -> str:
    """The SAM template of ``config`` (see the module's docstring) as YAML text."""
    export = Export(config, folder.resolve())
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
        export_function(export, name, function)
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


def _logical_ids(export: Export) -> None:
    """A logical id per resource: its alias (a template's logical id), else its name in
    CamelCase with the type's word when names clash."""
    config, taken = export.config, set[str]()
    aliases: dict[str, dict[str, str]] = {str(k): v for k, v in config.aliases.items()}
    words = {"functions": "Function", "queues": "Queue", "tables": "Table", "buckets": "Bucket",
             "topics": "Topic", "buses": "Bus"}  # fmt: skip
    for section, word in words.items():
        reverse = {v: k for k, v in aliases.get(section, {}).items()}
        for name in getattr(config, section):
            wanted = reverse.get(name) or camel(name)
            candidate = wanted if wanted not in taken else f"{wanted}{word}"
            number = 2
            while candidate in taken:
                candidate, number = f"{wanted}{word}{number}", number + 1
            taken.add(candidate)
            export.ids[(section, name)] = candidate


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


def _queue(export: Export, name: str, queue: Any) -> None:
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
        dlq = logical_id(export, "queues", queue.redrive.dead_letter_queue)
        properties["RedrivePolicy"] = {
            "deadLetterTargetArn": GetAtt(f"{dlq}.Arn"),
            "maxReceiveCount": queue.redrive.max_receive_count,
        }
    if queue.redrive_allow_policy:
        properties["RedriveAllowPolicy"] = json.loads(queue.redrive_allow_policy)
    if queue.tags:
        properties["Tags"] = [{"Key": k, "Value": v} for k, v in queue.tags.items()]
    export.resources[logical_id(export, "queues", name)] = {
        "Type": names.QUEUE,
        "Properties": properties,
    }


def _table(export: Export, name: str, table: Any) -> None:
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
    logical = logical_id(export, "tables", name)
    export.resources[logical] = {"Type": "AWS::DynamoDB::Table", "Properties": properties}
    export.mark((logical, "Properties", "BillingMode"), "on-demand: eventsim does not throttle")


def _bucket(export: Export, name: str, bucket: Any) -> None:
    logical = logical_id(export, "buckets", name)
    properties: dict[str, Any] = {"BucketName": bucket_name(name)}
    if bucket.eventbridge:
        properties["NotificationConfiguration"] = {
            "EventBridgeConfiguration": {"EventBridgeEnabled": True}
        }
    export.resources[logical] = {
        "Type": names.BUCKET,
        "Metadata": {"eventsim": {"name": name, "path": relative(export, bucket.path)}},
        "Properties": properties,
    }
    export.marks[("Resources", logical, "Properties", "BucketName")] = (
        f"bucket names are global in S3: eventsim's bucket {name!r}, made unique"
    )


def _topic(export: Export, name: str, topic: Any) -> None:
    logical = logical_id(export, "topics", name)
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
        queue = logical_id(export, "queues", subscription.queue)
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


def _bus(export: Export, name: str, bus: Any) -> None:
    if name != "default":
        export.resources[logical_id(export, "buses", name)] = {
            "Type": names.BUS,
            "Properties": {"Name": name},
        }
    for rule_id, rule in bus.rules.items():
        logical = f"{camel(name)}{camel(rule_id)}Rule"
        targets = []
        for index, target in enumerate(rule.targets):
            section = "queues" if target.queue is not None else "topics"
            target_id = logical_id(export, section, target.queue or target.topic)
            entry: dict[str, Any] = {"Id": f"Target{index + 1}", "Arn": arn(section, target_id)}
            entry.update(target_input(export, target))
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
            properties["EventBusName"] = Ref(logical_id(export, "buses", name))
        if rule.description:
            properties["Description"] = rule.description
        export.resources[logical] = {"Type": names.RULE, "Properties": properties}


# --- functions --------------------------------------------------------------------------------


def _policies(export: Export) -> None:
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
