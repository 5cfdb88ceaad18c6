"""The command line with templates: -t, --parameter-overrides, discovery, validate's list of
what is not honoured, eventsim import and eventsim export sam."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from eventsim.cli import cli, parameter_overrides
from eventsim.config import load_config

from .conftest import Project


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eventsim", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=60)  # fmt: skip


def invoke(*args: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_validate_a_template_lists_what_is_not_honoured(project: Project) -> None:
    folder = project("api-rest")
    done = run("validate", "-t", "template.yaml", cwd=folder)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("template.yaml: ok: 1 function (HelloWorldFunction), 2 triggers")
    assert lines[2] == "not honoured by eventsim (3):"
    assert lines[3].startswith("  template.yaml:14:5: Globals.Function.LoggingConfig: ")
    assert lines[5].startswith("  template.yaml:23:7: Resources.HelloWorldFunction.Properties."
                               "Architectures: ")  # fmt: skip


def test_a_template_is_found_by_default_and_its_errors_point_into_it(project: Project) -> None:
    folder = project("sqs-worker")
    text = (folder / "template.yaml").read_text()
    (folder / "template.yaml").write_text(text.replace("OrdersQueue.Arn", "Missing.Arn"))
    done = run("validate", cwd=folder)
    assert done.returncode == 2
    assert done.stdout.splitlines() == [
        "template.yaml:36:13: Resources.OrderWorkerFunction.Properties.Events.Orders.Properties."
        "Queue: !GetAtt Missing.Arn names no resource",
        "1 error(s) in template.yaml",
    ]


def test_parameter_overrides_as_sam_takes_them() -> None:
    given = ("Stage=prod 'Name=my app' ParameterKey=Size,ParameterValue=3", "AWS::Region=eu-west-1")
    assert parameter_overrides(given) == {
        "Stage": "prod", "Name": "my app", "Size": "3", "AWS::Region": "eu-west-1",
    }  # fmt: skip


def test_invoke_schedules_and_overrides_on_a_template(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = project("intrinsics-conditions")
    code, output = invoke(
        "invoke", "ApiFunction", "--template", "template.yaml",
        "--parameter-overrides", "Stage=prod EnableArchive=true", "--log-level", "error",
        cwd=folder, monkeypatch=monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    result = json.loads(output.splitlines()[-1])
    assert (result["STAGE"], result["LOG_LEVEL"], result["memory"]) == ("prod", "WARNING", "1024")
    code, output = invoke("schedules", "-t", str(project("schedule-rule") / "template.yaml"),
                          cwd=folder, monkeypatch=monkeypatch)  # fmt: skip
    assert code == 0, output
    assert output.splitlines()[0] == "ReportFunction <- local-hourly-report: rate(1 hour) [UTC]"


def test_bad_options_are_one_line_and_exit_2(project: Project) -> None:
    folder = project("schedule-rule")
    (folder / "eventsim.yaml").write_text("template: template.yaml\n")
    both = run("validate", "-c", "eventsim.yaml", "-t", "template.yaml", cwd=folder)
    assert both.returncode == 2
    assert both.stderr == (
        "error: eventsim validate: give a config (-c) or a template (-t), not both\n"
    )
    bad = run("validate", "--parameter-overrides", "Environment", cwd=folder)
    assert bad.returncode == 2 and "'Environment': expected KEY=VALUE" in bad.stderr
    wrong = run("validate", "--parameter-overrides", "Environment=dev", cwd=folder)
    assert wrong.returncode == 2
    assert "the value given 'dev' is not one of AllowedValues" in wrong.stdout


def test_import_writes_the_equivalent_config(project: Project) -> None:
    folder = project("sns-fanout")
    done = run("import", "template.yaml", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# eventsim config imported from template.yaml")
    assert "#   template.yaml:23:3: Resources.AuditQueuePolicy: " in done.stdout
    (folder / "eventsim.yaml").write_text(done.stdout)
    imported = load_config(folder / "eventsim.yaml")
    original = load_config(folder / "template.yaml")
    for section in ("functions", "queues", "topics", "aliases"):
        assert getattr(imported, section) == getattr(original, section), section
    assert imported.template is None and not imported.not_honoured
    data = yaml.safe_load(done.stdout)
    assert data["functions"]["NotifyFunction"] == {
        "handler": "handlers.notify",
        "code": "src",
        "triggers": [
            {"sns": {"topic": "local-order-events", "filter_policy": {"kind": ["placed"]}}}
        ],
    }


def test_import_of_a_broken_template_is_its_errors(project: Project) -> None:
    folder = project("intrinsics-mappings")
    done = run("import", "template.yaml", cwd=folder)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: template.yaml:41:11: Resources.SettingsFunction.")
    assert "imports: {shared-orders-table: VALUE}" in done.stderr


def test_export_sam_writes_a_template_of_the_config(project: Project) -> None:
    folder = project("sqs-worker")
    (folder / "eventsim.yaml").write_text(
        "functions:\n  worker: {handler: worker.handler, code: src}\n"
    )
    done = run("export", "sam", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# A SAM template exported by eventsim")
    (folder / "exported.yaml").write_text(done.stdout)
    again = load_config(folder / "exported.yaml")
    assert again.functions["worker"].handler == "worker.handler"
    assert again.functions["worker"].code == folder / "src"


def test_up_lists_what_is_not_honoured_once_at_start(project: Project) -> None:
    folder = project("schedule-v2")
    process = subprocess.Popen(
        [sys.executable, "-m", "eventsim", "up", "--port", "0", "--http-port", "0",
         "--log-format", "json"],
        cwd=folder, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stderr is not None
        lines = []
        for line in process.stderr:
            lines.append(json.loads(line) if line.startswith("{") else {"event": line})
            if "eventsim ready" in line or lines[-1].get("event") == "simulator.started":
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    noticed = [entry for entry in lines if entry.get("event") == "config.not_honoured"]
    assert [entry["key"] for entry in noticed] == [
        "Resources.ReminderFunction.Properties.Events.Morning.Properties.FlexibleTimeWindow",
        "Resources.ReminderFunction.Properties.Events.Morning.Properties.RetryPolicy",
    ]
    assert noticed[0]["at"].endswith("template.yaml:18:13")
