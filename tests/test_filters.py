"""S3 notification matching and S3's overlap rule (docs/aws-behaviour.md §1.2, §1.5)."""

from __future__ import annotations

from typing import Any

import pytest

from eventsim.errors import PatternError
from eventsim.filters import (
    FilterSet,
    Pattern,
    configurations_overlap,
    event_type_matches,
    key_matches,
    sqs_view,
)


@pytest.mark.parametrize(
    ("configured", "event", "expected"),
    [
        (["s3:ObjectCreated:*"], "ObjectCreated:Put", True),
        (["s3:ObjectCreated:*"], "ObjectRemoved:Delete", False),
        (["s3:ObjectCreated:Put"], "ObjectCreated:Put", True),
        (["s3:ObjectCreated:Put"], "ObjectCreated:Copy", False),
        (["s3:ObjectRemoved:Delete", "s3:ObjectCreated:Post"], "ObjectCreated:Post", True),
        (["s3:ObjectRemoved:*"], "ObjectRemoved:DeleteMarkerCreated", True),
    ],
)
def test_event_types(configured: list[str], event: str, expected: bool) -> None:
    assert event_type_matches(configured, event) is expected


@pytest.mark.parametrize(
    ("prefix", "suffix", "key", "expected"),
    [
        ("", "", "anything", True),
        ("images/", "", "images/cat.jpg", True),
        ("images/", "", "docs/cat.jpg", False),
        ("", ".jpg", "cat.jpg", True),
        ("", ".jpg", "cat.jpg.png", False),
        ("my+photos/", "", "my+photos/a.jpg", True),  # filters compare the encoded key
        ("*", "", "cat.jpg", False),  # no wildcards: * is literal
    ],
)
def test_keys(prefix: str, suffix: str, key: str, expected: bool) -> None:
    assert key_matches(prefix, suffix, key) is expected


CREATED, PUT, REMOVED = ["s3:ObjectCreated:*"], ["s3:ObjectCreated:Put"], ["s3:ObjectRemoved:*"]


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        # The valid and invalid examples of docs/aws-behaviour.md §1.5.
        ((CREATED, "images/", ""), (CREATED, "logs/", ""), False),
        ((CREATED, "", ".jpg"), (CREATED, "", ".png"), False),
        ((CREATED, "images", ".jpg"), (CREATED, "images", ".png"), False),
        ((PUT, "images", ""), (REMOVED, "images", ""), False),
        ((CREATED, "", ""), (CREATED, "images", ""), True),
        ((CREATED, "", "jpg"), (CREATED, "", "pg"), True),
        ((CREATED, "images", "jpg"), (CREATED, "", "jpg"), True),
        ((CREATED, "a/", ""), (PUT, "a/b/", ""), True),
    ],
)
def test_overlap_rule(
    a: tuple[list[str], str, str], b: tuple[list[str], str, str], overlap: bool
) -> None:
    assert configurations_overlap(*a, *b) is overlap
    assert configurations_overlap(*b, *a) is overlap


# --- event filter patterns (§7.3) ----------------------------------------------------------

RECORD = {
    "body": {"kind": "resize", "size": 300, "ratio": 1.5, "tags": ["a", "b"], "note": "",
             "owner": None, "ip": "10.0.0.7", "region": "us-east-1", "name": "Alice"},
    "attributes": {"ApproximateReceiveCount": "1"},
    "eventSource": "aws:sqs",
}  # fmt: skip


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"body": {"kind": ["resize"]}}, True),
        ({"body": {"kind": ["Resize"]}}, False),  # case-sensitive
        ({"body": {"kind": ["crop", "resize"]}}, True),  # OR within the array
        ({"body": {"kind": ["resize"], "size": [300]}}, True),  # AND across fields
        ({"body": {"kind": ["resize"], "size": [301]}}, False),
        ({"body": {"size": [300.0]}}, False),  # numbers compare by representation
        ({"body": {"tags": ["b"]}}, True),  # an array value matches if any element does
        ({"body": {"owner": [None]}}, True),  # null
        ({"body": {"note": [None]}}, False),  # null is not the empty string
        ({"body": {"note": [""]}}, True),  # empty
        ({"body": {"missing": ["x"]}}, False),  # named fields must exist
        ({"body": {"region": [{"prefix": "us-"}]}}, True),
        ({"body": {"region": [{"suffix": "-1"}]}}, True),
        ({"body": {"name": [{"equals-ignore-case": "ALICE"}]}}, True),
        ({"body": {"kind": [{"anything-but": ["crop", "rotate"]}]}}, True),
        ({"body": {"kind": [{"anything-but": "resize"}]}}, False),
        ({"body": {"region": [{"anything-but": {"prefix": "eu-"}}]}}, True),
        ({"body": {"size": [{"numeric": [">", 100, "<=", 300]}]}}, True),
        ({"body": {"size": [{"numeric": ["<", 300]}]}}, False),
        ({"body": {"ratio": [{"numeric": ["=", 1.5]}]}}, True),
        ({"body": {"kind": [{"numeric": [">", 0]}]}}, False),  # numeric needs a number
        ({"body": {"kind": [{"exists": True}]}}, True),
        ({"body": {"missing": [{"exists": False}]}}, True),
        ({"body": {"kind": [{"exists": False}]}}, False),
        ({"body": {"ip": [{"cidr": "10.0.0.0/24"}]}}, True),
        ({"body": {"ip": [{"cidr": "10.0.1.0/24"}]}}, False),
        ({"body": {"$or": [{"kind": ["crop"]}, {"size": [300]}]}}, True),
        ({"body": {"$or": [{"kind": ["crop"]}, {"size": [1]}]}}, False),
        ({"eventSource": ["aws:sqs"], "attributes": {"ApproximateReceiveCount": ["1"]}}, True),
    ],
)
def test_pattern_language(pattern: dict[str, Any], expected: bool) -> None:
    assert Pattern.compile(pattern).matches(RECORD) is expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (
            {"body": {"kind": "resize"}},
            'body.kind: a leaf is an array of conditions, e.g. ["resize"]',
        ),
        ({"body": {"kind": []}}, "body.kind: an empty array matches nothing"),
        ({"body": {"kind": [{"wildcard": "r*"}]}}, "unknown operator 'wildcard'"),
        ({"body": {"size": [{"numeric": ["~", 1]}]}}, "numeric comparisons are one of"),
        ({"body": {"size": [{"numeric": [">", "1"]}]}}, "numeric comparisons are one of"),
        ({"body": {"ip": [{"cidr": "nonsense"}]}}, "cidr takes a network"),
        ({"body": {"kind": [{"exists": "yes"}]}}, "exists takes true or false"),
        ({"body": {"$or": [{"a": [1]}]}}, "body.$or: expected a list of at least two patterns"),
        ({"body": {"a": [{"prefix": 1}]}}, "prefix takes a string"),
        ({}, "empty pattern"),
        ({"body": {"a": ["x" * 5000]}}, "longer than 4096 characters"),
    ],
)
def test_invalid_patterns_say_where_and_why(pattern: dict[str, Any], message: str) -> None:
    with pytest.raises(PatternError) as info:
        Pattern.compile(pattern)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("body", "pattern", "passes"),
    [
        ("hello", {"body": ["hello"]}, True),  # plain body, plain pattern
        ("hello", {"body": {"kind": ["x"]}}, False),  # plain body, JSON pattern: dropped
        ('{"kind": "x"}', {"body": ['{"kind": "x"}']}, False),  # JSON body, plain pattern
        ('{"kind": "x"}', {"body": {"kind": ["x"]}}, True),  # JSON body, JSON pattern
        ("hello", {"eventSource": ["aws:sqs"]}, True),  # metadata only
    ],
)
def test_sqs_bodies_per_the_reference_table(
    body: str, pattern: dict[str, Any], passes: bool
) -> None:
    record = {"body": body, "eventSource": "aws:sqs"}
    assert FilterSet.compile([pattern]).passes(sqs_view(record)) is passes


def test_filter_sets_are_or_and_empty_passes_everything() -> None:
    filters = FilterSet.compile([{"body": {"kind": ["crop"]}}, {"body": {"kind": ["resize"]}}])
    assert filters.passes(RECORD)
    assert FilterSet.compile([]).passes(RECORD)
    assert not FilterSet.compile([{"body": {"kind": ["crop"]}}]).passes(RECORD)
