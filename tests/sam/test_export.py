"""``eventsim export sam``: the template passes cfn-lint and transforms with the
aws-sam-translator library (both offline), and config -> export -> import gives the same
functions, triggers and resources."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from eventsim.config import Config, load_config
from eventsim.sam.export import export_template
from eventsim.triggers.base import TriggerRef
from eventsim.triggers.eventbridge import rule_name
from eventsim.triggers.schedule import schedule_name

from ..helpers import REPO
from .conftest import TEMPLATES

#: A config with every trigger kind and resource, most options set.
EVERYTHING = """\
functions:
  resize-images:
    handler: app.handler
    code: code
    timeout: 30
    memory: 512
    environment: {OUT: thumbs/}
    reserved_concurrency: 3
    retries: 1
    max_event_age: 600
    on_success: function:audit
    on_failure: queue:failed
    triggers:
      - s3: {bucket: uploads, events: ["s3:ObjectCreated:*"], prefix: images/, suffix: .jpg}
      - sqs: {queue: jobs, batch_size: 20, batching_window: 2, report_batch_item_failures: true,
              maximum_concurrency: 4, filters: [{body: {kind: [resize]}}]}
      - dynamodb: {table: orders, starting_position: TRIM_HORIZON, batch_size: 50,
                   maximum_retry_attempts: 3, maximum_record_age: 600, bisect_on_error: true,
                   on_failure: "queue:failed", report_batch_item_failures: true,
                   parallelization_factor: 2, tumbling_window: 30,
                   filters: [{eventName: [INSERT]}]}
      - schedule: {expression: "rate(5 minutes)", input: {job: nightly}, enabled: false}
      - schedule: {expression: "cron(0 9 * * ? *)", timezone: Europe/Paris, style: scheduler,
                   input: {x: 1}, name: morning, start: "2026-02-01T00:00:00Z"}
      - http: {method: GET, path: "/items/{id}", payload_version: "1.0"}
      - http: {method: ANY, path: "/v2/{proxy+}"}
      - http: {method: POST, path: /hooks, api: http, payload_version: "1.0", stage: beta}
      - http: {method: GET, path: /v1/items, payload_version: "1.0", stage: v1}
      - sns: {topic: events, filter_policy: {kind: [placed]}}
      - eventbridge:
          pattern: {source: [shop]}
          input_transformer: {input_paths_map: {id: $.detail.id}, input_template: '{"id": <id>}'}
          retry_policy: {maximum_retry_attempts: 4}
          dead_letter_queue: failed
      - eventbridge: {bus: orders, pattern: {detail-type: [Placed]}, input_path: "$.detail"}
  audit:
    handler: app.handler
    code: code
    on_success: bus:orders
    on_failure: topic:events
    dead_letter_queue: queue:failed
    triggers:
      - sqs: {queue: ordered.fifo, batch_size: 10, enabled: false}
buckets: {uploads: {path: data/uploads, eventbridge: true}}
queues:
  jobs: {visibility_timeout: 60, redrive: {dead_letter_queue: jobs-dlq, max_receive_count: 3},
         tags: {team: a}}
  jobs-dlq: {message_retention_period: 1209600}
  failed: {}
  ordered.fifo: {content_based_deduplication: true}
  archive: {delay_seconds: 5}
tables:
  orders: {partition_key: pk, sort_key: sk, sort_key_type: N, stream: NEW_AND_OLD_IMAGES,
           ttl: expires, global_indexes: {by-status: {partition_key: status,
           projection: KEYS_ONLY}}, local_indexes: {by-date: {sort_key: date,
           projection: INCLUDE, non_key_attributes: [total]}}}
topics:
  events: {display_name: Events, subscriptions: [{queue: archive, raw_message_delivery: true,
           filter_policy: {kind: [placed]}}]}
buses:
  orders: {rules: {archive-all: {pattern: {source: [shop]}, targets: [{queue: archive},
           {topic: events, input: {a: 1}}]}}}
"""


def lint_errors(text: str) -> list[str]:
    """What cfn-lint finds (errors and warnings; informational notes aside)."""
    return [f"{m.rule.id} {m.message}" for m in lint(text, regions=["us-east-1"])
            if not m.rule.id.startswith("I")]  # fmt: skip


class _Policies:
    """The managed policies aws-sam-translator asks IAM about: none, offline."""

    def load(self) -> dict[str, str]:
        return {}


def translated(text: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The template as CloudFormation gets it from SAM, after `sam package` (which uploads
    code folders: CodeUri becomes an S3 URI)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    template = yaml_parse(text)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/code.zip"
    return transform(template, {}, _Policies())  # type: ignore[arg-type]


def everything(folder: Path) -> Path:
    (folder / "code").mkdir()
    (folder / "code" / "app.py").write_text("def handler(event, context):\n    return event\n")
    (folder / "eventsim.yaml").write_text(EVERYTHING)
    return folder / "eventsim.yaml"


def configs(tmp_path: Path) -> list[Path]:
    """Configs to export: every template of the corpus, the demo, the shop example and one
    with everything."""
    shutil.copytree(TEMPLATES, tmp_path / "corpus")
    found = sorted((tmp_path / "corpus").glob("*/template.*"))
    # That template's import has its value in its eventsim.yaml only.
    overlay = tmp_path / "corpus" / "intrinsics-mappings" / "eventsim.yaml"
    found[found.index(overlay.with_name("template.yaml"))] = overlay
    for part in ("config", "sample_functions"):
        shutil.copytree(REPO / part, tmp_path / "demo" / part)
    found.append(tmp_path / "demo" / "config" / "eventsim.yaml")
    shutil.copytree(REPO / "examples" / "shop", tmp_path / "shop")
    found += sorted((tmp_path / "shop").glob("**/eventsim.yaml"))
    (tmp_path / "everything").mkdir()
    found.append(everything(tmp_path / "everything"))
    return found


def exported(path: Path) -> tuple[Config, Path]:
    """The config at ``path`` and the template it exports to, written beside it."""
    config = load_config(path)
    target = path.parent / "exported.yaml"
    target.write_text(export_template(config, path.parent))
    return config, target


def test_exported_templates_lint_and_transform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = 0
    for path in configs(tmp_path):
        _, template = exported(path)
        text = template.read_text()
        assert lint_errors(text) == [], f"{path}:\n{text}"
        resources = translated(text, monkeypatch)["Resources"]
        assert any(r["Type"] == "AWS::Lambda::Function" for r in resources.values()), path
        checked += 1
    assert checked >= 20


def test_what_eventsim_filled_in_is_marked(tmp_path: Path) -> None:
    _, template = exported(everything(tmp_path))
    text = template.read_text()
    marked = [line.split("# eventsim: ")[0].strip() for line in text.splitlines()
              if "# eventsim: " in line]  # fmt: skip
    assert "BucketName: !Sub 'uploads-${AWS::AccountId}-${AWS::Region}'" in marked
    assert "Policies:" in marked and "BillingMode: PAY_PER_REQUEST" in marked
    assert "Type: AWS::SQS::QueuePolicy" in marked and "Type: AWS::SNS::TopicPolicy" in marked
    policies = yaml_parse(text)["Resources"]["ResizeImages"]["Properties"]["Policies"]
    kinds = [next(iter(p)) for p in policies]
    assert kinds == ["LambdaInvokePolicy", "SQSSendMessagePolicy", "S3ReadPolicy",
                     "SQSPollerPolicy", "DynamoDBStreamReadPolicy"]  # fmt: skip


def test_a_rule_schedule_with_a_time_zone_becomes_a_scheduler_schedule(tmp_path: Path) -> None:
    (tmp_path / "eventsim.yaml").write_text(
        "functions:\n  f:\n    handler: eventsim.testing.record\n    triggers:\n"
        "      - schedule: {expression: 'cron(0 9 * * ? *)', timezone: Europe/Paris}\n"
    )
    _, template = exported(tmp_path / "eventsim.yaml")
    [line] = [line for line in template.read_text().splitlines() if "Expression: cron" in line]
    assert line.strip().startswith("ScheduleExpression: cron(0 9 * * ? *)  # eventsim: a ")
    [trigger] = load_config(template).functions["f"].triggers
    assert (trigger.spec.style, trigger.spec.timezone) == ("scheduler", "Europe/Paris")


def comparable(config: Config) -> dict[str, Any]:
    """Functions, triggers and resources, with the names eventsim gives by default written
    out (an exported template names them)."""
    functions = {}
    for name, function in config.functions.items():
        triggers = []
        for index, trigger in enumerate(function.triggers):
            spec = trigger.spec.model_dump(mode="json")
            ref = TriggerRef(name, index, trigger.spec)
            if trigger.kind == "schedule":
                spec["name"] = schedule_name(ref)
                if spec["timezone"] != "UTC" or spec["start"] or spec["end"]:
                    spec["style"] = "scheduler"  # rules have no time zone (see the test above)
            if trigger.kind == "eventbridge":
                spec["rule"] = rule_name(ref)
            spec.pop("id", None)  # S3 notification configuration ids: S3 makes them
            triggers.append({trigger.kind: spec})
        # isolation and inherit_env are eventsim's own: not in a template
        own = {"isolation", "inherit_env"}
        functions[name] = function.model_dump(mode="json", exclude=own) | {"triggers": triggers}
    sections = ("buckets", "queues", "tables", "topics", "buses")
    return {"functions": functions} | {s: config.model_dump(mode="json")[s] for s in sections}


@pytest.mark.parametrize("name", ["everything", "demo", "corpus"])
def test_config_export_import_round_trip(tmp_path: Path, name: str) -> None:
    paths = [p for p in configs(tmp_path) if p.is_relative_to(tmp_path / name)]
    for path in paths:
        config, template = exported(path)
        again = load_config(template)
        assert comparable(again) == comparable(config), path
