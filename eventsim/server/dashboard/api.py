"""The dashboard's JSON API, read side: ``GET /_eventsim/api/...``.

Every answer is read from the simulator when asked — the ledger, the queues, the tables'
files, the buckets' manifests, the schedules — through the same objects the Python API gives
(``sim.ledger``, ``sim.queues``, ``sim.tables``, ``sim.buckets``, ``sim.bindings``): nothing is
counted twice. Lists that can be long are pages (``limit`` and a cursor); the timeline is a
window of time. The endpoints are documented in docs/dashboard.md.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import web

from ... import explain
from ...clock import VirtualClock
from ...errors import TableError
from ...events.dynamodb_json import unmarshal_item
from ...ledger import Outcome
from ...triggers import registry
from ...triggers.dynamodb import StreamBinding
from ...triggers.schedule import ScheduleBinding
from . import cost, entries, samples
from .stream import Hub

if TYPE_CHECKING:
    from ...simulator import Simulator

#: Log lines the functions view shows of a function.
LOG_LINES = 60
#: Objects, items or messages a page holds at most.
MAX_ITEMS = 1000


class Refused(Exception):
    """A request the API answers with an error: HTTP ``status``, a ``code``, a message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def reply(data: Any, status: int = 200) -> web.Response:
    body = json.dumps(data, separators=(",", ":"), default=plain)
    return web.Response(status=status, body=body.encode(), content_type="application/json")


def refusal(exc: Refused) -> web.Response:
    return reply({"error": exc.code, "message": str(exc)}, exc.status)


def plain(value: Any) -> Any:
    """JSON for what events, results and items may hold beyond JSON's types."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def integer(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise Refused(400, "InvalidParameter", f"{name} must be an integer, not {text!r}") from None
    return max(low, min(high, value))


def not_found(what: str, name: str, known: list[str]) -> Refused:
    names = ", ".join(sorted(known)) or "none"
    return Refused(404, "NotFound", f"no {what} named {name!r} (there are: {names})")


class ReadApi:
    """The ``GET`` endpoints; ``hub`` is the live stream's (its ``version`` keys caches)."""

    def __init__(self, sim: Simulator, hub: Hub) -> None:
        self.sim = sim
        self.hub = hub
        self._stats: tuple[tuple[int, int], dict[str, entries.Stats]] | None = None

    def routes(self) -> list[web.RouteDef]:
        get = web.get
        return [
            get("/_eventsim/api/overview", self.overview),
            get("/_eventsim/api/functions", self.functions),
            get("/_eventsim/api/functions/{name}", self.function),
            get("/_eventsim/api/attempts", self.attempts),
            get("/_eventsim/api/attempts/{seq}", self.attempt),
            get("/_eventsim/api/timeline", self.timeline),
            get("/_eventsim/api/queues", self.queues),
            get("/_eventsim/api/queues/{name}/messages", self.messages),
            get("/_eventsim/api/tables", self.tables),
            get("/_eventsim/api/tables/{name}/items", self.items),
            get("/_eventsim/api/buckets", self.buckets),
            get("/_eventsim/api/buckets/{name}/objects", self.objects),
            get("/_eventsim/api/schedules", self.schedules),
            get("/_eventsim/api/explain", self.explain),
            get("/_eventsim/api/cost", self.cost),
        ]

    # --- overview, functions --------------------------------------------------------------

    async def overview(self, request: web.Request) -> web.Response:
        sim = self.sim
        return reply({
            **self.hub.state(),
            "virtual_time": not _real(sim),
            "functions": sorted(sim.functions),
            "queues": sorted(sim.queues),
            "tables": sorted(sim.tables),
            "buckets": sorted(sim.buckets),
            "schedules": len(schedule_bindings(sim)),
            "ledger_limit": sim.ledger.limit,
            "prices": cost.PRICES.as_dict(),
        })  # fmt: skip

    def _all_stats(self) -> dict[str, entries.Stats]:
        """Per-function stats, recomputed only when the ledger changed (a pass over a full
        ledger of 100k entries takes about 0.1 s; the page asks at most once a second)."""
        key = (self.hub.version, self.sim.ledger.recorded)
        if self._stats is None or self._stats[0] != key:
            self._stats = (key, entries.stats(self.sim.ledger))
        return self._stats[1]

    def _describe(self, name: str, stats: dict[str, entries.Stats]) -> dict[str, Any]:
        spec = self.sim.functions[name]
        settings = self.sim.config.functions.get(name)
        kinds = registry.kinds()
        triggers = [
            kinds[t.kind].summary(t.spec) if t.kind in kinds else t.kind
            for t in (settings.triggers if settings is not None else [])
        ]
        concurrency = self.sim.concurrency(name)
        return {
            "name": name, "handler": spec.handler, "memory_mb": spec.memory_mb,
            "timeout_s": spec.timeout_s, "isolation": spec.isolation,
            "reserved_concurrency": spec.reserved_concurrency, "triggers": triggers,
            "concurrency_now": concurrency.now, "peak_concurrency": concurrency.peak,
            **stats.get(name, entries.Stats()).as_dict(),
        }  # fmt: skip

    async def functions(self, request: web.Request) -> web.Response:
        stats = self._all_stats()
        return reply([self._describe(name, stats) for name in sorted(self.sim.functions)])

    async def function(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.sim.functions:
            raise not_found("function", name, list(self.sim.functions))
        described = self._describe(name, self._all_stats())
        lines: list[str] = []
        for attempt in self.sim.ledger.recent(LOG_LINES, name):
            lines += attempt.log_tail.splitlines()
        kind, event = samples.sample(self.sim, name)
        recent = entries.page(self.sim.ledger, function=name, limit=20)
        return reply({**described, "log": lines[-LOG_LINES:], "sample": {"kind": kind,
                      "event": event}, "recent": recent["entries"]})  # fmt: skip

    # --- the ledger -----------------------------------------------------------------------

    async def attempts(self, request: web.Request) -> web.Response:
        query = request.query
        outcome = query.get("outcome") or None
        if outcome is not None and outcome not in {o.value for o in Outcome}:
            raise Refused(400, "InvalidParameter", f"unknown outcome {outcome!r}; expected one "
                          f"of {', '.join(o.value for o in Outcome)}")  # fmt: skip
        before = integer(request, "before", -1, -1, 2**62)
        return reply(
            entries.page(
                self.sim.ledger, before=None if before < 0 else before,
                limit=integer(request, "limit", 100, 1, entries.MAX_PAGE),
                function=query.get("function") or None, outcome=outcome,
                source=query.get("source") or None,
            )
        )  # fmt: skip

    async def attempt(self, request: web.Request) -> web.Response:
        text = request.match_info["seq"]
        if not text.isdigit():
            raise Refused(400, "InvalidParameter", f"an entry number is an integer, not {text!r}")
        ledger = self.sim.ledger
        found = ledger.get(int(text))
        if found is None:
            raise Refused(404, "NotFound", f"entry {text} is not in the ledger (it holds the "
                          f"newest {len(ledger)} of {ledger.recorded} entries; older ones were "
                          "evicted)")  # fmt: skip
        return reply(entries.detail(found))

    async def timeline(self, request: web.Request) -> web.Response:
        now = int(self.sim.clock.time() * 1000)
        end = integer(request, "to", now, 0, 2**62)
        start = integer(request, "from", end - 60_000, 0, end)
        result = entries.window(
            self.sim.ledger, start, end, integer(request, "limit", 2000, 1, entries.MAX_BARS)
        )
        newest = self.sim.ledger.recent(1)
        rows = sorted({*self.sim.functions, *(b["function"] for b in result["bars"])})
        return reply({**result, "rows": rows, "now": now,
                      "newest": entries.millis(newest[0]) if newest else None})  # fmt: skip

    # --- queues -----------------------------------------------------------------------------

    async def queues(self, request: web.Request) -> web.Response:
        sim = self.sim
        registry_ = sim.queues
        found = []
        for name, queue in sorted(registry_.items()):
            counts = queue.counts()
            target = queue.dead_letter_target()
            sources = registry_.dead_letter_sources(queue)
            tasks = registry_.moves.list(queue.arn, 1) if sources else []
            found.append({
                "name": name, "arn": queue.arn, "fifo": queue.fifo,
                "visible": counts.visible, "in_flight": counts.in_flight,
                "delayed": counts.delayed,
                "dead_letter": ({"name": target.name, "depth": len(target)}
                                if target is not None else None),
                "max_receive_count": (queue.config.redrive.max_receive_count
                                      if queue.config.redrive else None),
                "dead_letter_for": [s.name for s in sources],
                "functions": [f for b in sim.bindings if b.source == f"sqs:{name}"
                              for f in b.functions],
                "move_task": tasks[0] if tasks else None,
            })  # fmt: skip
        return reply(found)

    async def messages(self, request: web.Request) -> web.Response:
        """Peek: the ``limit`` oldest messages, without receiving them, and their bodies by
        state (the counts are the whole queue's)."""
        name = request.match_info["name"]
        queue = self.sim.queues.get(name)
        if queue is None:
            raise not_found("queue", name, list(self.sim.queues))
        limit = integer(request, "limit", 50, 1, MAX_ITEMS)
        peeked = queue.peek(limit)  # reads those messages only, however deep the queue
        counts = queue.counts()
        found: dict[str, Any] = {
            state: {"count": count, "bodies": [m.body for m in peeked if m.state == state]}
            for state, count in (("visible", counts.visible), ("in_flight", counts.in_flight),
                                 ("delayed", counts.delayed))
        }  # fmt: skip
        found["messages"] = [
            {"id": m.message_id, "body": m.body, "attributes": m.attributes,
             "receive_count": m.receive_count, "state": m.state,
             "sent": datetime.fromtimestamp(m.sent_at, UTC).isoformat(), "group_id": m.group_id}
            for m in peeked
        ]  # fmt: skip
        return reply(found)

    # --- tables -----------------------------------------------------------------------------

    async def tables(self, request: web.Request) -> web.Response:
        found = []
        for name, table in sorted(self.sim.tables.items()):
            config = table.config
            store = table.store
            last = store.last_seq() if config.stream else None
            mappings = []
            for mapping in self.sim.mappings():
                if isinstance(mapping, StreamBinding) and mapping.source == f"dynamodb:{name}":
                    checkpoint = mapping.checkpoint  # live while it runs
                    mappings.append({
                        "function": mapping.functions[0], "uuid": mapping.uuid,
                        "enabled": mapping.enabled, "checkpoint": checkpoint,
                        "lag": max(0, (last or 0) - (checkpoint or 0)) if last else 0,
                    })  # fmt: skip
            found.append({
                "name": name, "partition_key": [config.partition_key, config.partition_key_type],
                "sort_key": [config.sort_key, config.sort_key_type] if config.sort_key else None,
                "stream": config.stream, "items": len(table), "last_sequence": last,
                "mappings": mappings,
            })  # fmt: skip
        return reply(found)

    async def items(self, request: web.Request) -> web.Response:
        """A page of a Scan, or with ``pk`` (and ``sk_prefix``) of a Query."""
        name = request.match_info["name"]
        table = self.sim.tables.get(name)
        if table is None:
            raise not_found("table", name, list(self.sim.tables))
        limit = integer(request, "limit", 25, 1, MAX_ITEMS)
        start = _start_key(request.query.get("start"))
        pk = request.query.get("pk")
        config = table.config
        try:
            if pk is None or pk == "":
                page = table.scan_page(limit=limit, start_key=start)
            else:
                condition = "#pk = :pk"
                names = {"#pk": config.partition_key}
                values: dict[str, dict[str, Any]] = {":pk": {config.partition_key_type: pk}}
                prefix = request.query.get("sk_prefix")
                if prefix and config.sort_key is not None:
                    condition += " AND begins_with(#sk, :sk)"
                    names["#sk"] = config.sort_key
                    values[":sk"] = {config.sort_key_type: prefix}
                page = table.query_page(condition, names=names, values=values, limit=limit,
                                        start_key=start)  # fmt: skip
        except TableError as exc:
            raise Refused(400, exc.code, str(exc)) from None
        token = None
        if page.last_key is not None:
            token = base64.urlsafe_b64encode(json.dumps(page.last_key).encode()).decode()
        return reply({"items": [unmarshal_item(item) for item in page.items], "next": token})

    # --- buckets ----------------------------------------------------------------------------

    async def buckets(self, request: web.Request) -> web.Response:
        found = []
        for name, bucket in sorted(self.sim.buckets.items()):
            functions = [f for b in self.sim.bindings if b.source == f"s3:{name}"
                         for f in b.functions]  # fmt: skip
            found.append({"name": name, "path": str(bucket.root), "functions": functions})
        return reply(found)

    async def objects(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        bucket = self.sim.buckets.get(name)
        if bucket is None:
            raise not_found("bucket", name, list(self.sim.buckets))
        limit = integer(request, "limit", 100, 1, MAX_ITEMS)
        prefix = request.query.get("prefix", "")
        after = request.query.get("after") or None
        rows = bucket.manifest.page(prefix, after, limit + 1)
        objects = [
            {"key": key, "size": e.size, "etag": e.etag,
             "modified": datetime.fromtimestamp(e.mtime_ns / 1e9, UTC).isoformat()}
            for key, e in rows[:limit]
        ]  # fmt: skip
        more = len(rows) > limit
        return reply({"objects": objects, "next": objects[-1]["key"] if more else None})

    # --- schedules, explain, cost -------------------------------------------------------------

    async def schedules(self, request: web.Request) -> web.Response:
        count = integer(request, "next", 5, 1, 100)
        found = []
        for binding in schedule_bindings(self.sim):
            trigger = binding.trigger
            zone = ZoneInfo(trigger.timezone)
            times = binding.next_times(count)
            found.append({
                "name": binding.name, "function": binding.functions[0],
                "expression": trigger.expression, "timezone": trigger.timezone,
                "enabled": trigger.enabled, "style": trigger.style,
                "next": [{"utc": t.astimezone(UTC).isoformat(),
                          "local": t.astimezone(zone).isoformat()} for t in times],
            })  # fmt: skip
        return reply(found)

    async def explain(self, request: web.Request) -> web.Response:
        query = request.query
        key, message, item_text = query.get("key"), query.get("message"), query.get("item")
        if not (key or message or item_text):
            raise Refused(400, "InvalidParameter", "give one of key=, message= or item= (the "
                          'item\'s key as a JSON object, e.g. {"pk": "a"})')  # fmt: skip
        item = None
        if item_text:
            try:
                item = json.loads(item_text)
            except ValueError:
                item = None
            if not isinstance(item, dict):
                raise Refused(400, "InvalidParameter", f"item= must be a JSON object of the "
                              f"item's key, not {item_text!r}")  # fmt: skip
        # One thing at a time, as ``eventsim explain`` asks: the key, else the message.
        what: dict[str, Any] = (
            {"key": key} if key else {"message_id": message} if message else {"item": item}
        )
        held = self.sim.ledger.all()  # oldest first: the life in order
        found = {a.seq for a in explain.find(held, **what)}
        text = explain.explain(held, **what)
        mine = [a for a in held if a.seq in found]
        life = [entries.summary(a) for a in mine]
        lines = text.splitlines()[1:]  # one line per entry found, in the same order
        for entry, line in zip(life, lines if len(lines) == len(life) else [], strict=False):
            entry["line"] = line.strip()
        if message:
            for entry, attempt in zip(life, mine, strict=True):
                own = next((r for r in attempt.records if r.id == message), None)
                if own is not None:
                    entry["record"] = {"outcome": own.outcome, "attempt": own.attempt}
        return reply({"text": text, "entries": life})

    async def cost(self, request: web.Request) -> web.Response:
        ledger = self.sim.ledger
        estimates = [
            cost.estimate(name, spec.memory_mb, ledger.for_function(name))
            for name, spec in sorted(self.sim.functions.items())
        ]
        return reply({
            "prices": cost.PRICES.as_dict(),
            "functions": [e.as_dict() for e in estimates],
            "total": sum(e.total for e in estimates),
            "ledger": {"held": len(ledger), "evicted": ledger.evicted},
        })  # fmt: skip


def schedule_bindings(sim: Simulator) -> list[ScheduleBinding]:
    return [b for b in sim.bindings if isinstance(b, ScheduleBinding)]


def _real(sim: Simulator) -> bool:
    return not isinstance(sim.clock, VirtualClock)


def _start_key(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error):
        key = None
    if not isinstance(key, dict):
        raise Refused(400, "InvalidParameter", "start= is not a cursor this API gave")
    return key
