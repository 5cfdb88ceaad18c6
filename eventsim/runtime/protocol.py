"""Frames between the simulator and a child runtime process. Standard library only.

A frame is one JSON header line followed by ``n`` raw body bytes (the event or the result), so
payloads of up to 6 MB cross the pipe without being escaped into a JSON string.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

#: Header line limit for the parent's StreamReader; bodies are read with readexactly().
HEADER_LIMIT = 1 << 20


def encode(header: dict[str, Any], body: bytes = b"") -> bytes:
    header["n"] = len(body)
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + body


def read(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """Blocking read of one frame; None at end of stream."""
    line = stream.readline()
    if not line:
        return None
    header: dict[str, Any] = json.loads(line)
    size = header.get("n", 0)
    body = stream.read(size) if size else b""
    if len(body) != size:
        return None
    return header, body
