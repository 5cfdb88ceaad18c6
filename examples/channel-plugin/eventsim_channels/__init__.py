"""In-memory channels as an eventsim trigger kind: the example of a plug-in.

Config::

    extensions:
      channel:
        alerts: {max_message_bytes: 1024}
    functions:
      notify:
        handler: notify.handler
        triggers:
          - channel: {name: alerts}

Each message published to a channel invokes every subscribed function asynchronously with
``{"channel": "alerts", "messageId": "...", "message": <the message>}``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import Field

from eventsim.config import Model
from eventsim.triggers.base import Binding, Context, References, TriggerKind, TriggerRef


class ChannelSettings(Model):
    """One channel (``extensions.channel.<name>``)."""

    max_message_bytes: int = Field(default=256 * 1024, ge=1, le=1024 * 1024)


class ChannelTrigger(Model):
    """A function's subscription to a channel."""

    name: str = Field(min_length=1)


class Channel:
    """A channel: ``publish`` hands each message to every subscriber at once."""

    def __init__(self, name: str, settings: ChannelSettings) -> None:
        self.name = name
        self.settings = settings
        self.subscribers: list[Callable[[dict[str, Any]], None]] = []
        self.published = 0

    def publish(self, message: Any) -> str:
        """Publish ``message`` (any JSON value); returns its message id."""
        body = json.dumps(message)
        if len(body.encode()) > self.settings.max_message_bytes:
            raise ValueError(
                f"channel {self.name!r}: a message is at most "
                f"{self.settings.max_message_bytes} bytes"
            )
        envelope = {"channel": self.name, "messageId": str(uuid.uuid4()), "message": message}
        self.published += 1
        for subscriber in list(self.subscribers):
            subscriber(envelope)
        return str(envelope["messageId"])


class ChannelBinding(Binding):
    """One function subscribed to one channel."""

    kind = "channel"

    def __init__(self, context: Context, ref: TriggerRef) -> None:
        self._channel: Channel = context.resources.resource("channel", ref.spec.name)
        self._spec = context.functions[ref.function]
        self._submit = context.submit
        self.part = f"channel:{ref.spec.name}->{ref.function}"
        self.source = f"channel:{ref.spec.name}"
        self.functions = (ref.function,)

    async def start(self) -> None:
        self._channel.subscribers.append(self._deliver)

    async def stop(self) -> None:
        if self._deliver in self._channel.subscribers:
            self._channel.subscribers.remove(self._deliver)

    def describe(self) -> str:
        return f"channel {self._channel.name} -> {self._spec.name}"

    def _deliver(self, envelope: dict[str, Any]) -> None:
        body = json.dumps(envelope).encode()
        self._submit(self._spec, body, event=envelope, source=self.source)


class ChannelKind(TriggerKind):
    name = "channel"
    model = ChannelTrigger
    resource_model = ChannelSettings

    def check(self, references: References, triggers: Sequence[TriggerRef]) -> None:
        channels = references.config.extensions.get(self.name, {})
        for ref in triggers:
            if ref.spec.name not in channels:
                defined = ", ".join(sorted(channels)) or "none: add extensions.channel.<name>"
                references.problem(
                    (*ref.at, self.name, "name"),
                    f"unknown channel {ref.spec.name!r} (defined: {defined})",
                )

    def create_resources(self, context: Context, settings: Mapping[str, Any]) -> dict[str, Any]:
        return {name: Channel(name, channel) for name, channel in settings.items()}

    def bind(self, context: Context, triggers: Sequence[TriggerRef]) -> list[Binding]:
        return [ChannelBinding(context, ref) for ref in triggers]

    def summary(self, spec: Any) -> str:
        return f"channel {spec.name}"

    def identifies(self, record: dict[str, Any], query: Any) -> bool:
        return query.get("message_id") is not None and record.get("messageId") == query.get(
            "message_id"
        )
