"""EventBridge buses: PutEvents, rules that match events with EventBridge's patterns, and
targets with their input, retry policy and dead-letter queue.

A bus knows nothing of functions. A rule holds a compiled event pattern and targets; a target
is a ``send`` callable with its settings (``TargetInput``). Buses send to queues and topics
themselves (rules configured under ``buses:``); the ``eventbridge`` trigger kind adds rules
whose targets are functions. ``put_events`` checks each entry as PutEvents does (per-entry
errors), fills the event as EventBridge does, and hands it to every target of every enabled
rule whose pattern matches, in order.

A target that fails is retried with exponential back-off and jitter on the clock while its
retry policy allows (``maximum_retry_attempts``, ``maximum_event_age``); a failure that no retry
can mend (the target does not exist, refuses the message) is not retried. Then the event goes
to the target's dead-letter queue with EventBridge's attributes (``ERROR_CODE``,
``ERROR_MESSAGE``, ``EXHAUSTED_RETRY_CONDITION``, ``RETRY_ATTEMPTS``, ``RULE_ARN``,
``TARGET_ARN``), or is dropped. Observers (the ``eventbridge`` kind: the ledger) hear of every
event no rule matched and every event a target never got.

Example::

    bus = sim.bus("default")
    bus.put_events([{"Source": "shop", "DetailType": "OrderPlaced", "Detail": '{"id": 1}'}])
    # [{"EventId": "..."}]
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import structlog

from ..activity import Activity, Waiter
from ..clock import Clock
from ..config import DEFAULT_BUS, BusConfig, Config, RuleTarget, TargetInput
from ..errors import (
    BusError,
    EventsimError,
    PatternError,
    StartupError,
    TargetGone,
    TooManyRequests,
)
from ..events import eventbridge, ids
from ..events.sqs import queue_arn
from ..filters import EVENTBRIDGE, Pattern
from ..types import Tasks
from .queue import Queue
from .topics import Topics

log = structlog.get_logger("eventsim.eventbridge")

#: Back-off between attempts to deliver to a target: from 1 s, doubling, capped at 5 minutes,
#: each with random jitter (eventsim's choice: AWS documents "exponential back-off and jitter").
RETRY_BACKOFF_S = (1.0, 300.0)
#: PutEvents: a DetailType has at most this many characters.
MAX_DETAIL_TYPE = 128

TargetKind = Literal["function", "queue", "topic"]


@dataclass
class Target:
    """One target of a rule: ``send(text, event)`` delivers (raising ``EventsimError`` when it
    cannot); ``settings`` say what it receives and how failures are retried."""

    id: str
    arn: str
    kind: TargetKind
    settings: TargetInput
    send: Callable[[str, dict[str, Any]], None]


@dataclass
class Rule:
    """A rule on a bus: the events its pattern matches go to each target."""

    name: str
    bus: str
    arn: str
    pattern: dict[str, Any]
    compiled: Pattern
    enabled: bool = True
    description: str = ""
    targets: list[Target] = field(default_factory=list)

    def matches(self, event: dict[str, Any]) -> bool:
        return self.enabled and self.compiled.matches(event)


class Observer(Protocol):
    """Told of every event no rule matched, and every event a target never got."""

    def unmatched(self, bus: Bus, event: dict[str, Any]) -> None: ...

    def failed(
        self, bus: Bus, rule: Rule, target: Target, event: dict[str, Any], reason: str,
        dead_lettered: bool,
    ) -> None: ...  # fmt: skip


@dataclass
class _Delivery:
    """An event on its way to one target."""

    bus: Bus
    rule: Rule
    target: Target
    event: dict[str, Any]
    text: str
    first_at: float
    retries: int = 0


class Bus:
    """One event bus."""

    def __init__(self, name: str, buses: Buses) -> None:
        self.name = name
        self.arn = eventbridge.bus_arn(buses.region, buses.account, name)
        #: Rules by name, in the order they were made.
        self.rules: dict[str, Rule] = {}
        self._buses = buses

    def __repr__(self) -> str:
        return f"<Bus {self.name} ({len(self.rules)} rules)>"

    @property
    def observers(self) -> list[Observer]:
        """The observers of every bus (shared: adding one through any bus is enough)."""
        return self._buses.observers

    def add_rule(
        self, name: str, pattern: dict[str, Any], *, description: str = "", enabled: bool = True
    ) -> Rule:
        """A rule (``BusError`` for a pattern EventBridge refuses); the existing rule of that
        name if it has the same pattern."""
        existing = self.rules.get(name)
        if existing is not None:
            if existing.pattern != pattern:
                raise BusError(
                    "ResourceAlreadyExistsException",
                    f"rule {name!r} exists on bus {self.name!r} with another pattern",
                )
            return existing
        try:
            compiled = Pattern.compile(pattern, dialect=EVENTBRIDGE)
        except PatternError as exc:
            message = f"Event pattern is not valid. {exc}"
            raise BusError("InvalidEventPatternException", message) from None
        arn = eventbridge.rule_arn(self._buses.region, self._buses.account, self.name, name)
        rule = Rule(name, self.name, arn, pattern, compiled, enabled, description)
        self.rules[name] = rule
        return rule

    def put_events(self, entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """PutEvents with this bus as the default: one result per entry, ``{"EventId": ...}``
        or ``{"ErrorCode": ..., "ErrorMessage": ...}``; ``BusError`` for a request refused as
        a whole (no entries, more than 10, over 256 KB in all). ``Detail`` is JSON text (or,
        from Python, a dict); ``Time`` a datetime (default: now)."""
        return self._buses.put_events(entries, default=self)

    def put(self, event: Mapping[str, Any]) -> str:
        """Route an event an AWS service made (a schedule's, S3's): ``id`` and ``time`` are
        filled when missing. Returns the event's id."""
        filled = self._buses.fill(event)
        self.route(filled)
        return str(filled["id"])

    def route(self, event: dict[str, Any]) -> None:
        """Hand ``event`` to every target of every rule that matches it."""
        matched = False
        for rule in list(self.rules.values()):
            if not rule.matches(event):
                continue
            matched = True
            for target in list(rule.targets):
                self._buses.deliver(self, rule, target, event)
        if not matched:
            log.info("eventbridge.unmatched", bus=self.name, event_id=event.get("id"))
            for observer in list(self._buses.observers):
                observer.unmatched(self, event)


class Buses(Mapping[str, Bus]):
    """Every bus of one simulator by name: ``default`` and the config's, with the config's
    rules (their targets are queues and topics)."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock,
        rng: random.Random,
        activity: Activity,
        queues: Mapping[str, Queue],
        topics: Topics,
    ) -> None:
        self.region = config.region
        self.account = config.account
        self.observers: list[Observer] = []
        self._clock = clock
        self._rng = rng
        self._queues = queues
        self._topics = topics
        self._buses: dict[str, Bus] = {DEFAULT_BUS: Bus(DEFAULT_BUS, self)}
        self._delayed: list[tuple[float, int, _Delivery]] = []
        self._order = itertools.count()
        self._timer = Waiter(activity, clock, "eventbridge-retries")
        for name, bus in config.buses.items():
            self._buses.setdefault(name, Bus(name, self))
            self._configure(self._buses[name], bus)

    def _configure(self, bus: Bus, config: BusConfig) -> None:
        for name, rule_config in config.rules.items():
            where = f"buses.{bus.name}.rules.{name}"
            try:
                rule = bus.add_rule(name, rule_config.pattern, description=rule_config.description,
                                    enabled=rule_config.enabled)  # fmt: skip
            except BusError as exc:
                raise StartupError(f"{where}: {exc}") from None
            for index, target in enumerate(rule_config.targets):
                rule.targets.append(self.resource_target(f"{name}-{index}", target))

    def __getitem__(self, name: str) -> Bus:
        return self._buses[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._buses)

    def __len__(self) -> int:
        return len(self._buses)

    def __repr__(self) -> str:
        return f"<Buses {sorted(self._buses)}>"

    def open(self, tasks: Tasks) -> None:
        """Start the one timer that makes every retry when it falls due."""
        tasks.keep("eventbridge:retries", self._run_timer)

    def resolve(self, name_or_arn: str) -> Bus | None:
        """A bus by name or ARN."""
        name = name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
        bus = self._buses.get(name)
        return bus if bus is not None and name_or_arn in (bus.name, bus.arn) else None

    # --- targets that are resources -------------------------------------------------------

    def resource_target(self, id: str, settings: RuleTarget) -> Target:
        """The target of a config rule: a queue or a topic."""
        if settings.queue is not None:
            name = settings.queue
            arn = queue_arn(self.region, self.account, name)

            def to_queue(text: str, event: dict[str, Any]) -> None:
                queue = self._queues.get(name)
                if queue is None or queue.deleted:
                    raise TargetGone(f"the queue {name!r} does not exist")
                options = (
                    {"group_id": settings.message_group_id, "deduplication_id": event["id"]}
                    if queue.fifo else {}
                )  # fmt: skip
                queue.send_message(text, **options)

            return Target(id, arn, "queue", settings, to_queue)
        topic_name = settings.topic
        assert topic_name is not None

        def to_topic(text: str, event: dict[str, Any]) -> None:
            topic = self._topics.get(topic_name)
            if topic is None:
                raise TargetGone(f"the topic {topic_name!r} does not exist")
            group = settings.message_group_id if topic.fifo else None
            topic.publish(text, group_id=group, deduplication_id=event["id"] if group else None)

        arn = f"arn:aws:sns:{self.region}:{self.account}:{topic_name}"
        return Target(id, arn, "topic", settings, to_topic)

    # --- PutEvents ------------------------------------------------------------------------

    def put_events(
        self, entries: Sequence[Mapping[str, Any]], *, default: Bus | None = None
    ) -> list[dict[str, Any]]:
        """PutEvents (see ``Bus.put_events``); entries name their bus with ``EventBusName``
        (a name or an ARN), else ``default`` (else the default bus)."""
        if not 1 <= len(entries) <= eventbridge.MAX_ENTRIES:
            raise BusError(
                "ValidationException",
                f"1 validation error detected: Value at 'entries' failed to satisfy constraint: "
                f"Member must have length between 1 and {eventbridge.MAX_ENTRIES} "
                f"(got {len(entries)})",
            )
        normal = [_normal(entry) for entry in entries]
        if not any(all(e.get(k) for k in ("Source", "DetailType", "Detail")) for e in normal):
            raise BusError(
                "ValidationException",
                "no entry has all of Source, DetailType and Detail",
            )
        total = sum(eventbridge.entry_size(entry) for entry in normal)
        if total > eventbridge.MAX_ENTRY_BYTES:
            raise BusError(
                "ValidationException",
                f"Total size of the entries in the request is over the limit: {total} bytes, "
                f"at most {eventbridge.MAX_ENTRY_BYTES}",
            )
        results = []
        for entry in normal:
            try:
                bus, event = self._accept(entry, default or self._buses[DEFAULT_BUS])
            except BusError as exc:
                results.append({"ErrorCode": exc.code, "ErrorMessage": str(exc)})
                continue
            results.append({"EventId": event["id"]})
            bus.route(event)
        return results

    def _accept(self, entry: Mapping[str, Any], default: Bus) -> tuple[Bus, dict[str, Any]]:
        """One entry's bus and event, or the entry's error."""
        for name in ("Source", "DetailType", "Detail"):
            if not isinstance(entry.get(name), str) or not entry[name]:
                raise BusError(
                    "InvalidArgument",
                    f"Parameter {name} is not valid. Reason: {name} is a required argument.",
                )
        if len(entry["DetailType"]) > MAX_DETAIL_TYPE:
            raise BusError(
                "InvalidArgument",
                f"Parameter DetailType is not valid. Reason: at most {MAX_DETAIL_TYPE} characters.",
            )
        if entry["Source"].startswith("aws."):
            raise BusError("NotAuthorizedForSourceException", "Not authorized for the source.")
        try:
            detail = json.loads(entry["Detail"])
        except ValueError:
            detail = None
        if not isinstance(detail, dict):
            raise BusError("MalformedDetail", "Detail is malformed.")
        resources = entry.get("Resources") or []
        if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
            raise BusError("InvalidArgument", "Parameter Resources is not valid.")
        bus = default
        if entry.get("EventBusName"):
            found = self.resolve(str(entry["EventBusName"]))
            if found is None:
                raise BusError(
                    "ResourceNotFoundException",
                    f"Event bus {entry['EventBusName']} does not exist.",
                )
            bus = found
        time = entry.get("Time") or self._clock.now()
        event = eventbridge.event(
            event_id=ids.uuid4(self._rng), source=entry["Source"],
            detail_type=entry["DetailType"], detail=detail, time=time, region=self.region,
            account=self.account, resources=list(resources),
        )  # fmt: skip
        return bus, event

    def fill(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """An event with what EventBridge fills in: ``version``, ``id``, ``time``, ``region``,
        ``account``, ``resources``, ``detail``."""
        filled = eventbridge.event(
            event_id=ids.uuid4(self._rng), source="", detail_type="", detail={},
            time=self._clock.now(), region=self.region, account=self.account, resources=[],
        )  # fmt: skip
        filled.update(event)
        return filled

    # --- delivery -------------------------------------------------------------------------

    def deliver(self, bus: Bus, rule: Rule, target: Target, event: dict[str, Any]) -> None:
        """Hand ``event`` to ``target`` now; retry later if that fails and may be retried."""
        settings = target.settings
        transformer = settings.input_transformer
        try:
            text = eventbridge.target_input(
                event, constant=settings.input, path=settings.input_path,
                paths_map=transformer.input_paths_map if transformer else None,
                template=transformer.input_template if transformer else None,
                rule_arn=rule.arn, rule_name=rule.name,
            )  # fmt: skip
        except (TypeError, ValueError) as exc:
            delivery = _Delivery(bus, rule, target, event, "", self._clock.time())
            self._give_up(delivery, "SDK_CLIENT_ERROR", f"the input could not be made: {exc}", None)
            return
        self._attempt(_Delivery(bus, rule, target, event, text, self._clock.time()))

    def _attempt(self, delivery: _Delivery) -> None:
        target = delivery.target
        try:
            target.send(delivery.text, delivery.event)
        except TargetGone as exc:
            self._give_up(delivery, "RESOURCE_NOT_FOUND", str(exc), None)
        except TooManyRequests as exc:
            self._retry(delivery, "THROTTLING", str(exc))
        except EventsimError as exc:  # refused: another try gets the same answer
            self._give_up(delivery, "SDK_CLIENT_ERROR", str(exc), None)
        except Exception as exc:  # noqa: BLE001 - eventsim's own failure: retried, reported
            log.exception("eventbridge.target_failed", rule=delivery.rule.name,
                          target=target.arn)  # fmt: skip
            self._retry(delivery, "INTERNAL_ERROR", f"{type(exc).__name__}: {exc}")

    def _retry(self, delivery: _Delivery, code: str, message: str) -> None:
        policy = delivery.target.settings.retry_policy
        if delivery.retries >= policy.maximum_retry_attempts:
            self._give_up(delivery, code, message, "MaximumRetryAttemptsExhausted")
            return
        first, cap = RETRY_BACKOFF_S
        delay = min(first * 2.0**delivery.retries, cap) * (0.5 + self._rng.random() / 2)
        due = self._clock.time() + delay
        if due - delivery.first_at >= policy.maximum_event_age:
            self._give_up(delivery, code, message, "MaximumEventAgeExceeded")
            return
        delivery.retries += 1
        log.info("eventbridge.retry", rule=delivery.rule.name, target=delivery.target.arn,
                 retry=delivery.retries, in_s=round(delay, 3), error=message)  # fmt: skip
        heapq.heappush(self._delayed, (due, next(self._order), delivery))
        self._timer.wake()

    async def _run_timer(self) -> None:
        while True:
            now = self._clock.time()
            while self._delayed and self._delayed[0][0] <= now:
                _, _, delivery = heapq.heappop(self._delayed)
                self._attempt(delivery)
            await self._timer.wait(self._delayed[0][0] if self._delayed else None)

    def _give_up(self, delivery: _Delivery, code: str, message: str, exhausted: str | None) -> None:
        """The target will not get the event: to its dead-letter queue, or dropped."""
        target, rule = delivery.target, delivery.rule
        dlq = target.settings.dead_letter_queue
        outcome, dead_lettered = "dropped (no dead-letter queue)", False
        if dlq is not None:
            queue = self._queues.get(dlq)
            attributes = eventbridge.dead_letter_attributes(
                error_code=code, error_message=message, exhausted=exhausted,
                retry_attempts=delivery.retries, rule_arn=rule.arn, target_arn=target.arn,
            )  # fmt: skip
            try:
                if queue is None:
                    raise TargetGone(f"the queue {dlq!r} does not exist")
                queue.send_message(json.dumps(delivery.event), attributes=attributes)
                outcome, dead_lettered = f"sent to the dead-letter queue {dlq!r}", True
            except EventsimError as exc:
                outcome = f"dropped: the dead-letter queue {dlq!r} refused it ({exc})"
        reason = f"{code}: {message}" + (f"; {exhausted}" if exhausted else "") + f"; {outcome}"
        log.warning(
            "eventbridge.not_delivered",
            bus=delivery.bus.name,
            rule=rule.name,
            target=target.arn,
            event_id=delivery.event.get("id"),
            reason=reason,
        )
        for observer in list(self.observers):
            observer.failed(delivery.bus, rule, target, delivery.event, reason, dead_lettered)


def _normal(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as the API sends it: ``Detail`` as JSON text, ``Time`` as a datetime."""
    normal = dict(entry)
    if isinstance(normal.get("Detail"), dict):
        normal["Detail"] = json.dumps(normal["Detail"])
    time = normal.get("Time")
    if isinstance(time, int | float) and not isinstance(time, bool):
        normal["Time"] = datetime.fromtimestamp(time, UTC)
    elif isinstance(time, str):
        try:
            normal["Time"] = datetime.fromisoformat(time.replace("Z", "+00:00"))
        except ValueError:
            normal["Time"] = None
    elif time is not None and not isinstance(time, datetime):
        normal["Time"] = None
    return normal
