"""Lambda's API on the edge: Invoke (``POST /2015-03-31/functions/{name}/invocations``, as
docs/aws-behaviour.md §8.6 describes it), the functions of the config (ListFunctions,
GetFunction, GetFunctionConfiguration), and the event source mappings — the ``sqs`` and
``dynamodb`` triggers — (ListEventSourceMappings, GetEventSourceMapping, and
UpdateEventSourceMapping with ``Enabled`` to pause and resume one at run time).
"""

from __future__ import annotations

import base64
import binascii
import re
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from aiohttp import web

from ..errors import ApiError, FunctionNotFound, InvokeError, TooManyRequests
from ..invocation.sync import SYNC_PAYLOAD_LIMIT
from ..runtime.logs import TAIL_BYTES
from .protocol import json_response, parse_json
from .services import Service

if TYPE_CHECKING:
    from ..simulator import InvocationType, Simulator

#: §8.6: the largest X-Amz-Client-Context Lambda takes (base64 text).
CLIENT_CONTEXT_BYTES = 3583
#: How deep an event may nest. Lambda takes any JSON; a Python runtime decodes it with the
#: ``json`` module, which fails near Python's recursion limit (1,000 frames) and so would
#: the simulator. 512 levels is far beyond any real event and safely below that.
MAX_EVENT_DEPTH = 512
_TYPES = ("RequestResponse", "Event", "DryRun")
#: What ListFunctions reports as every function's runtime (the interpreter eventsim runs on).
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
T = TypeVar("T")
_LOG_TYPES = ("None", "Tail")
_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_FUNCTIONS = re.compile(r"^/2015-03-31/functions/?$")
_FUNCTION = re.compile(
    r"^/2015-03-31/functions/(?P<name>[^/]+)(?P<configuration>/configuration)?/?$"
)
_MAPPINGS = re.compile(r"^/2015-03-31/event-source-mappings/?$")
_MAPPING = re.compile(r"^/2015-03-31/event-source-mappings/(?P<uuid>[^/]+)/?$")
#: The most ListFunctions and ListEventSourceMappings give per page (MaxItems' maximum).
PAGE = 50


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    response = json_response(
        {"Type": "User", "message": message, **extra}, status, "application/json"
    )
    response.headers["x-amzn-ErrorType"] = code
    return response


class LambdaApi:
    service: ClassVar[Service] = Service(
        "lambda", "rest-json", SYNC_PAYLOAD_LIMIT, too_large_code="RequestTooLargeException",
        path_prefix="/2015-03-31/",
    )  # fmt: skip

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        # When the functions were "deployed": LastModified of every function.
        self._started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")

    def error(self, request: web.Request, error: ApiError) -> web.Response:
        if error.code == "RequestTooLargeException":  # Lambda's own words for its limit
            error = ApiError(error.code, f"Request must be smaller than {SYNC_PAYLOAD_LIMIT} "
                             "bytes for the InvokeFunction operation", 413)  # fmt: skip
        return error_response(error.status, error.code, str(error), **error.extra)

    async def handle(self, request: web.Request) -> web.Response:
        path, method = request.path, request.method
        if (match := _INVOKE.match(path)) and method == "POST":
            return await self.invoke(request, match.group("name"))
        if _FUNCTIONS.match(path) and method == "GET":
            return self._list_functions(request)
        if (match := _FUNCTION.match(path)) and method == "GET":
            return self._get_function(match.group("name"), bool(match.group("configuration")))
        if _MAPPINGS.match(path) and method == "GET":
            return self._list_mappings(request)
        if (match := _MAPPING.match(path)) and method in ("GET", "PUT"):
            return await self._mapping(request, match.group("uuid"))
        return error_response(
            404, "UnknownOperationException",
            f"eventsim does not serve {method} {path} of Lambda's API (it serves Invoke, "
            "ListFunctions, GetFunction, GetFunctionConfiguration, ListEventSourceMappings, "
            "GetEventSourceMapping and UpdateEventSourceMapping); the request was not sent to AWS",
        )  # fmt: skip

    # --- functions ------------------------------------------------------------------------

    def _configuration(self, name: str) -> dict[str, Any]:
        spec = self._sim.functions[name]
        config = self._sim.config
        found: dict[str, Any] = {
            "FunctionName": spec.name,
            "FunctionArn": spec.arn,
            "Runtime": RUNTIME,
            "Role": config.role,
            "Handler": spec.handler,
            "CodeSize": 0,
            "Description": "",
            "Timeout": spec.timeout_s,
            "MemorySize": spec.memory_mb,
            "LastModified": self._started,
            "CodeSha256": "",
            "Version": "$LATEST",
            "TracingConfig": {"Mode": "PassThrough"},
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            "EphemeralStorage": {"Size": 512},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": spec.log_group},
        }
        if spec.user_environment:
            found["Environment"] = {"Variables": dict(spec.user_environment)}
        return found

    def _function_name(self, name: str) -> str | None:
        try:
            return self._sim.function(name).name
        except FunctionNotFound:
            return None

    def _not_found(self, name: str) -> web.Response:
        arn = f"arn:aws:lambda:{self._sim.config.region}:{self._sim.config.account}"
        return error_response(
            404, "ResourceNotFoundException", f"Function not found: {arn}:function:{name}"
        )

    def _list_functions(self, request: web.Request) -> web.Response:
        names = sorted(self._sim.functions)
        page, marker = _page(names, request)
        body: dict[str, Any] = {"Functions": [self._configuration(n) for n in page]}
        if marker is not None:
            body["NextMarker"] = marker
        return json_response(body, content_type="application/json")

    def _get_function(self, name: str, configuration_only: bool) -> web.Response:
        found = self._function_name(name)
        if found is None:
            return self._not_found(name)
        configuration = self._configuration(found)
        if configuration_only:
            return json_response(configuration, content_type="application/json")
        spec = self._sim.functions[found]
        body: dict[str, Any] = {
            "Configuration": configuration,
            "Code": {"RepositoryType": "S3", "Location": spec.code_dir.as_uri()},
            "Tags": {},
        }
        if spec.reserved_concurrency is not None:
            body["Concurrency"] = {"ReservedConcurrentExecutions": spec.reserved_concurrency}
        return json_response(body, content_type="application/json")

    # --- event source mappings --------------------------------------------------------------

    def _list_mappings(self, request: web.Request) -> web.Response:
        mappings = self._sim.mappings()
        function = request.query.get("FunctionName")
        if function is not None:
            name = self._function_name(function)
            if name is None:
                return self._not_found(function)
            mappings = [m for m in mappings if name in m.functions]
        source = request.query.get("EventSourceArn")
        configurations = [m.configuration() for m in mappings]
        if source is not None:
            configurations = [c for c in configurations if c["EventSourceArn"] == source]
        page, marker = _page(configurations, request)
        body: dict[str, Any] = {"EventSourceMappings": page}
        if marker is not None:
            body["NextMarker"] = marker
        return json_response(body, content_type="application/json")

    async def _mapping(self, request: web.Request, uuid: str) -> web.Response:
        mapping = next((m for m in self._sim.mappings() if m.uuid == uuid), None)
        if mapping is None:
            return error_response(
                404, "ResourceNotFoundException",
                f"The resource you requested does not exist. (Service: Lambda; UUID: {uuid})",
            )  # fmt: skip
        if request.method == "PUT":
            try:
                changes = parse_json(await request.read())
            except ValueError as exc:
                return error_response(400, "InvalidRequestContentException", str(exc))
            if not isinstance(changes, dict):
                return error_response(400, "InvalidRequestContentException",
                                      "the request body must be a JSON object")  # fmt: skip
            enabled = changes.pop("Enabled", None)
            changes.pop("UUID", None)
            if changes:
                return error_response(
                    400, "InvalidParameterValueException",
                    f"eventsim changes an event source mapping's Enabled only, not "
                    f"{', '.join(sorted(changes))}: edit the trigger in the config",
                )  # fmt: skip
            if enabled is not None:
                if not isinstance(enabled, bool):
                    return error_response(400, "InvalidParameterValueException",
                                          "Enabled must be true or false")  # fmt: skip
                await mapping.set_enabled(enabled)
            return json_response(mapping.configuration(), 202, "application/json")
        return json_response(mapping.configuration(), content_type="application/json")

    async def invoke(self, request: web.Request, name: str) -> web.Response:
        qualifier = request.query.get("Qualifier")
        if qualifier is not None and qualifier not in ("$LATEST",):
            return error_response(
                404, "ResourceNotFoundException",
                f"Function not found: {name}:{qualifier} (eventsim runs $LATEST only)",
            )  # fmt: skip
        invocation_type = request.headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if invocation_type not in _TYPES:
            return error_response(
                400, "InvalidParameterValueException",
                f"X-Amz-Invocation-Type must be one of {', '.join(_TYPES)}",
            )  # fmt: skip
        log_type = request.headers.get("X-Amz-Log-Type", "None")
        if log_type not in _LOG_TYPES:
            return error_response(
                400, "InvalidParameterValueException",
                f"1 validation error detected: Value {log_type!r} at 'logType' failed to "
                "satisfy constraint: Member must satisfy enum value set: [None, Tail]",
            )  # fmt: skip
        try:
            client_context = _client_context(request.headers.get("X-Amz-Client-Context"))
        except ValueError as exc:
            return error_response(400, "InvalidRequestContentException", str(exc))
        body = await request.read()
        # Counting brackets is cheap; only a body with enough of them can nest too deep.
        if body.count(b"[") + body.count(b"{") > MAX_EVENT_DEPTH:
            try:
                parse_json(body, MAX_EVENT_DEPTH)
            except ValueError as exc:
                return error_response(
                    400, "InvalidRequestContentException",
                    f"Could not parse request body into json: {exc}",
                )  # fmt: skip
        kind: InvocationType = invocation_type  # type: ignore[assignment]
        try:
            result = await self._sim.invoke(
                name, body, invocation_type=kind, client_context=client_context
            )
        except FunctionNotFound:
            arn = f"arn:aws:lambda:{self._sim.config.region}:{self._sim.config.account}"
            return error_response(
                404, "ResourceNotFoundException",
                f"Function not found: {arn}:function:{name}",
            )  # fmt: skip
        except TooManyRequests as exc:
            return error_response(429, exc.error_code, str(exc), Reason=exc.reason)
        except InvokeError as exc:
            return error_response(exc.status, exc.error_code, str(exc))
        headers = {"X-Amz-Executed-Version": result.executed_version}
        if invocation_type != "RequestResponse":
            return web.Response(status=result.status_code, headers=headers)
        if result.function_error is not None:
            headers["X-Amz-Function-Error"] = result.function_error
        if log_type == "Tail":
            tail = result.log_tail.encode()[-TAIL_BYTES:]
            headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        return web.Response(
            status=200, body=result.raw_payload, headers=headers, content_type="application/json"
        )


def _page(items: list[T], request: web.Request) -> tuple[list[T], str | None]:
    """One page of a list: ``Marker`` (an offset eventsim gave) and ``MaxItems`` (1..50)."""
    try:
        start = int(request.query.get("Marker", "0"))
        size = max(1, min(PAGE, int(request.query.get("MaxItems", str(PAGE)))))
    except ValueError:
        start, size = 0, PAGE
    end = start + size
    return items[start:end], str(end) if end < len(items) else None


def _client_context(header: str | None) -> dict[str, Any] | None:
    if header is None:
        return None
    if len(header) > CLIENT_CONTEXT_BYTES:
        raise ValueError(f"X-Amz-Client-Context is over {CLIENT_CONTEXT_BYTES} bytes")
    try:
        value = parse_json(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError):
        raise ValueError("X-Amz-Client-Context must be base64-encoded JSON") from None
    if not isinstance(value, dict):
        raise ValueError("X-Amz-Client-Context must encode a JSON object")
    return value
