"""``isolation: process``: each execution environment is a child Python process.

The child (``eventsim.runtime.worker``) imports the handler once, then serves invocations over
its stdin/stdout pipes. On timeout the child is killed and the environment discarded; if it
exits mid-invocation the result is ``Runtime.ExitError``. Children run in their own session so
that a Ctrl-C in the terminal reaches only the simulator, which then shuts them down in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import uuid
from typing import Any

from . import protocol
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
from .spec import FunctionSpec

#: §8.5: the INIT phase may take at most 10 s.
INIT_LIMIT_S = 10.0
#: §8.5: the SHUTDOWN phase gets 2 s before the environment is killed.
SHUTDOWN_LIMIT_S = 2.0


class ProcessEnvironment(Environment):
    """One child process. Not reusable after ``usable`` turns False."""

    def __init__(self, spec: FunctionSpec, log_stream: str, env_id: str | None = None) -> None:
        self.spec = spec
        self.id = env_id or uuid.uuid4().hex
        self.log_stream = log_stream
        self._process: asyncio.subprocess.Process | None = None
        self._init_ms: float | None = None
        self._init_error: bytes | None = None
        self._on_log: LogLine = _discard

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    async def start(self, on_log: LogLine) -> None:
        self._on_log = on_log
        # Init Duration spans process start to handler imported: the cold start a user feels.
        started = time.perf_counter()
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "eventsim.runtime.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=self.spec.code_dir,
            env=self.spec.process_environment(self.log_stream),
            start_new_session=True,
            limit=protocol.HEADER_LIMIT,
        )
        try:
            async with asyncio.timeout(INIT_LIMIT_S):
                header, _ = await self._read_until(("ready",), on_log)
        except (TimeoutError, EOFError):
            # Report it on the invoke: an INIT that never finished behaves like a crash.
            self._init_ms = (time.perf_counter() - started) * 1000
            self.usable = False
            await self._kill()
            return
        self._init_ms = (time.perf_counter() - started) * 1000
        if header.get("error"):
            self._init_error = json.dumps(header["error"]).encode()
            self.usable = False

    async def invoke(self, request: InvokeRequest, on_log: LogLine) -> Execution:
        self._on_log = on_log
        init_ms, self._init_ms = self._init_ms, None
        process = self._process
        if self._init_error is not None or process is None or process.returncode is not None:
            return self._init_failure(request, init_ms)
        assert process.stdin is not None
        deadline_ms = int((time.time() + request.timeout_s) * 1000)
        header: dict[str, Any] = {
            "op": "invoke",
            "id": request.request_id,
            "arn": request.invoked_arn,
            "deadline_ms": deadline_ms,
            "trace_id": request.trace_id,
            "client_context": request.client_context,
            "identity": request.identity,
        }
        started = time.perf_counter()
        try:
            async with asyncio.timeout(request.timeout_s):
                process.stdin.write(protocol.encode(header, request.body))
                await process.stdin.drain()
                reply, body = await self._read_until(("result",), on_log)
        except TimeoutError:
            return await self._timed_out(request, started, init_ms)
        except (EOFError, ConnectionError):
            return await self._crashed(request, started, init_ms)
        return Execution(
            status=Status.OK if reply["ok"] else Status.ERROR,
            payload=body,
            error_type=reply.get("error_type"),
            duration_ms=reply["duration_ms"],
            init_duration_ms=init_ms,
            max_memory_kb=reply.get("max_memory_kb"),
        )

    async def close(self) -> None:
        self.usable = False
        process = self._process
        if process is None or process.returncode is not None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            async with asyncio.timeout(SHUTDOWN_LIMIT_S):
                # Output produced after the last result (background threads, atexit) still
                # reaches the log stream.
                with contextlib.suppress(EOFError):
                    await self._read_until((), self._on_log)
                await process.wait()
        except TimeoutError:
            await self._kill()

    async def _read_until(
        self, ops: tuple[str, ...], on_log: LogLine
    ) -> tuple[dict[str, Any], bytes]:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        while True:
            line = await stdout.readline()
            if not line:
                raise EOFError
            header = json.loads(line)
            size = header.get("n", 0)
            try:
                body = await stdout.readexactly(size) if size else b""
            except asyncio.IncompleteReadError:
                raise EOFError from None
            if header["op"] == "log":
                on_log(body.decode("utf-8", "replace"))
            elif header["op"] in ops:
                return header, body

    async def _kill(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()

    def _init_failure(self, request: InvokeRequest, init_ms: float | None) -> Execution:
        self.usable = False
        if self._init_error is not None:
            return init_failed(request, json.loads(self._init_error), init_ms)
        returncode = self._process.returncode if self._process else None
        return exited(request, returncode, 0.0, init_ms)

    async def _timed_out(
        self, request: InvokeRequest, started: float, init_ms: float | None
    ) -> Execution:
        elapsed = time.perf_counter() - started
        self.usable = False
        await self._kill()
        return timed_out(request, elapsed, init_ms)

    async def _crashed(
        self, request: InvokeRequest, started: float, init_ms: float | None
    ) -> Execution:
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.usable = False
        assert self._process is not None
        returncode = await self._process.wait()
        return exited(request, returncode, elapsed_ms, init_ms)


def _discard(text: str) -> None:
    pass
