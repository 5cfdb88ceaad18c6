"""Supervision: no failure inside the simulator is silent, and none takes the others down.

Every task the simulator runs is a task of its one ``asyncio.TaskGroup``, started through a
``Supervisor`` in one of two ways:

* ``keep(part, run)``: a long-lived loop (a poller, a stream reader, a delivery lane). If
  ``run()`` raises, the failure is logged at error level with the part's name, the part is
  ``restarting`` in ``health()`` until ``run()`` is called again after a back-off
  (``RESTART_BACKOFF_S``, doubling). Whatever the loop keeps in its object (a stream position, a
  lane's records) is intact. A part that fails ``MAX_FAILURES`` times in a row without running
  ``HEALTHY_AFTER_S`` in between is ``failed``: the supervisor stops trying and sets ``fatal``,
  which stops ``eventsim up`` with exit status 1.
* ``spawn(coroutine, part=...)``: one piece of work (a batch, an event delivery). If it raises,
  the failure is logged at error level and its part is ``degraded`` until a job of that part
  started after the failure completes.

Nothing escapes into the task group, so one part's bug never cancels the rest. Restart
back-offs count as pending work, so ``settle()`` waits for a restart instead of returning
while a part is down. What still escapes the task group — a timer callback that raises, a
task whose exception nobody retrieved — reaches the event loop's exception handler, which
``catching_stray_failures()`` points at the part ``loop`` while the simulator runs.

Example::

    supervisor = Supervisor(group, activity)
    supervisor.keep("sqs:jobs->worker", mapping.poll)
    supervisor.health()      # {"sqs:jobs->worker": PartHealth(state="ok", ...)}
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from .activity import Activity

log = structlog.get_logger("eventsim.supervisor")

#: First wait before a failed part is started again (real seconds), doubled per failure.
RESTART_BACKOFF_S = (0.05, 5.0)
#: Consecutive failures after which a part is given up and the simulator stops.
MAX_FAILURES = 8
#: A part that ran this long (real seconds) since its last start counts as recovered.
HEALTHY_AFTER_S = 30.0

State = Literal["ok", "degraded", "restarting", "failed"]


@dataclass
class PartHealth:
    """What ``/_eventsim/health`` says of one part."""

    state: State = "ok"
    failures: int = 0  # since the part last ran well
    restarts: int = 0
    last_error: str | None = None
    failed_job: int = -1  # jobs started after this one clear a degraded state

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "failures": self.failures,
            "restarts": self.restarts,
            "last_error": self.last_error,
        }


class PartFailed(Exception):
    """A part failed more often than the supervisor restarts it."""

    def __init__(self, part: str, error: BaseException) -> None:
        super().__init__(
            f"{part} failed {MAX_FAILURES} times in a row; last: {type(error).__name__}: {error}"
        )
        self.part = part


class Supervisor:
    """Runs the simulator's tasks in ``group`` and keeps the health of every part."""

    def __init__(self, group: asyncio.TaskGroup, activity: Activity) -> None:
        self._group = group
        self._activity = activity
        self._parts: dict[str, PartHealth] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._jobs = 0  # jobs started so far
        #: Set with the error once a part is given up; ``eventsim up`` exits 1 on it.
        self.fatal: asyncio.Future[PartFailed] = asyncio.get_running_loop().create_future()

    # --- starting work --------------------------------------------------------------------

    def spawn(
        self, coroutine: Coroutine[Any, Any, None], *, part: str = "simulator"
    ) -> asyncio.Task[None]:
        """Run one piece of work; a failure is logged and marks ``part`` degraded."""
        self._parts.setdefault(part, PartHealth())
        self._jobs += 1
        return self._start(self._job(coroutine, part, self._jobs), part)

    def keep(self, part: str, run: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run ``run()`` until it returns, starting it again whenever it raises."""
        self._parts.setdefault(part, PartHealth())
        return self._start(self._loop(part, run), part)

    def _start(self, coroutine: Coroutine[Any, Any, None], part: str) -> asyncio.Task[None]:
        task = self._group.create_task(coroutine, name=part)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    @contextmanager
    def catching_stray_failures(self) -> Iterator[None]:
        """Report failures that reach the event loop's exception handler as the part
        ``loop`` (logged at error level, shown in health) while inside this block."""
        loop = asyncio.get_running_loop()
        previous = loop.get_exception_handler()

        def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            error = context.get("exception")
            message = str(context.get("message", "unhandled error in the event loop"))
            self.report("loop", error if isinstance(error, BaseException) else
                        RuntimeError(message))  # fmt: skip

        loop.set_exception_handler(handler)
        try:
            yield
        finally:
            if loop.get_exception_handler() is handler:  # not replaced by another simulator
                loop.set_exception_handler(previous)

    # --- health ---------------------------------------------------------------------------

    def health(self) -> dict[str, PartHealth]:
        return dict(self._parts)

    @property
    def healthy(self) -> bool:
        return all(p.state == "ok" for p in self._parts.values())

    def report(self, part: str, error: BaseException) -> None:
        """A failure ``part`` caught and recovered from itself: logged, and ``part`` is
        degraded until one of its next jobs completes."""
        self._failed(part, error, "degraded")

    def _recovered(self, part: str, job: int) -> None:
        health = self._parts.get(part)
        if health is not None and health.state == "degraded" and job > health.failed_job:
            log.info("part.recovered", part=part)
            health.state, health.failures = "ok", 0

    def _failed(self, part: str, error: BaseException, state: State) -> PartHealth:
        health = self._parts.setdefault(part, PartHealth())
        health.failures += 1
        health.state = state
        health.last_error = f"{type(error).__name__}: {error}"
        health.failed_job = self._jobs
        log.error(
            "part.failed",
            part=part,
            error=health.last_error,
            failures=health.failures,
            exc_info=error,
        )
        return health

    # --- wrappers -------------------------------------------------------------------------

    async def _job(self, coroutine: Coroutine[Any, Any, None], part: str, job: int) -> None:
        try:
            await coroutine
        except Exception as exc:  # noqa: BLE001 - every failure is logged and shown in health
            self._failed(part, exc, "degraded")
        else:
            self._recovered(part, job)

    async def _loop(self, part: str, run: Callable[[], Awaitable[None]]) -> None:
        first, cap = RESTART_BACKOFF_S
        while True:
            started = time.monotonic()
            try:
                await run()
                return
            except Exception as exc:  # noqa: BLE001 - every failure is logged and restarted
                if time.monotonic() - started >= HEALTHY_AFTER_S:
                    self._parts[part].failures = 0
                health = self._failed(part, exc, "restarting")
                if health.failures >= MAX_FAILURES:
                    health.state = "failed"
                    failure = PartFailed(part, exc)
                    log.critical("part.given_up", part=part, error=str(failure))
                    if not self.fatal.done():
                        self.fatal.set_result(failure)
                    return
            delay = min(first * 2 ** (self._parts[part].failures - 1), cap)
            # A restart is pending work: settle() must not report quiet while a part is down.
            with self._activity.track("restart"):
                await asyncio.sleep(delay)  # real time: the failure was real
            health = self._parts[part]
            health.restarts += 1
            health.state = "ok"  # running again; ``failures`` still counts toward giving up
            log.info("part.restarted", part=part, restarts=health.restarts)
