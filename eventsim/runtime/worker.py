"""The child process of ``isolation: process``: one execution environment.

Run as ``python -m eventsim.runtime.worker`` with the code folder as working directory and the
function's environment. It takes the protocol pipes from fds 0/1, points fds 0/1/2 elsewhere
so stray reads and writes cannot corrupt the protocol, imports the handler once (INIT), says
``ready``, then serves one invocation at a time until its input closes.

Python-level output (``print``, ``sys.stdout``/``sys.stderr``, ``logging``) is framed on the
protocol pipe in order with the result. Output written straight to fds 1 and 2 (C extensions,
subprocesses) is forwarded by a thread as it comes and drained before each result, so it too
lands before the END line. Standard library only.
"""

from __future__ import annotations

import io
import json
import logging
import os
import resource
import select
import sys
import threading
import time
from typing import Any, BinaryIO

from . import bootstrap, protocol
from .context import LambdaContext


class Channel:
    """Frames to the parent; shared by the main thread, handler threads and the fd reader."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._lock = threading.Lock()

    def send(self, header: dict[str, Any], body: bytes = b"") -> None:
        self.send_frame(protocol.encode(header, body))

    def send_frame(self, frame: bytes) -> None:
        with self._lock:
            self._out.write(frame)
            self._out.flush()

    def log(self, text: str) -> None:
        self.send({"op": "log"}, text.encode("utf-8", "replace"))


class LogStream(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` replacement that frames complete lines."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._partial = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            text = self._partial + text
            head, sep, self._partial = text.rpartition("\n")
        if sep:
            self._channel.log(head + sep)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            partial, self._partial = self._partial, ""
        if partial:
            self._channel.log(partial)

    @property
    def encoding(self) -> str:  # type: ignore[override]  # TextIOBase declares a property
        return "utf-8"


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _set_trace_id(value: str) -> None:
    """Set ``_X_AMZN_TRACE_ID`` for this invocation.

    ``os.environ[...] = ...`` calls setenv(3), and glibc never frees the string a new value
    replaces: about 130 bytes a request, for ever (27 MB after 200k invocations). After the
    first request only Python's mapping is updated, which is what handlers and the X-Ray SDK
    read; C code calling getenv() keeps seeing the first request's id.
    """
    data = getattr(os.environ, "_data", None)
    if data is None or "_X_AMZN_TRACE_ID" not in os.environ:
        os.environ["_X_AMZN_TRACE_ID"] = value
    else:
        data[os.environ.encodekey("_X_AMZN_TRACE_ID")] = os.environ.encodevalue(value)


def _setup_logging(stream: LogStream) -> _RequestIdFilter:
    """The runtime's root handler: format of docs/aws-behaviour.md §8.4, UTC times."""
    handler = logging.StreamHandler(stream)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.terminator = ""
    request_filter = _RequestIdFilter()
    handler.addFilter(request_filter)
    root = logging.getLogger()
    root.handlers = [handler]
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:
        root.setLevel(level.upper())
    return request_filter


class FdForwarder:
    """Forwards what is written straight to fds 1 and 2 as log frames.

    The pipe is only ever read under ``_lock``: by the thread when output arrives, and by the
    main thread in ``sync()`` just before a result is sent, so output written during an
    invocation is always framed before its result.
    """

    def __init__(self, read_fd: int, channel: Channel) -> None:
        os.set_blocking(read_fd, False)
        self._fd = read_fd
        self._channel = channel
        self._lock = threading.Lock()
        self._poll = select.poll()
        self._poll.register(read_fd, select.POLLIN)

    def run(self) -> None:
        while True:
            select.select([self._fd], [], [])
            with self._lock:
                if not self._drain():
                    return

    def sync(self) -> None:
        with self._lock:
            if self._poll.poll(0):
                self._drain()

    def _drain(self) -> bool:
        while True:
            try:
                chunk = os.read(self._fd, 65536)
            except BlockingIOError:
                return True
            if not chunk:
                return False
            self._channel.log(chunk.decode("utf-8", "replace"))


def _max_memory_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def main() -> None:
    proto_in = os.fdopen(os.dup(0), "rb")
    channel = Channel(os.fdopen(os.dup(1), "wb"))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 1)
    os.dup2(write_fd, 2)
    forwarder = FdForwarder(read_fd, channel)
    threading.Thread(target=forwarder.run, daemon=True).start()

    stream = LogStream(channel)
    sys.stdin = io.TextIOWrapper(io.BytesIO())
    sys.stdout = sys.stderr = stream
    request_filter = _setup_logging(stream)

    task_root = os.environ["LAMBDA_TASK_ROOT"]
    if sys.path[0] != task_root:
        sys.path.insert(0, task_root)

    started = time.perf_counter()
    init_error: bootstrap.ErrorObject | None = None
    try:
        handler = bootstrap.load_handler(os.environ["_HANDLER"])
    except Exception as exc:
        init_error = bootstrap.error_object(exc, "", skip_frames=1)
        stream.write(bootstrap.error_log_text(init_error) + "\n")
    init_ms = (time.perf_counter() - started) * 1000
    stream.flush()
    forwarder.sync()
    channel.send({"op": "ready", "init_ms": init_ms, "error": init_error})
    if init_error is not None:
        return

    environment = {
        "function_name": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        "function_version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
        "memory_limit_in_mb": os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"],
        "log_group_name": os.environ["AWS_LAMBDA_LOG_GROUP_NAME"],
        "log_stream_name": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
    }
    while (frame := protocol.read(proto_in)) is not None:
        header, body = frame
        request_id = header["id"]
        request_filter.request_id = request_id
        _set_trace_id(header["trace_id"])
        context = LambdaContext(
            **environment,
            invoked_function_arn=header["arn"],
            aws_request_id=request_id,
            deadline_ms=header["deadline_ms"],
            client_context=header.get("client_context"),
            identity=header.get("identity"),
        )
        started = time.perf_counter()
        error_type = None
        try:
            result = bootstrap.marshal(handler(bootstrap.unmarshal(body), context))
        except Exception as exc:
            error = bootstrap.error_object(exc, request_id, skip_frames=1)
            stream.write(bootstrap.error_log_text(error) + "\n")
            result = json.dumps(error).encode()
            error_type = error["errorType"]
        duration_ms = (time.perf_counter() - started) * 1000
        stream.flush()
        forwarder.sync()
        channel.send_frame(
            protocol.encode_result(
                error_type is None, error_type, duration_ms, _max_memory_kb(), result
            )
        )


if __name__ == "__main__":
    main()
