"""`eventsim generate-event`: every kind parses with the AWS-side models; bad input is one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventModel,
    APIGatewayProxyEventV2Model,
    DynamoDBStreamModel,
    EventBridgeModel,
    S3Model,
    SqsModel,
)
from click.testing import CliRunner
from pydantic import BaseModel

from eventsim.cli import cli

from .helpers import FUNCTIONS

CASES: list[tuple[list[str], type[BaseModel] | None]] = [
    (["s3", "put", "--key", "a b/c=d.jpg", "--size", "5"], S3Model),
    (["s3", "post"], S3Model),
    (["s3", "copy"], S3Model),
    (["s3", "complete-multipart-upload"], S3Model),
    (["s3", "delete", "--version-id", "v1"], S3Model),
    (["s3", "delete-marker-created"], S3Model),
    (["sqs", "receive-message", "--body", '{"n": 1}', "--attribute", "kind=resize"], SqsModel),
    (["sqs", "receive-message", "--queue", "q.fifo", "--group-id", "g"], SqsModel),
    (["dynamodb", "insert", "--keys", '{"pk": "a", "sk": 1}', "--new-image", '{"v": 1.5}'],
     DynamoDBStreamModel),
    (["dynamodb", "modify", "--view-type", "KEYS_ONLY"], DynamoDBStreamModel),
    (["dynamodb", "remove", "--ttl"], DynamoDBStreamModel),
    (["events", "scheduled", "--rule", "nightly"], EventBridgeModel),
    (["apigateway", "aws-proxy", "--method", "post", "--path", "/items/42", "--resource",
      "/items/{id}", "--body", "{}", "--query", "a=1&a=2", "--header", "X-A: 1"],
     APIGatewayProxyEventModel),
    (["apigateway", "http-api-proxy", "--path", "/items/42", "--route-key", "GET /items/{id}"],
     APIGatewayProxyEventV2Model),
    (["lambda", "destination", "--condition", "Success", "--response-payload", "{}"], None),
    (["lambda", "destination", "--condition", "EventAgeExceeded"], None),
]  # fmt: skip


def generate(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["generate-event", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize(("args", "model"), CASES, ids=[" ".join(a[:2]) for a, _ in CASES])
def test_every_kind_parses_with_powertools(args: list[str], model: type[BaseModel] | None) -> None:
    event = generate(*args)
    if model is not None:
        model.model_validate(event)


def test_options_reach_the_event() -> None:
    s3 = generate("s3", "put", "--bucket", "photos", "--key", "a b.jpg", "--size", "0")
    obj = s3["Records"][0]["s3"]["object"]
    assert obj == {
        "key": "a+b.jpg", "size": 0, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
        "sequencer": obj["sequencer"],
    }  # fmt: skip
    ddb = generate("dynamodb", "modify", "--keys", '{"pk": "a"}', "--old-image", '{"n": 1}')
    change = ddb["Records"][0]["dynamodb"]
    assert change["Keys"] == {"pk": {"S": "a"}}
    assert change["OldImage"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
    api = generate("apigateway", "aws-proxy", "--path", "/items/42", "--resource", "/items/{id}")
    assert api["pathParameters"] == {"id": "42"}
    fifo = generate("sqs", "receive-message", "--queue", "q.fifo")
    assert fifo["Records"][0]["attributes"]["MessageGroupId"] == "1"
    assert fifo["Records"][0]["eventSourceARN"].endswith(":q.fifo")


def test_help_lists_every_kind() -> None:
    out = CliRunner().invoke(cli, ["generate-event", "--help"]).output
    for args, _ in CASES:
        assert args[1] in out, args[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dynamodb", "insert", "--keys", "{bad"], "Invalid value for '--keys': not valid JSON"),
        (["dynamodb", "insert", "--keys", "[1]"], "expected a JSON object"),
        (["dynamodb", "insert", "--keys", '{"n": 1e400}'], "DynamoDB numbers must be finite"),
        (["dynamodb", "insert", "--ttl"], "only a remove comes from TTL expiry"),
        (["sqs", "receive-message", "--attribute", "novalue"], "expected NAME=VALUE"),
        (["s3", "put", "--size", "-1"], "--size"),
        (["apigateway", "aws-proxy", "--path", "items"], "a path starts with '/'"),
        (["kinesis", "put"], "No such command 'kinesis'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "eventsim", "generate-event", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


def test_generated_event_drives_a_real_handler(tmp_path: Path) -> None:
    """generate-event | eventsim invoke, with a handler that parses the event the AWS way."""
    config = tmp_path / "eventsim.yaml"
    config.write_text(f"functions:\n  parse: {{handler: parsers.sqs_bodies, code: {FUNCTIONS}}}\n")
    event = subprocess.run(
        [sys.executable, "-m", "eventsim", "generate-event", "sqs", "receive-message",
         "--body", '{"order": 7}'],
        capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "eventsim", "invoke", "parse", "-c", str(config), "--event", "-"],
        input=event, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{"order": 7}]
