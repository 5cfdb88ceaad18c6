"""S3's REST API on the edge, with real boto3 clients: every operation served, the
notifications each fires (exactly once, with S3's event name, size, eTag and sequencer), and
S3's errors as boto3's exceptions."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import pytest_asyncio
import urllib3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from eventsim import Simulator
from eventsim.testing import SimulatorFactory

from .helpers import function

pytestmark = pytest.mark.asyncio

ALL_EVENTS = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]


def s3_config(root: Path) -> dict[str, Any]:
    return {
        "functions": {
            "on_upload": function(
                "echo", isolation="thread",
                triggers=[{"s3": {"bucket": "uploads", "events": ALL_EVENTS}}],
            ),
        },
        "buckets": {"uploads": {"path": str(root / "uploads")}},
    }  # fmt: skip


def client(sim: Simulator, endpoint: str | None = None, **config: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint or sim.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=BotoConfig(retries={"max_attempts": 1}, **config),
    )


@dataclass
class S3:
    sim: Simulator
    client: Any
    folder: Path

    async def __call__(self, operation: str, **kwargs: Any) -> Any:
        """A blocking boto3 call, off the loop that serves it; a body read there too, as
        ``Data``."""

        def call() -> Any:
            answer = getattr(self.client, operation)(**kwargs)
            if "Body" in answer:
                answer["Data"] = answer["Body"].read()
            return answer

        return await asyncio.to_thread(call)

    async def error(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """The error S3 answered ``operation`` with (it must fail)."""
        with pytest.raises(ClientError) as refused:
            await self(operation, **kwargs)
        return dict(refused.value.response)

    async def quiet(self) -> None:
        """Until every filesystem event of what was written so far was looked at: a file
        dropped by hand after them is announced after them (one inotify queue), then
        everything settles."""
        await self.sim.settle()
        marker = self.folder / f"zz-marker-{len(self.sim.ledger.for_function('on_upload'))}"
        marker.write_bytes(b"marker")
        await self._announced(marker.name, "ObjectCreated:Put")
        marker.unlink()
        await self._announced(marker.name, "ObjectRemoved:Delete")
        await self.sim.settle()

    async def _announced(self, key: str, event: str) -> None:
        def seen() -> bool:
            records = [a.event["Records"][0] for a in self.sim.ledger.for_function("on_upload")]
            return any((r["eventName"], r["s3"]["object"]["key"]) == (event, key) for r in records)

        while not seen():
            count = len(self.sim.ledger.for_function("on_upload"))
            await self.sim.ledger.wait_for("on_upload", count=count + 1)

    def records(self, key: str | None = None) -> list[dict[str, Any]]:
        found = [a.event["Records"][0] for a in self.sim.ledger.for_function("on_upload")]
        found = [r for r in found if not r["s3"]["object"]["key"].startswith("zz-marker-")]
        return [r for r in found if key is None or r["s3"]["object"]["key"] == key]

    def events(self, key: str | None = None) -> list[tuple[str, str]]:
        return [(r["eventName"], r["s3"]["object"]["key"]) for r in self.records(key)]


@pytest_asyncio.fixture
async def s3(eventsim_factory: SimulatorFactory, tmp_path: Path) -> S3:
    sim = await eventsim_factory(s3_config(tmp_path), state_dir=tmp_path / "state")
    return S3(sim, client(sim), tmp_path / "uploads")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


_HTTP = urllib3.PoolManager(retries=False)


async def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> urllib3.BaseHTTPResponse:
    """A plain HTTP request (no AWS client: urllib3 comes with boto3), off the loop that
    serves it."""
    return await asyncio.to_thread(_HTTP.request, method, url, body=body, headers=headers)


# --- buckets --------------------------------------------------------------------------------


async def test_buckets_listed_headed_located(s3: S3) -> None:
    listed = await s3("list_buckets")
    assert [b["Name"] for b in listed["Buckets"]] == ["uploads"]
    assert listed["Owner"]["ID"]
    head = await s3("head_bucket", Bucket="uploads")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert (await s3("get_bucket_location", Bucket="uploads"))["LocationConstraint"] is None
    missing = await s3.error("head_bucket", Bucket="nothing-here")
    assert missing["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(s3.client.exceptions.NoSuchBucket):
        await s3("list_objects_v2", Bucket="nothing-here")


async def test_buckets_made_at_run_time_persist_and_delete_only_when_empty(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    sim = await eventsim_factory(s3_config(tmp_path), state_dir=state)
    s3 = S3(sim, client(sim), tmp_path / "uploads")
    await s3("create_bucket", Bucket="scratch")
    await s3("create_bucket", Bucket="scratch")  # us-east-1: 200 for a bucket you own
    await s3("put_object", Bucket="scratch", Key="kept.txt", Body=b"kept")
    assert (state / "s3" / "scratch" / "kept.txt").read_bytes() == b"kept"
    await sim.close()

    again = await eventsim_factory(s3_config(tmp_path), state_dir=state)
    s3 = S3(again, client(again), tmp_path / "uploads")
    names = [b["Name"] for b in (await s3("list_buckets"))["Buckets"]]
    assert names == ["scratch", "uploads"]
    body = await s3("get_object", Bucket="scratch", Key="kept.txt")
    assert body["Data"] == b"kept"
    refused = await s3.error("delete_bucket", Bucket="scratch")
    assert refused["Error"]["Code"] == "BucketNotEmpty"
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 409
    await s3("delete_object", Bucket="scratch", Key="kept.txt")
    await s3("delete_bucket", Bucket="scratch")
    assert not (state / "s3" / "scratch").exists()
    assert [b["Name"] for b in (await s3("list_buckets"))["Buckets"]] == ["uploads"]
    assert (await s3.error("create_bucket", Bucket="Bad_Name"))["Error"]["Code"] == (
        "InvalidBucketName"
    )
    configured = await s3.error("delete_bucket", Bucket="uploads")
    assert configured["Error"]["Code"] == "InvalidBucketState"


# --- objects: put, get, head, delete and their notifications --------------------------------


async def test_put_get_head_delete_notify_once_each(s3: S3) -> None:
    body = b"hello world"
    put = await s3(
        "put_object", Bucket="uploads", Key="docs/a b+c.txt", Body=body,
        ContentType="text/plain; charset=utf-8", Metadata={"Owner": "ada"},
        CacheControl="max-age=60", ContentDisposition='attachment; filename="x.txt"',
    )  # fmt: skip
    assert put["ETag"] == f'"{md5(body)}"'
    assert (s3.folder / "docs" / "a b+c.txt").read_bytes() == body

    got = await s3("get_object", Bucket="uploads", Key="docs/a b+c.txt")
    assert got["Data"] == body
    assert got["ContentType"] == "text/plain; charset=utf-8"
    assert got["Metadata"] == {"owner": "ada"}
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == 'attachment; filename="x.txt"'
    assert got["ETag"] == f'"{md5(body)}"' and got["ContentLength"] == len(body)
    head = await s3("head_object", Bucket="uploads", Key="docs/a b+c.txt")
    assert head["ContentLength"] == len(body) and head["Metadata"] == {"owner": "ada"}
    assert head["LastModified"].tzinfo is not None

    await s3("delete_object", Bucket="uploads", Key="docs/a b+c.txt")
    assert not (s3.folder / "docs").exists()  # S3 has no folders: an emptied one goes
    with pytest.raises(s3.client.exceptions.NoSuchKey):
        await s3("get_object", Bucket="uploads", Key="docs/a b+c.txt")
    assert (await s3.error("head_object", Bucket="uploads", Key="docs/a b+c.txt"))[
        "ResponseMetadata"
    ]["HTTPStatusCode"] == 404
    await s3("delete_object", Bucket="uploads", Key="never-was")  # 204, as in S3

    await s3.quiet()
    assert s3.events() == [
        ("ObjectCreated:Put", "docs/a+b%2Bc.txt"), ("ObjectRemoved:Delete", "docs/a+b%2Bc.txt"),
    ]  # fmt: skip
    created, removed = s3.records()
    assert created["s3"]["object"]["size"] == len(body)
    assert created["s3"]["object"]["eTag"] == md5(body)
    assert removed["s3"]["object"]["sequencer"] > created["s3"]["object"]["sequencer"]


async def test_overwrites_are_puts_each_announced_once(s3: S3) -> None:
    for n in range(5):
        await s3("put_object", Bucket="uploads", Key="same.txt", Body=f"v{n}".encode())
    await s3.quiet()
    records = s3.records("same.txt")
    assert [r["eventName"] for r in records] == ["ObjectCreated:Put"] * 5
    sequencers = [r["s3"]["object"]["sequencer"] for r in records]
    assert sorted(sequencers) == sorted(set(sequencers))
    assert (s3.folder / "same.txt").read_bytes() == b"v4"


async def test_a_file_dropped_by_hand_is_an_object_with_a_guessed_type(s3: S3) -> None:
    png = b"\x89PNG..."
    (s3.folder / "photos").mkdir()
    (s3.folder / "photos" / "cat.png").write_bytes(png)
    await s3.sim.ledger.wait_for("on_upload", count=1)
    got = await s3("get_object", Bucket="uploads", Key="photos/cat.png")
    assert got["Data"] == png
    assert got["ContentType"] == "image/png"
    assert got["ETag"] == f'"{md5(png)}"'
    listed = await s3("list_objects_v2", Bucket="uploads")
    assert [o["Key"] for o in listed["Contents"]] == ["photos/cat.png"]
    await s3.quiet()
    assert s3.events() == [("ObjectCreated:Put", "photos/cat.png")]


async def test_large_single_put_is_streamed_and_leaves_no_temporary_files(s3: S3) -> None:
    body = os.urandom(12 * 1024 * 1024 + 5)
    put = await s3("put_object", Bucket="uploads", Key="big.bin", Body=body)
    assert put["ETag"] == f'"{md5(body)}"'
    got = await s3("get_object", Bucket="uploads", Key="big.bin")
    assert got["Data"] == body
    assert sorted(p.name for p in s3.folder.iterdir()) == ["big.bin"]
    await s3.quiet()
    [record] = s3.records("big.bin")
    assert record["s3"]["object"]["size"] == len(body)


# --- ranges, conditions, overrides ----------------------------------------------------------


async def test_ranged_reads(s3: S3) -> None:
    await s3("put_object", Bucket="uploads", Key="r.txt", Body=b"0123456789")

    async def ranged(header: str) -> tuple[bytes, str | None, int]:
        got = await s3("get_object", Bucket="uploads", Key="r.txt", Range=header)
        status = got["ResponseMetadata"]["HTTPStatusCode"]
        return got["Data"], got.get("ContentRange"), status

    assert await ranged("bytes=2-4") == (b"234", "bytes 2-4/10", 206)
    assert await ranged("bytes=7-") == (b"789", "bytes 7-9/10", 206)
    assert await ranged("bytes=-3") == (b"789", "bytes 7-9/10", 206)
    assert await ranged("bytes=5-100") == (b"56789", "bytes 5-9/10", 206)
    assert await ranged("items=1-2") == (b"0123456789", None, 200)  # not bytes: ignored
    refused = await s3.error("get_object", Bucket="uploads", Key="r.txt", Range="bytes=10-")
    assert refused["Error"]["Code"] == "InvalidRange"
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 416
    assert refused["Error"]["ActualObjectSize"] == "10"
    head = await s3("head_object", Bucket="uploads", Key="r.txt", Range="bytes=0-0")
    assert head["ContentLength"] == 1 and head["ContentRange"] == "bytes 0-0/10"


async def test_conditional_reads(s3: S3) -> None:
    put = await s3("put_object", Bucket="uploads", Key="c.txt", Body=b"v1")
    etag = put["ETag"]
    later = datetime.now(UTC) + timedelta(hours=1)
    earlier = datetime.now(UTC) - timedelta(hours=1)

    async def status(**conditions: Any) -> int:
        try:
            got = await s3("get_object", Bucket="uploads", Key="c.txt", **conditions)
        except ClientError as exc:
            return int(exc.response["ResponseMetadata"]["HTTPStatusCode"])
        return int(got["ResponseMetadata"]["HTTPStatusCode"])

    assert await status(IfMatch=etag) == 200
    assert await status(IfMatch='"0000"') == 412
    assert await status(IfNoneMatch=etag) == 304
    assert await status(IfNoneMatch='"0000"') == 200
    assert await status(IfModifiedSince=later) == 304
    assert await status(IfModifiedSince=earlier) == 200
    assert await status(IfUnmodifiedSince=earlier) == 412
    assert await status(IfUnmodifiedSince=later) == 200
    # If-Match holds, so a failing If-Unmodified-Since does not count (RFC 7232, as S3).
    assert await status(IfMatch=etag, IfUnmodifiedSince=earlier) == 200
    failed = await s3.error("get_object", Bucket="uploads", Key="c.txt", IfMatch='"0000"')
    assert failed["Error"]["Code"] == "PreconditionFailed"
    # Conditional writes.
    exists = await s3.error("put_object", Bucket="uploads", Key="c.txt", Body=b"x", IfNoneMatch="*")
    assert exists["Error"]["Code"] == "PreconditionFailed"
    await s3("put_object", Bucket="uploads", Key="new.txt", Body=b"x", IfNoneMatch="*")


async def test_response_overrides(s3: S3) -> None:
    await s3("put_object", Bucket="uploads", Key="o.bin", Body=b"data")
    got = await s3(
        "get_object", Bucket="uploads", Key="o.bin", ResponseContentType="text/csv",
        ResponseContentDisposition="attachment; filename=o.csv", ResponseCacheControl="no-cache",
    )  # fmt: skip
    assert got["ContentType"] == "text/csv"
    assert got["ContentDisposition"] == "attachment; filename=o.csv"
    assert got["CacheControl"] == "no-cache"


# --- listing --------------------------------------------------------------------------------


async def test_list_objects_v2_prefix_delimiter_pages(s3: S3) -> None:
    keys = ["a.txt", "dir/1.txt", "dir/2.txt", "dir/sub/3.txt", "dis.txt", "z/é ü.txt"]
    for key in keys:
        await s3("put_object", Bucket="uploads", Key=key, Body=key.encode())
    listed = await s3("list_objects_v2", Bucket="uploads")
    assert [o["Key"] for o in listed["Contents"]] == keys
    assert listed["KeyCount"] == len(keys) and not listed["IsTruncated"]
    assert listed["Contents"][0]["ETag"] == f'"{md5(b"a.txt")}"'
    assert listed["Contents"][0]["Size"] == 5

    top = await s3("list_objects_v2", Bucket="uploads", Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["a.txt", "dis.txt"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["dir/", "z/"]
    inside = await s3("list_objects_v2", Bucket="uploads", Prefix="dir/", Delimiter="/")
    assert [o["Key"] for o in inside["Contents"]] == ["dir/1.txt", "dir/2.txt"]
    assert [p["Prefix"] for p in inside["CommonPrefixes"]] == ["dir/sub/"]
    assert [o["Key"] for o in (await s3("list_objects_v2", Bucket="uploads", Prefix="di"))[
        "Contents"]] == ["dir/1.txt", "dir/2.txt", "dir/sub/3.txt", "dis.txt"]  # fmt: skip

    # Pages of two, with continuation tokens; a common prefix counts as one entry.
    seen: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = await s3("list_objects_v2", Bucket="uploads", Delimiter="/", MaxKeys=2, **token)
        seen += [o["Key"] for o in page.get("Contents", [])]
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert page["KeyCount"] <= 2
        if not page["IsTruncated"]:
            break
        token = {"ContinuationToken": page["NextContinuationToken"]}
    assert sorted(seen) == ["a.txt", "dir/", "dis.txt", "z/"]
    after = await s3("list_objects_v2", Bucket="uploads", StartAfter="dir/2.txt")
    assert [o["Key"] for o in after["Contents"]] == ["dir/sub/3.txt", "dis.txt", "z/é ü.txt"]
    # encoding-type=url: boto3 asks for it and decodes the keys back.
    paginator = s3.client.get_paginator("list_objects_v2")
    pages = await asyncio.to_thread(
        lambda: list(paginator.paginate(Bucket="uploads", PaginationConfig={"PageSize": 4}))
    )
    assert [o["Key"] for p in pages for o in p["Contents"]] == keys
    url = f"{s3.sim.endpoint_url}/uploads?list-type=2&encoding-type=url&prefix=z/"
    raw = await http("GET", url)
    assert "<Key>z/%C3%A9+%C3%BC.txt</Key>" in raw.data.decode()
    bad = await s3.error("list_objects_v2", Bucket="uploads", ContinuationToken="%%%")
    assert bad["Error"]["Code"] == "InvalidArgument"


async def test_list_objects_v1_with_marker(s3: S3) -> None:
    for key in ["a", "b/1", "b/2", "c"]:
        await s3("put_object", Bucket="uploads", Key=key, Body=b"x")
    first = await s3("list_objects", Bucket="uploads", MaxKeys=2)
    assert [o["Key"] for o in first["Contents"]] == ["a", "b/1"] and first["IsTruncated"]
    rest = await s3("list_objects", Bucket="uploads", Marker="b/1")
    assert [o["Key"] for o in rest["Contents"]] == ["b/2", "c"] and not rest["IsTruncated"]
    grouped = await s3("list_objects", Bucket="uploads", Delimiter="/", MaxKeys=2)
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["b/"]
    assert grouped["NextMarker"] == "b/"
    following = await s3("list_objects", Bucket="uploads", Delimiter="/", Marker="b/")
    assert [o["Key"] for o in following["Contents"]] == ["c"]
    assert first["Contents"][0]["Owner"]["ID"]


async def test_max_keys_0_lists_nothing_and_is_not_truncated(s3: S3) -> None:
    for key in ["a", "b/1"]:
        await s3("put_object", Bucket="uploads", Key=key, Body=b"x")
    for operation in ("list_objects", "list_objects_v2"):
        for delimiter in ("", "/"):
            page = await s3(operation, Bucket="uploads", MaxKeys=0, Delimiter=delimiter)
            assert "Contents" not in page and "CommonPrefixes" not in page
            assert page["IsTruncated"] is False, (operation, delimiter)
            assert "NextContinuationToken" not in page and "NextMarker" not in page


# --- copy, batch delete, tagging ------------------------------------------------------------


async def test_copy_object_metadata_copy_and_replace(s3: S3) -> None:
    await s3(
        "put_object", Bucket="uploads", Key="src.txt", Body=b"source", ContentType="text/plain",
        Metadata={"a": "1"}, Tagging="team=red",
    )  # fmt: skip
    copied = await s3(
        "copy_object", Bucket="uploads", Key="copy.txt",
        CopySource={"Bucket": "uploads", "Key": "src.txt"},
    )  # fmt: skip
    assert copied["CopyObjectResult"]["ETag"] == f'"{md5(b"source")}"'
    got = await s3("get_object", Bucket="uploads", Key="copy.txt")
    assert (got["Data"], got["ContentType"], got["Metadata"]) == (
        b"source", "text/plain", {"a": "1"},
    )  # fmt: skip
    assert got["TagCount"] == 1
    await s3(
        "copy_object", Bucket="uploads", Key="replaced.txt", MetadataDirective="REPLACE",
        CopySource="uploads/src.txt", ContentType="application/json", Metadata={"b": "2"},
    )  # fmt: skip
    head = await s3("head_object", Bucket="uploads", Key="replaced.txt")
    assert (head["ContentType"], head["Metadata"]) == ("application/json", {"b": "2"})
    itself = await s3.error(
        "copy_object", Bucket="uploads", Key="src.txt", CopySource="uploads/src.txt"
    )
    assert itself["Error"]["Code"] == "InvalidRequest"
    missing = await s3.error(
        "copy_object", Bucket="uploads", Key="x", CopySource="uploads/not-there"
    )
    assert missing["Error"]["Code"] == "NoSuchKey"
    failed = await s3.error(
        "copy_object", Bucket="uploads", Key="x", CopySource="uploads/src.txt",
        CopySourceIfMatch='"0000"',
    )  # fmt: skip
    assert failed["Error"]["Code"] == "PreconditionFailed"
    await s3.quiet()
    assert s3.events() == [
        ("ObjectCreated:Put", "src.txt"), ("ObjectCreated:Copy", "copy.txt"),
        ("ObjectCreated:Copy", "replaced.txt"),
    ]  # fmt: skip


@pytest.mark.parametrize("quiet", [False, True])
async def test_delete_objects(s3: S3, quiet: bool) -> None:
    for key in ("one", "two", "dir/three"):
        await s3("put_object", Bucket="uploads", Key=key, Body=b"x")
    # Keys no file can hold are keys of no object: deleted, as any absent key is in S3.
    keys = ["one", "dir/three", "never-was", "../escape", "dir/", "k" * 1025]
    answer = await s3(
        "delete_objects", Bucket="uploads",
        Delete={"Objects": [{"Key": k} for k in keys], "Quiet": quiet},
    )  # fmt: skip
    deleted = [d["Key"] for d in answer.get("Deleted", [])]
    assert deleted == ([] if quiet else keys[:5])
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("k" * 1025, "KeyTooLongError")]
    assert [o["Key"] for o in (await s3("list_objects_v2", Bucket="uploads"))["Contents"]] == [
        "two"
    ]
    await s3.quiet()
    assert sorted(e for e in s3.events() if e[0] == "ObjectRemoved:Delete") == [
        ("ObjectRemoved:Delete", "dir/three"), ("ObjectRemoved:Delete", "one"),
    ]  # fmt: skip


async def test_delete_objects_of_no_keys_is_malformed(s3: S3) -> None:
    refused = await s3.error("delete_objects", Bucket="uploads", Delete={"Objects": []})
    assert (refused["Error"]["Code"], refused["ResponseMetadata"]["HTTPStatusCode"]) == (
        "MalformedXML", 400,
    )  # fmt: skip


async def test_keys_no_file_can_hold_read_as_absent(s3: S3) -> None:
    """S3 holds any key; eventsim cannot hold ``dir/``, ``a//b`` or ``../x`` as files, nor a
    folder as an object: reading one is S3's answer for a missing key, not a refusal."""
    await s3("put_object", Bucket="uploads", Key="dir/inner.txt", Body=b"x")
    for key in ("dir", "dir/", "a//b", "../x", "dir/../dir/inner.txt"):
        with pytest.raises(s3.client.exceptions.NoSuchKey):
            await s3("get_object", Bucket="uploads", Key=key)
        head = await s3.error("head_object", Bucket="uploads", Key=key)
        assert head["ResponseMetadata"]["HTTPStatusCode"] == 404, key
        copy = await s3.error(
            "copy_object", Bucket="uploads", Key="copy.txt",
            CopySource={"Bucket": "uploads", "Key": key},
        )  # fmt: skip
        assert copy["Error"]["Code"] == "NoSuchKey", key
        await s3("delete_object", Bucket="uploads", Key=key)  # 204, as for any absent key
    assert (s3.folder / "dir" / "inner.txt").read_bytes() == b"x"
    too_long = await s3.error("get_object", Bucket="uploads", Key="k" * 1025)
    assert too_long["Error"]["Code"] == "KeyTooLongError"  # S3's own limit, as S3 says
    refused = await s3.error("put_object", Bucket="uploads", Key="dir/", Body=b"")
    assert refused["Error"]["Code"] == "InvalidKey"  # a write still says why it cannot be
    await s3.quiet()
    assert s3.events() == [("ObjectCreated:Put", "dir/inner.txt")]


async def test_object_tagging(s3: S3) -> None:
    await s3("put_object", Bucket="uploads", Key="t.txt", Body=b"x", Tagging="a=1&b=two%20words")
    tags = await s3("get_object_tagging", Bucket="uploads", Key="t.txt")
    assert tags["TagSet"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"}]
    await s3(
        "put_object_tagging", Bucket="uploads", Key="t.txt",
        Tagging={"TagSet": [{"Key": "only", "Value": "this"}]},
    )  # fmt: skip
    assert (await s3("get_object", Bucket="uploads", Key="t.txt"))["TagCount"] == 1
    await s3("delete_object_tagging", Bucket="uploads", Key="t.txt")
    assert (await s3("get_object_tagging", Bucket="uploads", Key="t.txt"))["TagSet"] == []
    too_many = "&".join(f"k{n}=v" for n in range(11))
    refused = await s3.error("put_object", Bucket="uploads", Key="u", Body=b"", Tagging=too_many)
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(s3.client.exceptions.NoSuchKey):
        await s3("get_object_tagging", Bucket="uploads", Key="none")
    await s3.quiet()
    assert s3.events() == [("ObjectCreated:Put", "t.txt")]  # tagging is no object change


# --- multipart ------------------------------------------------------------------------------


async def test_upload_file_over_8_mb_is_one_complete_multipart_upload(
    s3: S3, tmp_path: Path
) -> None:
    data = os.urandom(8 * 1024 * 1024 * 2 + 1234)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    await asyncio.to_thread(s3.client.upload_file, str(source), "uploads", "big/file.bin")
    parts = [data[i : i + 8 * 1024 * 1024] for i in range(0, len(data), 8 * 1024 * 1024)]
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    head = await s3("head_object", Bucket="uploads", Key="big/file.bin")
    assert head["ETag"] == f'"{expected}-3"' and head["ContentLength"] == len(data)
    target = tmp_path / "back.bin"
    await asyncio.to_thread(s3.client.download_file, "uploads", "big/file.bin", str(target))
    assert target.read_bytes() == data
    await s3.quiet()
    [record] = s3.records()
    assert record["eventName"] == "ObjectCreated:CompleteMultipartUpload"
    assert record["s3"]["object"]["eTag"] == f"{expected}-3"
    assert record["s3"]["object"]["size"] == len(data)
    assert sorted(p.name for p in s3.folder.rglob("*")) == ["big", "file.bin"]


async def test_multipart_operations_and_errors(s3: S3) -> None:
    five_mb = b"a" * (5 * 1024 * 1024)
    await s3("put_object", Bucket="uploads", Key="source.txt", Body=b"0123456789")
    upload = await s3("create_multipart_upload", Bucket="uploads", Key="m.bin",
                      ContentType="application/x-test", Metadata={"k": "v"})  # fmt: skip
    uid = upload["UploadId"]
    one = await s3("upload_part", Bucket="uploads", Key="m.bin", UploadId=uid, PartNumber=1,
                   Body=five_mb)  # fmt: skip
    two = await s3(
        "upload_part_copy", Bucket="uploads", Key="m.bin", UploadId=uid, PartNumber=2,
        CopySource="uploads/source.txt", CopySourceRange="bytes=2-5",
    )  # fmt: skip
    parts = await s3("list_parts", Bucket="uploads", Key="m.bin", UploadId=uid)
    assert [(p["PartNumber"], p["Size"]) for p in parts["Parts"]] == [(1, len(five_mb)), (2, 4)]
    uploads = await s3("list_multipart_uploads", Bucket="uploads")
    assert [(u["Key"], u["UploadId"]) for u in uploads["Uploads"]] == [("m.bin", uid)]
    wrong = await s3.error(
        "complete_multipart_upload", Bucket="uploads", Key="m.bin", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0000"'}]},
    )  # fmt: skip
    assert wrong["Error"]["Code"] == "InvalidPart"
    etags = [one["ETag"], two["CopyPartResult"]["ETag"]]
    done = await s3(
        "complete_multipart_upload", Bucket="uploads", Key="m.bin", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(etags)]},
    )  # fmt: skip
    digest = hashlib.md5(hashlib.md5(five_mb).digest() + hashlib.md5(b"2345").digest())
    assert done["ETag"] == f'"{digest.hexdigest()}-2"'
    got = await s3("get_object", Bucket="uploads", Key="m.bin")
    assert got["Data"] == five_mb + b"2345"
    assert (got["ContentType"], got["Metadata"]) == ("application/x-test", {"k": "v"})
    with pytest.raises(s3.client.exceptions.NoSuchUpload):
        await s3("list_parts", Bucket="uploads", Key="m.bin", UploadId=uid)

    small = (await s3("create_multipart_upload", Bucket="uploads", Key="s.bin"))["UploadId"]
    tags = []
    for number in (1, 2):
        part = await s3("upload_part", Bucket="uploads", Key="s.bin", UploadId=small,
                        PartNumber=number, Body=b"tiny")  # fmt: skip
        tags.append({"PartNumber": number, "ETag": part["ETag"]})
    too_small = await s3.error(
        "complete_multipart_upload", Bucket="uploads", Key="s.bin", UploadId=small,
        MultipartUpload={"Parts": tags},
    )  # fmt: skip
    assert too_small["Error"]["Code"] == "EntityTooSmall"
    await s3("abort_multipart_upload", Bucket="uploads", Key="s.bin", UploadId=small)
    with pytest.raises(s3.client.exceptions.NoSuchUpload):
        await s3("abort_multipart_upload", Bucket="uploads", Key="s.bin", UploadId=small)
    assert "Uploads" not in await s3("list_multipart_uploads", Bucket="uploads")
    await s3.quiet()
    assert s3.events() == [
        ("ObjectCreated:Put", "source.txt"), ("ObjectCreated:CompleteMultipartUpload", "m.bin"),
    ]  # fmt: skip


async def test_reads_by_part_number(s3: S3) -> None:
    """``?partNumber`` reads one part of a multipart object (what SDKs that download by part
    ask for); of any other object, part 1 is the whole of it."""
    sizes = [5 * 1024 * 1024, 5 * 1024 * 1024 + 7, 3]
    data = os.urandom(sum(sizes))
    uid = (await s3("create_multipart_upload", Bucket="uploads", Key="p.bin"))["UploadId"]
    parts, offset = [], 0
    for number, size in enumerate(sizes, 1):
        part = await s3("upload_part", Bucket="uploads", Key="p.bin", UploadId=uid,
                        PartNumber=number, Body=data[offset : offset + size])  # fmt: skip
        parts.append({"PartNumber": number, "ETag": part["ETag"]})
        offset += size
    await s3("complete_multipart_upload", Bucket="uploads", Key="p.bin", UploadId=uid,
             MultipartUpload={"Parts": parts})  # fmt: skip
    offset = 0
    for number, size in enumerate(sizes, 1):
        got = await s3("get_object", Bucket="uploads", Key="p.bin", PartNumber=number)
        assert got["Data"] == data[offset : offset + size]
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206 and got["PartsCount"] == 3
        assert got["ContentRange"] == f"bytes {offset}-{offset + size - 1}/{len(data)}"
        head = await s3("head_object", Bucket="uploads", Key="p.bin", PartNumber=number)
        assert (head["ContentLength"], head["PartsCount"]) == (size, 3)
        offset += size
    whole = await s3("head_object", Bucket="uploads", Key="p.bin")
    assert whole["ContentLength"] == len(data) and "PartsCount" not in whole
    past = await s3.error("get_object", Bucket="uploads", Key="p.bin", PartNumber=4)
    assert (past["Error"]["Code"], past["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InvalidPartNumber", 416,
    )  # fmt: skip
    both = await s3.error(
        "get_object", Bucket="uploads", Key="p.bin", PartNumber=1, Range="bytes=0-1"
    )
    assert both["Error"]["Code"] == "InvalidRequest"

    await s3("put_object", Bucket="uploads", Key="single.txt", Body=b"one part")
    one = await s3("get_object", Bucket="uploads", Key="single.txt", PartNumber=1)
    assert (one["Data"], one["ContentRange"]) == (b"one part", "bytes 0-7/8")
    assert "PartsCount" not in one
    two = await s3.error("get_object", Bucket="uploads", Key="single.txt", PartNumber=2)
    assert two["Error"]["Code"] == "InvalidPartNumber"


# --- presigned URLs, checksums --------------------------------------------------------------


@pytest.mark.parametrize("signature", ["s3", "s3v4"])
async def test_presigned_urls_with_a_plain_http_client(s3: S3, signature: str) -> None:
    signer = client(s3.sim, signature_version=signature)
    put_url = signer.generate_presigned_url(
        "put_object", Params={"Bucket": "uploads", "Key": "pre/signed.txt"}, ExpiresIn=60
    )
    assert (await http("PUT", put_url, b"via url")).status == 200
    get_url = signer.generate_presigned_url(
        "get_object", Params={"Bucket": "uploads", "Key": "pre/signed.txt"}, ExpiresIn=60
    )
    got = await http("GET", get_url)
    assert (got.status, got.data) == (200, b"via url")
    expired = signer.generate_presigned_url(
        "get_object", Params={"Bucket": "uploads", "Key": "pre/signed.txt"}, ExpiresIn=-10
    )
    refused = await http("GET", expired)
    assert refused.status == 403 and b"<Code>AccessDenied</Code>" in refused.data
    await s3.quiet()
    assert s3.events() == [("ObjectCreated:Put", "pre/signed.txt")]


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
async def test_checksums_are_verified_and_returned(s3: S3, algorithm: str) -> None:
    if algorithm == "CRC32C":
        pytest.importorskip("awscrt")  # botocore computes CRC32C only with awscrt
    put = await s3("put_object", Bucket="uploads", Key="sum.txt", Body=b"checked",
                   ChecksumAlgorithm=algorithm)  # fmt: skip
    value = put[f"Checksum{algorithm}"]
    got = await s3("get_object", Bucket="uploads", Key="sum.txt", ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == value and got["Data"] == b"checked"


async def test_wrong_digests_are_bad_digest_and_store_nothing(s3: S3) -> None:
    url = f"{s3.sim.endpoint_url}/uploads/bad.txt"
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    wrong_crc = base64.b64encode(b"\x00\x00\x00\x00").decode()
    for headers in ({"Content-MD5": wrong_md5}, {"x-amz-checksum-crc32": wrong_crc},
                    {"x-amz-checksum-sha256": base64.b64encode(b"x" * 32).decode()}):  # fmt: skip
        answer = await http("PUT", url, b"body", headers)
        assert answer.status == 400 and b"<Code>BadDigest</Code>" in answer.data
    answer = await http("PUT", url, b"body", {"Content-MD5": "not base64!"})
    assert b"<Code>InvalidDigest</Code>" in answer.data
    right = base64.b64encode(hashlib.md5(b"body").digest()).decode()
    ok = await http("PUT", url, b"body", {"Content-MD5": right})
    assert ok.status == 200
    assert sorted(p.name for p in s3.folder.iterdir()) == ["bad.txt"]


async def test_aws_chunked_bodies_with_a_trailing_checksum(s3: S3) -> None:
    """Other SDKs frame uploads in aws-chunked encoding with the checksum in a trailer."""
    import zlib

    data = b"hello, chunked world" * 1000
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()

    def framed(checksum: str) -> bytes:
        chunks = [data[:8192], data[8192:]]
        body = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks)
        return body + b"0\r\n" + f"x-amz-checksum-crc32:{checksum}\r\n\r\n".encode()

    headers = {
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32", "Content-Type": "text/plain",
    }  # fmt: skip
    url = f"{s3.sim.endpoint_url}/uploads/chunked.txt"
    ok = await http("PUT", url, framed(crc), headers)
    assert ok.status == 200, ok.data
    got = await s3("get_object", Bucket="uploads", Key="chunked.txt")
    assert got["Data"] == data and "ContentEncoding" not in got
    bad = base64.b64encode(b"\x01\x02\x03\x04").decode()
    refused = await http("PUT", url, framed(bad), headers)
    assert b"<Code>BadDigest</Code>" in refused.data


# --- keys, links, errors --------------------------------------------------------------------


async def test_keys_over_the_limits_are_refused_leaving_nothing(s3: S3) -> None:
    long_key = "k" * 1025
    refused = await s3.error("put_object", Bucket="uploads", Key=long_key, Body=b"x")
    assert refused["Error"]["Code"] == "KeyTooLongError" and "1024" in refused["Error"]["Message"]
    segment = "deep/" + "s" * 256 + "/file.txt"
    refused = await s3.error("put_object", Bucket="uploads", Key=segment, Body=b"x")
    assert refused["Error"]["Code"] == "KeyTooLongError" and "255" in refused["Error"]["Message"]
    escape = await s3.error("put_object", Bucket="uploads", Key="a/../../x", Body=b"x")
    assert escape["Error"]["Code"] == "InvalidKey"
    multipart = await s3.error("create_multipart_upload", Bucket="uploads", Key=long_key)
    assert multipart["Error"]["Code"] == "KeyTooLongError"
    assert list(s3.folder.iterdir()) == []
    assert not (s3.folder.parent / "x").exists()


async def test_symlinks_are_not_objects(s3: S3, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    (s3.folder / "link.txt").symlink_to(secret)
    (s3.folder / "linkdir").symlink_to(tmp_path)
    await s3("put_object", Bucket="uploads", Key="real.txt", Body=b"real")
    await s3.quiet()
    assert s3.events() == [("ObjectCreated:Put", "real.txt")]
    assert [o["Key"] for o in (await s3("list_objects_v2", Bucket="uploads"))["Contents"]] == [
        "real.txt"
    ]
    with pytest.raises(s3.client.exceptions.NoSuchKey):
        await s3("get_object", Bucket="uploads", Key="link.txt")
    through = await s3.error("get_object", Bucket="uploads", Key="linkdir/secret.txt")
    assert (
        through["Error"]["Code"] == "NoSuchKey" and "symbolic link" in through["Error"]["Message"]
    )
    await s3("delete_object", Bucket="uploads", Key="linkdir/secret.txt")  # 204, nothing done
    assert secret.read_text() == "do not serve"


async def test_unserved_operations_and_bad_requests_are_s3_errors(s3: S3) -> None:
    acl = await s3.error("get_bucket_acl", Bucket="uploads")
    assert (acl["Error"]["Code"], acl["ResponseMetadata"]["HTTPStatusCode"]) == (
        "NotImplemented", 501,
    )  # fmt: skip
    bad = await s3.error("list_objects_v2", Bucket="uploads", MaxKeys=-1)
    assert bad["Error"]["Code"] == "InvalidArgument"
    malformed = await http("POST", f"{s3.sim.endpoint_url}/uploads?delete", b"<Delete><Object>")
    assert malformed.status == 400 and b"<Code>MalformedXML</Code>" in malformed.data
    too_large = await http(
        "PUT", f"{s3.sim.endpoint_url}/uploads/huge", b"",
        {"x-amz-decoded-content-length": str(6 * 1024**3),
         "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
    )  # fmt: skip
    assert too_large.status == 400 and b"<Code>EntityTooLarge</Code>" in too_large.data
    # S3 keys are UTF-8: a key of other bytes is refused, not stored as replacement characters
    not_utf8 = await http("PUT", f"{s3.sim.endpoint_url}/uploads/%ED%A0%80", b"x")
    assert not_utf8.status == 400 and b"<Code>InvalidURI</Code>" in not_utf8.data
    assert list(s3.folder.iterdir()) == []


async def test_virtual_hosted_style(s3: S3, monkeypatch: pytest.MonkeyPatch) -> None:
    """``bucket.localhost`` names the bucket (RFC 6761: *.localhost is this machine; not
    every resolver knows, so the test resolves it as such resolvers do)."""
    import socket

    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    port = s3.sim.endpoint_url.rsplit(":", 1)[1]  # type: ignore[union-attr]
    virtual = client(s3.sim, f"http://localhost:{port}", s3={"addressing_style": "virtual"})
    sent: list[str] = []
    virtual.meta.events.register("before-send.s3.*", lambda request, **_: sent.append(request.url))
    await asyncio.to_thread(virtual.put_object, Bucket="uploads", Key="v/h.txt", Body=b"vh")
    got = await asyncio.to_thread(
        lambda: virtual.get_object(Bucket="uploads", Key="v/h.txt")["Body"].read()
    )
    assert got == b"vh"
    listed = await asyncio.to_thread(virtual.list_objects_v2, Bucket="uploads")
    assert [o["Key"] for o in listed["Contents"]] == ["v/h.txt"]
    assert sent[0].startswith(f"http://uploads.localhost:{port}/v/h.txt")


async def test_a_symlink_is_logged_once(eventsim_factory: SimulatorFactory, tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    folder = tmp_path / "uploads"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")
    (folder / "real.txt").write_text("real")
    with capture_logs() as logs:
        sim = await eventsim_factory(s3_config(tmp_path), state_dir=tmp_path / "state")
        bucket = sim.bucket("uploads")
        for _ in range(2):
            bucket.hint_tree("")
            bucket.hint("link.txt")
        await sim.settle()
    ignored = [e for e in logs if e["event"] == "bucket.symlink_ignored"]
    assert [e["path"] for e in ignored] == [str(folder / "link.txt")]
    assert bucket.list_objects() == ["real.txt"]
    assert sim.ledger.for_function("on_upload") == []
