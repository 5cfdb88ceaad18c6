"""Config parsing: the whole schema, ranges, cross references and located errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from eventsim import ConfigError, load_config
from eventsim.config import DEFAULT_CONFIG_PATH, Config, find_config

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
    stream = resize.triggers[2]
    assert stream.kind == "dynamodb" and stream.spec.maximum_record_age == 600
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
        (
            "timeot: 3",
            ":6:5: functions.f.timeot: unknown key 'timeot'; did you mean 'timeout'? "
            "(expected one of: handler,",
        ),
        ("on_failure: sns:x", "functions.f.on_failure: expected 'function:NAME', 'queue:NAME', "),
        ("on_failure: topic:x", "functions.f.on_failure: unknown topic 'x' (defined: no topics"),
        ("on_success: bus:x", "functions.f.on_success: unknown bus 'x' (defined: no buses"),
        ("dead_letter_queue: function:x", "dead_letter_queue: a dead-letter target is a queue"),
        ("dead_letter_queue: queue:x", "functions.f.dead_letter_queue: unknown queue 'x'"),
        ("environment: {AWS_REGION: x}", "functions.f.environment: reserved by the Lambda runtime"),
        ("environment: {1X: y}", "functions.f.environment: invalid variable name(s) ['1X']"),
        ("environment: {DEBUG: true}", "functions.f.environment.DEBUG: Input should be a valid"),
        (
            "triggers: [{kafka: {}}]",
            ":6:16: functions.f.triggers.0: unknown trigger kind 'kafka' "
            "(expected one of: s3, sqs, dynamodb, schedule, http, sns, eventbridge)",
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
        (
            "regoin: us-east-1\n",
            "1:1: regoin: unknown key 'regoin'; did you mean 'region'? (expected one of: region,",
        ),
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


# --- strict scalars -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("timeout: true", "functions.f.timeout: Input should be a valid integer (got True)"),
        ("timeout: '3'", "functions.f.timeout: Input should be a valid integer (got '3'; write"),
        ("timeout: 3.5", "functions.f.timeout: Input should be a valid integer"),
        ("timeout: 1:30", "functions.f.timeout: Input should be a valid integer (got '1:30')"),
        ("memory: '256'", "functions.f.memory: Input should be a valid integer"),
        (
            "triggers: [{sqs: {queue: q, enabled: yes}}]",
            "triggers.0.sqs.enabled: Input should be a valid boolean (got 'yes'; write true",
        ),
        (
            "triggers: [{sqs: {queue: q, report_batch_item_failures: 1}}]",
            "report_batch_item_failures: Input should be a valid boolean (got 1",
        ),
        (
            "triggers: [{schedule: {expression: 'rate(1 hour)', start: 'soon'}}]",
            "triggers.0.schedule.start: expected an ISO 8601 date and time, got 'soon'",
        ),
        ("code: 3", "functions.f.code: expected a path (a string), got 3"),
    ],
)
def test_scalars_are_strict(tmp_path: Path, snippet: str, expected: str) -> None:
    path = write(
        tmp_path,
        f"""\
        queues: {{q: {{}}}}
        functions:
          f:
            handler: app.handler
            code: {FUNCTIONS}
            {snippet}
        """,
    )
    found = errors(path)
    assert any(expected in line for line in found), found
    assert all(":6:" in line for line in found), found


def test_yaml_strings_still_give_paths_times_and_choices(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            f"""\
            idle_timeout: 300
            functions:
              f:
                handler: app.handler
                code: {FUNCTIONS}
                isolation: thread
                triggers:
                  - schedule: {{expression: "rate(1 hour)", start: "2030-01-02T03:04:05Z",
                                end: 2031-01-01T00:00:00Z}}
            """,
        )
    )
    f = config.functions["f"]
    assert f.code == FUNCTIONS and f.isolation == "thread"
    schedule = f.triggers[0].spec
    assert schedule is not None and schedule.start is not None and schedule.end is not None
    assert (schedule.start.year, schedule.start.second, schedule.end.year) == (2030, 5, 2031)
    assert config.idle_timeout == 300.0


def test_anchors_aliases_and_merge_keys_work(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""\
        functions:
          a: &base
            handler: app.handler
            code: {FUNCTIONS}
            timeout: 30
            environment: &env {{STAGE: dev}}
          b:
            <<: *base
            timeout: 60
          c:
            <<: *base
            environment: *env
            memory: 64
        """,
    )
    [problem] = errors(path)  # only c's memory; no duplicate-key error for b's timeout
    assert f"{path}:13:5: functions.c.memory:" in problem
    good = write(tmp_path, path.read_text().replace("memory: 64", "memory: 256"))
    config = load_config(good)
    assert config.functions["b"].timeout == 60 and config.functions["b"].code == FUNCTIONS
    assert config.functions["c"].environment == {"STAGE": "dev"}


def test_an_error_in_a_merged_mapping_points_where_the_value_is_written(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""\
        functions:
          a: &base {{handler: x.y, memory: 64, code: {FUNCTIONS}}}
          b:
            <<: *base
            timeout: 0
        """,
    )
    assert [line.removeprefix(f"{path}:").split(" ")[0] for line in errors(path)] == [
        "2:27:",  # a.memory
        "2:27:",  # b.memory, merged from a
        "5:5:",  # b.timeout
    ]


# --- every error at once ------------------------------------------------------------------


def test_schema_and_reference_errors_are_reported_together_in_line_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""\
        functions:
          a:
            handler: x.y
            code: {FUNCTIONS}
            timeout: 0
            on_failure: queue:ordrs
            triggers:
              - sqs: {{queue: orders, batch_size: 0}}
              - http: {{path: /a}}
              - http: {{path: /a}}
          b: {{code: {FUNCTIONS}}}
          c: {{handler: x.y, code: {FUNCTIONS}, on_success: function:b}}
        queues:
          orders: {{visibility_timeout: -1}}
        regoin: eu-west-1
        """,
    )
    found = errors(path)
    assert [line.split(": ", 1)[0].removeprefix(f"{path}:") for line in found] == [
        "5:5",  # timeout
        "6:5",  # unknown queue: checked although function a has a schema error
        "8:30",  # batch_size
        "10:16",  # duplicate route, counted with the file's trigger indices
        "11:3",  # b lacks its handler; c's reference to b is not "unknown"
        "14:12",  # visibility_timeout; the reference to orders still resolves
        "15:1",  # regoin
    ], found
    assert "unknown queue 'ordrs'; did you mean 'orders'? (defined: orders)" in found[1]
    assert "functions.a.triggers.2.http.path: ANY /a is already routed to 'a'" in found[3]
    assert "did you mean 'region'?" in found[6]


def test_duplicate_keys_are_reported_with_schema_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "region: us-east-1\nidle_timeout: 0\nregion: eu-west-1\n")
    assert errors(path) == [
        f"{path}:2:1: idle_timeout: Input should be greater than 0 (got 0)",
        f"{path}:3:1: region: duplicate key 'region'",
    ]


def test_a_misspelt_trigger_kind_and_names_get_suggestions(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""\
        functions:
          f:
            handler: x.y
            code: {FUNCTIONS}
            on_success: function:ff
            triggers: [{{sqss: {{queue: q}}}}, {{dynamodb: {{table: stok,
                         starting_position: LATEST}}}}]
        tables: {{stock: {{partition_key: k, stream: KEYS_ONLY}}}}
        """,
    )
    found = errors(path)
    assert any("on_success: unknown function 'ff'; did you mean 'f'?" in x for x in found)
    assert any("triggers.0: unknown trigger kind 'sqss'; did you mean 'sqs'?" in x for x in found)
    assert any("table: unknown table 'stok'; did you mean 'stock'?" in x for x in found)


# --- folders ------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["/", "/etc", "/usr", "/bin", "/var", "/proc", "/sys", "/dev"])
@pytest.mark.parametrize("key", ["state_dir", "bucket"])
def test_system_folders_are_refused(tmp_path: Path, folder: str, key: str) -> None:
    text = (
        f"state_dir: {folder}\n" if key == "state_dir" else f"buckets:\n  bk1: {{path: {folder}}}\n"
    )
    [problem] = errors(write(tmp_path, text))
    where = "1:1: state_dir:" if key == "state_dir" else "2:9: buckets.bk1.path:"
    assert where in problem and "folder" in problem and "name a folder of the project" in problem


def test_the_home_folder_and_files_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    (tmp_path / "notes.txt").write_text("a file")
    found = errors(write(tmp_path, 'state_dir: "~"\nbuckets:\n  bk1: {path: notes.txt}\n'))
    assert f"1:1: state_dir: {str(home)!r} is your home folder" in found[0]
    assert (
        f"3:9: buckets.bk1.path: {str(tmp_path / 'notes.txt')!r} exists and is not a folder"
        in (found[1])
    )


def test_default_paths_resolve_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "eventsim.yaml").write_text("functions:\n  f: {handler: eventsim.testing.record}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config("../project/eventsim.yaml")
    assert config.state_dir == project / ".eventsim"
    assert config.functions["f"].code == project
    # A dict still resolves against its base_dir, or the current folder without one.
    assert Config.from_dict({}, base_dir=project).state_dir == project / ".eventsim"
    assert Config.from_dict({}).state_dir == elsewhere / ".eventsim"


# --- discovery ----------------------------------------------------------------------------


def test_find_config_prefers_eventsim_yaml_then_config_folder_then_a_template(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError) as info:
        find_config(tmp_path)
    [issue] = info.value.issues
    looked = ["eventsim.yaml", "config/eventsim.yaml", "template.yaml", "template.yml"]
    assert issue.message == "no config: looked for " + ", ".join(
        str(tmp_path / name) for name in looked
    )
    (tmp_path / "template.yml").write_text("Resources: {}\n")
    assert find_config(tmp_path) == tmp_path / "template.yml"
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    assert find_config(tmp_path) == tmp_path / "template.yaml"
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "eventsim.yaml").write_text("{}\n")
    assert find_config(tmp_path) == tmp_path / "config" / "eventsim.yaml"
    (tmp_path / "eventsim.yaml").write_text("{}\n")
    assert find_config(tmp_path) == tmp_path / "eventsim.yaml"


def test_find_config_is_relative_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "eventsim.yaml").write_text("{}\n")
    assert find_config() == Path("config/eventsim.yaml") == DEFAULT_CONFIG_PATH


# --- keys other parts consume -------------------------------------------------------------


def test_inherit_env_allowed_hosts_origins_and_role(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            f"""\
            account: "210987654321"
            inherit_env: [HOME, MYAPP_*, "LC_?"]
            server:
              allowed_hosts: [Myapp.Test, 192.168.1.5, "[fe80::1]"]
              allowed_origins: ["http://localhost:5173", "HTTPS://App.Example:8443"]
            functions:
              f: {{handler: x.y, code: {FUNCTIONS}, inherit_env: [DATABASE_URL]}}
            """,
        )
    )
    assert config.inherit_env == ["HOME", "MYAPP_*", "LC_?"]
    assert config.functions["f"].inherit_env == ["DATABASE_URL"]
    assert config.server.allowed_hosts == ["myapp.test", "192.168.1.5", "[fe80::1]"]
    assert config.server.allowed_origins == ["http://localhost:5173", "https://app.example:8443"]
    assert config.role_arn is None
    assert config.role == "arn:aws:iam::210987654321:role/eventsim"
    arn = "arn:aws:iam::210987654321:role/app/worker-role"
    assert Config.from_dict({"role_arn": arn}).role == arn
    defaults = Config.from_dict({})
    assert (defaults.inherit_env, defaults.server.allowed_hosts) == ([], [])
    assert defaults.server.allowed_origins == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("inherit_env: [MY-VAR]", "1:15: inherit_env.0: invalid variable name or glob 'MY-VAR'"),
        ("inherit_env: ['1X']", "inherit_env.0: invalid variable name or glob '1X'"),
        ("inherit_env: HOME", "inherit_env: Input should be a valid list"),
        ("server: {allowed_hosts: ['app.test:80']}", "server.allowed_hosts.0: invalid host name"),
        ("server: {allowed_origins: ['localhost:5173']}", "server.allowed_origins.0: invalid"),
        ("server: {allowed_origins: ['http://a.test/']}", "invalid origin 'http://a.test/'"),
        ("role_arn: arn:aws:iam::12:role/x", "role_arn: String should match pattern"),
        ("role_arn: 'arn:aws:iam::123456789012:user/x'", "role_arn: String should match"),
    ],
)
def test_new_keys_are_validated(tmp_path: Path, text: str, expected: str) -> None:
    found = errors(write(tmp_path, text + "\n"))
    assert any(expected in line for line in found), found
