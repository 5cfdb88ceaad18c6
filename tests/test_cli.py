"""The eventsim command, run as a user runs it: a real child process."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import FUNCTIONS, REPO, demo
from .test_up_s3 import Up


def eventsim(
    *args: str, stdin: str | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventsim", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "eventsim.yaml"
    path.write_text(
        f"""\
state_dir: state
functions:
  echo: {{handler: behaviours.echo, code: {FUNCTIONS}}}
  fail: {{handler: behaviours.fail, code: {FUNCTIONS}}}
  chatty: {{handler: behaviours.chatty, code: {FUNCTIONS}}}
"""
    )
    return path


def test_invoke_the_demo_from_stdin(tmp_path: Path) -> None:
    demo(tmp_path)  # the README's command, in a copy of the demo: config found by default
    done = eventsim("invoke", "hello", "--event", "-", stdin='{"name": "Ada"}', cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"message": "Hello, Ada!", "warm_invocations": 1}
    assert "START RequestId:" in done.stderr and "REPORT RequestId:" in done.stderr


def test_invoke_with_an_event_file(config: Path, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"k": [1, 2]}')
    done = eventsim("invoke", "echo", "--event", str(event), "-c", str(config))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"k": [1, 2]}


def test_handler_output_goes_to_stderr_only(config: Path) -> None:
    done = eventsim("invoke", "chatty", "-c", str(config))
    assert done.stdout.strip() == '"ok"'
    assert "printed line" in done.stderr


def test_function_error_prints_the_aws_payload_and_exits_1(config: Path) -> None:
    done = eventsim("invoke", "fail", "-c", str(config), "--event", "-", stdin="{}")
    assert done.returncode == 1
    error = json.loads(done.stdout)
    assert error["errorType"] == "KeyError" and error["errorMessage"] == "'action'"


def test_json_log_format(config: Path) -> None:
    done = eventsim("invoke", "echo", "-c", str(config), "--log-format", "json")
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    report = next(line for line in lines if line["event"].startswith("REPORT"))
    assert report["function"] == "echo" and report["kind"] == "platform"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["invoke", "nope"], None, "error: no function named 'nope' in the config"),
        (["invoke", "echo", "--event", "-"], "{not json", "error: the event is not valid JSON"),
        (["invoke", "echo", "-c", "/nonexistent.yaml"], None, "/nonexistent.yaml: no such file"),
    ],
)
def test_bad_input_is_a_message_not_a_traceback(
    config: Path, args: list[str], stdin: str | None, message: str
) -> None:
    if "-c" not in args:
        args = [*args, "-c", str(config)]
    done = eventsim(*args, stdin=stdin)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_validate_summarises_a_good_config() -> None:
    done = eventsim("validate")
    assert done.returncode == 0
    assert (
        "config/eventsim.yaml: ok: 9 functions (hello, summarize, heartbeat, orders, stock, api, "
        "checkout, receipt, fulfil)" in done.stdout
    )
    assert "  receipt: receipt.handler (process; sns)" in done.stdout


def test_validate_lists_every_error_with_its_location(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("functions:\n  f:\n    handler: a.b\n    timeout: 0\n    memroy: 64\n")
    done = eventsim("validate", "-c", str(bad))
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert f"{bad}:4:5: functions.f.timeout: Input should be greater than or equal to 1" in lines[0]
    assert any(line.startswith(f"{bad}:5:5: functions.f.memroy: unknown key") for line in lines)
    assert lines[-1] == f"2 error(s) in {bad}"
    assert "Traceback" not in done.stdout + done.stderr


def test_up_reports_ready_and_stops_cleanly_on_sigterm(config: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "eventsim", "up", "-c", str(config), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        for line in process.stderr:
            if "eventsim ready" in line:
                break
        else:
            pytest.fail(f"exited before ready: {process.wait()}")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "simulator.stopped" in process.stderr.read()
    finally:
        process.kill()


def test_schedules_prints_next_fire_times(tmp_path: Path) -> None:
    config = tmp_path / "eventsim.yaml"
    config.write_text(
        f"""\
functions:
  tick:
    handler: behaviours.echo
    code: {FUNCTIONS}
    triggers:
      - schedule: {{expression: "cron(0 12 ? * MON *)", timezone: Europe/Paris, name: weekly}}
      - schedule: {{expression: "at(2020-01-01T00:00:00)"}}
"""
    )
    done = eventsim("schedules", "-c", str(config), "--next", "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "tick <- weekly: cron(0 12 ? * MON *) [Europe/Paris]"
    assert all(" (Mon " in line and " 12:00 CE" in line for line in lines[1:3])
    assert lines[3] == "tick <- eventsim-tick-1: at(2020-01-01T00:00:00) [UTC]"
    assert lines[4] == "  (no later firings)"


@pytest.mark.slow
def test_schedules_asks_the_running_up(tmp_path: Path) -> None:
    """rate() counts from when `eventsim up` started: the running one is asked."""
    (tmp_path / "eventsim.yaml").write_text(
        f"""\
state_dir: state
functions:
  tick:
    handler: behaviours.echo
    code: {FUNCTIONS}
    triggers:
      - schedule: {{expression: "rate(1 hour)", name: hourly}}
      - schedule: {{expression: "rate(1 day)", name: off, enabled: false}}
"""
    )
    up = Up(tmp_path)
    try:
        done = eventsim("schedules", "--next", "2", cwd=tmp_path)
    finally:
        up.stop()
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("as scheduled by the running pid ")
    assert lines[1] == "tick <- hourly: rate(1 hour) [UTC]" and len(lines[2:4]) == 2
    assert lines[4:] == ["tick <- off: rate(1 day) [UTC]", "  (disabled: it does not fire)"]


@pytest.mark.parametrize(("flag", "key"), [("--port", "server.port"),
                                           ("--http-port", "server.http_port")])  # fmt: skip
def test_a_port_in_use_is_one_error_line(tmp_path: Path, flag: str, key: str) -> None:
    (tmp_path / "eventsim.yaml").write_text(
        f"state_dir: state\nfunctions:\n  api: {{handler: web.echo, code: {FUNCTIONS}, "
        "triggers: [{http: {path: /x}}]}\n"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        other = "--http-port" if flag == "--port" else "--port"
        done = eventsim("up", flag, port, other, "0", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    [line] = [text for text in done.stderr.splitlines() if text.startswith("error:")]
    assert line.startswith(f"error: the {'edge' if flag == '--port' else 'HTTP triggers'}")
    assert f"port {port} on 127.0.0.1 is in use" in line and key in line and flag in line
    assert "Traceback" not in done.stderr
