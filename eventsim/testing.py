"""Helpers for testing event-driven code with eventsim; the pytest plugin is a thin layer over
these.

* ``SimulatorFactory``: started simulators, each in its own state folder, closed together.
* ``SyncSimulator``: a simulator on a background event loop with a blocking twin of every
  method, for plain ``def`` tests: ``sim.queue("jobs").send_message(...)``,
  ``sim.advance(minutes=5)``, ``sim.settle()``, ``sim.invoke(...)``.
* ``record``: a handler that records what it receives (``handler: eventsim.testing.record``).
* ``assert_delivered``: an assertion on the ledger that explains a mismatch by listing what
  was delivered.
* ``aws_environment``: points the test process's own SDK calls at a simulator's edge (and
  nowhere else) for the length of a ``with`` block.

Example (without pytest)::

    factory = SimulatorFactory(state_root=Path("/tmp/run"))
    sim = await factory("config/eventsim.yaml")          # started, virtual time
    await sim.invoke("hello", {"name": "Ada"})
    await factory.aclose()                               # closes every simulator it made
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

from .config import Config, load_config
from .errors import SimulatorStateError
from .explain import describe
from .faults import Faults
from .ledger import Attempt, Ledger, Outcome
from .recording import record
from .runtime.environment import LEADS_ELSEWHERE, World
from .simulator import Simulator

__all__ = [
    "ConfigSource",
    "SimulatorFactory",
    "SyncSimulator",
    "assert_delivered",
    "aws_environment",
    "build",
    "record",
]

ConfigSource = str | Path | dict[str, Any] | Config
Isolation = Literal["process", "thread"]
T = TypeVar("T")


def build(
    config: ConfigSource,
    *,
    base_dir: str | Path | None = None,
    isolation: Isolation | None = None,
    private_buckets: bool = False,
    edge: bool = False,
    **options: Any,
) -> Simulator:
    """A simulator (not started) from a path, a dict or a ``Config``; ``isolation`` overrides
    every function's; ``private_buckets`` moves every bucket folder under the state folder
    (``state_dir/buckets/<name>``, so tests share no files); ``edge`` serves the AWS APIs (and
    ``http=True`` the HTTP triggers) on free 127.0.0.1 ports. ``options`` go to ``Simulator``
    (``virtual_time``, ``state_dir``...)."""
    if isinstance(config, dict):
        config = Config.from_dict(config, base_dir)
    elif not isinstance(config, Config):
        config = load_config(config)
    if isolation is not None:
        functions = {
            name: function.model_copy(update={"isolation": isolation})
            for name, function in config.functions.items()
        }
        config = config.model_copy(update={"functions": functions})
    if private_buckets:
        if "state_dir" not in options:
            raise ValueError("private_buckets needs a state_dir")
        root = Path(options["state_dir"]) / "buckets"
        buckets = {
            name: bucket.model_copy(update={"path": (root / name).resolve()})
            for name, bucket in config.buckets.items()
        }
        config = config.model_copy(update={"buckets": buckets})
    if edge or options.get("http"):
        ports = {"host": "127.0.0.1", "port": 0, "http_port": 0}
        config = config.model_copy(update={"server": config.server.model_copy(update=ports)})
    return Simulator(config, edge=edge, **options)


class SimulatorFactory:
    """Builds started simulators and closes them all in ``aclose()``.

    Each simulator gets its own state folder under ``state_root`` so that tests never share
    tables, logs or checkpoints.
    """

    def __init__(self, state_root: Path, base_dir: Path | None = None) -> None:
        self.state_root = state_root
        self.base_dir = base_dir
        self.simulators: list[Simulator] = []
        self._numbers = itertools.count(1)

    def state_dir(self) -> Path:
        return self.state_root / f"sim{next(self._numbers)}"

    async def __call__(
        self,
        config: ConfigSource,
        *,
        virtual_time: bool = True,
        base_dir: str | Path | None = None,
        isolation: Isolation | None = None,
        private_buckets: bool = False,
        edge: bool = True,
        **options: Any,
    ) -> Simulator:
        """Start a simulator from a config file path, a config dict or a ``Config``.

        Relative paths in a dict resolve against ``base_dir`` (default: the factory's, else the
        current directory). With ``edge`` (the default) it serves the AWS APIs on a free
        127.0.0.1 port and its handlers' SDK calls go there (``sim.endpoint_url``); without, they
        fail at once. ``options`` go to ``Simulator`` (``start_time``, ``clock``...).
        """
        options.setdefault("state_dir", self.state_dir())
        simulator = build(
            config, base_dir=base_dir or self.base_dir, isolation=isolation,
            private_buckets=private_buckets, virtual_time=virtual_time, edge=edge, **options,
        )  # fmt: skip
        await simulator.start()
        self.simulators.append(simulator)
        return simulator

    async def aclose(self) -> None:
        """Close every simulator made here, newest first (kills their child processes)."""
        while self.simulators:
            await self.simulators.pop().close()


# --- the synchronous facade -----------------------------------------------------------------


class _Portal:
    """Runs work on the simulator's loop thread and blocks the caller until it is done."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async def on_the_loop() -> T:
            return function(*args, **kwargs)

        return self.run(on_the_loop())


#: Objects whose methods must run on the simulator's loop: the ledger, the faults, and every
#: resource — built-in (their classes live in ``eventsim.resources``) or a plug-in's (they
#: come from ``resource()``).
_PROXIED = (Ledger, Faults)
_RESOURCE_ACCESSOR = "resource"


class Blocking:
    """An eventsim object whose methods run on the simulator's loop, coroutines awaited there.

    ``sim.queue("jobs")`` on a ``SyncSimulator`` gives one of these around the queue, so
    ``send_message`` and ``receive_messages`` block until done.
    """

    def __init__(self, target: Any, portal: _Portal) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_portal", portal)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        portal: _Portal = self._portal
        if inspect.iscoroutinefunction(value):
            return lambda *args, **kwargs: _wrap(portal.run(value(*args, **kwargs)), portal)
        if name == _RESOURCE_ACCESSOR:
            return lambda *args, **kwargs: Blocking(portal.call(value, *args, **kwargs), portal)
        if callable(value) and not isinstance(value, type):
            return lambda *args, **kwargs: _wrap(portal.call(value, *args, **kwargs), portal)
        return _wrap(value, portal)

    def __len__(self) -> int:
        return int(self._portal.call(len, self._target))

    def __repr__(self) -> str:
        return f"<blocking {self._target!r}>"


def _wrap(value: Any, portal: _Portal) -> Any:
    resource = type(value).__module__.startswith("eventsim.resources.")
    return Blocking(value, portal) if resource or isinstance(value, _PROXIED) else value


class SyncSimulator(Blocking):
    """A started simulator for plain ``def`` code: it runs on its own event loop thread and
    every method blocks until done. Close it (or use ``with``) to stop the loop.

    Example::

        with SyncSimulator("config/eventsim.yaml", state_dir=tmp) as sim:
            sim.queue("orders").send_message('{"id": 1}')
            sim.settle()
            assert sim.ledger.count("orders") == 1
    """

    def __init__(self, config: ConfigSource, **options: Any) -> None:
        options.setdefault("virtual_time", True)
        options.setdefault("edge", True)
        simulator = build(config, **options)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="eventsim-loop", daemon=True)
        thread.start()
        portal = _Portal(loop)
        super().__init__(simulator, portal)
        object.__setattr__(self, "_thread", thread)
        try:
            portal.run(simulator.start())
        except BaseException:
            self._stop_loop()
            raise

    @property
    def simulator(self) -> Simulator:
        """The asynchronous simulator underneath (use it only on its loop)."""
        return self._target  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the simulator (killing its child processes) and stop the loop thread."""
        if self._thread.is_alive():
            try:
                self._portal.run(self.simulator.close())
            finally:
                self._stop_loop()

    def _stop_loop(self) -> None:
        loop = self._portal.loop
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join()
        loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# --- assertions -----------------------------------------------------------------------------


def assert_delivered(
    sim: Simulator | SyncSimulator,
    function: str,
    *,
    count: int | None = None,
    outcome: Outcome | None = Outcome.SUCCESS,
    where: Callable[[Attempt], bool] | None = None,
) -> list[Attempt]:
    """The attempts of ``function`` with ``outcome`` (and ``where``); at least one, or exactly
    ``count``. On a mismatch the AssertionError lists every attempt of the function, and for
    a function that saw nothing, what the ledger dropped."""
    ledger: Any = sim.ledger
    attempts: list[Attempt] = list(ledger.for_function(function))
    chosen = [
        a for a in attempts
        if (outcome is None or a.outcome is outcome) and (where is None or where(a))
    ]  # fmt: skip
    if (count is None and chosen) or (count is not None and len(chosen) == count):
        return chosen
    wanted = f"{count if count is not None else 'at least 1'} attempt(s)"
    wanted += f" with outcome {outcome.value}" if outcome is not None else ""
    lines = [f"{function}: wanted {wanted}{' matching where=' if where else ''}, "
             f"found {len(chosen)}."]  # fmt: skip
    if attempts:
        lines.append(f"Every attempt of {function}:")
        lines += [f"  {describe(a)}" for a in attempts]
    else:
        lines.append(f"{function} was never invoked.")
        dropped = [a for a in ledger.all() if a.outcome is Outcome.DROPPED]
        if dropped:
            lines.append("Dropped events in the ledger:")
            lines += [f"  {describe(a)}" for a in dropped[-20:]]
    raise AssertionError("\n".join(lines))


# --- the test process's own SDK calls -------------------------------------------------------


@contextmanager
def aws_environment(sim: Simulator | SyncSimulator) -> Iterator[dict[str, str]]:
    """Point this process's AWS SDKs at ``sim``'s edge while inside the block.

    Sets ``AWS_ENDPOINT_URL`` (and every ``AWS_ENDPOINT_URL_<SERVICE>`` eventsim knows),
    placeholder credentials, the config's region, empty AWS config and credentials files, and
    removes the variables that could lead elsewhere (``AWS_PROFILE``, other endpoints...);
    everything is restored after. So plain ``boto3.client("sqs")`` in the code under test talks
    to eventsim and never to AWS. Yields the variables set.

    Example::

        with aws_environment(sim):
            boto3.client("sqs").send_message(QueueUrl=..., MessageBody="hi")
    """
    target = sim.simulator if isinstance(sim, SyncSimulator) else sim
    if target.endpoint_url is None:
        raise SimulatorStateError("aws_environment needs a started simulator with an edge")
    world = World(endpoint_url=target.endpoint_url, aws_files=target.state_dir / "aws")
    world.prepare()
    wanted = {
        **world.closed(),
        "AWS_DEFAULT_REGION": target.config.region,
        "AWS_REGION": target.config.region,
    }
    saved = {k: v for k, v in os.environ.items() if k in wanted or LEADS_ELSEWHERE.match(k)}
    for key in saved:
        del os.environ[key]
    os.environ.update(wanted)
    try:
        yield wanted
    finally:
        for key in wanted:
            os.environ.pop(key, None)
        os.environ.update(saved)
