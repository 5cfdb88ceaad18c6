"""API Gateway proxy events (docs/aws-behaviour.md §5.1, §5.2) and what API Gateway makes of the
result (§5.3, §5.4).

Example::

    request = HttpRequest("POST", "/items/42", query=[("q", "a")], body=b'{"n": 1}',
                          headers=[("Content-Type", "application/json")])
    event = http_event(request, route_key="POST /items/{id}", path_parameters={"id": "42"},
                       request_id=rid, time=now, api_id="local", account=acct, region=region)
    response = response_v2(result.raw_payload, result.function_error)
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ..unconfirmed import V1_REPEATED_HEADER_VALUE, V2_KEEP_COOKIE_HEADER
from .common import clf_time, epoch_ms

Pairs = list[tuple[str, str]]

_TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "yaml")
_V1_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}


@dataclass(frozen=True)
class HttpRequest:
    """An HTTP request as it reached the edge: names keep their case, pairs keep their order."""

    method: str
    path: str
    query: Pairs = field(default_factory=list)
    headers: Pairs = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    raw_query: str | None = None  # as received; rebuilt from ``query`` when None

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in reversed(self.headers) if k.lower() == name), None)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Pairs
    body: bytes


def rest_event(
    request: HttpRequest,
    *,
    resource: str,
    path_parameters: dict[str, str] | None,
    request_id: str,
    time: datetime,
    api_id: str,
    account: str,
    region: str,
    stage: str = "prod",
    stage_variables: dict[str, str] | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """A REST API (v1) proxy event; ``version="1.0"`` gives HTTP API payload format 1.0.

    A REST API's ``path`` leaves the stage out and its ``requestContext.path`` has it; an HTTP
    API's paths are the request's own, under ``/{stage}`` for a stage other than ``$default``.
    """
    body, is_base64 = _body(request)
    event: dict[str, Any] = {"version": version} if version else {}
    staged = request.path if stage == "$default" else f"/{stage}{request.path}"
    event.update(
        resource=resource,
        path=staged if version else request.path,
        httpMethod=request.method,
        headers=_single(request.headers),  # never null: real requests carry at least Host
        multiValueHeaders=_multi(request.headers),
        queryStringParameters=_single(request.query) or None,
        multiValueQueryStringParameters=_multi(request.query) or None,
        pathParameters=path_parameters or None,
        stageVariables=stage_variables or None,
        requestContext={
            "accountId": account,
            "apiId": api_id,
            "authorizer": {"claims": None, "scopes": None},
            "domainName": f"{api_id}.execute-api.{region}.amazonaws.com",
            "domainPrefix": api_id,
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": {
                "accessKey": None,
                "accountId": None,
                "apiKey": None,
                "apiKeyId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": request.source_ip,
                "user": None,
                "userAgent": request.header("user-agent"),
                "userArn": None,
                "clientCert": None,
            },
            "path": staged,
            "protocol": request.protocol,
            "requestId": request_id,
            "requestTime": clf_time(time),
            "requestTimeEpoch": epoch_ms(time),
            "resourceId": "local",
            "resourcePath": resource,
            "stage": stage,
        },
        body=body,
        isBase64Encoded=is_base64,
    )
    return event


def http_event(
    request: HttpRequest,
    *,
    route_key: str,
    path_parameters: dict[str, str] | None,
    request_id: str,
    time: datetime,
    api_id: str,
    account: str,
    region: str,
    stage: str = "$default",
    stage_variables: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) event; empty optional members are left out. Under a
    stage other than ``$default`` the paths start with ``/{stage}``, as API Gateway serves it."""
    path = request.path if stage == "$default" else f"/{stage}{request.path}"
    cookies = [
        cookie.strip()
        for name, value in request.headers
        if name.lower() == "cookie"
        for cookie in value.split(";")
        if cookie.strip()
    ]
    headers: dict[str, str] = {}
    for name, value in request.headers:
        name = name.lower()
        if name == "cookie" and not V2_KEEP_COOKIE_HEADER:
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    query: dict[str, str] = {}
    for name, value in request.query:
        query[name] = f"{query[name]},{value}" if name in query else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": _raw_query(request),
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if stage_variables:
        event["stageVariables"] = stage_variables
    event["requestContext"] = {
        "accountId": account,
        "apiId": api_id,
        "domainName": f"{api_id}.execute-api.{region}.amazonaws.com",
        "domainPrefix": api_id,
        "http": {
            "method": request.method,
            "path": path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": stage,
        "time": clf_time(time),
        "timeEpoch": epoch_ms(time),
    }
    body, is_base64 = _body(request)
    if body is not None:
        event["body"] = body
    event["isBase64Encoded"] = is_base64
    return event


def path_parameters(template: str, path: str) -> dict[str, str] | None:
    """The ``{name}`` segments of a route template filled from a path; ``{proxy+}`` takes
    the rest. None when the template has none. (Matching a path to a route is the router's.)"""
    names, values = template.strip("/").split("/"), path.strip("/").split("/")
    found: dict[str, str] = {}
    for index, name in enumerate(names):
        if name.startswith("{") and name.endswith("+}"):
            found[name[1:-2]] = "/".join(values[index:])
            break
        if name.startswith("{") and name.endswith("}") and index < len(values):
            found[name[1:-1]] = values[index]
    return found or None


# --- results -------------------------------------------------------------------------------


def rest_error(status: int, message: str) -> HttpResponse:
    return _json_response(status, {"message": message})


def response_v1(raw: bytes, function_error: str | None, *, http_api: bool = False) -> HttpResponse:
    """What a REST API (or, ``http_api``, an HTTP API with payload 1.0) answers for a handler's
    result (§5.3).

    The result must be exactly ``{statusCode, headers?, multiValueHeaders?, body?,
    isBase64Encoded?}`` with a string body; anything else, or a function error, is a REST
    API's 502 (an HTTP API's 500).
    """
    bad = (
        rest_error(500, "Internal Server Error")
        if http_api
        else rest_error(502, "Internal server error")
    )
    if function_error is not None:
        return bad
    try:
        result = json.loads(raw)
    except ValueError:
        return bad
    if (
        not isinstance(result, dict)
        or not set(result) <= _V1_RESPONSE_KEYS
        or not _is_status(result.get("statusCode"))
        or not isinstance(result.get("body", ""), str | None)
    ):
        return bad
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        return bad
    headers: Pairs = [(k, _text(v)) for k, v in single.items() if k not in multi]
    for name, values in multi.items():
        if not isinstance(values, list):
            return bad
        headers += [(name, _text(v)) for v in values]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    body = _decode_body(result.get("body") or "", bool(result.get("isBase64Encoded")))
    if body is None:
        return bad
    return HttpResponse(result["statusCode"], headers, body)


def response_v2(raw: bytes, function_error: str | None) -> HttpResponse:
    """What an HTTP API (payload 2.0) answers for a handler's result, inference included."""
    bad = _json_response(500, {"message": "Internal Server Error"})
    if function_error is not None:
        return bad
    try:
        result = json.loads(raw)
    except ValueError:
        return bad
    if not isinstance(result, dict) or "statusCode" not in result:
        # Inference: any JSON without statusCode is a 200 JSON body (a string as itself).
        text = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("content-type", "application/json")], text.encode())
    single = result.get("headers") or {}
    cookies = result.get("cookies") or []
    if (
        not _is_status(result["statusCode"])
        or not isinstance(result.get("body", ""), str | None)
        or not isinstance(single, dict)
        or not isinstance(cookies, list)
    ):
        return bad
    headers: Pairs = [(k.lower(), _text(v)) for k, v in single.items()]
    headers += [("set-cookie", _text(c)) for c in cookies]
    body = _decode_body(result.get("body") or "", bool(result.get("isBase64Encoded")))
    if body is None:
        return bad
    return HttpResponse(result["statusCode"], headers, body)


def _json_response(status: int, payload: dict[str, Any]) -> HttpResponse:
    body = json.dumps(payload).encode()
    return HttpResponse(status, [("content-type", "application/json")], body)


def _is_status(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _decode_body(body: str, is_base64: bool) -> bytes | None:
    if not is_base64:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        return None


def _single(pairs: Pairs) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        if V1_REPEATED_HEADER_VALUE == "first":
            out.setdefault(name, value)
        else:
            out[name] = value
    return out


def _multi(pairs: Pairs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def _raw_query(request: HttpRequest) -> str:
    if request.raw_query is not None:
        return request.raw_query.lstrip("?")
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in request.query)


def _body(request: HttpRequest) -> tuple[str | None, bool]:
    """The body as the event carries it: text, or base64 when it is not text."""
    if not request.body:
        return None, False
    content_type = (request.header("content-type") or "").lower()
    textual = not content_type or any(t in content_type for t in _TEXT_TYPES)
    if textual:
        try:
            return request.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(request.body).decode(), True
