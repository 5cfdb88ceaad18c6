"""A closed world: handlers see an environment built from an allowlist, and every SDK call
they (or a test using ``eventsim_aws_env``) make lands on eventsim, never on AWS."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from eventsim.testing import SimulatorFactory, aws_environment

from .helpers import FUNCTIONS
from .test_up_s3 import Up

pytest_plugins = ["pytester"]

SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAREALREALREALREAL",
    "AWS_SECRET_ACCESS_KEY": "real-secret",
    "AWS_SESSION_TOKEN": "real-token",
    "AWS_PROFILE": "prod",
    "GITHUB_TOKEN": "ghp_secret",
    "DATABASE_URL": "postgres://prod",
    "AWS_ENDPOINT_URL_DYNAMODB": "http://another-app:8000",
    "MYAPP_MODE": "inherited",
    "MYAPP_LEVEL": "3",
}


def aws(handler: str, **options: Any) -> dict[str, Any]:
    return {"handler": f"aws_calls.{handler}", "code": str(FUNCTIONS), **options}


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.mark.asyncio
async def test_a_process_handler_sees_only_the_allowlist(
    eventsim_factory: SimulatorFactory, secrets: None
) -> None:
    sim = await eventsim_factory(
        {
            "inherit_env": ["MYAPP_M*"],
            "functions": {"dump": aws("dump_environment", inherit_env=["MYAPP_LEVEL"],
                                      environment={"OWN": "mine"})},
            "buckets": {"uploads": {"path": "uploads"}},
        },
        private_buckets=True,
    )  # fmt: skip
    env = (await sim.invoke("dump")).payload
    assert not {"GITHUB_TOKEN", "DATABASE_URL", "AWS_PROFILE"} & set(env)
    assert env["AWS_ACCESS_KEY_ID"] != SECRETS["AWS_ACCESS_KEY_ID"]
    assert env["AWS_SESSION_TOKEN"] != SECRETS["AWS_SESSION_TOKEN"]
    assert env["AWS_ENDPOINT_URL"] == sim.endpoint_url
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == sim.endpoint_url  # not the other app's
    assert env["AWS_ENDPOINT_URL_S3"] == sim.endpoint_url
    assert (env["MYAPP_MODE"], env["MYAPP_LEVEL"], env["OWN"]) == ("inherited", "3", "mine")
    assert env["EVENTSIM_BUCKET_UPLOADS"] == str(sim.bucket("uploads").root)
    assert env["PATH"] == os.environ["PATH"]
    assert env["AWS_CONFIG_FILE"].startswith(str(sim.state_dir))  # not the developer's ~/.aws


@pytest.mark.asyncio
@pytest.mark.parametrize("pattern", ["AWS_*", "*"])
async def test_inherit_env_never_lets_the_parent_lead_an_sdk_elsewhere(
    eventsim_factory: SimulatorFactory,
    secrets: None,
    monkeypatch: pytest.MonkeyPatch,
    pattern: str,
) -> None:
    """A glob as wide as ``AWS_*`` (or ``*``) inherits the parent's AWS settings that do not
    lead elsewhere (a region, say), never its profile, other endpoints, or the switch that
    makes SDKs ignore the endpoint variables (with it, boto3 went to AWS)."""
    for name, value in {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_ROLE_ARN": "arn:x",
                        "AWS_ENDPOINT_URL_KINESIS": "http://example.com",
                        "AWS_MAX_ATTEMPTS": "7"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    sim = await eventsim_factory({"functions": {"dump": aws("dump_environment",
                                                            inherit_env=[pattern])}})  # fmt: skip
    env = (await sim.invoke("dump")).payload
    assert not {"AWS_PROFILE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_ROLE_ARN",
                "AWS_ENDPOINT_URL_KINESIS"} & set(env)  # fmt: skip
    assert env["AWS_MAX_ATTEMPTS"] == "7"  # inherited: it leads nowhere
    assert env["AWS_ENDPOINT_URL"] == env["AWS_ENDPOINT_URL_DYNAMODB"] == sim.endpoint_url
    assert env["AWS_SECRET_ACCESS_KEY"] != SECRETS["AWS_SECRET_ACCESS_KEY"]


@pytest.mark.asyncio
async def test_a_handler_calls_boto3_under_the_fixtures(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory(
        {"functions": {"send": aws("send_to_queue"), "who": aws("caller_identity")},
         "queues": {"jobs": {}}, "account": "111122223333"}
    )  # fmt: skip
    result = await sim.invoke("send", {"queue": "jobs", "body": "from a handler"})
    assert result.function_error is None, result.payload
    [message] = await sim.queue("jobs").receive_messages(max_messages=10)
    assert (message.message_id, message.body) == (result.payload, "from a handler")
    assert (await sim.invoke("who")).payload == "111122223333"


@pytest.mark.asyncio
async def test_without_an_edge_sdk_calls_fail_at_once(
    eventsim_factory: SimulatorFactory, secrets: None
) -> None:
    sim = await eventsim_factory({"functions": {"ls": aws("list_queues")}}, edge=False)
    assert sim.endpoint_url is None
    result = await sim.invoke("ls")
    assert "127.0.0.1:9" in result.payload["refused"]  # a closed local port, not AWS


@pytest.mark.asyncio
async def test_thread_isolation_overrides_what_leads_elsewhere(
    eventsim_factory: SimulatorFactory, secrets: None
) -> None:
    sim = await eventsim_factory({"functions": {"dump": aws("dump_environment",
                                                            isolation="thread")}})  # fmt: skip
    env = (await sim.invoke("dump")).payload
    assert env["AWS_ACCESS_KEY_ID"] != SECRETS["AWS_ACCESS_KEY_ID"]
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == sim.endpoint_url
    assert "AWS_PROFILE" not in env
    assert env["GITHUB_TOKEN"] == "ghp_secret"  # the documented limit of a shared process
    await sim.close()
    assert os.environ["AWS_PROFILE"] == "prod"  # restored once the environments are gone
    assert os.environ["AWS_ACCESS_KEY_ID"] == SECRETS["AWS_ACCESS_KEY_ID"]


@pytest.mark.asyncio
async def test_aws_environment_points_the_test_process_at_the_edge(
    eventsim_factory: SimulatorFactory, secrets: None
) -> None:
    sim = await eventsim_factory({"queues": {"jobs": {}}, "region": "eu-west-1"})

    def app_code() -> str:  # blocking SDK calls: off the loop the edge answers on
        client = boto3.client("sqs")
        url = client.get_queue_url(QueueName="jobs")["QueueUrl"]
        client.send_message(QueueUrl=url, MessageBody="from the test")
        return str(client.meta.region_name)

    with aws_environment(sim):
        assert "AWS_PROFILE" not in os.environ
        assert await asyncio.to_thread(app_code) == "eu-west-1"
    assert os.environ["AWS_PROFILE"] == "prod"
    assert "AWS_ENDPOINT_URL" not in os.environ
    [message] = await sim.queue("jobs").receive_messages()
    assert message.body == "from the test"


def test_the_eventsim_aws_env_fixture(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", eventsim=f"""
functions:
  send: {{handler: aws_calls.send_to_queue, code: {FUNCTIONS}}}
queues: {{jobs: {{}}}}
""")  # fmt: skip
    pytester.makeini("[pytest]\neventsim_config = eventsim.yaml\n")
    pytester.makepyfile(
        """
        import boto3

        def test_plain_boto3(eventsim_sync, eventsim_aws_env):
            sqs = boto3.client("sqs")
            url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody="plain")
            assert eventsim_sync.queue("jobs").receive_messages()[0].body == "plain"
            assert eventsim_aws_env["AWS_ENDPOINT_URL"] == eventsim_sync.endpoint_url
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_eventsim_up_keeps_the_shell_out_of_handlers(tmp_path: Path) -> None:
    (tmp_path / "eventsim.yaml").write_text(
        f"state_dir: state\nfunctions:\n  dump: {{handler: aws_calls.dump_environment, "
        f"code: {FUNCTIONS}}}\n"
    )
    env = {**os.environ, **SECRETS}
    up = Up(tmp_path, env=env)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "eventsim", "invoke", "dump", "-c",
             str(tmp_path / "eventsim.yaml")],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "invoking through it" in done.stderr  # the running up holds the state folder
        seen = json.loads(done.stdout)
    finally:
        up.stop()
    leaked = {k for k, v in SECRETS.items() if seen.get(k) == v}
    assert not leaked
    assert seen["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
