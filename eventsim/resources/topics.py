"""SNS topics: publishing, subscriptions with filter policies, FIFO order and deduplication.

A topic knows nothing of functions. Each subscription has a protocol and an endpoint ARN;
``publish`` checks the message as SNS does, then hands it, in subscription order, to the
*endpoint* of each subscription whose filter policy accepts it. Topics deliver to queues
themselves (``sqs``: SNS's JSON envelope, or the raw message with its attributes); the ``sns``
trigger kind adds the ``lambda`` endpoint to each topic, told of every one (the config's, and
those CreateTopic makes later) through ``Topics.listen``. What was not delivered (filtered out,
no subscriptions, an endpoint that failed) is told to the topic's observers with the reason:
the ``sns`` kind records it in the ledger.

Delivery happens inside ``publish``, in order, so a FIFO topic keeps each message group's order
into its queues; a FIFO topic also drops a message whose deduplication id (given, or the
SHA-256 of the message with content-based deduplication) it saw in the last 5 minutes,
answering with the first message's id.

Example::

    topic = sim.topic("orders")
    topic.publish('{"id": 1}', subject="new order",
                  attributes={"kind": {"DataType": "String", "StringValue": "placed"}})
    sub = topic.subscribe("sqs", sim.queue("audit").arn, filter_policy={"kind": ["placed"]})
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any, Literal, Protocol, cast

import structlog

from ..clock import Clock
from ..config import Config, FilterPolicyScope, TopicConfig
from ..errors import EventsimError, StartupError, TopicError
from ..events import ids, sns
from ..events.sqs import queue_arn
from .queue import Queue
from .topic_messages import (
    PROTOCOLS,
    TOKEN,
    Publication,
    Published,
    SnsProtocol,
    Subscription,
    check_message,
    invalid,
    not_found,
    parse_filter_policy,
    parse_raw_delivery,
)

__all__ = [
    "Endpoint", "Observer", "Publication", "Published", "Skip", "Subscription", "Topic",
    "TopicError", "Topics", "parse_filter_policy", "parse_raw_delivery",
]  # fmt: skip

log = structlog.get_logger("eventsim.sns")

#: SNS FIFO topics remember deduplication ids for 5 minutes.
DEDUP_WINDOW_S = 300
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FIFO_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")


class Endpoint(Protocol):
    """Delivers one publication to one subscription; raises ``EventsimError`` if it cannot."""

    def __call__(self, topic: Topic, subscription: Subscription, publication: Publication) -> None:
        pass


#: Why a delivery did not happen: ``filtered`` (the policy), ``unsubscribed`` (the topic had
#: no subscriptions), ``failed`` (the endpoint could not take it, or none serves the protocol).
Skip = Literal["filtered", "unsubscribed", "failed"]


class Observer(Protocol):
    """Told of every delivery that did not happen (``subscription`` is None when the topic
    had none), why (``skip``) and the reason in words."""

    def skipped(
        self, topic: Topic, subscription: Subscription | None, publication: Publication,
        skip: Skip, reason: str,
    ) -> None:  # fmt: skip
        pass


class Topic:
    """One SNS topic (FIFO when the name ends in ``.fifo``)."""

    def __init__(
        self,
        name: str,
        config: TopicConfig,
        *,
        clock: Clock,
        rng: random.Random,
        region: str,
        account: str,
        endpoints: dict[str, Endpoint] | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.fifo = name.endswith(".fifo")
        self.region = region
        self.account = account
        self.arn = sns.topic_arn(region, account, name)
        #: Who delivers to each protocol's endpoints; who hears of what was not delivered.
        self.endpoints: dict[str, Endpoint] = dict(endpoints or {})
        self.observers: list[Observer] = []
        #: Subscriptions by ARN, in the order they were made (the order of delivery).
        self.subscriptions: dict[str, Subscription] = {}
        self.published = 0
        self._clock = clock
        self._rng = rng
        self._sequence = 10_000_000_000_000_000_000
        self._dedup: dict[str, tuple[float, Published]] = {}
        self._dedup_order: deque[tuple[float, str]] = deque()

    def __repr__(self) -> str:
        return f"<Topic {self.name} ({len(self.subscriptions)} subscriptions)>"

    # --- subscriptions --------------------------------------------------------------------

    def subscribe(
        self,
        protocol: str,
        endpoint: str,
        *,
        raw_message_delivery: bool = False,
        filter_policy: dict[str, Any] | None = None,
        filter_policy_scope: FilterPolicyScope = "MessageAttributes",
        origin: str = "api",
    ) -> Subscription:
        """Subscribe ``endpoint`` (a queue's or function's ARN); the existing subscription if
        the same one exists. ``TopicError`` for what SNS refuses."""
        if protocol not in PROTOCOLS:
            raise invalid("Protocol", f"eventsim delivers to {' and '.join(PROTOCOLS)} "
                          f"endpoints, not {protocol!r}")  # fmt: skip
        if protocol == "sqs" and not endpoint.startswith("arn:aws:sqs:"):
            raise invalid("SQS endpoint ARN")
        if protocol == "lambda" and ":function:" not in endpoint:
            raise invalid("Lambda endpoint ARN")
        if protocol == "lambda" and self.fifo:
            raise invalid("Invalid protocol type: lambda", "FIFO topics deliver to SQS queues "
                          "only")  # fmt: skip
        if protocol == "sqs" and endpoint.endswith(".fifo") and not self.fifo:
            raise invalid("Invalid parameter: Endpoint", "a FIFO queue can subscribe to a FIFO "
                          "topic only")  # fmt: skip
        if raw_message_delivery:
            parse_raw_delivery("true", protocol)
        for existing in self.subscriptions.values():
            if existing.protocol == protocol and existing.endpoint == endpoint:
                return existing
        subscription = Subscription(
            sns.subscription_arn(self.arn, ids.uuid4(self._rng)), self.arn,
            cast(SnsProtocol, protocol), endpoint, self.account, raw_message_delivery,
            filter_policy, filter_policy_scope, origin,
        )  # fmt: skip
        self.subscriptions[subscription.arn] = subscription
        log.info("sns.subscribed", topic=self.name, protocol=protocol, endpoint=endpoint)
        return subscription

    def unsubscribe(self, arn: str) -> None:
        """Remove a subscription (``TopicError`` NotFound if there is none)."""
        if self.subscriptions.pop(arn, None) is None:
            raise not_found("Subscription")

    def attributes(self) -> dict[str, str]:
        """GetTopicAttributes' answer."""
        found = {
            "TopicArn": self.arn,
            "Owner": self.account,
            "DisplayName": self.config.display_name,
            "SubscriptionsConfirmed": str(len(self.subscriptions)),
            "SubscriptionsPending": "0",
            "SubscriptionsDeleted": "0",
            "Policy": json.dumps(_default_policy(self.arn, self.account)),
            "EffectiveDeliveryPolicy": json.dumps(_DELIVERY_POLICY),
        }
        if self.fifo:
            found["FifoTopic"] = "true"
            found["ContentBasedDeduplication"] = str(
                self.config.content_based_deduplication
            ).lower()
        return found

    # --- publishing -----------------------------------------------------------------------

    def publish(
        self,
        message: str,
        *,
        subject: str | None = None,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        structure: str | None = None,
    ) -> Published:
        """Publish one message and deliver it to every subscription it passes; ``TopicError``
        for what SNS refuses. ``structure="json"``: ``message`` is a JSON object of messages
        by protocol, with a ``default`` one."""
        publication = self.check(message, subject, attributes, group_id, deduplication_id,
                                 structure)  # fmt: skip
        return self.deliver(publication)

    def check(
        self,
        message: str,
        subject: str | None = None,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        structure: str | None = None,
    ) -> Publication:
        """The publication ``publish`` would deliver, checked as SNS checks a Publish (a batch
        checks every entry first)."""
        checked, per_protocol = check_message(message, subject, attributes, structure)
        self._check_fifo(group_id, deduplication_id)
        if self.fifo and deduplication_id is None:
            deduplication_id = hashlib.sha256(message.encode()).hexdigest()
        return Publication(
            message_id=ids.uuid4(self._rng),
            message=message,
            subject=subject,
            attributes=checked,
            timestamp=self._clock.now(),
            signature=base64.b64encode(self._rng.randbytes(256)).decode(),
            per_protocol=per_protocol,
            group_id=group_id,
            deduplication_id=deduplication_id,
        )

    def _check_fifo(self, group_id: str | None, deduplication_id: str | None) -> None:
        """FIFO topics need a group and a deduplication id (or content-based deduplication);
        a standard topic takes a group (for standard queues' fair queueing), no dedup id."""
        if group_id is not None and not TOKEN.match(group_id):
            raise invalid("MessageGroupId", "1 to 128 alphanumeric or punctuation characters")
        if not self.fifo:
            if deduplication_id is not None:
                raise invalid("MessageDeduplicationId", "The request includes "
                              "MessageDeduplicationId parameter that is not valid for this topic "
                              "type")  # fmt: skip
            return
        if group_id is None:
            raise invalid("MessageGroupId", "The MessageGroupId parameter is required for FIFO "
                          "topics")  # fmt: skip
        if deduplication_id is None and not self.config.content_based_deduplication:
            raise invalid("MessageDeduplicationId", "The topic should either have "
                          "ContentBasedDeduplication enabled or MessageDeduplicationId provided "
                          "explicitly")  # fmt: skip
        if deduplication_id is not None and not TOKEN.match(deduplication_id):
            raise invalid("MessageDeduplicationId", "1 to 128 alphanumeric or punctuation "
                          "characters")  # fmt: skip

    def deliver(self, publication: Publication) -> Published:
        """Deliver a checked publication (from ``check``) to every subscription it passes."""
        if self.fifo:
            assert publication.deduplication_id is not None
            now = self._clock.time()
            self._forget_old_dedup(now)
            seen = self._dedup.get(publication.deduplication_id)
            if seen is not None:
                log.info("sns.deduplicated", topic=self.name,
                         deduplication_id=publication.deduplication_id)  # fmt: skip
                return seen[1]
            self._sequence += 1
            publication = replace(publication, sequence_number=f"{self._sequence:020d}")
        published = Published(publication.message_id, publication.sequence_number)
        if self.fifo:
            assert publication.deduplication_id is not None
            self._dedup[publication.deduplication_id] = (now, published)
            self._dedup_order.append((now, publication.deduplication_id))
        self.published += 1
        self._fan_out(publication)
        return published

    def _forget_old_dedup(self, now: float) -> None:
        while self._dedup_order and self._dedup_order[0][0] <= now - DEDUP_WINDOW_S:
            _, key = self._dedup_order.popleft()
            entry = self._dedup.get(key)
            if entry is not None and entry[0] <= now - DEDUP_WINDOW_S:
                del self._dedup[key]

    def _fan_out(self, publication: Publication) -> None:
        subscriptions = list(self.subscriptions.values())
        if not subscriptions:
            self._skipped(None, publication, "unsubscribed", "the topic has no subscriptions")
        for subscription in subscriptions:
            if not subscription.accepts(publication):
                self._skipped(subscription, publication, "filtered",
                              "filtered out: the subscription's filter policy does not match "
                              f"({subscription.filter_policy_scope})")  # fmt: skip
                continue
            endpoint = self.endpoints.get(subscription.protocol)
            if endpoint is None:
                self._skipped(subscription, publication, "failed", f"nothing delivers to "
                              f"{subscription.protocol} endpoints (triggers are off)")  # fmt: skip
                continue
            try:
                endpoint(self, subscription, publication)
            except EventsimError as exc:
                self._skipped(subscription, publication, "failed", f"not delivered: {exc}")

    def _skipped(
        self, subscription: Subscription | None, publication: Publication, skip: Skip,
        reason: str,
    ) -> None:  # fmt: skip
        endpoint = subscription.endpoint if subscription else None
        log.info(
            "sns.not_delivered", topic=self.name, message_id=publication.message_id,
            endpoint=endpoint, reason=reason,
        )  # fmt: skip
        for observer in list(self.observers):
            observer.skipped(self, subscription, publication, skip, reason)


def _default_policy(arn: str, account: str) -> dict[str, Any]:
    return {
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["SNS:Publish", "SNS:Subscribe", "SNS:Receive",
                           "SNS:GetTopicAttributes", "SNS:ListSubscriptionsByTopic"],
                "Resource": arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
            }
        ],
    }  # fmt: skip


_DELIVERY_POLICY = {
    "http": {
        "defaultHealthyRetryPolicy": {
            "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
            "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
            "backoffFunction": "linear",
        },
        "disableSubscriptionOverrides": False,
    }
}  # fmt: skip


class Topics(Mapping[str, Topic]):
    """Every topic of one simulator by name: the config's, and those CreateTopic made (they
    last until the simulator closes). Queue subscriptions are delivered here."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Clock,
        rng: random.Random,
        queues: Mapping[str, Queue],
    ) -> None:
        self.region = config.region
        self.account = config.account
        self._listeners: list[tuple[str, Callable[[Topic], None]]] = []
        self._clock = clock
        self._rng = rng
        self._queues = queues
        self._topics: dict[str, Topic] = {}
        for name, topic in config.topics.items():
            made = self._make(name, topic)
            for index, sub in enumerate(topic.subscriptions):
                try:
                    made.subscribe(
                        "sqs", queue_arn(self.region, self.account, sub.queue),
                        raw_message_delivery=sub.raw_message_delivery,
                        filter_policy=sub.filter_policy,
                        filter_policy_scope=sub.filter_policy_scope, origin="config",
                    )  # fmt: skip
                except TopicError as exc:
                    raise StartupError(f"topics.{name}.subscriptions.{index}: {exc}") from None

    def _make(self, name: str, config: TopicConfig) -> Topic:
        topic = Topic(name, config, clock=self._clock, rng=self._rng, region=self.region,
                      account=self.account, endpoints={"sqs": self._to_queue})  # fmt: skip
        self._topics[name] = topic
        for wanted, listener in list(self._listeners):
            if wanted in ("*", name):
                listener(topic)
        return topic

    def listen(self, name: str, listener: Callable[[Topic], None]) -> None:
        """Call ``listener`` with the topic ``name`` (``*``: every topic), now if it exists
        and whenever it is made."""
        self._listeners.append((name, listener))
        for topic in list(self._topics.values()):
            if name in ("*", topic.name):
                listener(topic)

    def __getitem__(self, name: str) -> Topic:
        return self._topics[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._topics)

    def __len__(self) -> int:
        return len(self._topics)

    def __repr__(self) -> str:
        return f"<Topics {sorted(self._topics)}>"

    def create(
        self,
        name: str,
        attributes: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Topic:
        """CreateTopic: a new topic, or the existing one of that name if its attributes agree
        (``TopicError`` otherwise, and for a name SNS refuses)."""
        attributes = dict(attributes or {})
        fifo = attributes.pop("FifoTopic", "false").lower() == "true"
        if fifo != name.endswith(".fifo") or not (
            _FIFO_TOPIC_NAME if fifo else _TOPIC_NAME
        ).match(name):  # fmt: skip
            raise invalid("Topic Name", "letters, digits, _ and -, up to 256 characters; a "
                          "FIFO topic (FifoTopic=true) ends in .fifo, a standard one does "
                          "not")  # fmt: skip
        content = attributes.pop("ContentBasedDeduplication", "false").lower() == "true"
        if content and not fifo:
            raise invalid("Attributes", "ContentBasedDeduplication is for FIFO topics only")
        display = attributes.pop("DisplayName", "")
        for key in attributes:
            if key not in ("Policy", "DeliveryPolicy", "KmsMasterKeyId", "TracingConfig",
                           "SignatureVersion", "ArchivePolicy"):  # fmt: skip
                raise invalid("Attributes", f"unknown attribute {key}")
        config = TopicConfig(display_name=display, content_based_deduplication=content,
                             tags=dict(tags or {}))  # fmt: skip
        existing = self._topics.get(name)
        if existing is not None:
            if (existing.config.content_based_deduplication, existing.config.display_name) != (
                content,
                display or existing.config.display_name,
            ):
                raise invalid("Attributes", "a topic of that name exists with other attributes")
            return existing
        log.info("sns.topic_created", topic=name)
        return self._make(name, config)

    def by_arn(self, arn: str) -> Topic:
        """The topic of ``arn`` (``TopicError`` NotFound if none)."""
        name = arn.rsplit(":", 1)[-1]
        topic = self._topics.get(name)
        if topic is None or topic.arn != arn:
            raise not_found()
        return topic

    def subscription(self, arn: str) -> tuple[Topic, Subscription]:
        """The subscription of ``arn`` and its topic (``TopicError`` NotFound if none)."""
        topic = self._topics.get(arn.rsplit(":", 1)[0].rsplit(":", 1)[-1])
        if topic is None or arn not in topic.subscriptions:
            raise not_found("Subscription")
        return topic, topic.subscriptions[arn]

    # --- the sqs protocol -----------------------------------------------------------------

    def _to_queue(self, topic: Topic, subscription: Subscription, publication: Publication) -> None:
        name = subscription.endpoint.rsplit(":", 1)[-1]
        queue = self._queues.get(name)
        if queue is None or queue.arn != subscription.endpoint:
            raise TopicError("NotFound", f"the queue {name!r} does not exist")
        message = publication.message_for("sqs")
        options: dict[str, Any] = {}
        if queue.fifo:
            options = {"group_id": publication.group_id,
                       "deduplication_id": publication.deduplication_id}  # fmt: skip
        elif publication.group_id is not None and not topic.fifo:
            options = {"group_id": publication.group_id}  # a fair queue's tenant
        if subscription.raw_message_delivery:
            queue.send_message(message, attributes=publication.attributes or None, **options)
            return
        body = sns.envelope(
            message_id=publication.message_id, topic_arn=topic.arn,
            subscription_arn=subscription.arn, message=message, subject=publication.subject,
            attributes=publication.attributes, timestamp=publication.timestamp,
            region=topic.region, signature=publication.signature,
            sequence_number=publication.sequence_number,
        )  # fmt: skip
        queue.send_message(json.dumps(body), **options)
