"""What the Lambda Python runtime does around a handler, as in awslambdaric's bootstrap.

Handler resolution and its errors (docs/aws-behaviour.md §8.1), the error object of an unhandled
exception (§8.4) and result marshalling. Standard library only: the child process imports this
at every cold start.
"""

from __future__ import annotations

import decimal
import importlib
import json
import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

Handler = Callable[[Any, Any], Any]
ErrorObject = dict[str, Any]


class Fault(Exception):
    """An error the runtime reports with a ``Runtime.*`` errorType."""

    def __init__(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack = stack or []

    def error_object(self, request_id: str = "") -> ErrorObject:
        return {
            "errorMessage": self.message,
            "errorType": self.error_type,
            "requestId": request_id,
            "stackTrace": self.stack,
        }


def load_handler(handler: str) -> Handler:
    """Import the module of ``module.function`` and return the function; raise ``Fault``.

    Exceptions raised by module-level code other than import and syntax errors propagate
    unchanged, as the real runtime reports them with their own type.
    """
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise Fault(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        stack = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
            stack,
        ) from None
    try:
        function: Handler = getattr(module, function_name)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None
    return function


def error_object(exc: BaseException, request_id: str, skip_frames: int = 0) -> ErrorObject:
    """The payload of an unhandled exception; ``skip_frames`` drops the runtime's own frames."""
    if isinstance(exc, Fault):
        return exc.error_object(request_id)
    tb: TracebackType | None = exc.__traceback__
    for _ in range(skip_frames):
        if tb is not None:
            tb = tb.tb_next
    frames = [
        frame
        for frame in traceback.extract_tb(tb)
        if not frame.filename.startswith("<frozen ") and frame.filename != __file__
    ]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def error_log_text(error: ErrorObject) -> str:
    """How the runtime writes an unhandled error to the function's log."""
    text = f"[ERROR] {error['errorType']}: {error['errorMessage']}"
    stack = error.get("stackTrace") or []
    if stack:
        text += "\nTraceback (most recent call last):\n" + "".join(stack).rstrip("\n")
    return text


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def marshal(result: Any) -> bytes:
    """Encode a handler's result as the runtime does; raise ``Fault`` (MarshalError)."""
    if isinstance(result, bytes | bytearray):
        return bytes(result)
    try:
        return json.dumps(result, default=_default, ensure_ascii=False).encode()
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


def unmarshal(body: bytes) -> Any:
    """Decode an event as the runtime does; raise ``Fault`` (UnmarshalError)."""
    try:
        return json.loads(body)
    except ValueError as exc:
        raise Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from None
