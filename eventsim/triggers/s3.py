"""The ``s3`` trigger: a bucket's notification configurations invoke functions (§1).

Each ``s3`` trigger is one notification configuration of its bucket (event types, prefix,
suffix). The bucket (``resources.bucket``) announces every completed change; the bucket's
binding matches it against the configurations (``router.S3Router``: pure matching), builds the
S3 event for each match and queues an asynchronous invocation. A change that matches none is
in the ledger with the reason, never dropped silently. Configurations whose event types,
prefixes and suffixes all overlap are refused at load, as S3 refuses them.

Config::

    triggers:
      - s3: {bucket: uploads, events: ["s3:ObjectCreated:*"], prefix: images/, suffix: .jpg}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator

from .. import explain
from ..config import Config, Model
from ..events import s3
from ..filters import configurations_overlap
from ..invocation.sync import new_request_id
from ..ledger import Attempt, Code, Ledger
from ..resources.bucket import ObjectChange
from ..router import S3Router, s3_routes
from ..yamlpos import dotted
from .base import Binding, Context, References, TriggerKind, TriggerRef

#: §1.2: event types a notification configuration may name.
S3_EVENT_TYPES = frozenset(
    {
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
    }
)


class S3Trigger(Model):
    """One notification configuration of a bucket, targeting the function."""

    bucket: str
    events: list[str] = Field(default_factory=lambda: ["s3:ObjectCreated:*"], min_length=1)
    prefix: str = Field(default="", max_length=1024)
    suffix: str = Field(default="", max_length=1024)
    id: str | None = None  # the notification configurationId; generated when absent

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str]) -> list[str]:
        unknown = [e for e in events if e not in S3_EVENT_TYPES]
        if unknown:
            raise ValueError(
                f"unknown S3 event type(s) {unknown}; expected some of {sorted(S3_EVENT_TYPES)}"
            )
        return events


class S3Binding(Binding):
    """The notification configurations of one bucket."""

    kind = "s3"

    def __init__(self, bucket: str, router: S3Router, functions: tuple[str, ...]) -> None:
        self.bucket = bucket
        self.part = f"s3:{bucket}"
        self.source = f"s3:{bucket}"
        self.functions = functions
        self._router = router

    async def start(self) -> None:
        pass  # the bucket announces; this binding routes what it announces

    async def stop(self) -> None:
        pass

    def __call__(self, change: ObjectChange) -> None:
        self._router(change)

    def hold(self, count: int) -> None:
        """Fault injection: route the next ``count`` changes newest first."""
        self._router.hold(self.bucket, count)

    def describe(self) -> str:
        return f"s3 {self.bucket} -> {', '.join(self.functions) or '(no configuration)'}"


class S3Kind(TriggerKind):
    name = "s3"
    model = S3Trigger

    def check(self, references: References, triggers: Sequence[TriggerRef]) -> None:
        seen: dict[str, list[tuple[TriggerRef, S3Trigger]]] = {}
        for ref in triggers:
            spec: S3Trigger = ref.spec
            at = (*ref.at, self.name)
            if not references.known("bucket", spec.bucket, "buckets", (*at, "bucket")):
                continue
            for other_ref, other in seen.get(spec.bucket, []):
                if configurations_overlap(
                    other.events, other.prefix, other.suffix, spec.events, spec.prefix,
                    spec.suffix,
                ):  # fmt: skip
                    references.problem(
                        at,
                        f"overlaps the notification configuration of {other_ref.function!r} "
                        f"({dotted((*other_ref.at, self.name))}) on bucket {spec.bucket!r}: S3 "
                        "refuses configurations whose event types, prefixes and suffixes all "
                        "overlap",
                    )
                    break
            seen.setdefault(spec.bucket, []).append((ref, spec))

    def bind(self, context: Context, triggers: Sequence[TriggerRef]) -> list[Binding]:
        """One binding per bucket, also for a bucket no configuration names (its changes are
        in the ledger as matching nothing)."""
        config = context.config
        router = S3Router(config, dict(context.functions), context.submit, context.rng)
        router.unmatched = _Unmatched(router, context.delivery.ledger, context, config)
        bindings: list[Binding] = []
        for bucket, routes in s3_routes(config).items():
            binding = S3Binding(bucket, router, tuple(dict.fromkeys(r.function for r in routes)))
            context.resources.listen("buckets", bucket, binding)
            bindings.append(binding)
        return bindings

    def summary(self, spec: Any) -> str:
        return f"s3 {spec.bucket}/{spec.prefix}*{spec.suffix}"

    def identifies(self, record: dict[str, Any], query: Any) -> bool:
        key = query.get("key")
        found = record.get("s3", {}).get("object", {}).get("key")
        return key is not None and found in (key, s3.encode_key(key))


class _Unmatched:
    """Records a change no configuration matched, as a dropped event with the reason."""

    def __init__(self, router: S3Router, ledger: Ledger, context: Context, config: Config) -> None:
        self._router = router
        self._ledger = ledger
        self._clock = context.delivery.clock

    def __call__(self, change: ObjectChange, reason: str) -> None:
        event = s3.notification(self._router.record(change, "(none)"))
        self._ledger.record(
            Attempt.dropped(
                function=explain.NO_FUNCTION, request_id=new_request_id(),
                source=f"s3:{change.bucket}", event=event, at=self._clock.now(), reason=reason,
                invocation_type="Event", code=Code.NO_MATCH,
            )
        )  # fmt: skip
