"""Config parsing: the whole schema, ranges, cross references and located errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from eventsim import ConfigError, load_config
from eventsim.config import Config

from .helpers import FUNCTIONS, REPO

FULL = f"""\
region: us-east-1
account: "123456789012"
state_dir: state
functions:
  resize:
    handler: resize.handler
    code: {FUNCTIONS}
    timeout: 30
    memory: 256
    environment: {{OUT_PREFIX: thumbs/}}
    reserved_concurrency: 5
    isolation: process
    retries: 2
    max_event_age: 21600
    on_success: function:audit
    on_failure: function:audit
    triggers:
      - s3: {{bucket: uploads, events: ["s3:ObjectCreated:*"], prefix: images/, suffix: .jpg}}
      - sqs: {{queue: jobs, batch_size: 10, batching_window: 0,
              report_batch_item_failures: true, maximum_concurrency: 5,
              filters: [{{body: {{kind: [resize]}}}}]}}
      - dynamodb: {{table: orders, starting_position: TRIM_HORIZON, batch_size: 100,
                   maximum_retry_attempts: 3, maximum_record_age: 600, bisect_on_error: true,
                   on_failure: queue:order-failures, report_batch_item_failures: true}}
      - schedule: {{expression: "rate(5 minutes)", input: {{job: nightly}}}}
      - http: {{method: GET, path: "/items/{{id}}", payload_version: "2.0"}}
  audit:
    handler: audit.handler
    code: {FUNCTIONS}
buckets: {{uploads: {{path: data/uploads}}}}
queues:
  jobs: {{visibility_timeout: 30, redrive: {{dead_letter_queue: jobs-dlq, max_receive_count: 3}}}}
  jobs-dlq: {{}}
  failed: {{}}
  order-failures: {{}}
tables: {{orders: {{partition_key: pk, sort_key: sk, stream: NEW_AND_OLD_IMAGES}}}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "eventsim.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(issue) for issue in info.value.issues]


def test_the_whole_design_schema_parses(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    resize = config.functions["resize"]

    assert [t.kind for t in resize.triggers] == ["s3", "sqs", "dynamodb", "schedule", "http"]
    assert str(resize.on_success) == "function:audit"
    assert resize.triggers[2].dynamodb is not None
    assert resize.triggers[2].dynamodb.maximum_record_age == 600
    assert config.queues["jobs"].redrive is not None
    assert config.tables["orders"].stream == "NEW_AND_OLD_IMAGES"
    # Paths resolve against the config file's folder.
    assert config.state_dir == tmp_path / "state"
    assert config.buckets["uploads"].path == tmp_path / "data" / "uploads"
    assert config.source == tmp_path / "eventsim.yaml"


def test_defaults_follow_aws(tmp_path: Path) -> None:
    config = Config.from_dict({"functions": {"f": {"handler": "a.b", "code": str(FUNCTIONS)}}})
    f = config.functions["f"]
    assert (f.timeout, f.memory, f.retries, f.max_event_age, f.isolation) == (
        3,
        128,
        2,
        21600,
        "process",
    )
    assert config.account_concurrency == 1000
    assert config.server.host == "127.0.0.1"


def test_the_bundled_demo_config_is_valid() -> None:
    config = load_config(REPO / "config" / "eventsim.yaml")
    assert "hello" in config.functions


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("timeout: 901", ":6:5: functions.f.timeout: Input should be less than or equal to 900"),
        ("timeout: 0", ":6:5: functions.f.timeout: Input should be greater than or equal to 1"),
        ("memory: 64", ":6:5: functions.f.memory: Input should be greater than or equal to 128"),
        ("memory: 10241", "functions.f.memory: Input should be less than or equal to 10240"),
        ("retries: 3", ":6:5: functions.f.retries: Input should be less than or equal to 2"),
        ("max_event_age: 59", "functions.f.max_event_age: Input should be greater than or equal"),
        ("isolation: docker", "functions.f.isolation: Input should be 'process' or 'thread'"),
        ("timeot: 3", ":6:5: functions.f.timeot: unknown key 'timeot'; expected one of: handler,"),
        ("on_failure: topic:x", "functions.f.on_failure: expected 'function:NAME' or 'queue:NAME'"),
        ("environment: {AWS_REGION: x}", "functions.f.environment: reserved by the Lambda runtime"),
        ("environment: {1X: y}", "functions.f.environment: invalid variable name(s) ['1X']"),
        ("environment: {DEBUG: true}", "functions.f.environment.DEBUG: Input should be a valid"),
        (
            "triggers: [{kafka: {}}]",
            ":6:17: functions.f.triggers.0.kafka: unknown key 'kafka'; "
            "expected one of: s3, sqs, dynamodb, schedule, http",
        ),
        ("triggers: [{}]", "functions.f.triggers.0: a trigger has exactly one of"),
        (
            "triggers: [{sqs: {queue: q, batch_size: 20}}]",
            "batch_size over 10 needs batching_window of at least 1 second",
        ),
        (
            "triggers: [{dynamodb: {table: t}}]",
            "functions.f.triggers.0.dynamodb.starting_position: missing required key",
        ),
        (
            "triggers: [{schedule: {expression: 'every 5 minutes'}}]",
            "expected cron(...), rate(...) or at(...)",
        ),
        (
            "triggers: [{schedule: {expression: 'rate(1 hour)', timezone: Mars/Base}}]",
            "unknown IANA time zone 'Mars/Base'",
        ),
        (
            "triggers: [{s3: {bucket: b, events: ['s3:ObjectCreated:Nope']}}]",
            "unknown S3 event type(s)",
        ),
        (
            "triggers: [{http: {path: items}}]",
            "functions.f.triggers.0.http.path: a route path starts with '/' (got 'items')",
        ),
    ],
)
def test_function_errors_are_located(tmp_path: Path, snippet: str, expected: str) -> None:
    path = write(
        tmp_path,
        f"""\
        region: us-east-1
        functions:
          f:
            handler: app.handler
            code: {FUNCTIONS}
            {snippet}
        """,
    )
    found = errors(path)
    assert any(expected in line for line in found), found
    assert all(line.startswith(f"{path}:") for line in found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "functions:\n  f:\n    code: .\n",
            "2:3: functions.f.handler: missing required key 'handler'",
        ),
        ("functions:\n  f: {handler: a.b, code: nowhere}\n", "functions.f.code: code folder"),
        (
            "functions:\n  bad name!: {handler: a.b}\n",
            "2:3: functions.bad name!: invalid name 'bad name!': a function name is 1-64 letters",
        ),
        ("queues:\n  Q.fifo.x: {}\n", "invalid name 'Q.fifo.x': a queue name is up to 80"),
        ("regoin: us-east-1\n", "1:1: regoin: unknown key 'regoin'; expected one of: region,"),
        ("account: 42\n", "account: Input should be a valid string"),
        ("queues:\n  q: {visibility_timeout: 50000}\n", "queues.q.visibility_timeout"),
        ("functions: [a, b]\n", "functions: Input should be a valid dictionary"),
        ("- just\n- a list\n", "1:1: expected a mapping of settings at the top level"),
        ("functions:\n  f: {handler: a.b\n", "invalid YAML"),
        ("region: us-east-1\nregion: eu-west-1\n", "2:1: region: duplicate key 'region'"),
    ],
)
def test_file_errors_are_located(tmp_path: Path, text: str, expected: str) -> None:
    found = errors(write(tmp_path, text))
    assert any(expected in line for line in found), found


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            "bucket: uploads",
            "bucket: nope",
            "triggers.0.s3.bucket: unknown bucket 'nope' (defined: uploads)",
        ),
        ("queue: jobs,", "queue: nope,", "triggers.1.sqs.queue: unknown queue 'nope'"),
        ("table: orders", "table: nope", "triggers.2.dynamodb.table: unknown table 'nope'"),
        (
            "on_success: function:audit",
            "on_success: function:nope",
            "functions.resize.on_success: unknown function 'nope' (defined: audit, resize)",
        ),
        ("on_failure: function:audit", "on_failure: queue:nope", "unknown queue 'nope'"),
        (
            "dead_letter_queue: jobs-dlq",
            "dead_letter_queue: jobs",
            "queues.jobs.redrive.dead_letter_queue: a queue cannot be its own dead-letter queue",
        ),
        ("stream: NEW_AND_OLD_IMAGES", "stream: null", "table 'orders' has no stream"),
        (
            "on_failure: queue:order-failures",
            "on_failure: function:audit",
            "triggers.2.dynamodb.on_failure: a stream mapping sends failed batches to a queue",
        ),
        ("partition_key: pk", "partition_key: 'p\"k'", "tables.orders.partition_key"),
    ],
)
def test_cross_references_are_checked(tmp_path: Path, replace: str, by: str, expected: str) -> None:
    assert replace in FULL
    found = errors(write(tmp_path, FULL.replace(replace, by, 1)))
    assert any(expected in line for line in found), found


def test_overlapping_notification_configurations_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""\
        functions:
          a: {{handler: x.y, code: {FUNCTIONS}, triggers: [{{s3: {{bucket: ups, prefix: i/}}}}]}}
          b: {{handler: x.y, code: {FUNCTIONS}, triggers: [{{s3: {{bucket: ups}}}}]}}
        buckets: {{ups: {{path: ups}}}}
        """,
    )
    [problem] = errors(path)
    assert "functions.b.triggers.0.s3: overlaps the notification configuration of 'a'" in problem
    assert f"{path}:3:" in problem


def test_a_bucket_path_must_be_a_folder(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    found = errors(write(tmp_path, "buckets:\n  uploads: {path: file.txt}\n"))
    assert any("buckets.uploads.path:" in line and "is not a folder" in line for line in found)


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""\
        functions:
          a: {{handler: x.y, code: {FUNCTIONS}, timeout: 0}}
          b: {{handler: x.y, code: {FUNCTIONS}, memory: 1}}
        """,
    )
    found = errors(path)
    assert len(found) == 2
    assert f"{path}:2:" in found[0] and f"{path}:3:" in found[1]


def test_missing_file() -> None:
    assert errors(Path("/nonexistent/eventsim.yaml")) == [
        "/nonexistent/eventsim.yaml: no such file"
    ]


def test_dict_configs_resolve_paths_against_base_dir(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    config = Config.from_dict(
        {"functions": {"f": {"handler": "a.b", "code": "code"}}}, base_dir=tmp_path
    )
    assert config.functions["f"].code == tmp_path / "code"
