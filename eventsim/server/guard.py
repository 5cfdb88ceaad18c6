"""Which ``Host`` and ``Origin`` headers eventsim's servers (the edge, the HTTP triggers) serve
(pure).

A web page must not reach the edge through the visitor's browser. DNS rebinding points the
page's own host name at 127.0.0.1, so the browser sends ``Host: evil.example:8642`` and lets the
page read the answer: only loopback host names (and configured ones) are served. A "simple"
cross-site POST needs no rebinding but carries the page's ``Origin``: a request with an
``Origin`` that is not loopback (or configured) is refused. boto3, the AWS CLI and curl send
no ``Origin``; browsers always send ``Host``.

Example::

    gate = Gate(allowed_hosts=["devbox.local"], allowed_origins=["http://localhost:5173"])
    gate.refusal(host="evil.example:8642", origin=None)   # "the Host evil.example:8642 ..."
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Iterable


def host_name(host: str) -> str:
    """``host`` (a Host header or URL authority) without its port, lower case, no brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        inside, _, rest = host[1:].partition("]")
        return inside if not rest or rest[0] == ":" and rest[1:].isdigit() else host
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def is_loopback(name: str) -> bool:
    """Whether a host name (no port) is this machine: ``localhost``, ``*.localhost`` (RFC
    6761: never resolved through DNS), or a loopback address (127.0.0.0/8, ::1)."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Gate:
    """Decides from ``Host`` and ``Origin`` whether a request is served.

    ``allowed_hosts``: more host names served (with any port), as ``server.allowed_hosts``.
    ``allowed_origins``: more origins served (``scheme://host[:port]``), as
    ``server.allowed_origins``.
    """

    def __init__(
        self, allowed_hosts: Iterable[str] = (), allowed_origins: Iterable[str] = ()
    ) -> None:
        self._hosts = {host_name(h) for h in allowed_hosts}
        self._origins = {o.strip().lower().rstrip("/") for o in allowed_origins}

    @classmethod
    def serving(
        cls, host: str | None, allowed_hosts: Iterable[str], allowed_origins: Iterable[str]
    ) -> Gate:
        """The gate of a server listening on ``host``: the address it listens on names it too
        (its url), even a wildcard one: an address is no DNS name a rebinding page could own,
        and the Origin check still holds."""
        return cls([*allowed_hosts, *([host] if host else [])], allowed_origins)

    def refusal(self, host: str | None, origin: str | None) -> str | None:
        """Why a request with these headers is refused; None when it is served."""
        if host is not None and not self._host_allowed(host):
            return (
                f"eventsim serves only loopback host names (127.0.0.1, localhost, [::1]); "
                f"the Host {host!r} is not one: add it to server.allowed_hosts to serve it"
            )
        if origin is not None and not self._origin_allowed(origin):
            return (
                f"eventsim refuses requests from web pages of other origins; the Origin "
                f"{origin!r} is not loopback: add it to server.allowed_origins to serve it"
            )
        return None

    def _host_allowed(self, host: str) -> bool:
        name = host_name(host)
        return is_loopback(name) or name in self._hosts

    def _origin_allowed(self, origin: str) -> bool:
        normal = origin.strip().lower().rstrip("/")
        if normal in self._origins:
            return True
        try:
            parts = urllib.parse.urlsplit(normal)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            return False
        return parts.scheme in ("http", "https") and is_loopback(host_name(parts.netloc))
