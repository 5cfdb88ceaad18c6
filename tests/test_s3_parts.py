"""The pure parts of the S3 API, against tables: listing, ranges and parts, conditions,
digests, and the manifest's schema upgrade."""

from __future__ import annotations

import base64
import sqlite3
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eventsim.errors import ApiError
from eventsim.resources.listing import list_page
from eventsim.resources.manifest import Entry, Manifest, after_prefix
from eventsim.resources.objects import Digests, Metadata, multipart_etag
from eventsim.server.s3_headers import (
    check_conditions,
    expected,
    metadata_from,
    parse_range,
    part_span,
)
from eventsim.state import APPLICATION_ID

KEYS = ["a", "b/1", "b/2", "b/c/3", "b0", "c", "z", "é/x", "é/y"]  # UTF-8 byte order


def fake_page(keys: list[str]) -> Any:
    """``Manifest.page`` over a sorted list, counting reads."""
    ordered = sorted(keys, key=lambda k: k.encode())

    def page(prefix: str, after: str | None, limit: int, *, start: bool = False) -> Any:
        page.reads += 1  # type: ignore[attr-defined]
        rows = [
            k for k in ordered if k.startswith(prefix)
            and (after is None or (k >= after if start else k > after))
        ]  # fmt: skip
        return [(k, Entry(1, 0, "e")) for k in rows[:limit]]

    page.reads = 0  # type: ignore[attr-defined]
    return page


@pytest.mark.parametrize(
    ("options", "objects", "prefixes", "truncated"),
    [
        ({}, KEYS, [], False),
        ({"delimiter": "/"}, ["a", "b0", "c", "z"], ["b/", "é/"], False),
        ({"prefix": "b/", "delimiter": "/"}, ["b/1", "b/2"], ["b/c/"], False),
        ({"max_keys": 3}, ["a", "b/1", "b/2"], [], True),
        ({"delimiter": "/", "max_keys": 2}, ["a"], ["b/"], True),
        ({"delimiter": "/", "after": "b/"}, ["b0", "c", "z"], ["é/"], False),  # past a prefix
        ({"after": "b/1"}, KEYS[2:], [], False),
        ({"prefix": "é"}, ["é/x", "é/y"], [], False),
        ({"max_keys": 0}, [], [], False),  # S3: an empty page, IsTruncated false
        ({"delimiter": "/", "max_keys": 0}, [], [], False),
        ({"prefix": "nothing"}, [], [], False),
    ],
)
def test_listing(
    options: dict[str, Any], objects: list[str], prefixes: list[str], truncated: bool
) -> None:
    listing = list_page(fake_page(KEYS), **options)
    assert [k for k, _ in listing.objects] == objects
    assert listing.prefixes == prefixes
    assert listing.truncated is truncated


def test_listing_skips_a_common_prefix_in_one_read() -> None:
    keys = ["a"] + [f"big/{n:05d}" for n in range(5000)] + ["z"]
    page = fake_page(keys)
    listing = list_page(page, delimiter="/")
    assert [k for k, _ in listing.objects] == ["a", "z"] and listing.prefixes == ["big/"]
    assert page.reads <= 3


def test_after_prefix() -> None:
    assert after_prefix("a/") == "a0"
    assert after_prefix("") is None
    assert after_prefix("a\U0010ffff") == "b"
    assert after_prefix("\ud7ff") == "\ue000"


@pytest.mark.parametrize(
    ("header", "size", "span"),
    [
        (None, 10, None), ("bytes=0-0", 10, (0, 0)), ("bytes=2-", 10, (2, 9)),
        ("bytes=-4", 10, (6, 9)), ("bytes=-40", 10, (0, 9)), ("bytes=3-99", 10, (3, 9)),
        ("bytes=5-2", 10, None), ("bytes=0-1,4-5", 10, None), ("lines=1-2", 10, None),
    ],
)  # fmt: skip
def test_ranges(header: str | None, size: int, span: tuple[int, int] | None) -> None:
    assert parse_range(header, size) == span


@pytest.mark.parametrize(("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=0-", 0)])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(ApiError) as refused:
        parse_range(header, size)
    assert (refused.value.code, refused.value.status) == ("InvalidRange", 416)


@pytest.mark.parametrize(
    ("text", "sizes", "size", "span"),
    [
        ("1", (5, 3), 8, (0, 4)), ("2", (5, 3), 8, (5, 7)), ("02", (5, 3), 8, (5, 7)),
        ("1", (), 8, (0, 7)),  # not multipart: part 1 is the whole object
        ("1", (), 0, None),  # an empty object: no span
    ],
)  # fmt: skip
def test_part_spans(
    text: str, sizes: tuple[int, ...], size: int, span: tuple[int, int] | None
) -> None:
    assert part_span(text, Metadata(part_sizes=sizes), size) == span


@pytest.mark.parametrize(
    ("text", "sizes", "code", "status"),
    [
        ("3", (5, 3), "InvalidPartNumber", 416), ("2", (), "InvalidPartNumber", 416),
        ("0", (5,), "InvalidArgument", 400), ("10001", (5,), "InvalidArgument", 400),
        ("x", (5,), "InvalidArgument", 400), ("\u00b2", (5,), "InvalidArgument", 400),
    ],
)  # fmt: skip
def test_unsatisfiable_parts(text: str, sizes: tuple[int, ...], code: str, status: int) -> None:
    with pytest.raises(ApiError) as refused:
        part_span(text, Metadata(part_sizes=sizes), 8)
    assert (refused.value.code, refused.value.status) == (code, status)


def test_part_sizes_are_kept_with_the_metadata() -> None:
    kept = Metadata(parts=2, part_sizes=(5, 3)).replace(tags={"a": "1"})
    assert Metadata.from_json(kept.to_json()) == kept
    assert Metadata.from_json('{"headers": {}, "parts": 2}').part_sizes == ()  # written before


MODIFIED = datetime(2026, 1, 1, 12, 0, 0, 500000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "outcome"),
    [
        ({}, None),
        ({"If-Match": '"abc"'}, None),
        ({"If-Match": '"x", "abc"'}, None),
        ({"If-Match": "*"}, None),
        ({"If-Match": '"x"'}, 412),
        ({"If-None-Match": '"abc"'}, 304),
        ({"If-None-Match": 'W/"abc"'}, 304),
        ({"If-None-Match": '"x"'}, None),
        ({"If-Modified-Since": "Thu, 01 Jan 2026 12:00:00 GMT"}, 304),
        ({"If-Modified-Since": "Thu, 01 Jan 2026 11:59:59 GMT"}, None),
        ({"If-Modified-Since": "not a date"}, None),
        ({"If-Unmodified-Since": "Thu, 01 Jan 2026 11:59:59 GMT"}, 412),
        ({"If-Match": '"abc"', "If-Unmodified-Since": "Thu, 01 Jan 2026 11:00:00 GMT"}, None),
        ({"If-None-Match": '"x"', "If-Modified-Since": "Thu, 01 Jan 2026 13:00:00 GMT"}, None),
    ],
)
def test_conditions(headers: dict[str, str], outcome: int | None) -> None:
    if outcome == 412:
        with pytest.raises(ApiError) as refused:
            check_conditions(headers, "abc", MODIFIED)
        assert refused.value.code == "PreconditionFailed"
    else:
        assert check_conditions(headers, "abc", MODIFIED) == outcome


def test_copy_source_conditions_are_412_only() -> None:
    with pytest.raises(ApiError):
        check_conditions({"x-amz-copy-source-If-None-Match": '"abc"'}, "abc", MODIFIED,
                         "x-amz-copy-source-")  # fmt: skip


@pytest.mark.parametrize(
    ("algorithm", "value"),
    [
        ("CRC32", zlib.crc32(b"123456789").to_bytes(4, "big")),
        ("CRC32C", bytes.fromhex("e3069283")),
        ("CRC64NVME", bytes.fromhex("ae8b14860a799888")),
    ],
)
def test_checksums_match_the_standard_check_values(algorithm: str, value: bytes) -> None:
    digests = Digests([algorithm])
    digests.update(b"1234")
    digests.update(b"56789")
    assert digests.checksums() == {algorithm: base64.b64encode(value).decode()}
    assert digests.etag == "25f9e794323b453885f5181f1b624d0b" and digests.size == 9


def test_multipart_etag() -> None:
    import hashlib

    parts = [hashlib.md5(b"a").digest(), hashlib.md5(b"b").digest()]
    assert multipart_etag(parts) == f"{hashlib.md5(b''.join(parts)).hexdigest()}-2"


def test_headers_announce_digests_and_metadata() -> None:
    md5 = base64.b64encode(b"\x00" * 16).decode()
    found = expected({"Content-MD5": md5, "x-amz-sdk-checksum-algorithm": "sha256"})
    assert found.md5 == b"\x00" * 16 and found.algorithms == ("SHA256",)
    for bad in ({"Content-MD5": "short"}, {"x-amz-checksum-crc32": "AAAA"}):
        with pytest.raises(ApiError):
            expected(bad)
    stored = metadata_from({
        "Content-Type": "text/plain", "Content-Encoding": "aws-chunked, gzip",
        "X-Amz-Meta-Owner": "ada", "x-amz-tagging": "a=1&b=2",
    })  # fmt: skip
    assert stored.headers == {"Content-Type": "text/plain", "Content-Encoding": "gzip"}
    assert stored.user == {"owner": "ada"} and stored.tags == {"a": "1", "b": "2"}
    with pytest.raises(ApiError) as refused:
        metadata_from({"x-amz-meta-big": "x" * 3000})
    assert refused.value.code == "MetadataTooLarge"


def test_a_version_1_manifest_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "uploads.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE objects (key TEXT PRIMARY KEY, size INTEGER NOT NULL, "
        "mtime_ns INTEGER NOT NULL, etag TEXT NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO objects VALUES ('a.txt', 3, 7, 'abc');"
        "INSERT INTO meta VALUES ('sequencer', '41');"
        f"PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 1;"
    )
    db.close()
    manifest = Manifest(tmp_path, "uploads")
    assert not manifest.first_start
    assert manifest.sequencer() == 41
    assert manifest.get("a.txt") == Entry(3, 7, "abc")
    assert manifest.metadata("a.txt") is None and manifest.uploads() == []
    manifest.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2
