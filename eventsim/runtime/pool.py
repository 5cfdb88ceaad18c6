"""Execution environments per function: reuse, concurrency caps and idle expiry.

A ``FunctionPool`` keeps a function's warm environments, creates one (a cold start) when none is
idle, and refuses work beyond the function's reserved concurrency or the account's cap with
``TooManyRequests`` (docs/aws-behaviour.md §8.5). Independently of those AWS limits, at most
``max_environments`` environments of a function run at once: further requests wait for one.
``Runtime`` holds every pool and retires environments that stayed idle for ``idle_timeout``
seconds of clock time.

A pool counts its function's concurrency as Lambda does: the requests that hold an environment
now (``busy``, cold starts included) and the most at once since it was made (``peak``);
``concurrency()`` gives both.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass

import structlog

from ..activity import Activity
from ..clock import Clock
from ..errors import TooManyRequests
from ..unconfirmed import THROTTLE_MESSAGE
from .base import Environment, Execution, InvokeRequest
from .environment import World
from .logs import InvocationLog, LogSink
from .process import ProcessEnvironment
from .spec import FunctionSpec
from .thread import ThreadEnvironment, ThreadHost

log = structlog.get_logger("eventsim.runtime")


@dataclass(frozen=True, slots=True)
class Concurrency:
    """A function's concurrency: the requests running in an environment ``now`` (INIT
    included), and the most at once since the simulator started (``peak``).

    Example::

        assert sim.concurrency("resize") == Concurrency(now=0, peak=3)
    """

    now: int
    peak: int


class FunctionPool:
    """The execution environments of one function."""

    def __init__(self, spec: FunctionSpec, runtime: Runtime) -> None:
        self.spec = spec
        self._runtime = runtime
        self.idle: list[Environment] = []  # most recently used last
        self.live: set[Environment] = set()
        self.busy = 0  # requests holding an environment now
        self.peak = 0  # the most ``busy`` has been
        self._slots = asyncio.Semaphore(runtime.max_environments)
        #: Bumped by ``recycle()``: environments of an older generation are not reused.
        self.generation = 0
        self._born: dict[Environment, int] = {}

    async def run(self, request: InvokeRequest) -> tuple[Execution, InvocationLog]:
        """Run ``request`` in a warm environment or a new one; raise ``TooManyRequests``.

        Waiting for one of the ``max_environments`` slots comes first and is not concurrency
        in AWS's sense: only a request that has an environment counts as busy.
        """
        async with self._slots:
            self._reserve()
            env: Environment | None = None
            try:
                env = self.idle.pop() if self.idle else None
                cold = env is None
                if env is None:
                    env = self._create()
                invocation = self._runtime.sink.invocation(
                    self.spec.name, env.log_stream, request.request_id
                )
                if cold:
                    await env.start(invocation.write)
                invocation.start()
                execution = await env.invoke(request, invocation.write)
                invocation.finish(execution, self.spec.memory_mb)
                if env.usable and self._born.get(env) == self.generation:
                    env.idle_since = self._runtime.clock.time()
                    self.idle.append(env)
                    self._runtime.became_idle()
                    env = None
                return execution, invocation
            finally:
                self._release()
                if env is not None:  # not returned to the idle list: retire it
                    await self.retire(env)

    def _release(self) -> None:
        self.busy -= 1
        self._runtime.busy -= 1

    def _reserve(self) -> None:
        reserved = self.spec.reserved_concurrency
        if reserved is not None and self.busy >= reserved:
            raise TooManyRequests(
                f"{self.spec.name}: reserved concurrency {reserved} exhausted ({THROTTLE_MESSAGE})",
                "ReservedFunctionConcurrentInvocationLimitExceeded",
            )
        if self._runtime.busy >= self._runtime.account_concurrency:
            raise TooManyRequests(
                f"account concurrency {self._runtime.account_concurrency} exhausted "
                f"({THROTTLE_MESSAGE})",
                "ConcurrentInvocationLimitExceeded",
            )
        self.busy += 1
        self.peak = max(self.peak, self.busy)
        self._runtime.busy += 1

    def concurrency(self) -> Concurrency:
        return Concurrency(self.busy, self.peak)

    def _create(self) -> Environment:
        runtime = self._runtime
        env_id = uuid.uuid4().hex
        stream = self.spec.log_stream(env_id, runtime.clock.now())
        env: Environment
        if self.spec.isolation == "thread":
            env = ThreadEnvironment(self.spec, stream, runtime.thread_host, runtime.world, env_id)
        else:
            env = ProcessEnvironment(self.spec, stream, runtime.world, env_id)
        self.live.add(env)
        self._born[env] = self.generation
        return env

    def recycle(self) -> list[Environment]:
        """New code: no invocation starts in an environment made before this call. Returns the
        idle environments, taken out, for the caller to retire; busy ones retire after their
        invocation."""
        self.generation += 1
        stale, self.idle = self.idle, []
        return stale

    async def retire(self, env: Environment) -> None:
        self.live.discard(env)
        self._born.pop(env, None)
        with contextlib.suppress(ValueError):
            self.idle.remove(env)
        try:
            await env.close()
        finally:
            self._runtime.sink.close_stream(self.spec.name, env.log_stream)

    async def close(self) -> None:
        for env in list(self.live):
            await self.retire(env)


class Runtime:
    """Every function's pool, the account-wide cap, and idle expiry on the clock."""

    def __init__(
        self,
        specs: dict[str, FunctionSpec],
        *,
        clock: Clock,
        activity: Activity,
        sink: LogSink,
        account_concurrency: int,
        idle_timeout: float,
        max_environments: int = 10,
        world: World | None = None,
    ) -> None:
        self.clock = clock
        #: What handlers are pointed at; set before the first invocation (the edge's URL is
        #: known only once it listens).
        self.world = world or World()
        self.activity = activity
        self.sink = sink
        self.account_concurrency = account_concurrency
        self.idle_timeout = idle_timeout
        self.max_environments = max_environments
        self.thread_host = ThreadHost()
        self.busy = 0
        self.pools = {name: FunctionPool(spec, self) for name, spec in specs.items()}
        self._idle_changed = asyncio.Event()

    def became_idle(self) -> None:
        self._idle_changed.set()

    async def expire_idle(self) -> None:
        """Forever: retire environments idle for ``idle_timeout``. Run it as a task."""
        while True:
            if not any(pool.idle for pool in self.pools.values()):
                self._idle_changed.clear()
                await self._idle_changed.wait()
            # Nothing idle now expires before the oldest idle time (or now) plus the timeout,
            # so a busy function does not wake this task on every invocation.
            oldest = min(
                (env.idle_since for pool in self.pools.values() for env in pool.idle),
                default=self.clock.time(),
            )
            await self.clock.sleep_until(oldest + self.idle_timeout)
            with self.activity.track("expire"):
                now = self.clock.time()
                for pool in self.pools.values():
                    for env in [e for e in pool.idle if e.idle_since + self.idle_timeout <= now]:
                        log.debug("environment.expired", function=pool.spec.name, env=env.id)
                        await pool.retire(env)

    async def close(self) -> None:
        """Shut every environment down (SHUTDOWN, then kill)."""
        await asyncio.gather(*(pool.close() for pool in self.pools.values()))
        self.thread_host.uninstall()
        self.sink.close()
