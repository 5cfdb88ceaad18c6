"""The ``sns`` trigger: a function subscribed to a topic (SNS's ``lambda`` protocol).

Each ``sns`` trigger is one subscription of its topic (``resources.topics``) with the
function's ARN as endpoint and an optional filter policy (SNS's language, on the message's
attributes or, with ``filter_policy_scope: MessageBody``, on its JSON body). For each message
the policy lets through, the function is invoked asynchronously with SNS's event
(``EventSource: aws:sns``, one record), so AWS's retries, maximum event age and destinations
apply. The same endpoint serves subscriptions made through the edge's Subscribe.

Every message a subscription did not get is in the ledger under ``sns:<topic>`` with the
reason: filtered out, the topic had no subscriptions, the queue does not exist...

A FIFO topic delivers to queues only (as in AWS); a standard topic does not deliver to a FIFO
queue. Config::

    topics:
      orders: {subscriptions: [{queue: audit, raw_message_delivery: true}]}
    functions:
      notify:
        triggers:
          - sns: {topic: orders, filter_policy: {kind: [placed]}}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import field_validator

from .. import explain
from ..clock import Clock
from ..config import FilterPattern, FilterPolicyScope, Model, check_filter_policy
from ..errors import TopicError
from ..events import sns
from ..invocation.sync import new_request_id
from ..ledger import Attempt, Code, Ledger
from ..resources.topics import Publication, Skip, Subscription, Topic
from ..runtime.spec import FunctionSpec
from ..yamlpos import Path as KeyPath
from .base import Binding, Context, References, Submit, TriggerKind, TriggerRef

#: The ledger's code for each kind of delivery that did not happen.
_CODES: dict[Skip, Code] = {
    "filtered": Code.FILTERED,
    "unsubscribed": Code.NO_MATCH,
    "failed": Code.DISCARDED,
}


class SnsTrigger(Model):
    """A function's subscription to a topic."""

    topic: str
    filter_policy_scope: FilterPolicyScope = "MessageAttributes"
    filter_policy: FilterPattern | None = None

    _check_policy = field_validator("filter_policy")(check_filter_policy)


def lambda_event(topic: Topic, subscription: Subscription, publication: Publication) -> Any:
    """The event a function subscribed with ``subscription`` gets for ``publication``."""
    return sns.event(
        [
            sns.record(
                message_id=publication.message_id,
                topic_arn=topic.arn,
                subscription_arn=subscription.arn,
                message=publication.message_for("lambda"),
                subject=publication.subject,
                attributes=publication.attributes,
                timestamp=publication.timestamp,
                region=topic.region,
                signature=publication.signature,
            )
        ]
    )


class SnsDelivery(Binding):
    """The ``lambda`` endpoint of every topic (the config's, and those CreateTopic makes),
    and the observer that puts what was not delivered in the ledger."""

    kind = "sns"
    part = "sns"
    source = "sns"
    functions: tuple[str, ...] = ()

    def __init__(
        self, functions: dict[str, FunctionSpec], submit: Submit, ledger: Ledger, clock: Clock
    ) -> None:
        self._functions = functions
        self._submit = submit
        self._ledger = ledger
        self._clock = clock
        self._topics: list[Topic] = []
        self._running = False

    def attach(self, topic: Topic) -> None:
        """Serve ``topic``'s ``lambda`` subscriptions and hear what it did not deliver."""
        topic.endpoints["lambda"] = self
        topic.observers.append(self)
        self._topics.append(topic)

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False  # what is published now is in the ledger as not delivered

    def describe(self) -> str:
        return f"sns: {len(self._topics)} topic(s)"

    def function(self, arn: str) -> FunctionSpec | None:
        """The function of an endpoint ARN (``...:function:NAME`` or a qualified one)."""
        name = arn.partition(":function:")[2].split(":", 1)[0]
        spec = self._functions.get(name)
        return spec if spec is not None and arn.startswith(spec.arn) else None

    def __call__(self, topic: Topic, subscription: Subscription, publication: Publication) -> None:
        if not self._running:
            raise TopicError("Stopped", "eventsim is not running triggers")
        spec = self.function(subscription.endpoint)
        if spec is None:
            raise TopicError("NotFound", f"the function {subscription.endpoint} does not exist")
        event = lambda_event(topic, subscription, publication)
        self._submit(spec, json.dumps(event).encode(), event=event, source=f"sns:{topic.name}")

    def skipped(
        self,
        topic: Topic,
        subscription: Subscription | None,
        publication: Publication,
        skip: Skip,
        reason: str,
    ) -> None:
        function = explain.NO_FUNCTION
        if subscription is not None and subscription.protocol == "lambda":
            spec = self.function(subscription.endpoint)
            function = spec.name if spec is not None else explain.NO_FUNCTION
        elif subscription is not None:
            reason = f"queue subscription {subscription.endpoint}: {reason}"
        stand_in = subscription or Subscription("(none)", topic.arn, "lambda", "", topic.account)
        self._ledger.record(
            Attempt.dropped(
                function=function,
                request_id=new_request_id(),
                source=f"sns:{topic.name}",
                event=lambda_event(topic, stand_in, publication),
                at=self._clock.now(),
                reason=reason,
                invocation_type="Event",
                code=_CODES[skip],
            )
        )


class SnsBinding(Binding):
    """One topic: its functions' subscriptions while running."""

    kind = "sns"

    def __init__(self, topic: Topic, triggers: list[tuple[FunctionSpec, SnsTrigger]]) -> None:
        self.topic = topic
        self.part = f"sns:{topic.name}"
        self.source = f"sns:{topic.name}"
        self.functions = tuple(dict.fromkeys(spec.name for spec, _ in triggers))
        self._triggers = triggers
        self._subscriptions: list[str] = []

    async def start(self) -> None:
        for spec, trigger in self._triggers:
            subscription = self.topic.subscribe(
                "lambda",
                spec.arn,
                filter_policy=trigger.filter_policy,
                filter_policy_scope=trigger.filter_policy_scope,
                origin="trigger",
            )
            self._subscriptions.append(subscription.arn)

    async def stop(self) -> None:
        for arn in self._subscriptions:
            self.topic.subscriptions.pop(arn, None)
        self._subscriptions.clear()

    def describe(self) -> str:
        queues = sum(1 for s in self.topic.subscriptions.values() if s.protocol == "sqs")
        targets = [*self.functions, *([f"{queues} queue(s)"] if queues else [])]
        return f"sns {self.topic.name} -> {', '.join(targets) or '(no subscriptions)'}"


class SnsKind(TriggerKind):
    name = "sns"
    model = SnsTrigger

    def check(self, references: References, triggers: Sequence[TriggerRef]) -> None:
        """The triggers' topics exist and are standard (FIFO topics deliver to queues only);
        and, since a kind's check is where cross references are checked, every topic's queue
        subscriptions: the queue exists, a standard topic's queue is standard."""
        config = references.config
        for ref in triggers:
            spec: SnsTrigger = ref.spec
            at: KeyPath = (*ref.at, self.name, "topic")
            if references.known("topic", spec.topic, "topics", at) and spec.topic.endswith(".fifo"):
                references.problem(at, "a FIFO topic delivers to SQS queues only, not functions")
        for name, topic in config.topics.items():
            fifo = name.endswith(".fifo")
            if topic.content_based_deduplication and not fifo:
                references.problem(
                    ("topics", name, "content_based_deduplication"),
                    "content-based deduplication is for FIFO topics (names ending in .fifo)",
                )
            for index, subscription in enumerate(topic.subscriptions):
                at = ("topics", name, "subscriptions", index, "queue")
                queue = subscription.queue
                if references.known("queue", queue, "queues", at) and (
                    queue.endswith(".fifo") and not fifo
                ):
                    references.problem(at, "a FIFO queue can subscribe to a FIFO topic only")

    def bind(self, context: Context, triggers: Sequence[TriggerRef]) -> list[Binding]:
        """The delivery to functions, told of every topic (``listen("topics", "*")``: those
        CreateTopic makes too), and one binding per configured topic subscribing its
        functions."""
        ledger, clock = context.delivery.ledger, context.delivery.clock
        delivery = SnsDelivery(dict(context.functions), context.submit, ledger, clock)
        context.resources.listen("topics", "*", delivery.attach)
        by_topic: dict[str, list[tuple[FunctionSpec, SnsTrigger]]] = {}
        for ref in triggers:
            by_topic.setdefault(ref.spec.topic, []).append(
                (context.functions[ref.function], ref.spec)
            )
        bindings: list[Binding] = [delivery]
        for name in context.config.topics:
            topic: Topic = context.resources.resource("topics", name)
            bindings.append(SnsBinding(topic, by_topic.get(name, [])))
        return bindings

    def summary(self, spec: Any) -> str:
        policy = f" (filter on {spec.filter_policy_scope})" if spec.filter_policy else ""
        return f"sns {spec.topic}{policy}"

    def identifies(self, record: dict[str, Any], query: Any) -> bool:
        wanted = query.get("message_id")
        message = record.get("Sns")
        return (
            wanted is not None
            and isinstance(message, dict)
            and (message.get("MessageId") == wanted or wanted in str(message.get("Message", "")))
        )
