"""Pure matching rules: S3 notification configurations (reference §1.2, §1.5).

Example::

    event_type_matches(["s3:ObjectCreated:*"], "ObjectCreated:Put")        # True
    key_matches("images/", ".jpg", "images/cat.jpg")                       # True
    configurations_overlap(["s3:ObjectCreated:*"], "", "",
                           ["s3:ObjectCreated:Put"], "images/", "")        # True: S3 refuses
"""

from __future__ import annotations

from collections.abc import Iterable


def event_type_matches(configured: Iterable[str], event_name: str) -> bool:
    """Whether an event (``ObjectCreated:Put``) is one of the configured types
    (``s3:ObjectCreated:Put`` or the family wildcard ``s3:ObjectCreated:*``)."""
    family = event_name.rsplit(":", 1)[0]
    return any(c == f"s3:{event_name}" or c == f"s3:{family}:*" for c in configured)


def key_matches(prefix: str, suffix: str, encoded_key: str) -> bool:
    """S3 compares filter values with the key as it appears in the event (URL-encoded)."""
    return encoded_key.startswith(prefix) and encoded_key.endswith(suffix)


def _types_intersect(a: Iterable[str], b: Iterable[str]) -> bool:
    def expand(types: Iterable[str]) -> set[str]:
        return {t.removesuffix("*") if t.endswith(":*") else t for t in types}

    for x in expand(a):
        for y in expand(b):
            if (
                x == y
                or (x.endswith(":") and y.startswith(x))
                or (y.endswith(":") and x.startswith(y))
            ):
                return True
    return False


def configurations_overlap(
    events_a: Iterable[str],
    prefix_a: str,
    suffix_a: str,
    events_b: Iterable[str],
    prefix_b: str,
    suffix_b: str,
) -> bool:
    """S3's rule: event types intersect and prefixes overlap and suffixes overlap; a prefix
    overlaps another when one starts the other, a suffix when one ends the other."""
    prefixes = prefix_a.startswith(prefix_b) or prefix_b.startswith(prefix_a)
    suffixes = suffix_a.endswith(suffix_b) or suffix_b.endswith(suffix_a)
    return prefixes and suffixes and _types_intersect(events_a, events_b)
