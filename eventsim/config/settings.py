"""Settings of eventsim itself rather than of what it simulates: where ``eventsim up``
listens (``ServerConfig``) and how much the ledger keeps (``LedgerConfig``)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from .fields import Model

HOST_NAME = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$|^\[[0-9A-Fa-f:.]+\]$"
)
ORIGIN = re.compile(r"(?i)^https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")


def _host_name(value: str) -> str:
    if not HOST_NAME.match(value) or len(value) > 253:
        raise ValueError(
            f"invalid host name {value!r}: a name or address as in a Host header, without port"
        )
    return value.lower()


def _origin(value: str) -> str:
    if not ORIGIN.match(value):
        raise ValueError(
            f"invalid origin {value!r}: scheme://host[:port] as a browser sends it, "
            "e.g. http://localhost:5173 (no path, no trailing /)"
        )
    return value.lower()


class LedgerConfig(Model):
    """How much the ledger keeps (see ``eventsim.ledger``): at most ``max_attempts`` entries
    and about ``max_bytes`` of events and payloads; the ``keep_full`` most recent large events
    and payloads whole, older ones truncated with a marker."""

    max_attempts: int = Field(default=100_000, ge=1)
    max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    keep_full: int = Field(default=1_000, ge=0)


class ServerConfig(Model):
    """Where ``eventsim up`` listens: the edge (AWS APIs) and the HTTP triggers.

    ``allowed_hosts``: Host names the edge answers besides ``127.0.0.1``, ``localhost`` and
    ``[::1]`` (lowercased, without port), e.g. a name in ``/etc/hosts`` or a container's name.
    ``allowed_origins``: browser origins allowed to call the edge besides loopback ones
    (``scheme://host[:port]``, lowercased), e.g. ``http://localhost:5173``.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8642, ge=0, le=65535)
    http_port: int = Field(default=3000, ge=0, le=65535)  # 0: any free port
    allowed_hosts: list[Annotated[str, AfterValidator(_host_name)]] = Field(default_factory=list)
    allowed_origins: list[Annotated[str, AfterValidator(_origin)]] = Field(default_factory=list)
