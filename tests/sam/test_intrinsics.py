"""Intrinsic functions, pseudo parameters, parameters and names, resolved as CloudFormation
resolves them (pure: a parsed template, no simulator)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from eventsim.sam import names, template
from eventsim.sam.intrinsics import NO_VALUE, Resolver, Unresolved

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Size: {Type: Number, Default: 3, MinValue: 1, MaxValue: 10}
  Zones: {Type: CommaDelimitedList, Default: "a,b,c"}
  Secret: {Type: String}
  FromSsm: {Type: "AWS::SSM::Parameter::Value<String>", Default: /app/key}
  Code: {Type: String, Default: ab12, AllowedPattern: "[a-z]+[0-9]+"}
Mappings:
  Regions:
    us-east-1: {Ami: ami-1}
    eu-west-1: {Ami: ami-2}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [!Condition IsDev, !Equals [!Ref Size, 3]]
  Either: !Or [!Condition IsProd, !Equals [a, b]]
  Loop: !Not [!Condition Loop]
Resources:
  Jobs: {Type: AWS::SQS::Queue}
  Named: {Type: AWS::SQS::Queue, Properties: {QueueName: !Sub "${AWS::StackName}-named"}}
  Ordered: {Type: AWS::SQS::Queue, Properties: {FifoQueue: true}}
  Table:
    Type: AWS::DynamoDB::Table
    Properties: {StreamSpecification: {StreamViewType: KEYS_ONLY}}
  NoStream: {Type: AWS::DynamoDB::Table}
  Topic: {Type: AWS::SNS::Topic}
  Uploads: {Type: AWS::S3::Bucket}
  Fn: {Type: AWS::Serverless::Function}
  Renamed: {Type: AWS::Lambda::Function, Properties: {FunctionName: renamed}}
  Role: {Type: AWS::IAM::Role}
  ProdOnly: {Type: AWS::SQS::Queue, Condition: IsProd}
"""
STACK = names.Stack()
JOBS = f"local-Jobs-{names.suffix('local', 'Jobs')}"
ACCOUNT = "us-east-1:123456789012"


def sfx(logical_id: str) -> str:
    return names.suffix("local", logical_id)


def resolver(
    parameters: dict[str, Any] | None = None, imports: dict[str, Any] | None = None,
    stack: names.Stack = STACK,
) -> Resolver:  # fmt: skip
    parsed = template.load(Path("template.yaml"), TEMPLATE)
    given = {"Secret": "s3cr3t"} if parameters is None else parameters
    return Resolver(parsed, stack, given, imports or {})


def resolved(text: str, **options: Any) -> Any:
    """The value of ``X:`` in the YAML ``text``, resolved."""
    value = template.load(Path("t.yaml"), f"Resources: {{}}\nX: {text}\n").data["X"]
    return resolver(**options).resolve(value, ("X",))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("!Ref Stage", "dev"),
        ("!Ref Size", "3"),  # a Number parameter is a string once referenced
        ("!Ref Zones", ["a", "b", "c"]),
        ("!Ref Secret", "s3cr3t"),
        ("!Ref AWS::StackName", "local"),
        ("!Ref AWS::Region", "us-east-1"),
        ("!Ref AWS::AccountId", "123456789012"),
        ("!Ref AWS::Partition", "aws"),
        ("!Ref AWS::URLSuffix", "amazonaws.com"),
        ("!Ref AWS::NotificationARNs", []),
        ("!Ref Jobs", f"https://sqs.us-east-1.amazonaws.com/123456789012/{JOBS}"),
        ("!GetAtt Jobs.Arn", f"arn:aws:sqs:us-east-1:123456789012:{JOBS}"),
        ("!GetAtt Jobs.QueueName", JOBS),
        ("!GetAtt Named.QueueName", "local-named"),
        ("{'Fn::GetAtt': [Named, QueueUrl]}",
         "https://sqs.us-east-1.amazonaws.com/123456789012/local-named"),
        ("!Ref Topic", f"arn:aws:sns:{ACCOUNT}:local-Topic-{sfx('Topic')}"),
        ("!Ref Fn", "Fn"),  # functions keep their logical id
        ("!GetAtt Fn.Arn", "arn:aws:lambda:us-east-1:123456789012:function:Fn"),
        ("!Ref Renamed", "renamed"),
        ("!GetAtt Table.StreamArn",
         f"arn:aws:dynamodb:{ACCOUNT}:table/local-Table-{sfx('Table')}"
         "/stream/2026-01-01T00:00:00.000"),
        ("!GetAtt Uploads.Arn", f"arn:aws:s3:::local-uploads-{sfx('Uploads').lower()}"),
        ("!GetAtt Role.Arn", f"arn:aws:iam::123456789012:role/local-Role-{sfx('Role')}"),
        ('!Sub "${AWS::StackName}-${Stage}-${Jobs.QueueName}"', f"local-dev-{JOBS}"),
        ('!Sub ["${A}/${B}", {A: !Ref Stage, B: x}]', "dev/x"),
        ('!Sub "${!Literal} ${Stage}"', "${Literal} dev"),
        ('!Join ["-", [a, !Ref Stage, 3]]', "a-dev-3"),
        ('!Join [",", !Ref Zones]', "a,b,c"),
        ("!Select [1, !Ref Zones]", "b"),
        ('!Select ["2", [x, y, z]]', "z"),
        ('!Split ["/", "a/b/c"]', ["a", "b", "c"]),
        ("!If [IsProd, big, small]", "small"),
        ("!If [Both, yes-both, no]", "yes-both"),
        ("!If [Either, yes, no]", "no"),
        ("!FindInMap [Regions, !Ref 'AWS::Region', Ami]", "ami-1"),
        ("!ImportValue shared", "imported"),
        ("!Base64 hi", base64.b64encode(b"hi").decode()),
        ('!GetAZs ""', ["us-east-1a", "us-east-1b", "us-east-1c"]),
        ("!Equals [a, a]", True),
        ("{a: !Ref 'AWS::NoValue', b: 1}", {"b": 1}),
        ("[1, !If [IsProd, 2, !Ref 'AWS::NoValue'], 3]", [1, 3]),
        ("!Ref AWS::NoValue", NO_VALUE),
    ],
)  # fmt: skip
def test_intrinsic_functions(expression: str, expected: Any) -> None:
    assert resolved(expression, imports={"shared": "imported"}) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("!GetAtt Missing.Arn", "!GetAtt Missing.Arn names no resource"),
        ("!Ref Jbos", "!Ref Jbos names no parameter or resource; did you mean 'Jobs'?"),
        ("!GetAtt Jobs.StreamArn", "a AWS::SQS::Queue has no attribute StreamArn (it has: "
         "Arn, QueueName, QueueUrl)"),
        ("!GetAtt NoStream.StreamArn", "NoStream has no StreamSpecification"),
        ("!Ref ProdOnly", "!Ref ProdOnly names ProdOnly, which its condition IsProd leaves out"),
        ("!Select [5, [a]]", "index 5 is not in a list of 1"),
        ("!FindInMap [Regions, ap-south-1, Ami]", "Regions has no key 'ap-south-1'"),
        ("!If [Nope, a, b]", "no condition 'Nope' (the template's: IsProd, IsDev, Both, "
         "Either, Loop)"),
        ("!If [Loop, a, b]", "condition Loop depends on itself"),
        ("!ImportValue other", "no value for the export 'other': give it in eventsim.yaml as "
         "imports: {other: VALUE}"),
        ("!Ref FromSsm", "parameter FromSsm is read from SSM Parameter Store (/app/key)"),
        ("!Cidr [10.0.0.0/16, 2, 8]", "eventsim does not resolve this function"),
        ('!Join ["-", [a, [b]]]', "expected a string"),
        ("!Sub [x]", "expected a string, or a string and a map of variables"),
    ],
)  # fmt: skip
def test_what_cannot_be_resolved_says_why(expression: str, message: str) -> None:
    with pytest.raises(Unresolved) as info:
        resolved(expression)
    assert message in info.value.message
    assert info.value.path[0] in ("X", "Conditions")


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"Stage": "test"}, "parameter Stage: the value given 'test' is not one of AllowedValues "
         "['dev', 'prod']"),
        ({"Size": "11"}, "parameter Size: the value given '11' is above MaxValue 10"),
        ({"Size": "many"}, "parameter Size: the value given 'many' is not a number"),
        ({"Code": "AB12"}, "does not match AllowedPattern '[a-z]+[0-9]+'"),
        ({"Stge": "dev"}, "a value is given for 'Stge', which the template does not declare"),
    ],
)  # fmt: skip
def test_parameter_values_are_checked(given: dict[str, str], message: str) -> None:
    problems = resolver({"Secret": "x", **given}).problems
    assert any(message in p.message for p in problems), [p.message for p in problems]


def test_a_parameter_without_default_is_a_problem_where_it_is_used() -> None:
    assert resolver({}).problems == []  # only where it is used
    with pytest.raises(Unresolved) as info:
        resolver({}).resolve({"Ref": "Secret"}, ("Resources", "Fn", "Properties", "X"))
    assert info.value.path == ("Resources", "Fn", "Properties", "X")
    assert "--parameter-overrides Secret=VALUE" in info.value.message


def test_pseudo_parameters_follow_the_stack_and_can_be_given() -> None:
    china = names.Stack(name="shop", region="cn-north-1", account="210987654321")
    assert resolved("!Sub '${AWS::Partition}.${AWS::URLSuffix}'", stack=china) == (
        "aws-cn.amazonaws.com.cn"
    )
    assert resolved("!Ref AWS::StackId", stack=china).startswith(
        "arn:aws-cn:cloudformation:cn-north-1:210987654321:stack/shop/"
    )
    assert resolved("!Ref AWS::Region", parameters={"AWS::Region": "eu-west-3"}) == "eu-west-3"


# --- names ------------------------------------------------------------------------------------


def test_generated_names_are_deterministic_and_shaped_as_cloudformation_makes_them() -> None:
    stack = names.Stack(name="my-app")
    queue = names.generated(stack, "OrdersQueue", names.QUEUE)
    assert queue == names.generated(stack, "OrdersQueue", names.QUEUE)
    assert queue.startswith("my-app-OrdersQueue-") and len(queue.rsplit("-", 1)[1]) == 12
    assert names.generated(stack, "Other", names.QUEUE) != names.generated(stack, "Q", names.QUEUE)
    assert names.generated(stack, "Jobs", names.QUEUE, fifo=True).endswith(".fifo")
    bucket = names.generated(stack, "UploadsBucket", names.BUCKET)
    assert bucket == bucket.lower() and bucket.startswith("my-app-uploadsbucket-")
    long = names.generated(names.Stack(name="s" * 60), "L" * 60, names.QUEUE, fifo=True)
    assert len(long) == 80 and long.endswith(".fifo")
    assert len(names.generated(stack, "B" * 80, names.BUCKET)) == 63
    assert names.generated(stack, "MyFunction", "AWS::Serverless::Function") == "MyFunction"


@pytest.mark.parametrize(
    ("arn", "service", "name"),
    [
        ("arn:aws:sqs:us-east-1:123456789012:jobs", "sqs", "jobs"),
        ("arn:aws:sns:us-east-1:123456789012:topic", "sns", "topic"),
        ("arn:aws:dynamodb:us-east-1:1:table/orders/stream/2026-01-01T00:00:00.000", "dynamodb",
         "orders"),
        ("arn:aws:lambda:us-east-1:1:function:fn:live", "lambda", "fn"),
        ("arn:aws:events:us-east-1:1:event-bus/orders", "events", "orders"),
        ("arn:aws:s3:::bucket", "s3", "bucket"),
        ("arn:aws:sqs:us-east-1:1:jobs", "sns", None),
        ("not-an-arn", "sqs", None),
    ],
)  # fmt: skip
def test_names_from_arns(arn: str, service: str, name: str | None) -> None:
    assert names.name_from_arn(arn, service) == name
