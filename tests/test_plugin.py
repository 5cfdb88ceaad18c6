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


def test_the_fixtures_find_the_config_as_the_cli_does(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", eventsim=CONFIG)  # ./eventsim.yaml, not config/eventsim.yaml
    pytester.makeini("[pytest]\nasyncio_mode = strict\n")
    pytester.makepyfile(
        test_user="""
        def test_found(eventsim_sync):
            assert eventsim_sync.invoke("echo", {"a": 1}).payload == {"a": 1}
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_missing_or_broken_config_fails_in_one_message(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = strict\n")
    pytester.makepyfile(
        test_user="""
        import pytest

        def test_none(eventsim_sync):
            pass

        @pytest.mark.eventsim(config="broken.yaml")
        def test_broken(eventsim_sync):
            pass
        """
    )
    pytester.makefile(".yaml", broken="functions:\n  f: {handler: app.handler, timeout: 0}\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines([
        "*eventsim: no config: looked for */eventsim.yaml, */config/eventsim.yaml, *",
        "*eventsim: 1 error in config*",
        "*/broken.yaml:2:*: functions.f.timeout: Input should be greater than or equal to 1*",
    ])  # fmt: skip
    result.stdout.no_fnmatch_line("*Traceback*")


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


OTHER = f"""\
functions:
  other: {{handler: behaviours.echo, code: {FUNCTIONS}}}
"""


def test_marker_ini_options_and_report_header(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"config/eventsim": CONFIG, "alt/other": OTHER})
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\neventsim_config = alt/other.yaml\n"
        "eventsim_isolation = thread\n"
    )
    pytester.makepyfile(
        test_user="""
        import pytest
        from eventsim import RealClock, VirtualClock

        @pytest.mark.asyncio
        async def test_ini_config_and_isolation(eventsim):
            assert list(eventsim.functions) == ["other"]
            assert eventsim.functions["other"].isolation == "thread"
            assert isinstance(eventsim.clock, VirtualClock)

        @pytest.mark.asyncio
        @pytest.mark.eventsim(config="config/eventsim.yaml", virtual_time=False,
                              isolation="process")
        async def test_marker_wins(eventsim):
            assert list(eventsim.functions) == ["echo"]
            assert eventsim.functions["echo"].isolation == "process"
            assert isinstance(eventsim.clock, RealClock)

        @pytest.mark.eventsim(isolation="threads")
        def test_a_bad_marker_fails_clearly(eventsim_sync):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["eventsim *: config=alt/other.yaml, virtual_time=True, isolation=thread",
         "*isolation must be process or thread, not 'threads'*"]
    )  # fmt: skip


def test_the_sync_facade_in_plain_def_tests(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".yaml",
        **{
            "config/eventsim": f"""\
functions:
  echo: {{handler: behaviours.echo, code: {FUNCTIONS}}}
  jobs:
    handler: eventsim.testing.record
    triggers: [{{sqs: {{queue: jobs, batch_size: 2}}}}]
  flaky: {{handler: behaviours.echo, code: {FUNCTIONS}}}
queues: {{jobs: {{visibility_timeout: 60}}}}
"""
        },
    )
    pytester.makepyfile(
        test_sync="""
        from eventsim import Outcome
        from eventsim.testing import assert_delivered

        def test_invoke_and_queue(eventsim_sync):
            sim = eventsim_sync
            assert sim.invoke("echo", {"a": 1}).payload == {"a": 1}
            sim.queue("jobs").send_message("one")
            sim.queue("jobs").send_message("two")
            sim.settle()
            bodies = [r["body"] for e in sim.recorded("jobs") for r in e["Records"]]
            assert sorted(bodies) == ["one", "two"]
            assert len(sim.queue("jobs")) == 0

        def test_faults_and_virtual_time(eventsim_sync):
            sim = eventsim_sync
            sim.faults.fail("flaky", times=2)
            sim.invoke("flaky", {"n": 1}, invocation_type="Event")
            sim.settle()
            sim.advance(minutes=3)   # AWS's retries at +60 s and +120 s, without waiting
            attempts = assert_delivered(sim, "flaky", count=1)
            assert attempts[0].attempt == 3
            assert sim.ledger.query("flaky", outcome=Outcome.ERROR)[0].reason.startswith(
                "injected fault")

        def test_an_explained_mismatch(eventsim_sync):
            eventsim_sync.invoke("echo", {"a": 1})
            assert_delivered(eventsim_sync, "echo", count=2)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        ["*echo: wanted 2 attempt(s) with outcome success, found 1.*",
         "*Every attempt of echo:*", "*invoke -> echo: attempt 1 succeeded*"]
    )  # fmt: skip
