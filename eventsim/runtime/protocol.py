"""Frames between the simulator and a child runtime process. Standard library only.

A frame is one JSON header line followed by ``n`` raw body bytes (the event or the result), so
payloads of up to 6 MB cross the pipe without being escaped into a JSON string.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _quote  # C-accelerated string escaping
from typing import Any, BinaryIO

#: Header line limit for the parent's StreamReader; bodies are read with readexactly().
HEADER_LIMIT = 1 << 20


def encode(header: dict[str, Any], body: bytes = b"") -> bytes:
    header["n"] = len(body)
    return json.dumps(header, separators=(",", ":")).encode() + b"\n" + body


def encode_invoke(
    request_id: str,
    arn: str,
    deadline_ms: int,
    trace_id: str,
    extra: dict[str, Any] | None,
    body: bytes,
) -> bytes:
    """``encode({"op": "invoke", ...})`` without building and dumping a dict (the hot path)."""
    more = "," + json.dumps(extra, separators=(",", ":"))[1:-1] if extra else ""
    return (
        f'{{"op":"invoke","id":{_quote(request_id)},"arn":{_quote(arn)},'
        f'"deadline_ms":{deadline_ms},"trace_id":{_quote(trace_id)}{more},"n":{len(body)}}}\n'
    ).encode() + body


def encode_result(
    ok: bool, error_type: str | None, duration_ms: float, max_memory_kb: int, body: bytes
) -> bytes:
    """``encode({"op": "result", ...})``, the child's hot path."""
    error = f',"error_type":{_quote(error_type)}' if error_type is not None else ""
    return (
        f'{{"op":"result","ok":{"true" if ok else "false"}{error},'
        f'"duration_ms":{duration_ms!r},"max_memory_kb":{max_memory_kb},"n":{len(body)}}}\n'
    ).encode() + body


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
