"""Listing a bucket as S3 lists it: keys in UTF-8 byte order after a marker, rolled up into
common prefixes at a delimiter, a page at a time (pure: it reads pages of the manifest).

Each page is a few indexed range reads of the manifest, however many objects the bucket
holds: a common prefix costs one read that skips every key below it.

Example::

    listing = list_page(manifest.page, prefix="photos/", delimiter="/", max_keys=1000)
    listing.objects        # [(key, Entry), ...]
    listing.prefixes       # ["photos/2024/", ...]
    listing.truncated, listing.last   # whether more follow; the last key or prefix listed
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .manifest import Entry, after_prefix

Page = Callable[..., list[tuple[str, Entry]]]


@dataclass
class Listing:
    objects: list[tuple[str, Entry]] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str | None = None


def list_page(
    page: Page,
    *,
    prefix: str = "",
    delimiter: str = "",
    after: str | None = None,
    max_keys: int = 1000,
) -> Listing:
    """One page of at most ``max_keys`` keys and common prefixes after ``after`` (none, and
    not truncated, for 0). A marker that is itself a common prefix (as ``last`` may be)
    resumes after everything below it."""
    listing = Listing()
    if max_keys == 0:  # S3 answers an empty page that is not truncated, whatever follows
        return listing
    start = False
    if after is not None and delimiter and after.startswith(prefix):
        rest = after[len(prefix) :]
        if rest.find(delimiter) == len(rest) - len(delimiter) > -1:
            after, start = after_prefix(after), True
            if after is None:
                return listing
    while True:
        wanted = max_keys - len(listing.objects) - len(listing.prefixes) + 1
        rows = page(prefix, after, min(wanted, 1001), start=start)
        start = False
        skipped = False
        for key, entry in rows:
            at = key.find(delimiter, len(prefix)) if delimiter else -1
            if len(listing.objects) + len(listing.prefixes) >= max_keys:
                listing.truncated = True
                return listing
            if at < 0:
                listing.objects.append((key, entry))
                listing.last = after = key
                continue
            common = key[: at + len(delimiter)]
            listing.prefixes.append(common)
            listing.last = common
            following = after_prefix(common)
            if following is None:
                return listing
            after, start, skipped = following, True, True
            break
        if not skipped and len(rows) < min(wanted, 1001):
            return listing
