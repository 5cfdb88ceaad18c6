"""What a template maps to, and what eventsim lists as not honoured (each once, at its line)
rather than dropping it in silence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eventsim.config import load_config
from eventsim.sam import names, template
from eventsim.sam.mapping import map_template

HEAD = 'AWSTemplateFormatVersion: "2010-09-09"\nTransform: AWS::Serverless-2016-10-31\n'
FN = """\
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: .
      Handler: app.handler
      Runtime: python3.11
"""


def mapped(body: str, head: str = HEAD) -> tuple[dict[str, Any], dict[str, str]]:
    """The config data of a template and its notices, by dotted path."""
    parsed = template.load(Path("template.yaml"), head + body)
    result = map_template(parsed, names.Stack(), {}, {})
    assert result.problems == [], result.problems
    return result.data, {n.path: n.message for n in result.notices}


@pytest.mark.parametrize(
    ("properties", "path", "words"),
    [
        ("      Policies: [AWSLambdaExecute]", "Policies", "IAM: eventsim checks no permissions"),
        ("      Role: arn:aws:iam::123456789012:role/x", "Role", "IAM"),
        ("      Layers: [arn:aws:lambda:us-east-1:1:layer:l:1]", "Layers", "layers are not added"),
        ("      VpcConfig: {SubnetIds: [a]}", "VpcConfig", "no VPC"),
        ("      Architectures: [arm64]", "Architectures", "this machine's architecture"),
        ("      AutoPublishAlias: live", "AutoPublishAlias", "everything is $LATEST"),
        ("      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 1}",
         "ProvisionedConcurrencyConfig", "environments start on demand"),
        ("      Tracing: Active", "Tracing", "X-Ray"),
        ("      EphemeralStorage: {Size: 2048}", "EphemeralStorage", "/tmp"),
        ("      SnapStart: {ApplyOn: PublishedVersions}", "SnapStart", "not simulated"),
        ("      FunctionUrlConfig: {AuthType: NONE}", "FunctionUrlConfig", "not served"),
        ("      Frobnicate: true", "Frobnicate", "an unknown property"),
        ("      Runtime: nodejs20.x", "Runtime", "eventsim runs Python handlers only"),
    ],
)  # fmt: skip
def test_function_properties_eventsim_does_not_honour(
    properties: str, path: str, words: str
) -> None:
    body = FN.replace("      Runtime: python3.11\n", "") if path == "Runtime" else FN
    data, notices = mapped(f"Resources:\n{body}{properties}\n")
    assert words in notices[f"Resources.Fn.Properties.{path}"]
    assert "Fn" in data["functions"]


@pytest.mark.parametrize(
    ("events", "path", "words"),
    [
        ("K: {Type: Kinesis, Properties: {Stream: arn:aws:kinesis:us-east-1:1:stream/s, "
         "StartingPosition: LATEST}}", "K.Type", "event type Kinesis: eventsim has no such"),
        ("A: {Type: Api, Properties: {Path: /a, Method: get, Auth: {Authorizer: Cognito}}}",
         "A.Properties.Auth", "does not run authorizers"),
        ("A: {Type: Api, Properties: {Path: /a, Method: get, RequestParameters: [x]}}",
         "A.Properties.RequestParameters", "not honoured by eventsim's Api trigger"),
        ("S: {Type: Schedule, Properties: {Schedule: rate(1 hour), RetryPolicy: "
         "{MaximumRetryAttempts: 1}}}", "S.Properties.RetryPolicy", "the rule's own is not"),
        ("Q: {Type: SQS, Properties: {Queue: arn:aws:sqs:us-east-1:123456789012:elsewhere}}",
         "Q.Properties.Queue", "the queue elsewhere is not in the template: eventsim makes it"),
        ("T: {Type: SNS, Properties: {Topic: arn:aws:sns:us-east-1:123456789012:news}}",
         "T.Properties.Topic", "the topic news is not in the template: eventsim makes it"),
        ("E: {Type: EventBridgeRule, Properties: {EventBusName: partners, Pattern: "
         "{source: [x]}}}", "E.Properties.EventBusName", "the bus partners is not in the"),
        ("D: {Type: DynamoDB, Properties: {Stream: arn:aws:dynamodb:us-east-1:1:table/t/stream/"
         "x, StartingPosition: LATEST}}", "D.Properties.Stream", "eventsim does not know its keys"),
    ],
)  # fmt: skip
def test_events_eventsim_does_not_honour(events: str, path: str, words: str) -> None:
    data, notices = mapped(f"Resources:\n{FN}      Events:\n        {events}\n")
    assert words in notices[f"Resources.Fn.Properties.Events.{path}"], notices


def test_functions_eventsim_cannot_run_are_left_out_and_say_so() -> None:
    data, notices = mapped(
        "Resources:\n"
        "  Image: {Type: AWS::Serverless::Function, Properties: {PackageType: Image, "
        "ImageUri: repo:latest}}\n"
        "  Zipped: {Type: AWS::Serverless::Function, Properties: {Handler: a.b, Runtime: "
        "python3.11, CodeUri: s3://bucket/code.zip}}\n"
        "  Packaged: {Type: AWS::Lambda::Function, Properties: {Handler: a.b, Runtime: "
        "python3.11, Code: {S3Bucket: !Ref Missing, S3Key: k}}}\n"
    )
    assert "functions" not in data
    assert "a container image function" in notices["Resources.Image.Properties.PackageType"]
    assert "the code is an S3 object" in notices["Resources.Zipped.Properties.CodeUri"]
    assert "the code is an S3 object" in notices["Resources.Packaged.Properties.Code"]


def test_inline_code_runs_as_index_py() -> None:
    data, notices = mapped(
        "Resources:\n"
        "  Inline: {Type: AWS::Serverless::Function, Properties: {Handler: index.handler, "
        "Runtime: python3.11, InlineCode: 'def handler(e, c): return 1'}}\n"
        "  Raw: {Type: AWS::Lambda::Function, Properties: {Handler: index.handler, Runtime: "
        "python3.11, Code: {ZipFile: 'def handler(e, c): return 2'}}}\n"
    )
    assert notices == {}
    inline, raw = (Path(data["functions"][f]["code"]) for f in ("Inline", "Raw"))
    assert (inline / "index.py").read_text() == "def handler(e, c): return 1"
    assert (raw / "index.py").read_text() == "def handler(e, c): return 2"
    assert mapped(  # the same code, the same folder
        "Resources:\n  Again: {Type: AWS::Serverless::Function, Properties: {Handler: i.h, "
        "InlineCode: 'def handler(e, c): return 1'}}\n"
    )[0]["functions"]["Again"]["code"] == str(inline)


def test_globals_merge_as_sam_merges_them() -> None:
    data, notices = mapped(f"""\
Globals:
  Function:
    Timeout: 20
    MemorySize: 256
    Environment: {{Variables: {{A: "1", B: "2"}}}}
    Layers: [arn:aws:lambda:us-east-1:1:layer:g:1]
  Api:
    Cors: "'*'"
  Weird: {{}}
Resources:
{FN}      Timeout: 5
      Environment: {{Variables: {{B: "3", C: true}}}}
  Raw:
    Type: AWS::Lambda::Function
    Properties: {{Handler: a.b, Runtime: python3.11, Code: .}}
""")  # fmt: skip
    function = data["functions"]["Fn"]
    assert (function["timeout"], function["memory"]) == (5, 256)
    assert function["environment"] == {"A": "1", "B": "3", "C": "true"}
    assert "timeout" not in data["functions"]["Raw"]  # Globals are SAM's functions' only
    assert "Globals.Function.Layers" in notices
    assert "not honoured by eventsim's HTTP triggers" in notices["Globals.Api.Cors"]
    assert "Globals.Weird" in notices


def test_each_route_carries_the_stage_of_its_api() -> None:
    data, notices = mapped(f"""\
Resources:
  ProdApi: {{Type: AWS::Serverless::Api, Properties: {{StageName: prod}}}}
  V1Api: {{Type: AWS::Serverless::Api, Properties: {{StageName: v1}}}}
  Http: {{Type: AWS::Serverless::HttpApi, Properties: {{StageName: beta}}}}
{FN}      Events:
        A: {{Type: Api, Properties: {{Path: /a, Method: get, RestApiId: !Ref ProdApi}}}}
        B: {{Type: Api, Properties: {{Path: /b, Method: get, RestApiId: !Ref V1Api}}}}
        C: {{Type: HttpApi, Properties: {{Path: /c, Method: get, ApiId: !Ref Http}}}}
        D: {{Type: HttpApi, Properties: {{Path: /d, Method: get}}}}
""")  # fmt: skip
    routes = {t["http"]["path"]: t["http"] for t in data["functions"]["Fn"]["triggers"]}
    assert "stage" not in routes["/a"]  # prod: eventsim's own default for a REST API
    assert routes["/b"]["stage"] == "v1" and routes["/b"]["payload_version"] == "1.0"
    assert routes["/c"]["stage"] == "beta" and "api" not in routes["/c"]
    assert "stage" not in routes["/d"]  # $default
    assert not [path for path in notices if path.endswith("StageName")]


def test_resources_eventsim_does_not_simulate_are_listed() -> None:
    _, notices = mapped(f"""\
Transform: [AWS::Serverless-2016-10-31, AWS::LanguageExtensions]
Rules:
  OnlyProd: {{Assertions: []}}
Resources:
{FN}  Machine: {{Type: AWS::StepFunctions::StateMachine}}
  Alarm: {{Type: AWS::CloudWatch::Alarm}}
  Logs: {{Type: AWS::Logs::LogGroup}}
  Permission: {{Type: AWS::Lambda::Permission}}
  Role: {{Type: AWS::IAM::Role}}
  Store:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {{Status: Enabled}}
      NotificationConfiguration:
        QueueConfigurations: [{{Event: "s3:ObjectCreated:*", Queue: arn:aws:sqs:r:1:q}}]
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{{AttributeName: id, AttributeType: S}}]
      KeySchema: [{{AttributeName: id, KeyType: HASH}}]
      ProvisionedThroughput: {{ReadCapacityUnits: 1, WriteCapacityUnits: 1}}
      KinesisStreamSpecification: {{StreamArn: x}}
""", head="")  # fmt: skip
    expected = {
        "Transform.1": "the transform AWS::LanguageExtensions is not applied",
        "Rules": "the template's parameter assertions are not checked",
        "Resources.Machine": "AWS::StepFunctions::StateMachine: not simulated",
        "Resources.Alarm": "AWS::CloudWatch::Alarm: not simulated",
        "Resources.Logs": "functions' logs go to state_dir/logs/",
        "Resources.Permission": "eventsim checks no permissions",
        "Resources.Role": "eventsim checks no permissions",
        "Resources.Store.Properties.VersioningConfiguration": "not simulated by eventsim",
        "Resources.Store.Properties.NotificationConfiguration.QueueConfigurations":
            "eventsim's buckets notify functions",
        "Resources.Table.Properties.ProvisionedThroughput": "does not throttle tables",
        "Resources.Table.Properties.KinesisStreamSpecification": "not simulated by eventsim",
    }  # fmt: skip
    for path, words in expected.items():
        assert words in notices.get(path, ""), (path, notices)


def test_a_rule_with_function_and_queue_targets() -> None:
    data, _ = mapped(f"""\
Resources:
{FN}  Audit: {{Type: AWS::SQS::Queue, Properties: {{QueueName: audit}}}}
  Rule:
    Type: AWS::Events::Rule
    Properties:
      Name: signups
      EventPattern: '{{"source": ["accounts"]}}'
      Targets:
        - {{Id: f, Arn: !GetAtt Fn.Arn, Input: '{{"a": 1}}'}}
        - {{Id: q, Arn: !GetAtt Audit.Arn, InputPath: $.detail}}
        - {{Id: x, Arn: arn:aws:states:us-east-1:1:stateMachine:m}}
""")  # fmt: skip
    [trigger] = data["functions"]["Fn"]["triggers"]
    assert trigger == {"eventbridge": {"enabled": True, "pattern": {"source": ["accounts"]},
                                       "rule": "signups", "input": {"a": 1}}}  # fmt: skip
    rule = data["buses"]["default"]["rules"]["signups-sqs"]
    assert rule["targets"] == [{"queue": "audit", "input_path": "$.detail"}]


def test_dead_letter_targets_and_destinations_of_every_kind() -> None:
    data, notices = mapped(f"""\
Resources:
{FN}      DeadLetterQueue: {{Type: SNS, TargetArn: !Ref Dead}}
      EventInvokeConfig:
        DestinationConfig:
          OnSuccess: {{Type: EventBridge, Destination: !GetAtt Results.Arn}}
          OnFailure: {{Type: SNS, Destination: !Ref Dead}}
  Dead: {{Type: AWS::SNS::Topic, Properties: {{TopicName: dead}}}}
  Results: {{Type: AWS::Events::EventBus, Properties: {{Name: results}}}}
  Cfn:
    Type: AWS::Lambda::Function
    Properties:
      Code: .
      Handler: app.handler
      Runtime: python3.11
      DeadLetterConfig: {{TargetArn: !GetAtt Jobs.Arn}}
  Jobs: {{Type: AWS::SQS::Queue, Properties: {{QueueName: jobs}}}}
""")  # fmt: skip
    function = data["functions"]["Fn"]
    assert function["dead_letter_queue"] == "topic:dead"
    assert (function["on_success"], function["on_failure"]) == ("bus:results", "topic:dead")
    assert data["functions"]["Cfn"]["dead_letter_queue"] == "queue:jobs"
    assert not [path for path in notices if "DeadLetter" in path or "Destination" in path]


def test_metadata_names_a_resource_for_eventsim(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(HEAD + f"""\
Resources:
{FN}  Files:
    Type: AWS::S3::Bucket
    Metadata: {{eventsim: {{name: files, path: shared/files}}}}
    Properties: {{BucketName: !Sub "${{AWS::StackName}}-files"}}
""")  # fmt: skip
    config = load_config(tmp_path / "template.yaml")
    assert config.buckets["files"].path == tmp_path / "shared" / "files"
    assert config.aliases == {"buckets": {"Files": "files"}}
