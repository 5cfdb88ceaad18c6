"""The pytest plugin takes a template wherever it takes a config: the marker's ``config=``
and the ``eventsim_config`` ini option."""

from __future__ import annotations

import shutil

import pytest

from .conftest import TEMPLATES

pytest_plugins = ["pytester"]


def test_marker_and_ini_option_name_templates(pytester: pytest.Pytester) -> None:
    for name in ("schedule-rule", "api-rest"):
        shutil.copytree(TEMPLATES / name, pytester.path / name)
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\neventsim_config = schedule-rule/template.yaml\n"
    )
    pytester.makepyfile(
        test_user="""
        import json
        import pytest

        @pytest.mark.asyncio
        async def test_ini_option(eventsim):
            await eventsim.advance(hours=2)
            assert len(eventsim.ledger.for_function("ReportFunction")) == 2

        @pytest.mark.eventsim(config="api-rest/template.yaml")
        def test_marker(eventsim_sync):
            response = eventsim_sync.request("GET", "/hello")
            assert json.loads(response.body)["message"] == "hello world"
            assert eventsim_sync.config.not_honoured
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
