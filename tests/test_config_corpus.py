"""Broken configs, each refused by ``eventsim validate`` with exit 2 and a located message.

One small file per case in ``configs/broken/``, named for what is wrong; the table below holds
what ``validate`` must say about it: the line (``None`` where no line applies: the message then
follows the file name directly) and a fragment of the message, key path included. The hostile
files too big or too slow to keep in the repository (5,000 nested brackets, a full "billion
laughs", a file over 1 MB) are written into ``tmp_path`` by the tests below.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from eventsim import ConfigError, load_config
from eventsim.cli import cli

BROKEN = Path(__file__).parent / "configs" / "broken"

CASES: list[tuple[str, int | None, str]] = [
    # --- YAML and the file --------------------------------------------------------------
    ("yaml_unclosed_flow_mapping", 3, "invalid YAML: while parsing a flow mapping (line 2)"),
    ("yaml_tab_indentation", 2, "invalid YAML: while scanning for the next token, found char"),
    ("yaml_duplicate_top_level_key", 2, "region: duplicate key 'region'"),
    ("yaml_duplicate_function", 4, "functions.f: duplicate key 'f'"),
    ("yaml_duplicate_key_in_flow", 4, "functions.f.environment.A1: duplicate key 'A1'"),
    ("yaml_two_documents", 2, "expected a single document in the stream"),
    ("yaml_top_level_list", 1, "expected a mapping of settings at the top level"),
    ("yaml_top_level_scalar", 1, "expected a mapping of settings at the top level"),
    ("yaml_undefined_alias", 1, "found undefined alias 'nowhere'"),
    ("yaml_duplicate_anchor", 3, "found duplicate anchor 'q'; first occurrence (line 2)"),
    ("yaml_python_object_tag", 1, "tag '!!python/object/apply:os.system' is not allowed"),
    ("yaml_python_name_tag", 4, "tag '!!python/name:os.system' is not allowed"),
    ("yaml_local_tag", 4, "tag '!env' is not allowed"),
    ("yaml_set_tag", 1, "tag '!!set' is not allowed"),
    ("yaml_binary_tag", 4, "tag '!!binary' is not allowed"),
    ("yaml_recursive_alias", 1, "alias *loop is inside its own anchor"),
    ("yaml_alias_bomb", 5, "alias *a4 expands the config past 20000 values"),
    ("yaml_alias_too_deep", 2, "alias *d1 nests the config deeper than 100 levels"),
    ("yaml_control_character", 4, "character U+0007 is not allowed in YAML"),
    ("yaml_invalid_date", 5, "cannot read this value: month must be in 1..12"),
    ("yaml_int_too_long", 4, "cannot read this value: a number of 5000 digits"),
    ("yaml_merge_not_a_mapping", 4, "expected a mapping or list of mappings for merging"),
    ("yaml_complex_key", 1, "found unhashable key"),
    # --- encodings ----------------------------------------------------------------------
    ("encoding_utf16_with_bom", None, "the file is UTF-16: save it as UTF-8"),
    ("encoding_utf16_without_bom", 1, "the file looks like UTF-16 (NUL bytes): save it as UTF-8"),
    ("encoding_utf32_with_bom", None, "the file is UTF-32: save it as UTF-8"),
    ("encoding_nul_byte", 2, "NUL byte at byte 32"),
    ("encoding_latin1", 3, "invalid UTF-8 at byte 34 (0xe9): save it as UTF-8"),
    # --- top level ----------------------------------------------------------------------
    ("top_unknown_key_misspelt", 1, "regoin: unknown key 'regoin'; did you mean 'region'?"),
    ("top_unknown_key", 1, "colour: unknown key 'colour'; expected one of: region, account"),
    ("top_region_uppercase", 1, "region: String should match pattern"),
    ("top_account_unquoted", 1, "account: Input should be a valid string (got 123456789012; put"),
    ("top_account_short", 1, "account: String should match pattern '^\\d{12}$' (got '1234')"),
    ("top_state_dir_is_a_file", 1, "top_state_dir_is_a_file.yaml' exists and is not a folder"),
    ("top_state_dir_root", 1, "state_dir: '/' is the root of the file system"),
    ("top_state_dir_etc", 1, "state_dir: '/etc' is a system folder"),
    ("top_state_dir_home", 1, "is your home folder"),
    ("top_state_dir_empty", 1, "state_dir: expected a path, got an empty string"),
    ("top_state_dir_list", 1, "state_dir: expected a path (a string), got ['a', 'b']"),
    ("top_account_concurrency_zero", 1, "account_concurrency: Input should be greater than or"),
    ("top_account_concurrency_quoted", 1, "account_concurrency: Input should be a valid integer"),
    ("top_max_environments_over", 1, "max_environments: Input should be less than or equal to"),
    ("top_idle_timeout_zero", 1, "idle_timeout: Input should be greater than 0"),
    ("top_idle_timeout_nan", 1, "idle_timeout: Input should be a finite number"),
    ("top_idle_timeout_bool", 1, "idle_timeout: Input should be a valid number (got True)"),
    ("top_inherit_env_bad_name", 1, "inherit_env.1: invalid variable name or glob 'MY-APP'"),
    ("top_inherit_env_not_a_list", 1, "inherit_env: Input should be a valid list (got 'HOME')"),
    ("top_role_arn_not_a_role", 1, "role_arn: String should match pattern"),
    ("top_functions_is_a_list", 1, "functions: Input should be a valid dictionary"),
    ("top_queues_is_a_string", 1, "queues: Input should be a valid dictionary (got 'jobs')"),
    # --- server -------------------------------------------------------------------------
    ("server_unknown_key_misspelt", 2, "server.prot: unknown key 'prot'; did you mean 'port'?"),
    ("server_port_out_of_range", 2, "server.port: Input should be less than or equal to 65535"),
    ("server_port_quoted", 2, "server.port: Input should be a valid integer (got '8642'"),
    ("server_http_port_negative", 2, "server.http_port: Input should be greater than or equal"),
    ("server_allowed_host_with_port", 2, "allowed_hosts.0: invalid host name 'myapp.test:8642'"),
    ("server_allowed_origin_with_path", 2, "invalid origin 'http://localhost:5173/app'"),
    ("server_allowed_origin_no_scheme", 2, "allowed_origins.0: invalid origin 'localhost:5173'"),
    ("server_not_a_mapping", 1, "server: expected a mapping of settings"),
    # --- functions ----------------------------------------------------------------------
    ("function_name_invalid", 2, "invalid name 'bad name!': a function name is 1-64 letters"),
    ("function_name_too_long", 2, "a function name is 1-64 letters"),
    ("function_missing_handler", 2, "functions.f.handler: missing required key 'handler'"),
    ("function_handler_with_space", 3, "functions.f.handler: String should match pattern"),
    ("function_code_folder_missing", 4, "functions.f.code: code folder '"),
    ("function_not_a_mapping", 2, "functions.f: expected a mapping of settings"),
    ("function_null", 2, "functions.f: expected a mapping of settings"),
    ("function_unknown_key_misspelt", 4, "functions.f.timout: unknown key 'timout'; did you mean"),
    ("function_timeout_zero", 4, "functions.f.timeout: Input should be greater than or equal to"),
    ("function_timeout_over_900", 4, "functions.f.timeout: Input should be less than or equal to"),
    ("function_timeout_bool", 4, "functions.f.timeout: Input should be a valid integer (got True"),
    ("function_timeout_quoted", 4, "functions.f.timeout: Input should be a valid integer (got '3'"),
    ("function_timeout_float", 4, "functions.f.timeout: Input should be a valid integer (got 2.5"),
    ("function_timeout_sexagesimal", 4, "functions.f.timeout: Input should be a valid integer"),
    ("function_memory_too_low", 4, "functions.f.memory: Input should be greater than or equal to"),
    ("function_memory_too_high", 4, "functions.f.memory: Input should be less than or equal to"),
    ("function_environment_reserved", 4, "functions.f.environment: reserved by the Lambda runtime"),
    (
        "function_environment_bad_name",
        4,
        "functions.f.environment: invalid variable name(s) ['1ST']",
    ),
    (
        "function_environment_value_bool",
        4,
        "functions.f.environment.DEBUG: Input should be a valid",
    ),
    ("function_environment_too_large", 4, "functions.f.environment: variables total 5140 bytes"),
    ("function_reserved_concurrency_negative", 4, "functions.f.reserved_concurrency: Input should"),
    (
        "function_isolation_unknown",
        4,
        "functions.f.isolation: Input should be 'process' or 'thread'",
    ),
    ("function_retries_three", 4, "functions.f.retries: Input should be less than or equal to 2"),
    ("function_max_event_age_too_low", 4, "functions.f.max_event_age: Input should be greater"),
    ("function_on_success_bad_form", 4, "functions.f.on_success: expected 'function:NAME', 'qu"),
    ("function_on_success_unknown_function", 4, "on_success: unknown function 'g' (defined: f)"),
    ("function_on_failure_unknown_queue_misspelt", 4, "did you mean 'failed'?"),
    ("function_on_failure_fifo_queue", 4, "on_failure: a destination queue must be a standard"),
    ("function_triggers_not_a_list", 4, "functions.f.triggers: Input should be a valid list"),
    ("function_inherit_env_bad", 4, "inherit_env.0: invalid variable name or glob 'HOME DIR'"),
    # --- triggers -----------------------------------------------------------------------
    ("trigger_empty", 5, "functions.f.triggers.0: a trigger has exactly one of"),
    ("trigger_two_kinds", 5, "a trigger has exactly one of s3, sqs, dynamodb, schedule, http, "),
    ("trigger_unknown_kind", 5, "functions.f.triggers.0: unknown trigger kind 'kafka'"),
    ("trigger_kind_misspelt", 5, "triggers.0: unknown trigger kind 'sqss'; did you mean 'sqs'?"),
    ("s3_unknown_bucket_misspelt", 5, "s3.bucket: unknown bucket 'uplods'; did you mean 'uploads'"),
    ("s3_unknown_event_type", 5, "s3.events: unknown S3 event type(s) ['s3:ObjectCreated:Nope']"),
    ("s3_no_events", 5, "s3.events: List should have at least 1 item"),
    ("s3_prefix_too_long", 5, "s3.prefix: String should have at most 1024 characters"),
    ("s3_overlapping_configurations", 7, "overlaps the notification configuration of 'f'"),
    ("sqs_missing_queue", 5, "triggers.0.sqs.queue: missing required key 'queue'"),
    ("sqs_unknown_queue_misspelt", 5, "unknown queue 'ordrs'; did you mean 'orders'?"),
    ("sqs_batch_size_zero", 5, "sqs.batch_size: Input should be greater than or equal to 1"),
    ("sqs_large_batch_without_window", 5, "batch_size over 10 needs batching_window"),
    ("sqs_fifo_batch_over_ten", 5, "sqs.batch_size: a FIFO queue allows batch_size 1..10"),
    ("sqs_maximum_concurrency_one", 5, "sqs.maximum_concurrency: Input should be greater than"),
    ("sqs_filter_pattern_invalid", 5, "sqs.filters: filters[0].body.kind: a leaf is an array"),
    ("sqs_enabled_yes", 5, "sqs.enabled: Input should be a valid boolean (got 'yes'"),
    ("dynamodb_missing_starting_position", 5, "starting_position: missing required key"),
    ("dynamodb_starting_position_unknown", 5, "Input should be 'TRIM_HORIZON' or 'LATEST'"),
    ("dynamodb_unknown_table_misspelt", 5, "unknown table 'ordres'; did you mean 'orders'?"),
    ("dynamodb_table_without_stream", 5, "dynamodb.table: table 'orders' has no stream"),
    ("dynamodb_record_age_too_low", 5, "maximum_record_age: expected -1 (no limit) or 60..604800"),
    ("dynamodb_on_failure_function", 5, "a stream mapping sends failed batches to a queue"),
    ("dynamodb_parallelization_over_ten", 5, "parallelization_factor: Input should be less than"),
    ("dynamodb_bisect_quoted", 5, "bisect_on_error: Input should be a valid boolean (got 'true'"),
    ("schedule_expression_invalid", 5, "expected cron(...), rate(...) or at(...)"),
    (
        "schedule_cron_wrong_field_count",
        5,
        "schedule.expression: cron(0 9 * * *): expected 6 fields",
    ),
    ("schedule_timezone_unknown", 5, "schedule.timezone: unknown IANA time zone 'Mars/Olympus'"),
    ("schedule_start_not_a_time", 5, "schedule.start: expected an ISO 8601 date and time"),
    ("schedule_style_unknown", 5, "schedule.style: Input should be 'rule' or 'scheduler'"),
    ("http_path_relative", 5, "http.path: a route path starts with '/' (got 'items')"),
    ("http_method_unknown", 5, "http.method: Input should be 'GET', 'POST'"),
    (
        "http_payload_version_unquoted",
        5,
        "payload_version: Input should be '1.0' or '2.0' (got 2.0)",
    ),
    ("http_duplicate_route", 6, "triggers.1.http.path: GET /items is already routed to 'f'"),
    # --- buckets ------------------------------------------------------------------------
    ("bucket_name_uppercase", 2, "invalid name 'Uploads': a bucket name is 3-63 lowercase"),
    ("bucket_missing_path", 2, "buckets.uploads.path: missing required key 'path'"),
    ("bucket_path_is_a_file", 2, "bucket_path_is_a_file.yaml' exists and is not a folder"),
    ("bucket_path_system_folder", 2, "buckets.uploads.path: '/usr' is a system folder"),
    ("bucket_path_root", 2, "buckets.uploads.path: '/' is the root of the file system"),
    ("bucket_announce_existing_quoted", 2, "announce_existing: Input should be a valid boolean"),
    ("bucket_unknown_key", 2, "buckets.uploads.pth: unknown key 'pth'; did you mean 'path'?"),
    # --- queues -------------------------------------------------------------------------
    ("queue_name_invalid", 2, "invalid name 'my queue': a queue name is up to 80"),
    ("queue_name_too_long", 2, "a queue name is up to 80 letters"),
    ("queue_visibility_timeout_over", 2, "queues.jobs.visibility_timeout: Input should be less"),
    ("queue_delay_seconds_over", 2, "queues.jobs.delay_seconds: Input should be less than"),
    ("queue_retention_too_short", 2, "queues.jobs.message_retention_period: Input should be"),
    ("queue_maximum_message_size_too_small", 2, "queues.jobs.maximum_message_size: Input"),
    ("queue_wait_time_over", 2, "queues.jobs.receive_message_wait_time_seconds: Input should"),
    ("queue_visibility_sexagesimal", 2, "visibility_timeout: Input should be a valid integer"),
    ("queue_redrive_unknown_dlq", 2, "unknown queue 'jobs-dql'; did you mean 'jobs-dlq'?"),
    ("queue_redrive_to_itself", 2, "a queue cannot be its own dead-letter queue"),
    ("queue_redrive_fifo_mismatch", 2, "the dead-letter queue must be FIFO exactly when"),
    ("queue_redrive_max_receive_zero", 2, "redrive.max_receive_count: Input should be greater"),
    ("queue_persist_quoted", 2, "queues.jobs.persist: Input should be a valid boolean"),
    # --- tables -------------------------------------------------------------------------
    ("table_missing_partition_key", 2, "partition_key: missing required key 'partition_key'"),
    ("table_key_type_unknown", 2, "partition_key_type: Input should be 'S', 'N' or 'B'"),
    ("table_stream_unknown", 2, "tables.orders.stream: Input should be 'KEYS_ONLY'"),
    ("table_name_too_short", 2, "invalid name 'ab': a table name is 3-255"),
    ("table_key_with_quote", 2, "tables.orders.partition_key: String should match pattern"),
    # --- several at once (each also checked in test_every_error_is_listed_in_line_order) --
    ("many_errors_at_once", 7, "unknown queue 'ordrs'; did you mean 'orders'?"),
]


def validate(path: Path) -> tuple[int, str]:
    """``eventsim validate -c path`` in this process: exit code and everything printed."""
    result = CliRunner().invoke(cli, ["validate", "-c", str(path)])
    # Exit codes travel as SystemExit; anything else escaping the command is a crash.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def assert_refused(path: Path, code: int, output: str, line: int | None, fragment: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output, output
    [found] = [text for text in output.splitlines() if fragment in text] or [None]
    assert found is not None, f"{fragment!r} not in:\n{output}"
    where = f"{path}:{line}:" if line is not None else f"{path}: "
    assert found.startswith(where), f"expected at {where}\n{output}"


def test_every_file_has_an_expectation() -> None:
    files = {path.stem for path in BROKEN.glob("*.yaml")}
    names = [name for name, _, _ in CASES]
    assert len(names) == len(set(names))
    assert files == set(names)
    assert len(files) >= 80


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("name", "line", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_a_broken_config_is_refused_with_its_position(
    name: str, line: int | None, fragment: str
) -> None:
    path = BROKEN / f"{name}.yaml"
    code, output = validate(path)
    assert_refused(path, code, output, line, fragment)


@pytest.mark.timeout(10)
def test_every_error_is_listed_in_line_order() -> None:
    path = BROKEN / "many_errors_at_once.yaml"
    code, output = validate(path)
    assert code == 2
    lines = output.splitlines()
    unknown = f"{path}:1:1: regoin: unknown key 'regoin'; did you mean 'region'? (expected one of: "
    assert lines[0].startswith(unknown) and "region, account, state_dir" in lines[0]
    assert lines[1:] == [
        f"{path}:5:5: functions.f.timeout: Input should be a valid integer "
        "(got '30'; write numbers without quotes)",
        f"{path}:7:15: functions.f.triggers.0.sqs.queue: unknown queue 'ordrs'; "
        "did you mean 'orders'? (defined: orders)",
        f"{path}:9:12: queues.orders.visibility_timeout: Input should be greater than or equal "
        "to 0 (got -1)",
        f"4 error(s) in {path}",
    ]


# --- generated hostile files --------------------------------------------------------------


def billion_laughs() -> str:
    """The classic: ten levels of ten aliases, 10**10 strings once expanded."""
    lines = ['l0: &l0 "lol"']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 11)]
    return "\n".join([*lines, "region: *l10", ""])


HOSTILE: list[tuple[str, str | bytes, int | None, str]] = [
    ("billion_laughs", billion_laughs(), 6, "alias *l4 expands the config past 20000 values"),
    ("brackets", "inherit_env: " + "[" * 5000 + "]" * 5000 + "\n", 1, "deeper than 100 levels"),
    ("braces", "server: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", 1, "deeper than 100 levels"),
    (
        "indentation",
        "".join(" " * depth + "a:\n" for depth in range(1000)),  # 5,000 would pass 1 MB
        101,
        "nested deeper than 100 levels",
    ),
    ("dashes", "inherit_env:\n" + "- " * 5000 + "x\n", 2, "nested deeper than 100 levels"),
    (
        "anchored_depth",
        "x: &x " + "[" * 99 + "]" * 99 + "\n" + "y: [*x]\n",
        2,
        "alias *x nests the config deeper than 100 levels",
    ),
    ("one_megabyte", "# padding\n" * 110_000, None, "1100000 bytes: over 1048576 bytes (1 MB)"),
    ("many_values", "inherit_env: [" + "A, " * 20_001 + "]\n", 1, "more than 20000 values"),
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("name", "content", "line", "fragment"), HOSTILE, ids=[h[0] for h in HOSTILE]
)
def test_a_hostile_config_is_refused_quickly(
    tmp_path: Path, name: str, content: str | bytes, line: int | None, fragment: str
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, output = validate(path)
    assert_refused(path, code, output, line, fragment)


@pytest.mark.timeout(10)
def test_a_large_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    # 64 MB of nothing: read or parsed, it would show; refused by its size, it cannot.
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        file.truncate(64 * 1024 * 1024)
    code, output = validate(path)
    assert_refused(path, code, output, None, f"{64 * 1024 * 1024} bytes: over 1048576 bytes")


@pytest.mark.timeout(10)
def test_what_is_not_a_config_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    assert_refused(missing, *validate(missing), None, "no such file")
    if hasattr(os, "mkfifo"):  # opening a FIFO without a writer would block forever
        fifo = tmp_path / "fifo.yaml"
        os.mkfifo(fifo)
        assert_refused(fifo, *validate(fifo), None, "not a regular file")


def test_a_folder_is_not_a_config_file(tmp_path: Path) -> None:
    # The command's option refuses a folder before the loader sees it; the API says why too.
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert [str(issue) for issue in info.value.issues] == [
        f"{tmp_path}: is a folder: name the config file (e.g. eventsim.yaml)"
    ]


# --- as a user runs it --------------------------------------------------------------------

AS_SUBPROCESS = [
    "yaml_alias_bomb",
    "yaml_python_object_tag",
    "encoding_utf16_with_bom",
    "function_timeout_quoted",
    "many_errors_at_once",
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", AS_SUBPROCESS)
def test_a_broken_config_is_refused_by_the_command(name: str) -> None:
    [(line, fragment)] = [(line, fragment) for n, line, fragment in CASES if n == name]
    path = BROKEN / f"{name}.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "eventsim", "validate", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=25,
    )
    assert_refused(path, done.returncode, done.stdout + done.stderr, line, fragment)


@pytest.mark.timeout(30)
def test_deep_nesting_is_refused_by_the_command(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("inherit_env: " + "[" * 5000 + "]" * 5000 + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "eventsim", "validate", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=25,
    )
    assert_refused(path, done.returncode, done.stdout + done.stderr, 1, "deeper than 100 levels")


@pytest.mark.timeout(10)
def test_a_huge_value_is_quoted_back_only_in_part(tmp_path: Path) -> None:
    """A 900 KB value where a region goes: one error line of its start and how much more, not
    a line of 900,000 characters."""
    path = tmp_path / "eventsim.yaml"
    path.write_text(f"region: {'x' * 900_000}\n")
    code, output = validate(path)
    assert_refused(path, code, output, 1, "region:")
    [line] = [line for line in output.splitlines() if "region" in line]
    assert len(line) < 1_000 and "more characters)" in line
