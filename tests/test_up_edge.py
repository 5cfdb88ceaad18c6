"""A real `eventsim up` with its edge and HTTP trigger ports: an app's unmodified boto3 code,
the CLI helpers, the ready block, and the SIGTERM drain."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import boto3
import pytest
import urllib3

from .helpers import FUNCTIONS
from .test_up_s3 import Up

APP = """
import boto3, json, sys
sqs = boto3.client("sqs")
url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
sqs.send_message(QueueUrl=url, MessageBody="from the app")
boto3.resource("dynamodb").Table("orders").put_item(Item={"pk": "app", "total": 3})
result = boto3.client("lambda").invoke(FunctionName="caller", Payload=json.dumps({"n": 1}))
print(json.loads(result["Payload"].read()))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "eventsim.yaml").write_text(
        f"""\
state_dir: state
functions:
  echo: {{handler: behaviours.echo, code: {FUNCTIONS}}}
  caller: {{handler: web.call_echo, code: {FUNCTIONS}, timeout: 10}}
  worker:
    handler: web.print_records
    code: {FUNCTIONS}
    triggers: [{{sqs: {{queue: jobs}}}}]
  audit:
    handler: web.print_records
    code: {FUNCTIONS}
    triggers: [{{dynamodb: {{table: orders, starting_position: TRIM_HORIZON}}}}]
  drain:
    handler: web.drain
    code: {FUNCTIONS}
    triggers: [{{http: {{method: GET, path: /drain}}}}]
queues: {{jobs: {{}}}}
tables: {{orders: {{partition_key: pk, stream: NEW_IMAGE}}}}
"""
    )
    return tmp_path


def endpoints(ready: str) -> tuple[str, str]:
    edge = re.search(r"AWS_ENDPOINT_URL=(\S+)", ready)
    http = re.search(r"http:\s+(http://\S+)", ready)
    assert edge and http, ready
    return edge.group(1), http.group(1)


def test_the_ready_block_names_everything(up: Up) -> None:
    edge, http = endpoints(up.ready)
    assert re.match(r"http://127\.0\.0\.1:\d+$", edge) and not edge.endswith(":0")
    for text in ("worker (web.print_records) <- sqs jobs", "audit (web.print_records) <- dynamodb",
                 f"GET {http}/drain -> drain", f"export AWS_ENDPOINT_URL={edge}"):  # fmt: skip
        assert text in up.ready


def test_an_unmodified_boto3_app_beside_up(up: Up) -> None:
    edge, _ = endpoints(up.ready)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    env["AWS_ENDPOINT_URL"] = edge  # the SDKs' global endpoint variable, as the ready block says
    app = subprocess.run([sys.executable, "-c", APP], env=env, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert app.returncode == 0, app.stderr
    assert app.stdout.strip() == "{'n': 1}"  # caller invoked echo through the edge
    up.wait_for("record from the app", 'record {"pk": {"S": "app"}}')


def eventsim(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventsim", *args], input=stdin, capture_output=True, text=True
    )


def test_cli_helpers_talk_to_up(up: Up, project: Path) -> None:
    edge, _ = endpoints(up.ready)
    config = ["-c", str(project / "eventsim.yaml"), "--endpoint", edge]
    sent = eventsim("send-message", "jobs", "via cli", *config)
    assert sent.returncode == 0 and re.match(r"^[0-9a-f-]{36}$", sent.stdout.strip()), sent
    put = eventsim("put-item", "orders", '{"pk": "cli", "total": 1.50}', *config)
    assert put.returncode == 0, put.stderr
    invoked = eventsim("invoke", "echo", "--remote", "-e", "-", *config, stdin='{"x": 1}')
    assert invoked.returncode == 0 and json.loads(invoked.stdout) == {"x": 1}
    assert "REPORT RequestId" in invoked.stderr
    missing = eventsim("send-message", "nope", "x", *config)
    assert missing.returncode == 2 and missing.stderr.startswith("error: QueueDoesNotExist")
    table = boto3.resource(
        "dynamodb", endpoint_url=edge, region_name="us-east-1",
        aws_access_key_id="t", aws_secret_access_key="t",
    ).Table("orders")  # fmt: skip
    assert str(table.get_item(Key={"pk": "cli"})["Item"]["total"]) == "1.5"
    logs = eventsim("logs", "echo", "-c", str(project / "eventsim.yaml"))
    assert "START RequestId" in logs.stdout
    up.wait_for("record via cli", 'record {"pk": {"S": "cli"}}')
    story = eventsim("explain", "--message", sent.stdout.strip(), *config)
    assert story.returncode == 0 and "sqs:jobs -> worker: attempt 1 succeeded" in story.stdout
    nothing = eventsim("explain", "--key", "never.txt", *config)
    assert "nothing in the ledger" in nothing.stdout


def test_sigterm_lets_in_flight_invocations_finish(up: Up) -> None:
    _, http = endpoints(up.ready)
    responses: list[urllib3.BaseHTTPResponse] = []
    request = threading.Thread(
        target=lambda: responses.append(urllib3.PoolManager().request("GET", f"{http}/drain"))
    )
    request.start()
    up.wait_for("drain started")
    up.process.send_signal(signal.SIGTERM)
    up.wait_for("drain finished")
    assert up.process.wait(timeout=30) == 0
    request.join()
    assert responses[0].status == 200 and json.loads(responses[0].data) == {"drained": True}


def test_reload_picks_up_changed_handler_code(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("def handler(event, context):\n    return 'v1'\n")
    (tmp_path / "eventsim.yaml").write_text(
        f"state_dir: state\nfunctions:\n  app: {{handler: app.handler, code: {code}}}\n"
    )
    up = Up(tmp_path, "--reload")
    try:
        edge = re.search(r"AWS_ENDPOINT_URL=(\S+)", up.ready)
        assert edge is not None
        config = ["-c", str(tmp_path / "eventsim.yaml"), "--endpoint", edge.group(1)]
        assert eventsim("invoke", "app", "--remote", *config).stdout.strip() == '"v1"'
        (code / "app.py").write_text("def handler(event, context):\n    return 'v2'\n")
        up.wait_for("code.changed")
        assert eventsim("invoke", "app", "--remote", *config).stdout.strip() == '"v2"'
        # An editor's safe write: a temporary file renamed over the module.
        (code / "app.py.swp-new").write_text("def handler(event, context):\n    return 'v3'\n")
        os.replace(code / "app.py.swp-new", code / "app.py")
        up.wait_for("code.changed")
        assert eventsim("invoke", "app", "--remote", *config).stdout.strip() == '"v3"'
    finally:
        up.stop()
