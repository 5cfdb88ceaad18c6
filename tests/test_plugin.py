"""The pytest plugin, exercised in a generated project with pytester."""

from __future__ import annotations

import pytest

from .helpers import FUNCTIONS

pytest_plugins = ["pytester"]

CONFIG = f"""\
functions:
  echo: {{handler: behaviours.echo, code: {FUNCTIONS}}}
"""


def test_fixtures_in_a_strict_mode_project(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"config/eventsim": CONFIG})
    pytester.makeini("[pytest]\nasyncio_mode = strict\n")
    pytester.makepyfile(
        test_user=f"""
        import pytest
        from eventsim import Simulator, VirtualClock

        @pytest.mark.asyncio
        async def test_default_config(eventsim):
            assert isinstance(eventsim.clock, VirtualClock)
            assert (await eventsim.invoke("echo", {{"a": 1}})).payload == {{"a": 1}}

        @pytest.mark.asyncio
        async def test_factory_from_dict(eventsim_factory):
            sim = await eventsim_factory(
                {{"functions": {{"f": {{"handler": "behaviours.count", "code": "{FUNCTIONS}"}}}}}}
            )
            assert (await sim.invoke("f")).payload["count"] == 1
            assert sim.running

        @pytest.mark.asyncio
        async def test_each_simulator_has_its_own_state_dir(eventsim_factory, eventsim):
            other = await eventsim_factory("config/eventsim.yaml")
            assert other.state_dir != eventsim.state_dir

        @pytest.mark.asyncio
        async def test_failing_assertion_fails(eventsim):
            assert (await eventsim.invoke("echo", 1)).payload == 2
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1)


def test_overriding_eventsim_config(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        f"""
        import pytest

        @pytest.fixture
        def eventsim_config():
            return {{"functions": {{"only": {{"handler": "behaviours.echo",
                                             "code": "{FUNCTIONS}"}}}}}}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.asyncio
        async def test_it(eventsim):
            assert list(eventsim.functions) == ["only"]
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_teardown_closes_simulators(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"config/eventsim": CONFIG})
    pytester.makepyfile(
        """
        import pytest

        SEEN = []

        @pytest.mark.asyncio
        async def test_one(eventsim):
            SEEN.append(eventsim)
            await eventsim.invoke("echo", 1)

        def test_two():
            assert not SEEN[0].running
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
