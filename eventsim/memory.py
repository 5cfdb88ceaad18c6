"""Keeping the garbage collector's pauses flat as stored data grows.

CPython's full collections scan every tracked object: with a few hundred thousand long-lived
objects (resumed events, restored messages, ledger entries) a pass stalls the event loop for
tens of milliseconds, longer as the data grows. ``after_bulk_load`` moves what exists into the
permanent generation (``gc.freeze()``), which later passes skip. Objects frozen this way are
still freed by reference counting when dropped; only reference cycles among them would wait.
"""

from __future__ import annotations

import gc

#: Loads smaller than this are not worth a freeze.
BULK = 10_000


def after_bulk_load(count: int) -> None:
    """Call after each chunk of a bulk load, with the count loaded so far: past ``BULK``
    objects, what exists is frozen (``gc.freeze`` only splices lists: cheap to repeat)."""
    if count >= BULK:
        gc.freeze()
