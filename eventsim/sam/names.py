"""What CloudFormation names a resource, and what ``Ref`` and ``Fn::GetAtt`` give for it.

A resource with an explicit name (``QueueName``, ``TableName``...) has that name. Otherwise
CloudFormation generates ``<stack>-<LogicalId>-<SUFFIX>`` (lowercase for buckets, ``.fifo``
kept for FIFO queues and topics, cut to the service's length limit); eventsim's suffix is 12
characters derived from the stack and logical id, so the same template names the same
resources on every run, and state left by one run is found by the next. Functions are the
exception: they keep their logical id (``FunctionName`` if set), as ``sam local`` names them,
so that ``eventsim invoke HelloWorldFunction`` and ``sim.invoke("HelloWorldFunction")`` work.

``Stack`` holds the pseudo parameters. ``ref`` and ``attribute`` give the values, e.g. a
queue's ``Ref`` is its URL and ``Fn::GetAtt Queue.Arn`` its ARN.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from ..events import dynamodb, eventbridge, sns, sqs

#: The stack name when none is given (``parameters: {AWS::StackName: ...}``): ``sam local``'s.
DEFAULT_STACK = "local"
#: The label of stream ARNs a template resolves to (eventsim's tables label theirs by creation
#: time; the label is only read to find the table).
STREAM_LABEL = "2026-01-01T00:00:00.000"
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

# The resource types eventsim simulates, by what they become.
FUNCTIONS = frozenset({"AWS::Serverless::Function", "AWS::Lambda::Function"})
QUEUE = "AWS::SQS::Queue"
TOPIC = "AWS::SNS::Topic"
TABLES = frozenset({"AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"})
BUCKET = "AWS::S3::Bucket"
BUS = "AWS::Events::EventBus"
RULE = "AWS::Events::Rule"
SCHEDULE = "AWS::Scheduler::Schedule"
REST_APIS = frozenset({"AWS::Serverless::Api", "AWS::ApiGateway::RestApi"})
HTTP_APIS = frozenset({"AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api"})

#: The property that names a resource of each type, and the service's length limit.
NAME_PROPERTY: dict[str, tuple[str, int]] = {
    QUEUE: ("QueueName", 80),
    TOPIC: ("TopicName", 256),
    "AWS::DynamoDB::Table": ("TableName", 255),
    "AWS::Serverless::SimpleTable": ("TableName", 255),
    BUCKET: ("BucketName", 63),
    BUS: ("Name", 256),
    RULE: ("Name", 64),
    SCHEDULE: ("Name", 64),
    "AWS::Serverless::Function": ("FunctionName", 64),
    "AWS::Lambda::Function": ("FunctionName", 64),
}

#: ``Fn::GetAtt`` attributes of the simulated types (others give placeholders).
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(FUNCTIONS, ("Arn",)),
    QUEUE: ("Arn", "QueueName", "QueueUrl"),
    TOPIC: ("TopicArn", "TopicName"),
    **dict.fromkeys(TABLES, ("Arn", "StreamArn")),
    BUCKET: ("Arn", "DomainName", "DualStackDomainName", "RegionalDomainName", "WebsiteURL"),
    BUS: ("Arn", "Name"),
    RULE: ("Arn",),
    SCHEDULE: ("Arn",),
    **dict.fromkeys(REST_APIS, ("RootResourceId",)),
    **dict.fromkeys(HTTP_APIS, ("ApiEndpoint", "ApiId")),
}


@dataclass(frozen=True)
class Stack:
    """The pseudo parameters of the stack a template runs as."""

    name: str = DEFAULT_STACK
    region: str = "us-east-1"
    account: str = "123456789012"

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        return "aws-us-gov" if self.region.startswith("us-gov-") else "aws"

    @property
    def url_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"

    @property
    def stack_id(self) -> str:
        unique = uuid.UUID(bytes=hashlib.sha256(self.name.encode()).digest()[:16])
        return (
            f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/"
            f"{self.name}/{unique}"
        )

    def pseudo(self, name: str) -> str | list[str] | None:
        """A pseudo parameter's value (``AWS::NoValue`` is the resolver's), or None."""
        return (
            {
                "AWS::StackName": self.name,
                "AWS::Region": self.region,
                "AWS::AccountId": self.account,
                "AWS::Partition": self.partition,
                "AWS::URLSuffix": self.url_suffix,
                "AWS::StackId": self.stack_id,
            }.get(name)
            if name != "AWS::NotificationARNs"
            else []
        )


def suffix(stack: str, logical_id: str, length: int = 12) -> str:
    """The deterministic stand-in for CloudFormation's random suffix."""
    digest = int.from_bytes(hashlib.sha256(f"{stack}/{logical_id}".encode()).digest(), "big")
    chars = []
    for _ in range(length):
        digest, index = divmod(digest, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return "".join(chars)


def generated(stack: Stack, logical_id: str, type_: str, *, fifo: bool = False) -> str:
    """The name CloudFormation gives a resource of ``type_`` that names none."""
    if type_ in FUNCTIONS:
        return logical_id[:64]
    limit = NAME_PROPERTY.get(type_, ("", 128))[1]
    tail = f"-{suffix(stack.name, logical_id)}" + (".fifo" if fifo else "")
    head = f"{stack.name}-{logical_id}"[: limit - len(tail)]
    name = head + tail
    return name.lower() if type_ == BUCKET else name


def api_id(stack: Stack, logical_id: str) -> str:
    """An API's id: 10 lowercase letters and digits, as API Gateway's."""
    return suffix(stack.name, logical_id, 10).lower()


def ref(stack: Stack, type_: str, name: str) -> str:
    """What ``Ref`` gives for a resource of ``type_`` whose physical name is ``name``."""
    if type_ == QUEUE:
        return f"https://sqs.{stack.region}.{stack.url_suffix}/{stack.account}/{name}"
    if type_ == TOPIC:
        return sns.topic_arn(stack.region, stack.account, name)
    return name


def attribute(stack: Stack, type_: str, name: str, attr: str) -> str | None:
    """``Fn::GetAtt`` of a simulated resource, or None if it has no such attribute."""
    region, account = stack.region, stack.account
    if attr not in ATTRIBUTES.get(type_, ()):
        return None
    if type_ in FUNCTIONS:
        return f"arn:{stack.partition}:lambda:{region}:{account}:function:{name}"
    if type_ == QUEUE:
        return {
            "Arn": sqs.queue_arn(region, account, name),
            "QueueName": name,
            "QueueUrl": ref(stack, type_, name),
        }[attr]
    if type_ == TOPIC:
        return {"TopicArn": sns.topic_arn(region, account, name), "TopicName": name}[attr]
    if type_ in TABLES:
        arn = f"arn:{stack.partition}:dynamodb:{region}:{account}:table/{name}"
        if attr == "StreamArn":
            return dynamodb.stream_arn(region, account, name, STREAM_LABEL)
        return arn
    if type_ == BUCKET:
        return {
            "Arn": f"arn:{stack.partition}:s3:::{name}",
            "DomainName": f"{name}.s3.{stack.url_suffix}",
            "DualStackDomainName": f"{name}.s3.dualstack.{region}.{stack.url_suffix}",
            "RegionalDomainName": f"{name}.s3.{region}.{stack.url_suffix}",
            "WebsiteURL": f"http://{name}.s3-website-{region}.{stack.url_suffix}",
        }[attr]
    if type_ == BUS:
        return eventbridge.bus_arn(region, account, name) if attr == "Arn" else name
    if type_ == RULE:
        return f"arn:{stack.partition}:events:{region}:{account}:rule/{name}"
    if type_ == SCHEDULE:
        return f"arn:{stack.partition}:scheduler:{region}:{account}:schedule/default/{name}"
    if attr == "ApiEndpoint":
        return f"https://{name}.execute-api.{region}.{stack.url_suffix}"
    return name  # RootResourceId, ApiId


def placeholder(stack: Stack, type_: str, name: str, attr: str) -> str:
    """``Fn::GetAtt`` of a resource eventsim does not simulate: an ARN-shaped stand-in for
    ``Arn``, the name for anything else."""
    if attr != "Arn" and not attr.endswith("Arn"):
        return name
    service = type_.split("::")[1].lower() if type_.count("::") == 2 else "unknown"
    if service == "iam":
        return f"arn:{stack.partition}:iam::{stack.account}:role/{name}"
    return f"arn:{stack.partition}:{service}:{stack.region}:{stack.account}:{name}"


def name_from_arn(arn: str, service: str) -> str | None:
    """The resource name in an ARN (``arn:aws:sqs:r:a:jobs`` -> ``jobs``; a stream ARN gives
    its table; a bus or rule ARN its name), or None if ``arn`` is not ``service``'s."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != service:
        return None
    resource = parts[5]
    if service == "dynamodb":
        pieces = resource.split("/")
        return pieces[1] if len(pieces) >= 2 and pieces[0] == "table" else None
    if service == "lambda":
        pieces = resource.split(":")
        return pieces[1] if len(pieces) >= 2 and pieces[0] == "function" else None
    if service == "events":
        return resource.split("/")[-1] if "/" in resource else None
    if service == "s3":
        return resource or None
    return resource.split(":")[0] or None


def queue_name(value: str) -> str | None:
    """A queue's name from its ARN or URL."""
    if value.startswith("arn:"):
        return name_from_arn(value, "sqs")
    if value.startswith(("https://", "http://")):
        return value.rstrip("/").rsplit("/", 1)[-1] or None
    return None
