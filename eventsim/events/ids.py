"""Random ids in the shapes AWS uses, drawn from a caller's ``random.Random``.

Builders take ids as arguments; sources draw them from here with the simulator's generator,
so a seeded simulator produces the same ids on every run.
"""

from __future__ import annotations

import base64
import random

_V4 = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant
_V4_MASK = ~((0xF000 << 64) | (0xC000 << 48))


def uuid4(rng: random.Random) -> str:
    """A random UUID4 string (request ids, message ids, event ids)."""
    h = f"{(rng.getrandbits(128) & _V4_MASK) | _V4:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def hex_id(rng: random.Random, length: int, upper: bool = False) -> str:
    """``length`` hex digits (S3 request ids: 16 upper-case; DynamoDB event ids: 32)."""
    text = f"{rng.getrandbits(4 * length):0{length}x}"
    return text.upper() if upper else text


def host_id(rng: random.Random) -> str:
    """An S3 ``x-amz-id-2``: a 76-character base64 string."""
    return base64.b64encode(rng.randbytes(57)).decode()


def receipt_handle(rng: random.Random) -> str:
    """An opaque SQS receipt handle, different on every receive."""
    return "AQEB" + base64.b64encode(rng.randbytes(120)).decode()


def looks_like_receipt_handle(text: str) -> bool:
    """Whether ``text`` has the form of a handle ``receipt_handle`` makes (SQS refuses a
    malformed handle, but accepts a well-formed one of a message already gone)."""
    return text.startswith("AQEB") and len(text) == 4 + 160
