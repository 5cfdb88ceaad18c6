"""The Lambda runtime contract, in both isolation modes, against real handlers."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import sys
import uuid
from pathlib import Path

import pytest
import structlog

from eventsim import FunctionNotFound, Outcome
from eventsim.runtime import logs
from eventsim.runtime.pool import Concurrency

from .helpers import FUNCTIONS, MakeSim, function

pytestmark = pytest.mark.asyncio

BOTH = pytest.mark.parametrize("isolation", ["process", "thread"])


@BOTH
async def test_result_is_returned_and_recorded(make_sim: MakeSim, isolation: str) -> None:
    sim = await make_sim({"echo": function("echo", isolation=isolation)})
    result = await sim.invoke("echo", {"x": 1, "nested": [1, "two", None]})

    assert result.function_error is None
    assert result.payload == {"x": 1, "nested": [1, "two", None]}
    assert result.status_code == 200
    assert re.fullmatch(r"[0-9a-f-]{36}", result.request_id)
    [attempt] = sim.ledger.for_function("echo")
    assert attempt.outcome is Outcome.SUCCESS
    assert attempt.event == {"x": 1, "nested": [1, "two", None]}
    assert attempt.request_id == result.request_id
    assert attempt.attempt == 1 and attempt.source == "invoke"
    assert attempt.started_at == sim.clock.now()  # virtual clock: stands still


@BOTH
async def test_unhandled_exception_gives_the_aws_error_object(
    make_sim: MakeSim, isolation: str
) -> None:
    sim = await make_sim({"fail": function("fail", isolation=isolation)})
    result = await sim.invoke("fail", {"no": "action"})

    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "KeyError"
    assert result.payload["errorMessage"] == "'action'"
    assert result.payload["requestId"] == result.request_id
    [frame] = result.payload["stackTrace"]
    assert "behaviours.py" in frame and "in fail" in frame
    assert "[ERROR] KeyError: 'action'" in result.log_tail
    assert sim.ledger.for_function("fail")[0].outcome is Outcome.ERROR
    assert sim.ledger.for_function("fail")[0].error_type == "KeyError"


@BOTH
async def test_unserializable_result_is_a_marshal_error(make_sim: MakeSim, isolation: str) -> None:
    sim = await make_sim({"f": function("unserializable", isolation=isolation)})
    result = await sim.invoke("f")

    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Runtime.MarshalError"
    assert result.payload["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )


@BOTH
async def test_decimal_and_bytes_results(make_sim: MakeSim, isolation: str) -> None:
    sim = await make_sim(
        {
            "dec": function("decimals", isolation=isolation),
            "raw": function("raw_bytes", isolation=isolation),
        }
    )
    assert (await sim.invoke("dec")).payload == {"price": 1.5, "qty": 3}
    raw = await sim.invoke("raw")
    assert raw.raw_payload == b"not json at all" and raw.function_error is None


@BOTH
@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        ("nodot", "Runtime.MalformedHandlerName", "Bad handler 'nodot': not enough values"),
        (
            "import_error.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'import_error': No module named 'module_that_does_not_exist'",
        ),
        (
            "syntax_error.handler",
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'syntax_error': ",
        ),
        (
            "behaviours.missing",
            "Runtime.HandlerNotFound",
            "Handler 'missing' missing on module 'behaviours'",
        ),
        (
            "sys.handler",
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module sys as a handler module",
        ),
        ("init_raises.handler", "ValueError", "configuration missing at import time"),
    ],
)
async def test_init_errors_match_the_python_runtime(
    make_sim: MakeSim, isolation: str, handler: str, error_type: str, message: str
) -> None:
    sim = await make_sim(
        {"f": {"handler": handler, "code": str(FUNCTIONS), "isolation": isolation}}
    )
    result = await sim.invoke("f")

    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == error_type
    assert result.payload["errorMessage"].startswith(message)
    assert result.init_duration_ms is not None
    # The environment is discarded: the next invoke runs INIT again and fails the same way.
    again = await sim.invoke("f")
    assert again.payload["errorType"] == error_type and again.init_duration_ms is not None


@BOTH
async def test_context_object(make_sim: MakeSim, isolation: str) -> None:
    sim = await make_sim(
        {"ctx": function("describe_context", isolation=isolation, timeout=7, memory=256)},
        region="eu-west-1",
        account="210987654321",
    )
    result = await sim.invoke("ctx", client_context={"custom": {"k": "v"}})
    ctx = result.payload

    assert ctx["function_name"] == "ctx"
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == "arn:aws:lambda:eu-west-1:210987654321:function:ctx"
    assert ctx["memory_limit_in_mb"] == "256"
    assert ctx["aws_request_id"] == result.request_id
    assert ctx["log_group_name"] == "/aws/lambda/ctx"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", ctx["log_stream_name"])
    assert 6000 < ctx["remaining_ms"] <= 7000
    assert ctx["client_context_custom"] == {"k": "v"}
    assert ctx["identity_id"] is None


@BOTH
async def test_logs_are_framed_by_start_end_report(make_sim: MakeSim, isolation: str) -> None:
    sim = await make_sim({"chatty": function("chatty", isolation=isolation, memory=512)})
    result = await sim.invoke("chatty")
    lines = result.log_tail.splitlines()
    rid = result.request_id

    assert lines[0] == f"START RequestId: {rid} Version: $LATEST"
    assert "printed line" in lines and "stderr line" in lines
    warning = next(line for line in lines if "a warning from logging" in line)
    assert re.fullmatch(
        rf"\[WARNING\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{rid}\ta warning from logging",
        warning,
    )
    end_at = lines.index(f"END RequestId: {rid}")
    assert lines.index("printed line") < end_at
    report = next(line for line in lines if line.startswith("REPORT"))
    assert re.fullmatch(
        rf"REPORT RequestId: {rid}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
        rf"Memory Size: 512 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms\t",
        report,
    )
    # The same lines are in the function's log stream file (flushed at the latest on close).
    await sim.close()
    [log_file] = (sim.state_dir / "logs" / "chatty").iterdir()
    assert log_file.read_text().splitlines() == lines


async def test_fd_level_output_lands_before_end(make_sim: MakeSim) -> None:
    sim = await make_sim({"chatty": function("chatty")})
    lines = (await sim.invoke("chatty")).log_tail.splitlines()
    assert lines.index("raw fd write") < lines.index(next(x for x in lines if x.startswith("END")))


async def test_init_output_precedes_start(make_sim: MakeSim) -> None:
    sim = await make_sim({"f": function("init_prints.handler")})
    lines = (await sim.invoke("f")).log_tail.splitlines()
    assert lines[0] == "module-level print during INIT"
    assert lines[1].startswith("START RequestId:")


async def test_warm_environment_keeps_globals_and_cold_start_is_reported(
    make_sim: MakeSim,
) -> None:
    sim = await make_sim({"count": function("count")})
    first = await sim.invoke("count")
    second = await sim.invoke("count")

    assert first.payload["count"] == 1 and second.payload["count"] == 2
    assert first.payload["pid"] == second.payload["pid"]
    assert first.init_duration_ms is not None and first.init_duration_ms > 0
    assert second.init_duration_ms is None
    assert "Init Duration" not in second.log_tail
    assert [a.cold_start for a in sim.ledger.for_function("count")] == [True, False]


async def test_environments_do_not_share_globals_across_functions(make_sim: MakeSim) -> None:
    sim = await make_sim({"a": function("count"), "b": function("count")})
    await sim.invoke("a")
    await sim.invoke("a")
    assert (await sim.invoke("b")).payload["count"] == 1


async def test_environment_variables(make_sim: MakeSim) -> None:
    sim = await make_sim(
        {"env": function("environment", memory=1024, environment={"TABLE": "orders"})},
        region="ap-southeast-2",
    )
    names = [
        "TABLE",
        "_HANDLER",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "LAMBDA_TASK_ROOT",
        "TZ",
        "_X_AMZN_TRACE_ID",
        "AWS_ACCESS_KEY_ID",
    ]
    env = (await sim.invoke("env", {"names": names})).payload

    assert env["TABLE"] == "orders"
    assert env["_HANDLER"] == "behaviours.environment"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "ap-southeast-2"
    assert re.fullmatch(r"AWS_Lambda_python3\.\d+", env["AWS_EXECUTION_ENV"])
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "env"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/env"
    assert env["LAMBDA_TASK_ROOT"] == str(FUNCTIONS)
    assert env["TZ"] == ":UTC"
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert env["AWS_ACCESS_KEY_ID"]


async def test_the_trace_id_is_new_each_invocation_in_a_group_of_its_own(
    make_sim: MakeSim,
) -> None:
    sim = await make_sim({"facts": function("process_facts")})
    first = (await sim.invoke("facts")).payload
    second = (await sim.invoke("facts")).payload  # the same warm environment
    assert first["pid"] == second["pid"] and first["trace"] != second["trace"]
    assert second["trace"].startswith("Root=1-")
    # Its own process group (a terminal's Ctrl-C reaches only eventsim), not its own session.
    assert first["pgid"] == first["pid"] != os.getpgid(0)
    assert first["sid"] == os.getsid(0)


@pytest.mark.filterwarnings("ignore:The test <Function test_function_logs_rotate>")
async def test_function_logs_rotate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_LOG_BYTES", 1000)
    sink = logs.LogSink(tmp_path, logger=structlog.get_logger("test").bind())
    for n in range(100):
        sink.emit("f", "stream", "r", f"line {n:04} " + "x" * 40, "function")
    sink.close()
    path = sink.path("f", "stream")
    current, previous = path.read_text(), path.with_name(path.name + ".1").read_text()
    assert len(current) <= 1100 and len(previous) <= 1100
    assert current.splitlines()[-1].startswith("line 0099")
    assert previous.splitlines()[-1] < current.splitlines()[0]


async def test_code_folder_is_cwd_and_first_on_path(make_sim: MakeSim) -> None:
    sim = await make_sim({"f": function("cwd_and_path")})
    assert (await sim.invoke("f")).payload == {"cwd": str(FUNCTIONS), "path0": str(FUNCTIONS)}


async def test_timeout_kills_the_environment(make_sim: MakeSim) -> None:
    sim = await make_sim({"slow": function("slow", timeout=1), "count": function("count")})
    result = await sim.invoke("slow", {"seconds": 30})

    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(
        rf"RequestId: {result.request_id} Error: Task timed out after 1\.\d\d seconds",
        result.payload["errorMessage"],
    )
    assert 1000 <= result.duration_ms < 3000
    assert re.search(r"Z \S+ Task timed out after 1\.\d\d seconds$", result.log_tail.strip())
    [attempt] = sim.ledger.for_function("slow")
    assert attempt.outcome is Outcome.TIMEOUT
    # The killed environment is gone: the next invoke is a cold start that succeeds.
    after = await sim.invoke("slow", {"seconds": 0})
    assert after.payload == "finished" and after.init_duration_ms is not None


@pytest.mark.parametrize(
    ("handler", "event", "message"),
    [
        ("exit_", {"code": 1}, "Runtime exited with error: exit status 1"),
        ("exit_", {"code": 0}, "Runtime exited without providing a reason"),
        ("hard_exit", {}, "Runtime exited with error: exit status 3"),
        ("segfault", {}, "Runtime exited with error: signal: segmentation fault"),
    ],
)
async def test_crash_is_an_exit_error_and_the_simulator_keeps_serving(
    make_sim: MakeSim, handler: str, event: dict[str, int], message: str
) -> None:
    sim = await make_sim({"crash": function(handler), "echo": function("echo")})
    result = await sim.invoke("crash", event)

    assert result.function_error == "Unhandled"
    assert result.payload == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {result.request_id} Error: {message}",
    }
    assert sim.ledger.for_function("crash")[0].outcome is Outcome.CRASH
    assert (await sim.invoke("echo", [1])).payload == [1]
    assert (await sim.invoke("crash", event)).init_duration_ms is not None  # fresh environment


async def test_thread_timeout_returns_the_timeout_error(make_sim: MakeSim) -> None:
    sim = await make_sim({"slow": function("slow", timeout=1, isolation="thread")})
    result = await sim.invoke("slow", {"seconds": 1.3})
    assert result.payload["errorType"] == "Sandbox.Timedout"
    assert sim.ledger.for_function("slow")[0].outcome is Outcome.TIMEOUT


async def test_thread_system_exit_is_an_exit_error(make_sim: MakeSim) -> None:
    sim = await make_sim({"f": function("exit_", isolation="thread")})
    result = await sim.invoke("f", {"code": 2})
    assert result.payload["errorType"] == "Runtime.ExitError"
    assert result.payload["errorMessage"].endswith("exit status 2")


async def test_thread_isolation_lets_in_process_mocks_reach_the_handler(
    make_sim: MakeSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = await make_sim({"f": function("cwd_and_path", isolation="thread")})
    await sim.invoke("f")  # imports behaviours in this process
    import behaviours  # type: ignore[import-not-found]

    monkeypatch.setattr(behaviours.os, "getcwd", lambda: "/patched")
    assert (await sim.invoke("f")).payload["cwd"] == "/patched"


@BOTH
async def test_powertools_logger_reads_the_context(make_sim: MakeSim, isolation: str) -> None:
    sim = await make_sim({"orders": function("powertools_app.handler", isolation=isolation)})
    result = await sim.invoke("orders", {"order": 7})

    assert result.function_error is None, result.payload
    line = next(x for x in result.log_tail.splitlines() if '"processing"' in x)
    record = json.loads(line)
    assert record["function_name"] == "orders"
    assert record["function_request_id"] == result.request_id
    assert record["function_memory_size"] == "128"
    assert record["function_arn"].endswith(":function:orders")
    assert record["order"] == 7


async def test_a_reload_runs_the_saved_code_even_at_the_same_size_and_second(
    make_sim: MakeSim, tmp_path: Path
) -> None:
    """Python's bytecode cache is checked by size and whole-second mtime: a module saved twice
    within a second at the same size must still run the second save after a reload."""
    module = tmp_path / "app.py"
    module.write_text("def handler(event, context):\n    return 'v1'\n")
    stamp = module.stat().st_mtime
    sim = await make_sim({"f": {"handler": "app.handler", "code": str(tmp_path)}})
    assert (await sim.invoke("f")).payload == "v1"
    module.write_text("def handler(event, context):\n    return 'v2'\n")
    os.utime(module, (stamp, stamp))
    sim.reload()
    assert (await sim.invoke("f")).payload == "v2"
    assert not (tmp_path / "__pycache__").exists()  # nothing written into the code folder


GATE = """
import threading

entered = threading.Semaphore(0)
release = threading.Event()


def handler(event, context):
    entered.release()
    release.wait(30)
    return "done"
"""


@pytest.mark.timeout(60)
async def test_concurrency_counts_running_environments_and_the_peak(
    make_sim: MakeSim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"gate_{uuid.uuid4().hex}"  # thread isolation shares sys.modules: a fresh module
    (tmp_path / f"{name}.py").write_text(GATE)
    spec = importlib.util.spec_from_file_location(name, tmp_path / f"{name}.py")
    assert spec is not None and spec.loader is not None
    gate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gate)
    monkeypatch.setitem(sys.modules, name, gate)  # the handler's import finds this one
    sim = await make_sim(
        {"g": {"handler": f"{name}.handler", "code": str(tmp_path), "isolation": "thread"},
         "idle": function("echo")}
    )  # fmt: skip
    assert sim.concurrency("g") == Concurrency(now=0, peak=0)
    running = [asyncio.create_task(sim.invoke("g")) for _ in range(3)]
    for _ in running:  # each handler says it runs (from its own thread)
        await asyncio.to_thread(gate.entered.acquire)
    assert sim.concurrency("g") == Concurrency(now=3, peak=3)
    gate.release.set()
    assert [r.payload for r in await asyncio.gather(*running)] == ["done"] * 3
    assert sim.concurrency("g") == Concurrency(now=0, peak=3)
    await sim.invoke("g")  # one at a time: the peak stays
    assert sim.concurrency("g") == Concurrency(now=0, peak=3)
    assert sim.concurrency("idle") == Concurrency(now=0, peak=0)
    with pytest.raises(FunctionNotFound):
        sim.concurrency("nope")


SPLIT_WRITES = """
import logging
import sys


def handler(event, context):
    print("a", 1)
    print("b", "c", sep="-", end="|")
    print("d")
    sys.stdout.write("one\\ntwo\\nthr")
    sys.stdout.write("ee\\n")
    logging.getLogger().warning("logged")
    sys.stderr.write("no newline at the end")
    return "ok"
"""


async def test_print_gives_the_same_log_lines_in_both_isolations(
    make_sim: MakeSim, tmp_path: Path
) -> None:
    name = f"split_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(SPLIT_WRITES)
    config = {"handler": f"{name}.handler", "code": str(tmp_path)}
    sim = await make_sim(
        {"p": {**config, "isolation": "process"}, "t": {**config, "isolation": "thread"}}
    )
    printed = {}
    for function_name in ("p", "t"):
        result = await sim.invoke(function_name)
        lines = result.log_tail.splitlines()
        start = lines.index(f"START RequestId: {result.request_id} Version: $LATEST")
        end = lines.index(f"END RequestId: {result.request_id}")
        printed[function_name] = [
            re.sub(r"\t.*\t", "\t(time and id)\t", line) for line in lines[start + 1 : end]
        ]
    assert printed["t"] == printed["p"] == [
        "a 1", "b-c|d", "one", "two", "three", "[WARNING]\t(time and id)\tlogged",
        "no newline at the end",
    ]  # fmt: skip
