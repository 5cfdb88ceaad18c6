"""The trigger seam: what every kind of trigger implements, built in or from a plug-in.

A *kind* (``s3``, ``sqs``, ``dynamodb``, ``schedule``, ``http``, ``sns``, ``eventbridge``, or a
plug-in's) is a ``TriggerKind``: the pydantic model of one trigger in the config, the checks
that span the config (a queue that must exist...), and ``bind``, which turns the triggers of
that kind into ``Binding``\\ s — the running parts that watch a resource and invoke functions.
The registry (``registry.py``) is the only place kinds are named.

A binding gets a ``Context``, never the simulator: the invokers (through ``delivery`` and
``submit``), the resources by name, the clock, the ledger, the supervised task spawner. The
flow stays one-way: resource -> binding -> invocation -> runtime -> ledger.

Example (a kind that invokes a function whenever its queue-like resource says so)::

    class TickTrigger(Model):
        every: int

    class TickKind(TriggerKind):
        name = "tick"
        model = TickTrigger

        def bind(self, context, triggers):
            return [TickBinding(context, t) for t in triggers]
"""

from __future__ import annotations

import abc
import random
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel

if TYPE_CHECKING:  # the config finds kinds through the registry: this module stays light
    from ..config import Config, Destination
    from ..invocation.outbox import Outbox
    from ..invocation.sync import Delivery, InvokeResult
    from ..runtime.spec import FunctionSpec
    from ..yamlpos import Path as KeyPath


@dataclass(frozen=True)
class TriggerRef:
    """One trigger of the config: the function it belongs to, its place, its settings."""

    function: str
    index: int  # in the function's ``triggers`` list
    spec: Any  # the kind's model instance

    @property
    def at(self) -> KeyPath:
        """Where it stands in the config file (for error positions)."""
        return ("functions", self.function, "triggers", self.index)


class References(Protocol):
    """What ``TriggerKind.check`` reports problems with."""

    config: Config

    def known(self, kind: str, name: str, section: str, path: KeyPath) -> bool:
        """Whether ``name`` is defined in ``section``; reports "unknown ..." if not."""

    def destination(self, dest: Destination | None, path: KeyPath) -> None:
        """Checks a ``function:NAME`` / ``queue:NAME`` destination."""

    def problem(self, path: KeyPath, message: str) -> None: ...


class Resources(Protocol):
    """The simulated resources, by name (``UnknownResourceError`` for an unknown one)."""

    def resource(self, section: str, name: str) -> Any:
        """``section`` is the config's: ``buckets``, ``queues``, ``tables``, ``topics``..."""

    def listen(self, section: str, name: str, listener: Callable[[Any], None]) -> None:
        """Call ``listener`` with every change the resource announces (a bucket's)."""


Submit = Callable[..., str]


@dataclass(frozen=True)
class Context:
    """What a binding may use. ``submit(spec, body, event=..., source=...)`` queues an
    asynchronous invocation (durable, with AWS's retries); ``delivery.invoker`` runs a
    synchronous one; ``invoke`` runs one on behalf of a trigger by function name."""

    config: Config
    functions: Mapping[str, FunctionSpec]
    delivery: Delivery
    submit: Submit
    resources: Resources
    rng: random.Random
    outbox: Outbox  # sends records to destinations (queues, topics, buses)
    invoke: Callable[[str, str, Any], Coroutine[Any, Any, InvokeResult]]  # source, function, event
    state_dir: Path  # for resources that keep state (a file per resource, say)


class Binding(abc.ABC):
    """A running trigger: one or more triggers of a kind bound to their resource.

    ``part`` names it in supervision and health; ``source`` labels its ledger entries
    (``sqs:jobs``); ``functions`` are the functions it invokes.
    """

    kind: ClassVar[str]
    part: str
    source: str
    functions: tuple[str, ...]

    @abc.abstractmethod
    async def start(self) -> None:
        """Start watching; return once watching."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop watching; in-flight deliveries are the simulator's to drain."""

    @abc.abstractmethod
    def describe(self) -> str:
        """One line for the ready block: ``sqs jobs (batch 10)``."""


class EventSourceMapping(Binding):
    """A binding that is an event source mapping (a poller: SQS, DynamoDB streams...), which
    Lambda's API lists, describes and pauses: ``ListEventSourceMappings``,
    ``GetEventSourceMapping``, ``UpdateEventSourceMapping(Enabled=...)``."""

    #: Stable across restarts: derived from the function and the trigger's place.
    uuid: str
    enabled: bool

    @abc.abstractmethod
    def configuration(self) -> dict[str, Any]:
        """AWS's ``EventSourceMappingConfiguration`` of this mapping."""

    async def set_enabled(self, enabled: bool) -> None:
        """Pause (stop polling; batches in flight finish) or resume the mapping."""
        if enabled == self.enabled:
            return
        if enabled:
            self.enabled = True
            await self.start()
        else:
            await self.stop()
            self.enabled = False


def mapping_uuid(ref: TriggerRef) -> str:
    """A mapping's UUID: the same for the same function and trigger, run after run."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"eventsim:{ref.function}:{ref.index}"))


class TriggerKind(abc.ABC):
    """One kind of trigger. Subclass it, set ``name`` and ``model``, implement ``bind``."""

    #: The config key (``triggers: [{<name>: {...}}]``) and the ledger sources' prefix.
    name: ClassVar[str]
    #: The pydantic model of one trigger's settings (``extra="forbid"`` is expected).
    model: ClassVar[type[BaseModel]]
    #: A plug-in's own resources (channels, streams...): the model of one, configured as
    #: ``extensions: {<kind name>: {<resource name>: {...}}}``; None for kinds without.
    resource_model: ClassVar[type[BaseModel] | None] = None

    def create_resources(self, context: Context, settings: Mapping[str, Any]) -> dict[str, Any]:
        """The resources of this kind by name (from ``extensions.<kind>``), before any binding
        exists. An object with async ``start()``/``stop()`` is started and stopped with the
        simulator; ``context.resources.resource(<kind name>, name)`` finds them."""
        return {}

    def check(self, references: References, triggers: Sequence[TriggerRef]) -> None:  # noqa: B027
        """Report what spans the config (names that must exist, pairs AWS refuses) through
        ``references``; called once with every trigger of this kind. Default: nothing."""

    @abc.abstractmethod
    def bind(self, context: Context, triggers: Sequence[TriggerRef]) -> list[Binding]:
        """The bindings of every trigger of this kind (constructed, not started)."""

    def summary(self, spec: Any) -> str:
        """A few words about one trigger's settings (``eventsim validate``, ready block)."""
        return self.name

    def records(self, event: Any) -> list[dict[str, Any]]:
        """The records of one event of this kind, for ``explain`` (default: ``Records``)."""
        if isinstance(event, dict) and isinstance(event.get("Records"), list):
            return [r for r in event["Records"] if isinstance(r, dict)]
        return [event] if isinstance(event, dict) else []

    def identifies(self, record: dict[str, Any], query: Mapping[str, Any]) -> bool:
        """Whether ``record`` is about what ``explain`` is asked about (``key``,
        ``message_id``, ``item``...); default: never."""
        return False
