"""The ``eventbridge`` trigger: a rule on a bus whose target is the function.

Each ``eventbridge`` trigger is a target on a rule (``rule``, default
``eventsim-<function>-<index>``; triggers naming the same rule share it and its pattern) of
its bus (``resources.buses``; ``default`` unless ``bus`` says). Every event the rule's pattern
matches invokes the function asynchronously with the event — or with the constant ``input``,
the part at ``input_path``, or ``input_transformer``'s result — so Lambda's retries, maximum
event age and destinations apply to function errors. The rule's ``retry_policy`` and
``dead_letter_queue`` apply when the invocation itself is refused (a payload over Lambda's
limit...), as in AWS.

This kind also keeps the ledger for every bus (events no rule matched, events a target never
got, under ``eventbridge:<bus>`` and ``eventbridge:<bus>/<rule>``) and sends the changes of
buckets with ``eventbridge: true`` to the default bus, in S3's shape (``Object Created``,
``Object Deleted``).

Config::

    buses:
      orders: {rules: {archive: {pattern: {source: [shop]}, targets: [{queue: archive}]}}}
    functions:
      fulfil:
        triggers:
          - eventbridge: {pattern: {detail-type: [OrderPlaced]}, retry_policy:
                          {maximum_retry_attempts: 4}, dead_letter_queue: failed-events}
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from .. import explain
from ..config import DEFAULT_BUS, RULE_NAME, EventPattern, TargetInput
from ..events import eventbridge, ids, s3
from ..invocation.sync import new_request_id
from ..ledger import Attempt, Code
from ..resources.bucket import ObjectChange
from ..resources.buses import Bus, Rule, Target
from ..runtime.spec import FunctionSpec
from ..yamlpos import Path as KeyPath
from .base import Binding, Context, References, Submit, TriggerKind, TriggerRef


class EventBridgeTrigger(TargetInput):
    """A rule on ``bus`` targeting the function (with the target's input, retry policy and
    dead-letter queue)."""

    bus: str = Field(default=DEFAULT_BUS, min_length=1, max_length=256)
    pattern: EventPattern
    rule: str | None = Field(default=None, pattern=RULE_NAME)
    enabled: bool = True


def rule_name(ref: TriggerRef) -> str:
    """The trigger's rule: ``rule`` if set, else ``eventsim-<function>-<index>``."""
    return ref.spec.rule or f"eventsim-{ref.function}-{ref.index}"


class EventBridgeBinding(Binding):
    """One rule's function targets."""

    kind = "eventbridge"

    def __init__(
        self, bus: Bus, rule: str, triggers: list[tuple[FunctionSpec, EventBridgeTrigger]],
        submit: Submit,
    ) -> None:  # fmt: skip
        self.bus = bus
        self.rule = rule
        self.part = f"eventbridge:{bus.name}/{rule}"
        self.source = self.part
        self.functions = tuple(dict.fromkeys(spec.name for spec, _ in triggers))
        self._triggers = triggers
        self._submit = submit
        self._targets: list[Target] = []

    async def start(self) -> None:
        first = self._triggers[0][1]
        rule = self.bus.add_rule(self.rule, first.pattern, enabled=first.enabled)
        for spec, trigger in self._triggers:
            target = Target(spec.name, spec.arn, "function", trigger, self._sender(spec))
            rule.targets.append(target)
            self._targets.append(target)

    async def stop(self) -> None:
        rule = self.bus.rules.get(self.rule)
        for target in self._targets:
            if rule is not None and target in rule.targets:
                rule.targets.remove(target)
        self._targets.clear()

    def describe(self) -> str:
        return f"eventbridge {self.bus.name}/{self.rule} -> {', '.join(self.functions)}"

    def _sender(self, spec: FunctionSpec) -> Any:
        def send(text: str, event: dict[str, Any]) -> None:
            try:
                payload = json.loads(text)
            except ValueError:  # a plain-text template's result: a JSON string for Lambda
                payload, text = text, json.dumps(text)
            self._submit(spec, text.encode(), event=payload, source=self.source)

        return send


class BusLedger(Binding):
    """The ledger of every bus, and the buckets that send their changes to the default bus."""

    kind = "eventbridge"
    part = "eventbridge"
    source = "eventbridge:default"
    functions: tuple[str, ...] = ()

    def __init__(
        self, default: Bus, buckets: list[str], context: Context, rng: random.Random
    ) -> None:
        self._default = default
        self._region = context.config.region
        self._account = context.config.account
        self._buckets = buckets
        self._ledger = context.delivery.ledger
        self._clock = context.delivery.clock
        self._rng = rng

    async def start(self) -> None:
        if self not in self._default.observers:
            self._default.observers.append(self)

    async def stop(self) -> None:
        if self in self._default.observers:
            self._default.observers.remove(self)

    def describe(self) -> str:
        buckets = f" <- buckets {', '.join(self._buckets)}" if self._buckets else ""
        return f"eventbridge {DEFAULT_BUS}{buckets}"

    def __call__(self, change: ObjectChange) -> None:
        """A bucket's change: S3's event on the default bus."""
        event = eventbridge.s3_event(
            event_id=ids.uuid4(self._rng),
            kind=change.kind,
            bucket=change.bucket,
            key=change.key,
            sequencer=s3.sequencer(change.sequencer),
            time=change.time,
            region=self._region,
            account=self._account,
            request_id=ids.hex_id(self._rng, 16, upper=True),
            size=change.size,
            etag=change.etag,
        )
        self._default.put(event)

    def unmatched(self, bus: Bus, event: dict[str, Any]) -> None:
        self._record(explain.NO_FUNCTION, f"eventbridge:{bus.name}", event,
                     f"matched no rule of the bus {bus.name!r}", Code.NO_MATCH)  # fmt: skip

    def failed(
        self, bus: Bus, rule: Rule, target: Target, event: dict[str, Any], reason: str,
        dead_lettered: bool,
    ) -> None:  # fmt: skip
        function = target.id if target.kind == "function" else explain.NO_FUNCTION
        where = "" if target.kind == "function" else f"target {target.arn}: "
        code = Code.DEAD_LETTERED if dead_lettered else Code.DISCARDED
        self._record(function, f"eventbridge:{bus.name}/{rule.name}", event, where + reason, code)

    def _record(
        self, function: str, source: str, event: dict[str, Any], reason: str, code: Code
    ) -> None:
        self._ledger.record(
            Attempt.dropped(
                function=function, request_id=new_request_id(), source=source, event=event,
                at=self._clock.now(), reason=reason, invocation_type="Event", code=code,
            )
        )  # fmt: skip


class EventBridgeKind(TriggerKind):
    name = "eventbridge"
    model = EventBridgeTrigger

    def check(self, references: References, triggers: Sequence[TriggerRef]) -> None:
        """The triggers' buses and dead-letter queues exist, triggers sharing a rule share its
        pattern; and, since a kind's check is where cross references are checked, every
        configured rule's targets and dead-letter queues."""
        config = references.config
        rules: dict[tuple[str, str], TriggerRef] = {}
        for ref in triggers:
            spec: EventBridgeTrigger = ref.spec
            at: KeyPath = (*ref.at, self.name)
            if spec.bus != DEFAULT_BUS:
                references.known("bus", spec.bus, "buses", (*at, "bus"))
            _dead_letter(references, spec.dead_letter_queue, (*at, "dead_letter_queue"))
            name = rule_name(ref)
            configured = config.buses.get(spec.bus)
            if configured is not None and name in configured.rules:
                references.problem(
                    (*at, "rule"),
                    f"the rule {name!r} is configured under buses.{spec.bus}.rules; a trigger "
                    "names a rule of its own",
                )
            first = rules.setdefault((spec.bus, name), ref)
            if first is not ref and first.spec.pattern != spec.pattern:
                references.problem(
                    (*at, "pattern"),
                    f"the rule {name!r} has another pattern in functions.{first.function}: "
                    "triggers naming one rule share its pattern",
                )
        for bus_name, bus in config.buses.items():
            for rule, rule_config in bus.rules.items():
                for index, target in enumerate(rule_config.targets):
                    at = ("buses", bus_name, "rules", rule, "targets", index)
                    _dead_letter(references, target.dead_letter_queue, (*at, "dead_letter_queue"))
                    kind = "queue" if target.queue is not None else "topic"
                    name = target.queue or target.topic or ""
                    if (
                        references.known(kind, name, f"{kind}s", (*at, kind))
                        and name.endswith(".fifo")
                        and target.message_group_id is None
                    ):
                        references.problem(
                            (*at, "message_group_id"),
                            f"a FIFO {kind} target needs message_group_id",
                        )

    def bind(self, context: Context, triggers: Sequence[TriggerRef]) -> list[Binding]:
        """One binding per rule with function targets, and the buses' ledger (which also
        sends the changes of buckets with ``eventbridge: true`` to the default bus)."""
        by_rule: dict[tuple[str, str], list[tuple[FunctionSpec, EventBridgeTrigger]]] = {}
        for ref in triggers:
            by_rule.setdefault((ref.spec.bus, rule_name(ref)), []).append(
                (context.functions[ref.function], ref.spec)
            )
        default: Bus = context.resources.resource("buses", DEFAULT_BUS)
        buckets = [name for name, b in context.config.buckets.items() if b.eventbridge]
        ledger = BusLedger(default, buckets, context, context.rng)
        for bucket in buckets:
            context.resources.listen("buckets", bucket, ledger)
        bindings: list[Binding] = [ledger]
        for (bus, rule), targets in by_rule.items():
            found: Bus = context.resources.resource("buses", bus)
            bindings.append(EventBridgeBinding(found, rule, targets, context.submit))
        return bindings

    def summary(self, spec: Any) -> str:
        return f"eventbridge {spec.bus}"

    def identifies(self, record: dict[str, Any], query: Any) -> bool:
        wanted = query.get("message_id")
        if wanted is None:
            return False
        return record.get("id") == wanted or wanted in json.dumps(record.get("detail", ""))


def _dead_letter(references: References, queue: str | None, at: KeyPath) -> None:
    if queue is not None and references.known("queue", queue, "queues", at):
        if queue.endswith(".fifo"):
            references.problem(at, "an EventBridge dead-letter queue is a standard queue")
