"""S3 notification matching and S3's overlap rule (reference §1.2, §1.5)."""

from __future__ import annotations

import pytest

from eventsim.filters import configurations_overlap, event_type_matches, key_matches


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
        # The valid and invalid examples of reference §1.5.
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
