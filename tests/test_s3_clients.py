"""Clients other than a test's own boto3 calls: an unchanged public-style S3-triggered
handler under the fixtures, and the AWS CLI's ``s3 cp``, ``s3 sync`` and ``s3 ls``."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from eventsim import Outcome, Simulator
from eventsim.testing import SimulatorFactory

from .helpers import function

pytestmark = pytest.mark.asyncio


def client(sim: Simulator) -> Any:
    return boto3.client(
        "s3", endpoint_url=sim.endpoint_url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip


@pytest.mark.timeout(120)
async def test_a_public_style_handler_downloads_transforms_and_uploads(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    config = {
        "functions": {
            "transform": function(
                "s3_transform.lambda_handler",
                triggers=[{"s3": {"bucket": "uploads", "prefix": "incoming/"}}],
            ),
        },
        "buckets": {"uploads": {"path": str(tmp_path / "uploads")}},
    }
    sim = await eventsim_factory(config, state_dir=tmp_path / "state", virtual_time=False)
    s3 = client(sim)
    await asyncio.to_thread(
        s3.put_object, Bucket="uploads", Key="incoming/note one.txt", Body=b"hello lambda"
    )
    (tmp_path / "uploads" / "incoming" / "dropped.txt").write_bytes(b"dropped by hand")
    await sim.ledger.wait_for("transform", count=2)
    await sim.settle()
    assert [a.outcome for a in sim.ledger.for_function("transform")] == [Outcome.SUCCESS] * 2
    processed = tmp_path / "uploads" / "processed"
    assert (processed / "note one.txt").read_bytes() == b"HELLO LAMBDA"
    assert (processed / "dropped.txt").read_bytes() == b"DROPPED BY HAND"
    # The results matched no configuration: no loop, and the ledger says why.
    assert len(sim.ledger.for_function("transform")) == 2


AWS = shutil.which("aws")


@pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed (pip install awscli)")
@pytest.mark.timeout(180)
async def test_the_aws_cli_copies_syncs_and_lists(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    config = {
        "functions": {
            "seen": function(
                "echo", isolation="thread",
                triggers=[{"s3": {"bucket": "uploads", "events": ["s3:ObjectCreated:*"]}}],
            ),
        },
        "buckets": {"uploads": {"path": str(tmp_path / "uploads")}},
    }  # fmt: skip
    sim = await eventsim_factory(config, state_dir=tmp_path / "state", virtual_time=False)
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": str(sim.endpoint_url),
    }  # fmt: skip

    async def aws(*args: str) -> str:
        done = await asyncio.to_thread(
            subprocess.run, [str(AWS), *args], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    local = tmp_path / "local"
    (local / "sub").mkdir(parents=True)
    (local / "one.txt").write_text("one")
    (local / "sub" / "two words.txt").write_text("two")
    (local / "big.bin").write_bytes(os.urandom(9 * 1024 * 1024))  # the CLI goes multipart
    # `s3 sync` uploads a file newer than the object; S3's LastModified has whole seconds, so
    # a file written in the second of its upload would look newer (as against S3): age them.
    aged = time.time() - 60
    for path in local.rglob("*"):
        os.utime(path, (aged, aged))

    await aws("s3", "cp", str(local / "one.txt"), "s3://uploads/copied/one.txt")
    assert (tmp_path / "uploads" / "copied" / "one.txt").read_text() == "one"
    synced = await aws("s3", "sync", str(local), "s3://uploads/synced")
    assert synced.count("upload:") == 3
    assert await aws("s3", "sync", str(local), "s3://uploads/synced") == ""  # nothing changed
    listing = await aws("s3", "ls", "s3://uploads/synced/", "--recursive")
    assert sorted(line.split(maxsplit=3)[3] for line in listing.splitlines()) == [
        "synced/big.bin", "synced/one.txt", "synced/sub/two words.txt",
    ]  # fmt: skip
    top = await aws("s3", "ls", "s3://uploads/")
    assert "PRE copied/" in top and "PRE synced/" in top
    assert "uploads" in await aws("s3", "ls")
    back = tmp_path / "back"
    await aws("s3", "cp", "s3://uploads/synced", str(back), "--recursive")
    assert (back / "big.bin").read_bytes() == (local / "big.bin").read_bytes()
    assert (back / "sub" / "two words.txt").read_text() == "two"

    await sim.ledger.wait_for("seen", count=4)
    await sim.settle()
    names = sorted(
        (a.event["Records"][0]["s3"]["object"]["key"], a.event["Records"][0]["eventName"])
        for a in sim.ledger.for_function("seen")
    )
    assert names == [
        ("copied/one.txt", "ObjectCreated:Put"),
        ("synced/big.bin", "ObjectCreated:CompleteMultipartUpload"),
        ("synced/one.txt", "ObjectCreated:Put"),
        ("synced/sub/two+words.txt", "ObjectCreated:Put"),
    ]
