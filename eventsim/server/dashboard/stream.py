"""Live updates for the dashboard: server-sent events fed by the ledger's ``subscribe()``.

``GET /_eventsim/api/stream`` is an ``text/event-stream`` of:

* ``hello``: on connect (and reconnect): the ledger's totals; the page reloads what it shows;
* ``attempts``: entries recorded or amended since the last message, as summaries
  (``entries.summary``, named by their ``seq``), an amended one with ``"amended": true`` (the
  ledger tells its observers which is which);
* ``state``: queue depths, the clock, health and the ledger's totals, sent when they changed
  (after any entry or queue send, and checked every ``KEEPALIVE_S`` otherwise);
* ``gap``: more entries came than a slow page took (``MAX_PENDING``): it reloads instead.

Each connection is one request handler waiting on its own event: no task outside the edge's,
and the edge's shutdown ends every stream (``Hub.close``). The ledger observer does O(1) work
per entry when no page is connected.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from ...ledger import Attempt
from . import entries

if TYPE_CHECKING:
    from ...simulator import Simulator

log = structlog.get_logger("eventsim.dashboard")

#: Entries a connection may have waiting before it is told to reload instead.
MAX_PENDING = 2000
#: Seconds between checks of the state (and keep-alive comments) on a quiet stream.
KEEPALIVE_S = 2.0


class _Client:
    """One connected page: what it has not been sent yet."""

    def __init__(self) -> None:
        self.pending: deque[dict[str, Any]] = deque()
        self.lost = False
        self.wake = asyncio.Event()

    def push(self, item: dict[str, Any]) -> None:
        if len(self.pending) >= MAX_PENDING:
            self.pending.clear()
            self.lost = True
        else:
            self.pending.append(item)
        self.wake.set()


class Hub:
    """Watches the ledger for the connected pages; ``version`` moves with every entry."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._ledger = sim.ledger
        self._clients: set[_Client] = set()
        self._closing = False
        #: Bumped by every entry recorded or amended (what cached answers are keyed on).
        self.version = 0
        self._unsubscribe = self._ledger.subscribe(self._recorded, on_amend=self._amended)
        self._queues_watched: set[str] = set()

    def _recorded(self, attempt: Attempt) -> None:
        self._observe(attempt, amended=False)

    def _amended(self, attempt: Attempt) -> None:
        self._observe(attempt, amended=True)

    def _observe(self, attempt: Attempt, *, amended: bool) -> None:
        # Called inside Ledger.record() and amend(): it must never raise into their callers.
        try:
            self.version += 1
            if not self._clients:
                return
            item = entries.summary(attempt)
            if amended:
                item["amended"] = True
            for client in self._clients:
                client.push(item)
        except Exception:  # noqa: BLE001 - a dashboard fault must not break the ledger
            log.exception("dashboard.observer_failed")

    def _poke(self) -> None:
        for client in self._clients:
            client.wake.set()

    def _watch_queues(self) -> None:
        """Wake the streams on every send to a queue (new queues are picked up on connect)."""
        for name, queue in self._sim.queues.items():
            if name not in self._queues_watched:
                queue.listeners.append(self._poke)
                self._queues_watched.add(name)

    def close(self) -> None:
        """End every stream (the edge is stopping) and stop watching."""
        self._closing = True
        self._poke()

    def detach(self) -> None:
        self._unsubscribe()
        for name in self._queues_watched:
            queue = self._sim.queues.get(name)
            if queue is not None and self._poke in queue.listeners:
                queue.listeners.remove(self._poke)
        self._queues_watched.clear()

    def state(self) -> dict[str, Any]:
        """What the header and the queues view show, small enough to send on every change."""
        sim = self._sim
        queues = {}
        for name, queue in sorted(sim.queues.items()):
            counts = queue.counts()
            queues[name] = [counts.visible, counts.in_flight, counts.delayed]
        ledger = sim.ledger
        return {
            "now": sim.clock.now().isoformat(),
            "health": sim.health()["status"],
            "in_flight": sim.activity.pending().get("invoke", 0),
            "ledger": {"total": ledger.recorded, "held": len(ledger),
                       "evicted": ledger.evicted},
            "queues": queues,
        }  # fmt: skip

    async def stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                     "X-Accel-Buffering": "no"}
        )  # fmt: skip
        await response.prepare(request)
        client = _Client()
        self._clients.add(client)
        self._watch_queues()
        last_state = ""
        try:
            await response.write(b"retry: 1000\n\n")
            await _send(response, "hello", {"total": self._ledger.recorded})
            while not self._closing:
                client.wake.clear()  # what happens while writing sets it again
                if client.lost:
                    client.lost = False
                    await _send(response, "gap", {"total": self._ledger.recorded})
                if client.pending:
                    batch = list(client.pending)
                    client.pending.clear()
                    await _send(response, "attempts", batch)
                state = json.dumps(self.state(), separators=(",", ":"))
                if state != last_state:
                    last_state = state
                    await response.write(f"event: state\ndata: {state}\n\n".encode())
                if client.wake.is_set():
                    continue
                try:
                    await asyncio.wait_for(client.wake.wait(), KEEPALIVE_S)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
        except (ConnectionResetError, ConnectionError):
            pass  # the page went away
        finally:
            self._clients.discard(client)
        return response


async def _send(response: web.StreamResponse, event: str, data: Any) -> None:
    text = json.dumps(data, separators=(",", ":"), default=str)
    await response.write(f"event: {event}\ndata: {text}\n\n".encode())
