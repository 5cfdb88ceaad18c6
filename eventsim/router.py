"""From what a source noticed to the functions whose triggers match it.

Routes are compiled once from the config; matching is pure (``eventsim.filters``); the router
builds the AWS event with ``eventsim.events`` and hands it to the asynchronous invoker. A
change that matches no trigger is logged with the reason, never dropped silently.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from .config import Config
from .errors import UnknownResourceError
from .events import ids, s3
from .filters import event_type_matches, key_matches
from .resources.bucket import ObjectChange
from .runtime.spec import FunctionSpec

log = structlog.get_logger("eventsim.router")

Submit = Callable[..., str]


@dataclass(frozen=True)
class S3Route:
    function: str
    configuration_id: str
    events: tuple[str, ...]
    prefix: str
    suffix: str

    def matches(self, change: ObjectChange, encoded_key: str) -> bool:
        return event_type_matches(self.events, change.event_name) and key_matches(
            self.prefix, self.suffix, encoded_key
        )


def s3_routes(config: Config) -> dict[str, list[S3Route]]:
    """Every bucket's notification configurations, in config order."""
    routes: dict[str, list[S3Route]] = {name: [] for name in config.buckets}
    for name, function in config.functions.items():
        for index, trigger in enumerate(function.triggers):
            if trigger.kind == "s3":
                spec: Any = trigger.spec
                routes[spec.bucket].append(
                    S3Route(
                        name,
                        spec.id or f"eventsim-{name}-{index}",
                        tuple(spec.events),
                        spec.prefix,
                        spec.suffix,
                    )
                )
    return routes


class S3Router:
    """Turns bucket changes into asynchronous invocations, one per matching configuration."""

    def __init__(
        self,
        config: Config,
        functions: dict[str, FunctionSpec],
        submit: Submit,
        rng: random.Random,
    ) -> None:
        self._routes = s3_routes(config)
        self._functions = functions
        self._submit = submit
        self._rng = rng
        self._region = config.region
        self._held: dict[str, tuple[int, list[ObjectChange]]] = {}
        #: Called with (bucket, key, event name, reason) for a change no configuration matches.
        self.unmatched: Callable[[ObjectChange, str], None] | None = None

    def hold(self, bucket: str, count: int) -> None:
        """Fault injection: hold the next ``count`` changes of ``bucket``, then route them
        newest first."""
        if bucket not in self._routes:
            raise UnknownResourceError("bucket", bucket, list(self._routes))
        self._held[bucket] = (count, [])

    def __call__(self, change: ObjectChange) -> None:
        held = self._held.get(change.bucket)
        if held is not None:
            count, changes = held
            changes.append(change)
            if len(changes) < count:
                return
            del self._held[change.bucket]
            for earlier in reversed(changes):
                self._route(earlier)
            return
        self._route(change)

    def _route(self, change: ObjectChange) -> None:
        encoded = s3.encode_key(change.key)
        matched = [r for r in self._routes.get(change.bucket, []) if r.matches(change, encoded)]
        if not matched:
            reason = "no notification configuration matches this event type and key"
            log.info(
                "s3.no_match",
                bucket=change.bucket,
                key=change.key,
                event_name=change.event_name,
                reason=reason,
            )
            if self.unmatched is not None:
                self.unmatched(change, reason)
        for route in matched:
            event = s3.notification(self.record(change, route.configuration_id))
            self._submit(
                self._functions[route.function],
                json.dumps(event).encode(),
                event=event,
                source=f"s3:{change.bucket}",
            )

    def record(self, change: ObjectChange, configuration_id: str) -> dict[str, Any]:
        common: dict[str, Any] = dict(
            bucket=change.bucket,
            key=change.key,
            sequencer=s3.sequencer(change.sequencer),
            configuration_id=configuration_id,
            time=change.time,
            region=self._region,
            request_id=ids.hex_id(self._rng, 16, upper=True),
            host_id=ids.host_id(self._rng),
        )
        if change.kind != "Delete":
            assert change.size is not None and change.etag is not None
            return s3.object_created(change.kind, size=change.size, etag=change.etag, **common)
        return s3.object_removed("Delete", **common)
