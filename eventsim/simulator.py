"""The simulator: builds every part from a ``Config`` and owns their lifecycle.

Example::

    async with Simulator.from_file("config/eventsim.yaml", virtual_time=True) as sim:
        result = await sim.invoke("hello", {"name": "Ada"})
        assert result.payload == {"message": "Hello, Ada!"}
        await sim.advance(minutes=5)
        await sim.settle()
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import structlog

from .activity import Activity
from .clock import Clock, RealClock, VirtualClock
from .config import DEFAULT_CONFIG_PATH, Config, load_config
from .errors import (
    EventsimError,
    InvalidRequestContent,
    SimulatorStateError,
    StartupError,
    StateError,
    StateLocked,
)
from .events.apigateway import HttpRequest, HttpResponse
from .faults import Faults
from .invocation.asynchronous import AsyncInvoker
from .invocation.event_store import EventStore, MemoryEventStore
from .invocation.outbox import Outbox
from .invocation.sync import Delivery, Invoker, InvokeResult, encode_event, new_request_id
from .ledger import Attempt, Ledger
from .resources.bucket import BucketSource
from .resources.buses import Buses
from .resources.created import created_buckets
from .resources.queues import QueueRegistry
from .resources.tables import TableRegistry
from .resources.topics import Topics
from .runtime.environment import World
from .runtime.logs import LogSink
from .runtime.pool import Concurrency, Runtime
from .runtime.spec import FunctionSpec
from .server.edge import EdgeServer
from .server.guard import Gate
from .server.http_triggers import HttpTriggerServer
from .simulator_resources import SimulatorResources
from .state import StateLock
from .supervisor import PartFailed, Supervisor
from .triggers import registry
from .triggers.base import Binding, Context, TriggerRef
from .triggers.http import HttpRoutes
from .unconfirmed import EMPTY_PAYLOAD

log = structlog.get_logger("eventsim")

InvocationType = Literal["RequestResponse", "Event", "DryRun"]

#: How long ``close()`` lets in-flight work finish before cancelling it (real seconds).
SHUTDOWN_GRACE_S = 5.0


class Simulator(SimulatorResources):
    """Runs the functions, triggers and sources of one config.

    Construction has no side effects; ``start()`` (or ``async with``) locks the state folder
    (``StateLocked`` if another process has it), opens its state files (``StateError`` if one is
    damaged) and starts every part; ``close()`` stops them in order and releases the folder.

    ``triggers=False`` runs the functions only, as ``eventsim invoke`` does: no bucket is
    watched, no queue or stream is polled, no schedule fires, and the asynchronous events a
    previous run left pending stay pending for the next ``eventsim up``.

    ``edge=True`` also serves the AWS APIs (the edge) on ``config.server`` (port 0: any free
    port), and points every handler's SDK at it (``endpoint_url``). Without an edge, handlers'
    SDK calls go to a closed local port: they fail at once and never reach AWS. ``http=True``
    serves the ``http`` triggers' routes on ``config.server.http_port`` (``sim.http``);
    ``sim.request()`` answers them without a port either way.
    """

    def __init__(
        self,
        config: Config,
        *,
        virtual_time: bool = False,
        clock: Clock | None = None,
        start_time: datetime | None = None,
        state_dir: str | Path | None = None,
        seed: int | None = None,
        triggers: bool = True,
        edge: bool = False,
        http: bool = False,
        command: str = "eventsim",
    ) -> None:
        if clock is None:
            clock = VirtualClock(start_time) if virtual_time else RealClock()
        self.config = config
        self.clock = clock
        self.activity = Activity()
        kept = config.ledger
        self.ledger = Ledger(kept.max_attempts, max_bytes=kept.max_bytes, keep_full=kept.keep_full)
        #: Every id eventsim makes up comes from here: pass ``seed`` for repeatable runs.
        self.random = random.Random(seed)
        self.state_dir = Path(state_dir).resolve() if state_dir else config.state_dir
        self.triggers = triggers
        self._lock = StateLock(self.state_dir, command)
        self._edge = EdgeServer(self, config.server.host, config.server.port) if edge else None
        self.functions = {
            name: FunctionSpec.from_config(name, function, config)
            for name, function in config.functions.items()
        }
        self._runtime: Runtime | None = None
        self._invoker: Invoker | None = None
        self._async: AsyncInvoker | None = None
        #: Records and dead-letter messages to queues, topics and buses, found when sent.
        self._outbox = Outbox(self.resource)
        self._runner: asyncio.Task[None] | None = None
        self._supervisor: Supervisor | None = None
        self._events: EventStore | MemoryEventStore | None = None
        self._stopping: asyncio.Event | None = None
        self._draining: asyncio.Task[None] | None = None
        self._accepting = False
        self._started = asyncio.Event()  # set once start() has finished (or close() began)
        self._buckets: dict[str, BucketSource] = {}
        #: Every queue, by region and name (resources/queues.py).
        self._queues = QueueRegistry(config, clock=clock, rng=self.random, state_dir=self.state_dir)
        # DynamoDB tables, the config's and CreateTable's (#17): opened at start.
        self._tables = TableRegistry(config, clock=clock, state_dir=self.state_dir)
        self._sources: list[Any] = []  # bindings, buckets, plug-in resources: start()/stop()
        self._bucket_listeners: dict[str, list[Callable[[Any], None]]] = {}
        self._extensions: dict[str, dict[str, Any]] = {}  # plug-in kinds' resources
        # SNS topics and EventBridge buses (#18): built at start (_build_fanout).
        self._topics: Topics | None = None
        self._buses: Buses | None = None
        #: The running triggers (one or more per kind), once started.
        self.bindings: list[Binding] = []
        #: The HTTP triggers' server, when ``http=True`` and there are routes.
        self.http: HttpTriggerServer | None = None
        self._serve_http = http
        #: Fault injection for tests: ``sim.faults.fail("fn", times=2)`` and more.
        self.faults = Faults(
            duplicate=lambda queue, n: self.queue(queue).redeliver_next(n),
            reorder=lambda bucket, n: self._s3_binding(bucket).hold(n),
            known=lambda: set(self.functions),
        )

    @classmethod
    def from_file(cls, path: str | Path = DEFAULT_CONFIG_PATH, **options: Any) -> Simulator:
        """Build a simulator from a YAML config file (``ConfigError`` if it is invalid)."""
        return cls(load_config(path), **options)

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], base_dir: str | Path | None = None, **options: Any
    ) -> Simulator:
        """Build a simulator from a config dict; relative paths resolve against ``base_dir``."""
        return cls(Config.from_dict(data, base_dir), **options)

    # --- lifecycle ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._accepting

    def lock_state(self, **details: str) -> None:
        """Take the state folder now (``StateLocked`` if another process has it), before
        ``start()``; ``details`` are advertised to other commands (``edge=URL``)."""
        if not self._lock.held:
            self._lock.acquire()
        if details:
            self._lock.advertise(**details)

    async def start(self) -> None:
        """Start every part; returns once all of them are ready."""
        if self._runner is not None:
            raise SimulatorStateError("this simulator was already started")
        self.lock_state()
        await self._start_edge()
        if isinstance(self.clock, VirtualClock):
            self.clock.bind(self.activity)
        world = World(
            endpoint_url=self.endpoint_url,
            buckets={name: bucket.path for name, bucket in self.config.buckets.items()},
            inherit=tuple(self.config.inherit_env),
            aws_files=self.state_dir / "aws",
        )
        world.prepare()
        self._runtime = Runtime(
            self.functions,
            clock=self.clock,
            activity=self.activity,
            sink=LogSink(self.state_dir),
            account_concurrency=self.config.account_concurrency,
            idle_timeout=self.config.idle_timeout,
            max_environments=self.config.max_environments,
            world=world,
        )
        self._stopping = asyncio.Event()
        ready = asyncio.get_running_loop().create_future()
        self._runner = asyncio.create_task(self._supervise(ready), name="eventsim")
        await ready
        try:
            self._start_invokers()
            await self._start_sources()
        except (StateError, StateLocked, StartupError):
            await self.close()
            raise
        except (OSError, sqlite3.Error, EventsimError) as exc:
            await self.close()
            raise StartupError(f"could not start: {exc}") from exc
        if self.triggers:
            for issue in self.config.not_honoured:  # what a template asks that eventsim does not do
                where = f"{issue.file}:{issue.line}:{issue.column}" if issue.line else issue.file
                log.warning("config.not_honoured", at=where, key=issue.path, what=issue.message)
        self._accepting = True
        self._started.set()
        log.info(
            "simulator.started",
            functions=len(self.functions),
            state_dir=str(self.state_dir),
            clock="virtual" if isinstance(self.clock, VirtualClock) else "real",
        )

    async def _start_edge(self) -> None:
        if self._edge is None:
            return
        try:
            await self._edge.start()
        except OSError as exc:
            self._lock.release()
            server = self.config.server
            raise StartupError.cannot_listen(
                "edge's", server.host, server.port, "server.port", "--port", exc
            ) from None
        self._lock.advertise(edge=self._edge.url)

    async def until_started(self, timeout: float) -> bool:  # noqa: ASYNC109 - a bound, not a wait
        """For the edge, which answers before ``start()`` has finished: wait up to
        ``timeout`` real seconds for it to finish. False if it did not, or if the simulator
        is stopping."""
        if not self._started.is_set():
            try:
                async with asyncio.timeout(timeout):
                    await self._started.wait()
            except TimeoutError:
                return False
        return self._accepting

    @property
    def endpoint_url(self) -> str | None:
        """The edge's URL (``edge=True``, once started): point boto3 here."""
        return self._edge.url if self._edge is not None and self._edge.port else None

    @property
    def edge(self) -> EdgeServer | None:
        return self._edge

    def _start_invokers(self) -> None:
        assert self._runtime is not None and self._supervisor is not None
        self._invoker = Invoker(self._runtime, self.ledger, self.activity, self.clock)
        self._invoker.faults = self.faults
        self._events = (
            EventStore(self.state_dir / "events.sqlite3") if self.triggers else MemoryEventStore()
        )
        self._async = AsyncInvoker(
            self._invoker,
            self.functions,
            ledger=self.ledger,
            activity=self.activity,
            clock=self.clock,
            supervisor=self._supervisor,
            store=self._events,
            concurrency=self.config.max_environments,
            outbox=self._outbox,
        )
        self._supervisor.keep("async:timer", self._async.run_timer)

    def _build_tables(self) -> None:
        assert self._supervisor is not None
        self._tables.open(self.activity, self._supervisor)  # TTL runs as "tables:ttl"

    def _build_fanout(self) -> None:
        """SNS topics and EventBridge buses: the config's (and the default bus, always)."""
        assert self._supervisor is not None
        self._topics = Topics(self.config, clock=self.clock, rng=self.random, queues=self._queues)
        self._buses = Buses(
            self.config, clock=self.clock, rng=self.random, activity=self.activity,
            queues=self._queues, topics=self._topics,
        )  # fmt: skip
        self._buses.open(self._supervisor)

    def _log_entry(self, attempt: Attempt) -> None:
        """One info line for every entry that is not a run: a throttle, a drop, a move."""
        if not attempt.ran:
            log.info(
                f"ledger.{attempt.outcome.value}", function=attempt.function or "(none)",
                source=attempt.source, code=attempt.code, reason=attempt.reason,
                request_id=attempt.request_id,
            )  # fmt: skip

    async def _start_sources(self) -> None:
        assert self._async is not None and self._supervisor is not None
        assert self._invoker is not None
        self._queues.observers.append(self._queue_event)
        self.ledger.subscribe(self._log_entry)
        await self._queues.open(self.activity, self._supervisor)
        self._build_tables()
        self._build_fanout()
        if not self.triggers:
            return
        self._supervisor.spawn(self._async.resume(), part="async:resume")
        context = self._context()
        kinds = registry.kinds()
        self._extensions = {
            name: kinds[name].create_resources(context, settings)
            for name, settings in self.config.extensions.items()
        }
        created = created_buckets(self.state_dir, self.config.buckets)
        for name, bucket in {**self.config.buckets, **created}.items():
            self._buckets[name] = self._new_bucket(name, bucket)
        by_kind: dict[str, list[TriggerRef]] = {}
        for function, settings in self.config.functions.items():
            for index, trigger in enumerate(settings.triggers):
                by_kind.setdefault(trigger.kind, []).append(
                    TriggerRef(function, index, trigger.spec)
                )
        # Every kind binds, with or without triggers of its own (an API with no routes still
        # answers 404; a bucket no configuration names still reports what it ignored).
        self.bindings = [
            binding
            for name, kind in kinds.items()
            for binding in kind.bind(context, by_kind.get(name, []))
        ]
        # Bindings listen before resources announce (what changed while eventsim was down).
        extensions = [r for rs in self._extensions.values() for r in rs.values()
                      if hasattr(r, "start") and hasattr(r, "stop")]  # fmt: skip
        self._sources = [*self.bindings, *self._buckets.values(), *extensions]
        for source in self._sources:
            await source.start()
        await self._start_http()

    def _context(self) -> Context:
        assert self._invoker is not None and self._async is not None
        assert self._supervisor is not None
        return Context(
            config=self.config,
            functions=self.functions,
            delivery=Delivery(
                self._invoker, self.ledger, self.activity, self.clock, self._supervisor
            ),  # fmt: skip
            submit=self._async.submit,
            resources=self,
            rng=self.random,
            outbox=self._outbox,
            invoke=self.invoke_for,
            state_dir=self.state_dir,
        )

    async def _start_http(self) -> None:
        routes = self.http_routes
        if not self._serve_http or routes is None or not routes.routes:
            return
        server = self.config.server
        gate = Gate.serving(server.host, server.allowed_hosts, server.allowed_origins)
        self.http = HttpTriggerServer(routes.respond, server.host, server.http_port, gate)
        try:
            await self.http.start()
        except OSError as exc:
            self.http = None
            raise StartupError.cannot_listen(
                "HTTP triggers'",
                server.host,
                server.http_port,
                "server.http_port",
                "--http-port",
                exc,
            ) from None

    @property
    def http_routes(self) -> HttpRoutes | None:
        """The ``http`` triggers' router (None before start, or without triggers)."""
        return next((b for b in self.bindings if isinstance(b, HttpRoutes)), None)

    async def _supervise(self, ready: asyncio.Future[None]) -> None:
        assert self._runtime is not None and self._stopping is not None
        try:
            async with asyncio.TaskGroup() as group:
                self._supervisor = Supervisor(group, self.activity)
                self._supervisor.keep("runtime", self._runtime.expire_idle)
                with self._supervisor.catching_stray_failures():
                    ready.set_result(None)
                    await self._stopping.wait()
                    self._supervisor.cancel_all()
        finally:
            if not ready.done():
                ready.set_result(None)

    async def close(self, grace: float = SHUTDOWN_GRACE_S) -> None:
        """Stop intake, let in-flight work finish for ``grace`` seconds, cancel the rest.

        What was accepted and did not finish stays in the state folder for the next start.
        """
        self._started.set()  # requests waiting for a start that failed are answered now
        if self._runner is None or self._stopping is None:
            if self._edge is not None:
                await self._edge.stop()
            self._lock.release()  # taken by lock_state() before a start that never happened
            return
        self._accepting = False
        started = time.perf_counter()
        for server in (self._edge, self.http):
            if server is not None:
                await server.stop()
        for source in reversed(self._sources):  # stop intake first
            await source.stop()
        self._draining = asyncio.create_task(self.activity.settle(), name="eventsim-drain")
        done, _ = await asyncio.wait([self._draining], timeout=grace)
        drained = bool(done) and not self._draining.cancelled()
        self._draining.cancel()
        pending = self.activity.pending()
        self._stopping.set()
        await self._runner
        assert self._runtime is not None
        await self._runtime.close()
        for closing in (self._events, self._queues, self._tables):
            if closing is not None:
                closing.close()
        self._lock.release()
        log.info(
            "simulator.stopped",
            drained=drained,
            cancelled=pending,
            attempts=len(self.ledger),
            seconds=round(time.perf_counter() - started, 3),
        )
        self._runner = None

    # --- health ---------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"status": "ok" | "degraded" | "failed" | "starting" | "stopping", "parts":
        {...}}``: each supervised part by name with its state, failures, restarts and last
        error."""
        parts = self._supervisor.health() if self._supervisor is not None else {}
        states = {health.state for health in parts.values()}
        if not self._started.is_set():
            status = "starting"
        elif not self._accepting:
            status = "stopping"
        elif "failed" in states:
            status = "failed"
        elif states - {"ok"}:
            status = "degraded"
        else:
            status = "ok"
        return {"status": status, "parts": {n: h.as_dict() for n, h in sorted(parts.items())}}

    @property
    def fatal(self) -> asyncio.Future[PartFailed] | None:
        """Resolved with the error when a part failed beyond restarting (``eventsim up`` then
        exits 1); None before ``start()``."""
        return self._supervisor.fatal if self._supervisor is not None else None

    def reload(self, functions: list[str] | None = None) -> None:
        """Restart the execution environments of ``functions`` (default: all): from this call
        on, invocations load the handler code afresh (a cold start)."""
        self._check_running()
        assert self._runtime is not None
        assert self._supervisor is not None
        for name in functions or list(self.functions):
            pool = self._runtime.pools[name]
            for env in pool.recycle():
                self._supervisor.spawn(pool.retire(env), part="runtime")

    def stop_draining(self) -> None:
        """Make a ``close()`` in progress stop waiting for in-flight work (a second Ctrl-C)."""
        if self._draining is not None:
            self._draining.cancel()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- time -----------------------------------------------------------------------------

    async def advance(
        self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> None:
        """Move the virtual clock forward, running everything that falls due on the way."""
        if not isinstance(self.clock, VirtualClock):
            raise SimulatorStateError("advance() needs a virtual clock: virtual_time=True")
        self._check_running()
        await self.clock.advance(seconds + 60 * minutes + 3600 * hours + 86400 * days)

    async def settle(self, timeout: float | None = 30.0) -> None:  # noqa: ASYNC109 - explained
        """Wait until nothing can progress without the clock moving (``timeout`` real s)."""
        try:
            await asyncio.wait_for(self.activity.settle(), timeout)
        except TimeoutError:
            raise TimeoutError(f"still busy after {timeout} s: {self.activity.pending()}") from None

    # --- invocation -----------------------------------------------------------------------

    async def invoke(
        self,
        function: str,
        event: Any = EMPTY_PAYLOAD,
        *,
        invocation_type: InvocationType = "RequestResponse",
        client_context: dict[str, Any] | None = None,
    ) -> InvokeResult:
        """Invoke ``function`` as Lambda's Invoke API does.

        ``event`` is any JSON-able value, or ``bytes`` holding JSON text; without one the handler
        gets ``{}`` as from an Invoke call with no payload. ``RequestResponse``
        waits for the result; ``Event`` queues it and returns at once (status 202);
        ``DryRun`` only checks (status 204).
        """
        self._check_running()
        spec = self.function(function)
        body, decoded = encode_event(event)
        assert self._invoker is not None and self._async is not None
        if invocation_type == "DryRun":
            return InvokeResult(request_id=new_request_id(), status_code=204)
        if invocation_type == "Event":
            request_id = self._async.submit(spec, body, event=decoded)
            return InvokeResult(request_id=request_id, status_code=202)
        if invocation_type != "RequestResponse":
            raise InvalidRequestContent(f"unknown invocation type {invocation_type!r}")
        return await self._invoker.invoke(
            spec, body, event=decoded, client_context=client_context, invoked_arn=None
        )

    async def invoke_for(self, source: str, function: str, event: Any) -> InvokeResult:
        """Invoke ``function`` synchronously on behalf of a trigger (an HTTP route...); the
        ledger records the attempt under ``source``."""
        self._check_running()
        spec = self.function(function)
        body, decoded = encode_event(event)
        assert self._invoker is not None
        return await self._invoker.invoke(spec, body, event=decoded, source=source)

    def concurrency(self, function: str) -> Concurrency:
        """How many environments of ``function`` run a request now, and the most at once
        since start (both 0 before start); ``FunctionNotFound`` for an unknown name.

        Example::

            await asyncio.gather(*(sim.invoke("resize", {}) for _ in range(3)))
            assert sim.concurrency("resize").peak <= 3
        """
        spec = self.function(function)
        if self._runtime is None:
            return Concurrency(0, 0)
        return self._runtime.pools[spec.name].concurrency()

    # --- testing ----------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> HttpResponse:
        """An HTTP request to the ``http`` triggers, answered as API Gateway would — without a
        port (``eventsim up`` serves the same routes over HTTP)."""
        self._check_running()
        routes = self.http_routes
        if routes is None:
            raise SimulatorStateError("HTTP routes answer only with triggers started")
        data = body.encode() if isinstance(body, str) else body
        return await routes.respond(
            HttpRequest(method.upper(), path, query=list((query or {}).items()),
                        headers=[("Host", "localhost"), *(headers or {}).items()], body=data)
        )  # fmt: skip
