"""pytest fixtures for eventsim, registered under the ``pytest11`` entry point.

* ``eventsim``: a started simulator (async; virtual time unless told otherwise);
* ``eventsim_sync``: the same for plain ``def`` tests — every method blocks until done;
* ``eventsim_factory``: start any number of simulators from a path, a dict or a ``Config``;
* ``eventsim_config``: what ``eventsim`` and ``eventsim_sync`` are built from; override it in
  a conftest or a module, or use the marker;
* ``eventsim_aws_env``: the test's own code talks to the simulator's edge: ``AWS_ENDPOINT_URL``,
  placeholder credentials and the region are set for the test and restored after (see
  ``eventsim.testing.aws_environment``).

Every simulator the fixtures start serves the AWS APIs on a free 127.0.0.1 port
(``sim.endpoint_url``) and its handlers' SDK calls go there, with placeholder credentials and
nothing of the developer's environment (``inherit_env`` in the config opens it up). With
``edge=False`` (marker or factory) handlers' SDK calls fail at once. Either way no handler and
no test using ``eventsim_aws_env`` can reach real AWS.

Options, most specific first: the marker
``@pytest.mark.eventsim(config=..., virtual_time=..., isolation=..., edge=...)``, then the ini
options ``eventsim_config`` (a path from the rootdir, of an eventsim config or a SAM or
CloudFormation template; default: found in the rootdir as the CLI finds it, ``eventsim.yaml``,
``config/eventsim.yaml``, ``template.yaml``, ``template.yml``),
``eventsim_virtual_time`` (default true) and ``eventsim_isolation`` (``process`` or ``thread``:
every function's isolation). Each simulator has its own state folder under the test's
``tmp_path``, and its buckets' folders live there too (``sim.bucket(name).root``), so tests
share no files; teardown closes it and kills every child process it started::

    @pytest.mark.asyncio
    async def test_hello(eventsim):
        result = await eventsim.invoke("hello", {"name": "Ada"})
        assert result.payload["message"] == "Hello, Ada!"

    def test_hello_sync(eventsim_sync):
        assert eventsim_sync.invoke("hello", {"name": "Ada"}).payload["message"]
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from . import __version__
from .config import find_config
from .errors import ConfigError
from .simulator import Simulator
from .testing import ConfigSource, SimulatorFactory, SyncSimulator, aws_environment

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - eventsim's async fixtures need pytest-asyncio
    pytest_asyncio = None  # type: ignore[assignment]  # checked below

_ISOLATIONS = ("", "process", "thread")
T = TypeVar("T")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "eventsim_config",
        "eventsim: the config file (or SAM template) of the eventsim fixtures, from the rootdir "
        "(default: eventsim.yaml, config/eventsim.yaml, template.yaml, as the CLI finds it)",
        default="",
    )
    parser.addini(
        "eventsim_virtual_time", "eventsim: run the fixtures on virtual time", type="bool",
        default=True,
    )  # fmt: skip
    parser.addini(
        "eventsim_isolation", "eventsim: process or thread, for every function", default=""
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "eventsim(config=None, virtual_time=None, isolation=None, edge=True): options of the "
        "eventsim and eventsim_sync fixtures for this test",
    )


def pytest_report_header(config: pytest.Config) -> str:
    isolation = config.getini("eventsim_isolation") or "per function"
    return (
        f"eventsim {__version__}: config={config.getini('eventsim_config') or '(found)'}, "
        f"virtual_time={config.getini('eventsim_virtual_time')}, isolation={isolation}"
    )


def _options(request: pytest.FixtureRequest, config: ConfigSource) -> dict[str, Any]:
    marker = request.node.get_closest_marker("eventsim")
    given = dict(marker.kwargs) if marker is not None else {}
    unknown = set(given) - {"config", "virtual_time", "isolation", "edge"}
    if unknown or (marker is not None and marker.args):
        pytest.fail(f"@pytest.mark.eventsim takes config=, virtual_time=, isolation=, edge=; got "
                    f"{sorted(unknown) or list(marker.args)}")  # fmt: skip
    isolation = given.get("isolation", request.config.getini("eventsim_isolation"))
    if isolation not in _ISOLATIONS:
        pytest.fail(f"eventsim isolation must be process or thread, not {isolation!r}")
    source = given.get("config", config)
    if isinstance(source, str | Path) and not Path(source).is_absolute():
        source = Path(request.config.rootpath) / source
    return {
        "config": source,
        "virtual_time": given.get("virtual_time", request.config.getini("eventsim_virtual_time")),
        "isolation": isolation or None,
        "private_buckets": True,  # bucket folders under the test's own state folder
        "edge": bool(given.get("edge", True)),
    }


@pytest.fixture
def eventsim_config(request: pytest.FixtureRequest) -> ConfigSource:
    """The config the ``eventsim`` fixtures use: override to choose another."""
    root = Path(request.config.rootpath)
    marker = request.node.get_closest_marker("eventsim")
    named = str(request.config.getini("eventsim_config"))
    if (marker is not None and "config" in marker.kwargs) or named:
        return root / named  # the marker's config wins in _options
    try:
        return find_config(root)
    except ConfigError as exc:
        problem = exc.issues[0].message
    pytest.fail(f"eventsim: {problem} (or set eventsim_config in the pytest configuration, or "
                "override the eventsim_config fixture)", pytrace=False)  # fmt: skip


def _start(start: Callable[[], T]) -> T:
    """``start()``; a config the fixtures cannot use fails the test in one message, not a
    traceback."""
    try:
        return start()
    except ConfigError as exc:
        problem = str(exc)
    pytest.fail(f"eventsim: {problem}", pytrace=False)


@pytest.fixture
def eventsim_sync(
    request: pytest.FixtureRequest, eventsim_config: ConfigSource, tmp_path: Path
) -> Iterator[SyncSimulator]:
    """A started simulator for plain ``def`` tests: every method blocks until done."""
    options = _options(request, eventsim_config)
    config = options.pop("config")
    sim = _start(lambda: SyncSimulator(config, state_dir=tmp_path / "eventsim-sync", **options))
    try:
        yield sim
    finally:
        sim.close()


@pytest.fixture
def eventsim_aws_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The test process's SDKs point at the simulator of ``eventsim_sync`` (if the test uses
    it) or ``eventsim``: plain ``boto3.client("sqs")`` talks to eventsim. Yields the variables
    set; the environment is restored after the test."""
    name = "eventsim_sync" if "eventsim_sync" in request.fixturenames else "eventsim"
    with aws_environment(request.getfixturevalue(name)) as variables:
        yield variables


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def eventsim_factory(tmp_path: Path) -> AsyncIterator[SimulatorFactory]:
        """Start simulators on demand; every one is closed at teardown. Relative paths in a
        config dict (bucket folders...) resolve in the test's own ``tmp_path``."""
        factory = SimulatorFactory(state_root=tmp_path / "eventsim", base_dir=tmp_path)
        try:
            yield factory
        finally:
            await factory.aclose()

    @pytest_asyncio.fixture
    async def eventsim(
        request: pytest.FixtureRequest,
        eventsim_factory: SimulatorFactory,
        eventsim_config: ConfigSource,
    ) -> Simulator:
        """A started simulator built from ``eventsim_config`` and the options."""
        options = _options(request, eventsim_config)
        config = options.pop("config")
        try:
            return await eventsim_factory(config, **options)
        except ConfigError as exc:
            problem = str(exc)
        pytest.fail(f"eventsim: {problem}", pytrace=False)

else:  # pragma: no cover

    @pytest.fixture
    def eventsim_factory() -> Any:
        pytest.fail("eventsim's async fixtures need pytest-asyncio: pip install 'eventsim[pytest]'")

    @pytest.fixture
    def eventsim() -> Any:
        pytest.fail("eventsim's async fixtures need pytest-asyncio: pip install 'eventsim[pytest]'")
