"""STS's GetCallerIdentity on the edge, through real boto3 clients and raw requests."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import boto3
import pytest
import pytest_asyncio
import urllib3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from eventsim.server.edge import EdgeServer
from eventsim.testing import SimulatorFactory

pytestmark = pytest.mark.asyncio

Start = Callable[[dict[str, Any]], Any]


@pytest_asyncio.fixture
async def start(eventsim_factory: SimulatorFactory) -> AsyncIterator[Start]:
    """Start an edge for a config; it is stopped at teardown."""
    servers: list[EdgeServer] = []

    async def make(config: dict[str, Any]) -> EdgeServer:
        sim = await eventsim_factory(config, virtual_time=False)
        server = EdgeServer(sim, port=0)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.stop()


def sts(server: EdgeServer) -> Any:
    return boto3.client(
        "sts", endpoint_url=server.url, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test", config=BotoConfig(retries={"max_attempts": 1}),
    )  # fmt: skip


async def test_get_caller_identity_names_the_default_role(start: Start) -> None:
    server = await start({})
    identity = await asyncio.to_thread(sts(server).get_caller_identity)
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/eventsim/eventsim"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}:eventsim", identity["UserId"])
    again = await asyncio.to_thread(sts(server).get_caller_identity)
    assert again["UserId"] == identity["UserId"]  # a fixed id, not a fresh one per call


async def test_get_caller_identity_follows_the_configured_account_and_role(start: Start) -> None:
    server = await start(
        {"account": "111122223333", "role_arn": "arn:aws:iam::111122223333:role/team/app-role"}
    )
    identity = await asyncio.to_thread(sts(server).get_caller_identity)
    assert identity["Account"] == "111122223333"
    assert identity["Arn"] == "arn:aws:sts::111122223333:assumed-role/app-role/eventsim"
    default = await start({"account": "111122223333"})
    other = await asyncio.to_thread(sts(default).get_caller_identity)
    assert other["Arn"] == "arn:aws:sts::111122223333:assumed-role/eventsim/eventsim"
    assert other["UserId"] != identity["UserId"]  # one id per role


async def test_other_sts_actions_are_invalid_actions(start: Start) -> None:
    server = await start({})
    client = sts(server)
    with pytest.raises(ClientError) as refused:
        await asyncio.to_thread(partial(
            client.assume_role, RoleArn="arn:aws:iam::123456789012:role/x", RoleSessionName="me"
        ))  # fmt: skip
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidAction" and "AssumeRole" in error["Message"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (await asyncio.to_thread(client.get_caller_identity))["Account"] == "123456789012"


async def test_presigned_and_json_flavoured_requests(start: Start) -> None:
    server = await start({})
    http = urllib3.PoolManager()
    # A presigned GET (as Kubernetes' aws-iam-authenticator sends): the scope is in the query.
    query = ("Action=GetCallerIdentity&Version=2011-06-15"
             "&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fsts%2Faws4_request")  # fmt: skip
    got = await asyncio.to_thread(http.request, "GET", f"{server.url}/?{query}")
    assert got.status == 200 and b"<Account>123456789012</Account>" in got.data
    # The awsJson flavour, should botocore's STS model move to it.
    signed = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sts/aws4_request"
    target = "AWSSecurityTokenServiceV20110615.GetCallerIdentity"
    posted = await asyncio.to_thread(
        http.request, "POST", server.url + "/", body=b"{}",
        headers={"X-Amz-Target": target, "Authorization": signed,
                 "Content-Type": "application/x-amz-json-1.0"},
    )  # fmt: skip
    assert posted.status == 200 and json.loads(posted.data)["Account"] == "123456789012"
    # An unsigned form with no Action is STS's MissingAction, not a crash.
    bare = await asyncio.to_thread(
        http.request, "POST", server.url + "/", body=b"Version=2011-06-15",
        headers={"Authorization": signed, "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert bare.status == 400 and b"<Code>MissingAction</Code>" in bare.data
