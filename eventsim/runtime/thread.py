"""``isolation: thread``: the handler runs in a worker thread of the simulator's process.

Fast, and in-process mocks reach the handler. What it cannot do, by construction:

* a timed-out handler cannot be killed: its result is the timeout error as in AWS, the
  environment is discarded, but the thread runs on until the handler returns;
* a crash (``sys.exit``, ``os._exit``, a segfault) is not contained: ``SystemExit`` is reported
  as ``Runtime.ExitError``, the others take the simulator's process with them;
* environment variables and modules are process-wide: the function's variables (the Lambda
  ones, its own, and the closed world's credentials and endpoints) are set in ``os.environ``
  and the parent's AWS variables that lead elsewhere are removed (all restored when the last
  thread environment goes), but the rest of the parent's environment stays visible; every
  environment of every thread function shares one imported copy of each module, so module
  globals persist across environments too;
* Max Memory Used is the peak of the whole simulator process.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import resource
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

from . import bootstrap
from .base import (
    Environment,
    Execution,
    InvokeRequest,
    LogLine,
    Status,
    exited,
    init_failed,
    timed_out,
)
from .context import LambdaContext
from .environment import LEADS_ELSEWHERE, World
from .spec import VERSION, FunctionSpec

#: Not set in a shared process: they would change how the simulator and the tests run.
_NOT_SET_IN_PROCESS = frozenset({"TZ", "LANG"})


class _Routed(threading.local):
    """Where the current thread's output goes: its invocation's log, a line at a time."""

    sink: LogLine | None = None
    request_id: str = ""
    partial: str = ""  # written since the last newline, not yet a line

    def write(self, text: str) -> None:
        """Pass on the complete lines of what was written so far; keep the rest, as the
        process child does (``print("a", 1)`` is one line, not four writes)."""
        assert self.sink is not None
        head, newline, self.partial = (self.partial + text).rpartition("\n")
        if newline:
            self.sink(head + newline)

    def flush(self) -> None:
        """A trailing partial line becomes a line (a flush, or the invocation ended)."""
        partial, self.partial = self.partial, ""
        if partial and self.sink is not None:
            self.sink(partial)


class _RoutedStream(io.TextIOBase):
    """Stands in for sys.stdout/sys.stderr: handler threads write to their invocation's log,
    complete lines only (stdout and stderr share the partial line, as in the process child)."""

    def __init__(self, routed: _Routed, original: TextIO) -> None:
        self._routed = routed
        self.original = original

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._routed.sink is None:
            return self.original.write(text)
        self._routed.write(text)
        return len(text)

    def flush(self) -> None:
        if self._routed.sink is None:
            self.original.flush()
        else:
            self._routed.flush()


class _RoutedLogHandler(logging.Handler):
    """The runtime's log format (§8.4), for records emitted on handler threads only."""

    def __init__(self, routed: _Routed) -> None:
        super().__init__()
        self._routed = routed
        formatter = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
        formatter.converter = time.gmtime
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        if self._routed.sink is not None:
            record.aws_request_id = self._routed.request_id
            self._routed.write(self.format(record) + "\n")


class ThreadHost:
    """Process-wide state of thread isolation, installed while any thread function exists."""

    def __init__(self) -> None:
        self._routed = _Routed()
        self._log_handler = _RoutedLogHandler(self._routed)
        self._saved_env: dict[str, str | None] = {}
        self._applied: dict[str, str] | None = None
        self._installed = False

    def install(self) -> None:
        if self._installed:
            return
        sys.stdout = _RoutedStream(self._routed, sys.stdout)
        sys.stderr = _RoutedStream(self._routed, sys.stderr)
        logging.getLogger().addHandler(self._log_handler)
        self._installed = True

    def uninstall(self) -> None:
        if not self._installed:
            return
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if isinstance(stream, _RoutedStream):
                setattr(sys, name, stream.original)
        logging.getLogger().removeHandler(self._log_handler)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        self._applied = None
        self._installed = False

    def apply_environment(self, variables: dict[str, str]) -> None:
        if variables is self._applied:
            return  # the same environment as last time: nothing to set
        self._applied = variables
        for key in [k for k in os.environ if LEADS_ELSEWHERE.match(k) and k not in variables]:
            self._saved_env.setdefault(key, os.environ[key])
            del os.environ[key]
        for key, value in variables.items():
            if key in _NOT_SET_IN_PROCESS:
                continue
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def route(self, sink: LogLine | None, request_id: str = "") -> None:
        """Send the calling thread's output to ``sink`` (None: back to the real streams); the
        partial line of the previous sink is flushed to it first."""
        self._routed.flush()
        self._routed.sink = sink
        self._routed.request_id = request_id

    def write(self, text: str) -> None:
        """Write to the calling thread's invocation log, after its partial line."""
        self._routed.write(text)


class ThreadEnvironment(Environment):
    """A dedicated worker thread; the handler module is imported in-process."""

    def __init__(
        self,
        spec: FunctionSpec,
        log_stream: str,
        host: ThreadHost,
        world: World,
        env_id: str | None = None,
    ) -> None:
        self.spec = spec
        self.id = env_id or uuid.uuid4().hex
        self.log_stream = log_stream
        self._host = host
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"eventsim-{spec.name}")
        closed = world.closed()
        self._variables = {
            **spec.runtime_environment(log_stream),
            **closed,
            **{k: v for k, v in spec.user_environment.items() if k in closed},
        }
        self._handler: bootstrap.Handler | None = None
        self._init_error: bootstrap.ErrorObject | None = None
        self._init_ms: float | None = None

    async def start(self, on_log: LogLine) -> None:
        self._host.install()
        self._host.apply_environment(self._variables)
        code_dir = str(self.spec.code_dir)
        if code_dir not in sys.path:
            sys.path.insert(0, code_dir)
        loop = asyncio.get_running_loop()
        sink = self._threadsafe(on_log)
        started = time.perf_counter()
        self._handler, self._init_error = await loop.run_in_executor(
            self._executor, self._load, sink
        )
        self._init_ms = (time.perf_counter() - started) * 1000
        if self._init_error is not None:
            self.usable = False

    def _load(self, sink: LogLine) -> tuple[bootstrap.Handler | None, bootstrap.ErrorObject | None]:
        self._host.route(sink)
        try:
            return bootstrap.load_handler(self.spec.handler), None
        except Exception as exc:
            error = bootstrap.error_object(exc, "")
            self._host.write(bootstrap.error_log_text(error) + "\n")
            return None, error
        finally:
            self._host.route(None)

    async def invoke(self, request: InvokeRequest, on_log: LogLine) -> Execution:
        init_ms, self._init_ms = self._init_ms, None
        if self._handler is None:
            return init_failed(request, self._init_error or {}, init_ms)
        self._host.apply_environment(self._variables)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._executor, self._run, self._handler, request, self._threadsafe(on_log)
        )
        started = time.perf_counter()
        try:
            async with asyncio.timeout(request.timeout_s):
                execution = await asyncio.shield(future)
        except TimeoutError:
            self.usable = False
            self._executor.shutdown(wait=False)
            return timed_out(request, time.perf_counter() - started, init_ms)
        execution.init_duration_ms = init_ms
        return execution

    def _run(self, handler: bootstrap.Handler, request: InvokeRequest, sink: LogLine) -> Execution:
        self._host.route(sink, request.request_id)
        context = LambdaContext(
            function_name=self.spec.name,
            function_version=VERSION,
            invoked_function_arn=request.invoked_arn,
            memory_limit_in_mb=str(self.spec.memory_mb),
            aws_request_id=request.request_id,
            log_group_name=self.spec.log_group,
            log_stream_name=self.log_stream,
            deadline_ms=int((time.time() + request.timeout_s) * 1000),
            client_context=request.client_context,
            identity=request.identity,
        )
        started = time.perf_counter()
        status, error_type = Status.OK, None
        try:
            payload = bootstrap.marshal(handler(bootstrap.unmarshal(request.body), context))
        except SystemExit as exc:
            self.usable = False
            code = exc.code if isinstance(exc.code, int) else 1
            elapsed_ms = (time.perf_counter() - started) * 1000
            return exited(request, code, elapsed_ms, None)
        except Exception as exc:
            error = bootstrap.error_object(exc, request.request_id, skip_frames=1)
            self._host.write(bootstrap.error_log_text(error) + "\n")
            status, error_type = Status.ERROR, error["errorType"]
            payload = json.dumps(error).encode()
        finally:
            self._host.route(None)
        return Execution(
            status,
            payload,
            error_type=error_type,
            duration_ms=(time.perf_counter() - started) * 1000,
            max_memory_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        )

    @staticmethod
    def _threadsafe(on_log: LogLine) -> LogLine:
        loop = asyncio.get_running_loop()

        def sink(text: str) -> None:
            loop.call_soon_threadsafe(on_log, text)

        return sink

    async def close(self) -> None:
        self.usable = False
        self._executor.shutdown(wait=False)
