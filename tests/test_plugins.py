"""A trigger kind from a separate package: examples/channel-plugin, installed with pip and
used through the entry point group ``eventsim.triggers`` — validate, the ready block, the
ledger, explain — exactly like a built-in kind; and a plug-in that fails to load is named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import FUNCTIONS, REPO
from .test_up_s3 import Up

pytest_plugins = ["pytester"]

CONFIG = f"""\
state_dir: state
extensions:
  channel:
    alerts: {{max_message_bytes: 1024}}
functions:
  notify:
    handler: behaviours.echo
    code: {FUNCTIONS}
    triggers:
      - channel: {{name: alerts}}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example plug-in installed by pip into a folder of its own (no network, no deps)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(REPO / "examples" / "channel-plugin")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return target


def with_site(site: Path) -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{path}" if path else str(site)}


def eventsim(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eventsim", *args], env=with_site(site),
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_validate_knows_the_plugin_kind(site: Path, tmp_path: Path) -> None:
    (tmp_path / "eventsim.yaml").write_text(CONFIG)
    done = eventsim(site, "validate", "-c", str(tmp_path / "eventsim.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "notify: behaviours.echo (process; channel)" in done.stdout


def test_plugin_settings_errors_have_positions(site: Path, tmp_path: Path) -> None:
    broken = CONFIG.replace("{max_message_bytes: 1024}", "{max_message_bytes: 0}").replace(
        "{name: alerts}", "{name: alrts, extra: 1}"
    )
    (tmp_path / "eventsim.yaml").write_text(broken)
    done = eventsim(site, "validate", "-c", str(tmp_path / "eventsim.yaml"))
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    out = done.stdout
    assert ":4:14: extensions.channel.alerts.max_message_bytes: " in out, out
    assert "functions.notify.triggers.0.channel.extra: unknown key 'extra'" in out, out

    (tmp_path / "eventsim.yaml").write_text(CONFIG.replace("{name: alerts}", "{name: alrts}"))
    done = eventsim(site, "validate", "-c", str(tmp_path / "eventsim.yaml"))
    assert done.returncode == 2
    assert ":10:19: functions.notify.triggers.0.channel.name: unknown channel 'alrts' " in (
        done.stdout
    ), done.stdout


def test_a_plugin_that_fails_to_load_is_named(tmp_path: Path) -> None:
    info = tmp_path / "site" / "broken_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[eventsim.triggers]\nbroken = no_such_module:Kind\n")
    (tmp_path / "eventsim.yaml").write_text("functions: {}\n")
    done = eventsim(tmp_path / "site", "validate", "-c", str(tmp_path / "eventsim.yaml"))
    assert done.returncode == 2
    assert "the trigger plug-in 'broken' (from broken-plugin) cannot be used" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_plugin_under_the_pytest_fixtures(
    site: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makefile(".yaml", eventsim=CONFIG)
    pytester.makeini("[pytest]\neventsim_config = eventsim.yaml\n")
    pytester.makepyfile(
        """
        from eventsim.testing import assert_delivered

        def test_publish(eventsim_sync):
            channel = eventsim_sync.resource("channel", "alerts")
            message_id = channel.publish({"level": "high"})  # on the simulator's loop
            assert channel.published == 1
            eventsim_sync.settle()
            [attempt] = assert_delivered(eventsim_sync, "notify", count=1)
            assert attempt.source == "channel:alerts"
            assert attempt.event["message"] == {"level": "high"}
            assert "channel:alerts -> notify: attempt 1 succeeded" in (
                eventsim_sync.explain(message_id=message_id))
        """
    )
    monkeypatch.setenv("PYTHONPATH", with_site(site)["PYTHONPATH"])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_the_ready_block_shows_the_plugin_trigger(site: Path, tmp_path: Path) -> None:
    (tmp_path / "eventsim.yaml").write_text(CONFIG)
    up = Up(tmp_path, env=with_site(site))
    try:
        assert "notify (behaviours.echo) <- channel alerts" in up.ready
    finally:
        up.stop()
