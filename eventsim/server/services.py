"""Which AWS service a request is for, in which protocol its client reads errors, and the
answer to a request for a service the edge does not serve.

A signed request names its service in the SigV4 credential scope
(``Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/<service>/aws4_request``,
or ``X-Amz-Credential`` in a presigned URL's query). An unsigned one (eventsim's CLI, curl) is
told by the prefix of its ``X-Amz-Target`` or the path of a served service.

Example::

    name = identify(request, [api.service for api in apis])   # "sqs", "sns", ... or None
    not_served(request, name, served=["lambda", "sqs"])      # 501 in the client's protocol
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar
from typing import Protocol as Interface

from aiohttp import web

from ..errors import ApiError
from .protocol import AMZ_JSON, Protocol, error_response

#: Services whose REST protocol is XML, by signing name; any other REST client reads JSON.
REST_XML = frozenset({"s3", "s3-object-lambda", "cloudfront", "route53"})
_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")
FORM = "application/x-www-form-urlencoded"
MAXFORM_FIELDS = 10_000


@dataclass(frozen=True)
class Service:
    """A service the edge serves: its SigV4 signing name, its protocol, what marks its
    unsigned requests, and how large a request it takes (larger ones are refused unread)."""

    name: str
    protocol: Protocol
    max_request_bytes: int
    too_large_code: str = "RequestEntityTooLarge"
    target_prefix: str | None = None  # X-Amz-Target: <prefix>.<Operation>
    path_prefix: str | None = None


class Api(Interface):
    """One served service: the edge hands it every request for ``service`` (body read)."""

    service: ClassVar[Service]

    def error(self, request: web.Request, error: ApiError) -> web.Response:
        """``error`` in this service's own error shape."""
        ...

    async def handle(self, request: web.Request) -> web.Response: ...


def signed_service(request: web.Request) -> str | None:
    """The service named by the request's SigV4 (or SigV4a) credential scope, if signed."""
    match = _CREDENTIAL.search(request.headers.get("Authorization", ""))
    scope = match.group(1) if match else request.query.get("X-Amz-Credential", "")
    parts = scope.split("/")
    # AKID/date/region/service/aws4_request (SigV4a: AKID/date/service/aws4_request)
    if len(parts) >= 4 and parts[-1] == "aws4_request" and parts[-2]:
        return parts[-2].lower()
    return None


def identify(request: web.Request, services: Iterable[Service]) -> str | None:
    """The name of the service ``request`` is for; None when nothing tells."""
    signed = signed_service(request)
    if signed is not None:
        return signed
    target = request.headers.get("X-Amz-Target", "").partition(".")[0]
    for service in services:
        if target and target == service.target_prefix:
            return service.name
        if service.path_prefix is not None and request.path.startswith(service.path_prefix):
            return service.name
    return None


def client_protocol(request: web.Request, service: str | None) -> Protocol:
    """The protocol ``request``'s client speaks, told from the request alone."""
    if request.headers.get("smithy-protocol", "").lower() == "rpc-v2-cbor":
        return "cbor"
    if "X-Amz-Target" in request.headers:
        return "json"
    if request.content_type == FORM or "Action" in request.query:
        return "query"
    return "rest-xml" if service in REST_XML else "rest-json"


def json_version(request: web.Request) -> str:
    """The awsJson content type the client sent (1.0 or 1.1), to answer in the same."""
    sent = request.content_type
    return sent if sent.startswith("application/x-amz-json-") else AMZ_JSON


def error_for(request: web.Request, service: str | None, error: ApiError) -> web.Response:
    """``error`` in the protocol of ``request``'s client (for a service not served)."""
    return error_response(client_protocol(request, service), error, json_version(request))


def not_served(
    request: web.Request, service: str, served: Iterable[str], body: bytes = b""
) -> web.Response:
    """501 ``NotImplemented`` in the client's protocol, naming the service and operation
    (``body``: the request's, if read, for a query protocol's ``Action``)."""
    protocol = client_protocol(request, service)
    operation = _operation(request, protocol, body)
    message = (
        f"eventsim does not serve {service} ({operation}); the request was not sent to AWS. "
        f"eventsim serves {', '.join(sorted(served))}."
    )
    return error_for(request, service, ApiError("NotImplemented", message, 501))


def _operation(request: web.Request, protocol: Protocol, body: bytes) -> str:
    if protocol == "json":
        return request.headers.get("X-Amz-Target", "").rpartition(".")[2] or "?"
    if protocol == "query":
        try:
            action = request.query.get("Action") or form_params(body).get("Action")
        except ApiError:
            action = None
        if action:
            return action
    if protocol == "cbor":  # /service/<name>/operation/<Operation>
        return request.path.rpartition("/")[2] or "?"
    return f"{request.method} {request.path}"


def form_params(body: bytes) -> dict[str, str]:
    """A form-encoded body (the query protocol) as a dict; the first value of a repeated key."""
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode(errors="replace"), keep_blank_values=True, max_num_fields=MAXFORM_FIELDS
        )
    except ValueError:
        raise ApiError("MalformedQueryString", f"over {MAXFORM_FIELDS} parameters") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        params.setdefault(key, value)
    return params
