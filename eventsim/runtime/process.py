"""``isolation: process``: each execution environment is a child Python process.

The child (``eventsim.runtime.worker``) imports the handler once, then serves invocations over
its stdin/stdout pipes. A ``SubprocessProtocol`` parses the child's frames as the bytes arrive:
log frames go straight to the current invocation's log (or, between invocations, to the last
one's stream), and ``ready``/``result`` frames resolve the waiting call. On timeout the child is
killed and the environment discarded; if it exits mid-invocation the result is
``Runtime.ExitError``. Children run in their own process group so that a Ctrl-C in the terminal
reaches only the simulator, which then shuts them down in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
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
from .environment import World
from .spec import FunctionSpec

#: §8.5: the INIT phase may take at most 10 s.
INIT_LIMIT_S = 10.0
#: §8.5: the SHUTDOWN phase gets 2 s before the environment is killed.
SHUTDOWN_LIMIT_S = 2.0

Frame = tuple[dict[str, Any], bytes]
_EVENTSIM_ROOT = str(Path(__file__).resolve().parents[2])


class _ChildProtocol(asyncio.SubprocessProtocol):
    """Splits the child's stdout into frames; one caller at a time waits for a reply."""

    def __init__(self, on_log: LogLine) -> None:
        self.on_log = on_log
        self.reply: asyncio.Future[Frame] | None = None
        self.exited: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buffer = bytearray()
        self._header: dict[str, Any] | None = None

    def expect_reply(self) -> asyncio.Future[Frame]:
        self.reply = asyncio.get_running_loop().create_future()
        if self.exited.done():
            self.reply.set_exception(EOFError())
        return self.reply

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        buffer = self._buffer
        buffer += data if isinstance(data, bytes) else data.encode()
        while True:
            if self._header is None:
                end = buffer.find(b"\n")
                if end < 0:
                    return
                self._header = json.loads(buffer[:end])
                del buffer[: end + 1]
            size = self._header.get("n", 0)
            if len(buffer) < size:
                return
            header, body = self._header, bytes(buffer[:size])
            del buffer[:size]
            self._header = None
            if header["op"] == "log":
                self.on_log(body.decode("utf-8", "replace"))
            elif self.reply is not None and not self.reply.done():
                self.reply.set_result((header, body))

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)
        if self.reply is not None and not self.reply.done():
            self.reply.set_exception(EOFError())


class ProcessEnvironment(Environment):
    """One child process. Not reusable after ``usable`` turns False."""

    def __init__(
        self, spec: FunctionSpec, log_stream: str, world: World, env_id: str | None = None
    ) -> None:
        self.spec = spec
        self._world = world
        self.id = env_id or uuid.uuid4().hex
        self.log_stream = log_stream
        self._transport: asyncio.SubprocessTransport | None = None
        self._stdin: asyncio.WriteTransport | None = None
        self._child: _ChildProtocol | None = None
        self._init_ms: float | None = None
        self._init_error: dict[str, Any] | None = None
        self._expired = False

    def _environment(self) -> dict[str, str]:
        env = self._world.environment(self.spec, self.log_stream, os.environ)
        # The child imports eventsim.runtime.worker; make sure it can, even from a checkout.
        path = env.get("PYTHONPATH")
        env["PYTHONPATH"] = f"{path}{os.pathsep}{_EVENTSIM_ROOT}" if path else _EVENTSIM_ROOT
        return env

    @property
    def pid(self) -> int | None:
        return self._transport.get_pid() if self._transport else None

    @property
    def returncode(self) -> int | None:
        return self._transport.get_returncode() if self._transport else None

    async def start(self, on_log: LogLine) -> None:
        # Init Duration spans process start to handler imported: the cold start a user feels.
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        self._transport, self._child = await loop.subprocess_exec(
            lambda: _ChildProtocol(on_log),
            sys.executable,
            # No __pycache__ written into the user's code folder: a module saved twice within a
            # second at the same size would otherwise load the first save's bytecode after a
            # reload (the cache is checked by size and whole-second mtime).
            "-B",
            "-m",
            "eventsim.runtime.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,
            cwd=self.spec.code_dir,
            env=self._environment(),
            # A process group of its own: a Ctrl-C in the terminal reaches only eventsim, which
            # shuts the children down in order. (A new session would also be a scheduler group
            # of its own on Linux with autogroup, slowing invocations on a busy machine.)
            process_group=0,
        )
        stdin = self._transport.get_pipe_transport(0)
        assert isinstance(stdin, asyncio.WriteTransport)
        self._stdin = stdin
        try:
            async with asyncio.timeout(INIT_LIMIT_S):
                header, _ = await self._child.expect_reply()
        except (TimeoutError, EOFError):
            # Reported on the invoke: an INIT that never finished behaves like a crash.
            self._init_ms = (time.perf_counter() - started) * 1000
            self.usable = False
            await self._kill()
            return
        self._init_ms = (time.perf_counter() - started) * 1000
        if header.get("error"):
            self._init_error = header["error"]
            self.usable = False

    async def invoke(self, request: InvokeRequest, on_log: LogLine) -> Execution:
        init_ms, self._init_ms = self._init_ms, None
        child, stdin = self._child, self._stdin
        if self._init_error is not None or child is None or stdin is None or child.exited.done():
            return self._init_failure(request, init_ms)
        child.on_log = on_log
        extra: dict[str, Any] | None = None
        if request.client_context is not None or request.identity is not None:
            extra = {"client_context": request.client_context, "identity": request.identity}
        reply = child.expect_reply()
        started = time.perf_counter()
        stdin.write(
            protocol.encode_invoke(
                request.request_id,
                request.invoked_arn,
                int((time.time() + request.timeout_s) * 1000),
                request.trace_id,
                extra,
                request.body,
            )
        )
        # At the deadline the child is killed; the reply then fails and we report it.
        deadline = asyncio.get_running_loop().call_later(request.timeout_s, self._expire)
        try:
            header, body = await reply
        except EOFError:
            elapsed = time.perf_counter() - started
            self.usable = False
            await self._kill()
            if self._expired:
                return timed_out(request, elapsed, init_ms)
            return exited(request, self.returncode, elapsed * 1000, init_ms)
        finally:
            deadline.cancel()
        return Execution(
            status=Status.OK if header["ok"] else Status.ERROR,
            payload=body,
            error_type=header.get("error_type"),
            duration_ms=header["duration_ms"],
            init_duration_ms=init_ms,
            max_memory_kb=header.get("max_memory_kb"),
        )

    async def close(self) -> None:
        self.usable = False
        if self._child is None or self._child.exited.done():
            await self._kill()  # reaps it
            return
        if self._stdin is not None:
            self._stdin.close()  # the child's loop ends at end of input
        try:
            async with asyncio.timeout(SHUTDOWN_LIMIT_S):
                await self._child.exited
        except TimeoutError:
            pass
        await self._kill()

    def _expire(self) -> None:
        self._expired = True
        self.usable = False
        if self._transport is not None and self._transport.get_returncode() is None:
            with contextlib.suppress(ProcessLookupError):
                self._transport.kill()

    async def _kill(self) -> None:
        transport, child = self._transport, self._child
        if transport is None or child is None:
            return
        if transport.get_returncode() is None:
            with contextlib.suppress(ProcessLookupError):
                transport.kill()
        await child.exited
        transport.close()

    def _init_failure(self, request: InvokeRequest, init_ms: float | None) -> Execution:
        self.usable = False
        if self._init_error is not None:
            return init_failed(request, self._init_error, init_ms)
        return exited(request, self.returncode, 0.0, init_ms)
