"""`eventsim up` as a user runs it, with files dropped into its bucket folder."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import REPO

NAMES = ["plain.txt", "with space.txt", "a+b=c.txt", "ünïcødé.txt"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "eventsim.yaml").write_text(
        f"""\
state_dir: state
functions:
  summarize:
    handler: summarize.handler
    code: {REPO / "sample_functions"}
    environment: {{BUCKET_ROOT: {tmp_path / "uploads"}}}
    triggers:
      - s3: {{bucket: uploads, prefix: incoming/}}
buckets:
  uploads: {{path: uploads}}
"""
    )
    return tmp_path


class Up:
    """A running `eventsim up`; waits on its log lines (state), never on time."""

    def __init__(self, project: Path, *options: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eventsim",
                "up",
                "-c",
                str(project / "eventsim.yaml"),
                "--port",
                "0",
                "--http-port",
                "0",
                *options,
            ],  # fmt: skip
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )
        self.ready = self.wait_for("eventsim ready", "export AWS_ACCESS_KEY_ID")

    def wait_for(self, *texts: str) -> str:
        """Read the log until every text appeared; return what was read."""
        missing = set(texts)
        seen = []
        assert self.process.stderr is not None
        for line in self.process.stderr:
            seen.append(line)
            missing = {t for t in missing if t not in line}
            if not missing:
                return "".join(seen)
        pytest.fail(f"eventsim up exited ({self.process.wait()}) before logging {missing}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=30) == 0


def test_dropped_files_run_the_function(project: Path, up: Up) -> None:
    incoming = project / "uploads" / "incoming"
    incoming.mkdir()
    for name in NAMES:
        (incoming / name).write_text(f"{name}\nsecond line\n")
    up.wait_for(*(f"summarised incoming/{name}" for name in NAMES))

    for name in NAMES:
        summary = json.loads((project / "uploads" / "summaries" / f"{name}.json").read_text())
        assert summary["key"] == f"incoming/{name}"
        assert summary["lines"] == 2
        assert summary["event"] == "ObjectCreated:Put"
    # Files written by the function outside the trigger's prefix trigger nothing further.
    up.stop()


def test_changes_while_down_are_announced_on_restart(project: Path, up: Up) -> None:
    incoming = project / "uploads" / "incoming"
    incoming.mkdir()
    (incoming / "before.txt").write_text("1\n")
    up.wait_for("summarised incoming/before.txt")
    up.stop()

    (incoming / "while down.txt").write_text("1\n2\n3\n")
    shutil.copy(incoming / "before.txt", incoming / "copy=of+before.txt")

    again = Up(project)
    try:
        again.wait_for(
            "summarised incoming/while down.txt", "summarised incoming/copy=of+before.txt"
        )
        again.stop()
    finally:
        again.process.kill()
    summary = json.loads((project / "uploads" / "summaries" / "while down.txt.json").read_text())
    assert summary["lines"] == 3
