"""Loading a template as a config: its tags and positions, errors that point into it, the
overlay (an eventsim.yaml naming a template), discovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventsim.config import Config, find_config, load_config
from eventsim.errors import ConfigError
from eventsim.sam import template

HEAD = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
"""
FUNCTION = """\
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.handler
      Runtime: python3.11
"""


def write(folder: Path, body: str, name: str = "template.yaml") -> Path:
    (folder / "src").mkdir(exist_ok=True)
    path = folder / name
    path.write_text(HEAD + body)
    return path


def errors(path: Path, **parameters: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, parameters or None)
    return [str(issue).removeprefix(f"{path.parent}/") for issue in info.value.issues]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!Ref Jobs", {"Ref": "Jobs"}),
        ("!GetAtt Jobs.Arn", {"Fn::GetAtt": ["Jobs", "Arn"]}),
        ("!GetAtt Api.Endpoint.Address", {"Fn::GetAtt": ["Api", "Endpoint.Address"]}),
        ("!GetAtt [Jobs, Arn]", {"Fn::GetAtt": ["Jobs", "Arn"]}),
        ("!Sub '${A}'", {"Fn::Sub": "${A}"}),
        ("!Sub ['${A}', {A: b}]", {"Fn::Sub": ["${A}", {"A": "b"}]}),
        ("!Join [',', [a, !Ref B]]", {"Fn::Join": [",", ["a", {"Ref": "B"}]]}),
        ("!If [C, !Ref 'AWS::NoValue', 1]", {"Fn::If": ["C", {"Ref": "AWS::NoValue"}, 1]}),
        ("!Condition C", {"Condition": "C"}),
        ("!ImportValue {'Fn::Sub': x}", {"Fn::ImportValue": {"Fn::Sub": "x"}}),
        ("!Base64 x", {"Fn::Base64": "x"}),
    ],
)
def test_short_tags_are_read_as_the_long_form(text: str, expected: object) -> None:
    parsed = template.load(Path("t.yaml"), f"Resources: {{}}\nX: {text}\n")
    assert parsed.data["X"] == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Resources: {A: !Foo x}", "1:16: tag '!Foo' is not a CloudFormation intrinsic function"),
        ("Resources: {A: !!python/object:os.system x}", "1:16: tag '!!python/object:os.system' "
         "is not allowed"),
        ("Resources: {A: 1, A: 2}", "1:19: Resources.A: duplicate key 'A'"),
        ("Resources: [", "1:13: invalid YAML"),
        ("Resources: {A: &a [*a]}", "alias *a is inside its own anchor"),
    ],
)  # fmt: skip
def test_a_template_that_cannot_be_read_is_refused_where_it_stands(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    [problem] = errors(path)
    assert problem.startswith("template.yaml:") and message in problem, problem


def test_errors_point_into_the_template(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
Globals:
  Function:
    Timeout: 0
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 99999
{FUNCTION}      MemorySize: "a lot"
      Environment:
        Variables:
          AWS_REGION: us-east-1
      Events:
        Q:
          Type: SQS
          Properties:
            Queue: !GetAtt Missing.Arn
        Batch:
          Type: SQS
          Properties:
            Queue: !GetAtt Jobs.Arn
            BatchSize: 100
""")  # fmt: skip
    assert errors(path) == [
        "template.yaml:5:5: Globals.Function.Timeout: Input should be greater than or equal to "
        "1 (got 0)",
        "template.yaml:10:7: Resources.Jobs.Properties.VisibilityTimeout: Input should be less "
        "than or equal to 43200 (got 99999)",
        'template.yaml:17:7: Resources.Fn.Properties.MemorySize: expected an integer, got "a lot"',
        "template.yaml:19:9: Resources.Fn.Properties.Environment.Variables: reserved by the "
        "Lambda runtime: ['AWS_REGION']",
        "template.yaml:25:13: Resources.Fn.Properties.Events.Q.Properties.Queue: !GetAtt "
        "Missing.Arn names no resource",
        "template.yaml:26:9: Resources.Fn.Properties.Events.Batch: batch_size over 10 needs "
        "batching_window of at least 1 second",
    ]


def test_reference_errors_point_into_the_template(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{{AttributeName: id, AttributeType: S}}]
      KeySchema: [{{AttributeName: id, KeyType: HASH}}]
{FUNCTION}      Events:
        Changes:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Table.StreamArn
            StartingPosition: LATEST
        Other:
          Type: DynamoDB
          Properties:
            Stream: !Sub "arn:aws:dynamodb:us-east-1:123456789012:table/${{Table}}/stream/x"
""")  # fmt: skip
    assert errors(path) == [
        "template.yaml:19:13: Resources.Fn.Properties.Events.Changes.Properties.Stream: !GetAtt "
        "Table.StreamArn: Table has no StreamSpecification",
        "template.yaml:21:9: Resources.Fn.Properties.Events.Other: missing required key "
        "'starting_position'",
    ]


def test_a_template_with_errors_and_a_missing_code_folder(tmp_path: Path) -> None:
    path = write(tmp_path, FUNCTION.replace("src/", "missing/").join(["Resources:\n", ""]))
    [problem] = errors(path)
    assert problem.startswith("template.yaml:7:7: Resources.Fn.Properties.CodeUri: code folder ")


def test_a_template_is_a_config_and_says_what_it_does_not_honour(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
Resources:
{FUNCTION}      Layers: [arn:aws:lambda:us-east-1:123456789012:layer:x:1]
""")  # fmt: skip
    config = load_config(path)
    assert config.template == path and config.source == path
    assert config.functions["Fn"].code == tmp_path / "src"
    assert config.state_dir == tmp_path / ".eventsim"
    [notice] = config.not_honoured
    assert str(notice).startswith(f"{path}:10:7: Resources.Fn.Properties.Layers: Layers: ")
    assert Config.from_dict({"template": str(path)}, base_dir=tmp_path).functions == (
        config.functions
    )


def test_an_overlay_overrides_and_extends_the_template(tmp_path: Path) -> None:
    write(tmp_path, f"""\
Parameters:
  Stage: {{Type: String}}
Resources:
  Uploads:
    Type: AWS::S3::Bucket
{FUNCTION}      Timeout: 10
      Environment:
        Variables:
          STAGE: !Ref Stage
""")  # fmt: skip
    overlay = tmp_path / "eventsim.yaml"
    overlay.write_text("""\
template: template.yaml
parameters: {Stage: dev}
state_dir: state
server: {http_port: 3999}
buckets:
  Uploads: {path: files}          # named by the template's logical id
functions:
  Fn:
    isolation: thread
    environment: {EXTRA: "1"}
  Extra: {handler: app.other, code: src}
""")
    config = load_config(overlay)
    function = config.functions["Fn"]
    assert (function.timeout, function.isolation) == (10, "thread")
    assert function.environment == {"STAGE": "dev", "EXTRA": "1"}  # mappings merge
    assert list(config.functions) == ["Fn", "Extra"]
    [bucket] = config.buckets.values()
    assert bucket.path == tmp_path / "files"
    assert config.state_dir == tmp_path / "state" and config.server.http_port == 3999
    assert load_config(overlay, {"Stage": "prod"}).functions["Fn"].environment["STAGE"] == "prod"


def test_an_overlay_error_points_into_the_overlay(tmp_path: Path) -> None:
    write(tmp_path, f"Resources:\n{FUNCTION}")
    overlay = tmp_path / "eventsim.yaml"
    overlay.write_text("template: template.yaml\nfunctions:\n  Fn:\n    isolation: fiber\n")
    [problem] = errors(overlay)
    assert problem.startswith("eventsim.yaml:4:5: functions.Fn.isolation: Input should be ")
    overlay.write_text("template: nowhere.yaml\n")
    [problem] = errors(overlay)
    assert problem.startswith("eventsim.yaml:1:1: template: ") and "no such file" in problem
    overlay.write_text("parameters: {A: b}\n")
    [problem] = errors(overlay)
    assert "parameters are a template's: name it with template: FILE" in problem


@pytest.mark.parametrize(
    ("overlay", "parameters", "problem"),
    [
        ("region: eu-west-1\n", {"AWS::Region": "us-east-2"},
         "region 'eu-west-1' and the parameter AWS::Region='us-east-2' disagree"),
        ("", {"Nope": "x"}, "a value is given for 'Nope', which the template does not declare"),
    ],
)  # fmt: skip
def test_parameters_and_pseudo_parameters_given_wrongly(
    tmp_path: Path, overlay: str, parameters: dict[str, str], problem: str
) -> None:
    write(tmp_path, f"Resources:\n{FUNCTION}")
    path = tmp_path / "eventsim.yaml"
    path.write_text(f"template: template.yaml\n{overlay}")
    assert any(problem in line for line in errors(path, **parameters)), errors(path, **parameters)


def test_the_stack_name_region_and_account_come_from_parameters_or_the_overlay(
    tmp_path: Path,
) -> None:
    write(tmp_path, "Resources:\n  Jobs: {Type: AWS::SQS::Queue}\n")
    overlay = tmp_path / "eventsim.yaml"
    overlay.write_text("template: template.yaml\naccount: '210987654321'\n")
    config = load_config(overlay, {"AWS::StackName": "shop", "AWS::Region": "eu-west-3"})
    [queue] = config.queues
    assert queue.startswith("shop-Jobs-")
    assert (config.region, config.account) == ("eu-west-3", "210987654321")
    assert config.aliases == {"queues": {"Jobs": queue}}


def test_discovery_ends_with_template_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_config(tmp_path)
    assert "template.yaml" in info.value.issues[0].message
    write(tmp_path, f"Resources:\n{FUNCTION}", name="template.yml")
    assert find_config(tmp_path) == tmp_path / "template.yml"
    write(tmp_path, f"Resources:\n{FUNCTION}")
    assert find_config(tmp_path) == tmp_path / "template.yaml"
    (tmp_path / "eventsim.yaml").write_text("template: template.yaml\n")
    assert find_config(tmp_path) == tmp_path / "eventsim.yaml"


def test_a_config_that_merely_mentions_resources_is_still_a_config(tmp_path: Path) -> None:
    path = tmp_path / "eventsim.yaml"
    path.write_text(
        "functions:\n  f:\n    handler: eventsim.testing.record\n"
        "    environment:\n      Resources: none\n"
    )
    assert load_config(path).functions["f"].environment == {"Resources": "none"}
    path.write_text("functions: {f: {handler: !Ref X}}\n")
    [problem] = errors(path)
    assert "tag '!Ref' is not allowed" in problem  # intrinsics belong to templates
