"""``eventsim generate-event SERVICE KIND``: print one event as AWS would send it.

In the spirit of ``sam local generate-event``; every event comes from the builders in
``eventsim.events``. Times are now, ids random.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import click

from .errors import ValueRejected
from .events import apigateway, destinations, dynamodb, ids, s3, schedule, sqs
from .events.dynamodb_json import marshal_item

F = TypeVar("F", bound=Callable[..., Any])

_rng = random.Random()


def _now() -> datetime:
    return datetime.now(UTC)


def _emit(event: Any) -> None:
    click.echo(json.dumps(event, indent=2, ensure_ascii=False))


def _where(command: F) -> F:
    command = click.option("--region", default="us-east-1", show_default=True)(command)
    return click.option("--account", default="123456789012", show_default=True)(command)


def _json_option(name: str, default: str | None, help: str) -> Callable[[F], F]:
    def parse(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
        if value is None:
            return None
        try:
            return json.loads(value)
        except ValueError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}") from None

    return click.option(name, default=default, callback=parse, help=help, show_default=True)


@click.group("generate-event")
def generate_event() -> None:
    """Print an event in the exact shape AWS sends it (SERVICE KIND [options])."""


# --- s3 ------------------------------------------------------------------------------------


@generate_event.group("s3")
def s3_group() -> None:
    """S3 notification events (one record, eventVersion 2.1)."""


_S3_CREATED = {
    "put": "Put",
    "post": "Post",
    "copy": "Copy",
    "complete-multipart-upload": "CompleteMultipartUpload",
}
_S3_REMOVED = {"delete": "Delete", "delete-marker-created": "DeleteMarkerCreated"}


def _s3_command(name: str, kind: str, created: bool) -> None:
    @click.option("--bucket", default="example-bucket", show_default=True)
    @click.option("--key", default="test/key", show_default=True, help="The plain key.")
    @click.option("--size", default=1024, show_default=True, type=click.IntRange(0))
    @click.option("--etag", help="Default: MD5 of --size zero bytes.")
    @click.option("--version-id", help="Set for a versioned bucket.")
    @click.option("--configuration-id", default="eventsim-generated", show_default=True)
    @click.option("--region", default="us-east-1", show_default=True)
    def command(
        bucket: str,
        key: str,
        size: int,
        etag: str | None,
        version_id: str | None,
        configuration_id: str,
        region: str,
    ) -> None:
        common: dict[str, Any] = dict(
            bucket=bucket,
            key=key,
            sequencer=s3.sequencer(_rng.getrandbits(64)),
            configuration_id=configuration_id,
            time=_now(),
            region=region,
            request_id=ids.hex_id(_rng, 16, upper=True),
            host_id=ids.host_id(_rng),
            version_id=version_id,
        )
        if created:
            etag = etag or hashlib.md5(bytes(size)).hexdigest()
            record = s3.object_created(kind, size=size, etag=etag, **common)  # type: ignore[arg-type]
        else:
            record = s3.object_removed(kind, **common)  # type: ignore[arg-type]
        _emit(s3.notification(record))

    command.__doc__ = f"ObjectCreated:{kind}" if created else f"ObjectRemoved:{kind}"
    s3_group.command(name)(command)


for _name, _kind in _S3_CREATED.items():
    _s3_command(_name, _kind, created=True)
for _name, _kind in _S3_REMOVED.items():
    _s3_command(_name, _kind, created=False)


# --- sqs -----------------------------------------------------------------------------------


@generate_event.group("sqs")
def sqs_group() -> None:
    """SQS events, as an SQS event source mapping delivers them."""


@sqs_group.command("receive-message")
@click.option("--body", default="Hello from SQS!", show_default=True)
@click.option("--queue", default="my-queue", show_default=True, help="Ends in .fifo for FIFO.")
@click.option(
    "--attribute",
    "attributes",
    multiple=True,
    metavar="NAME=VALUE",
    help="A String message attribute (repeatable).",
)
@click.option("--group-id", help="MessageGroupId (FIFO queues; default 1).")
@click.option("--receive-count", default=1, show_default=True, type=click.IntRange(1))
@_where
def sqs_receive_message(
    body: str,
    queue: str,
    attributes: tuple[str, ...],
    group_id: str | None,
    receive_count: int,
    region: str,
    account: str,
) -> None:
    """One SQS record."""
    message_attributes: dict[str, dict[str, Any]] = {}
    for pair in attributes:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--attribute")
        message_attributes[name] = {"DataType": "String", "StringValue": value}
    now_ms = int(_now().timestamp() * 1000)
    fifo = queue.endswith(".fifo")
    system = sqs.system_attributes(
        sent_ms=now_ms,
        receive_count=receive_count,
        first_receive_ms=now_ms,
        group_id=(group_id or "1") if fifo else None,
        deduplication_id=hashlib.sha256(body.encode()).hexdigest() if fifo else None,
        sequence_number=str(_rng.getrandbits(64)) if fifo else None,
    )
    record = sqs.record(
        message_id=ids.uuid4(_rng),
        receipt_handle=ids.receipt_handle(_rng),
        body=body,
        attributes=system,
        message_attributes=message_attributes,
        queue_arn=sqs.queue_arn(region, account, queue),
        region=region,
    )
    _emit(sqs.batch([record]))


# --- dynamodb ------------------------------------------------------------------------------


@generate_event.group("dynamodb")
def dynamodb_group() -> None:
    """DynamoDB stream events (eventVersion 1.1); items are given as plain JSON."""


def _ddb_command(name: str, event_name: str) -> None:
    @click.option("--table", default="ExampleTable", show_default=True)
    @_json_option("--keys", '{"id": "1"}', "The key attributes as plain JSON.")
    @_json_option("--new-image", None, "The item after the change (default: the keys).")
    @_json_option("--old-image", None, "The item before the change (default: the keys).")
    @click.option(
        "--view-type",
        type=click.Choice(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]),
        default="NEW_AND_OLD_IMAGES",
        show_default=True,
    )
    @click.option("--ttl", is_flag=True, help="A REMOVE made by TTL expiry.")
    @_where
    def command(
        table: str,
        keys: Any,
        new_image: Any,
        old_image: Any,
        view_type: str,
        ttl: bool,
        region: str,
        account: str,
    ) -> None:
        for option, value in (
            ("--keys", keys),
            ("--new-image", new_image),
            ("--old-image", old_image),
        ):
            if value is not None and not isinstance(value, dict):
                raise click.BadParameter("expected a JSON object", param_hint=option)
        if ttl and event_name != "REMOVE":
            raise click.BadParameter("only a remove comes from TTL expiry", param_hint="--ttl")
        try:
            key_item = marshal_item(keys)
            new = marshal_item({**keys, **(new_image or {})})
            old = marshal_item({**keys, **(old_image or {})})
        except ValueRejected as exc:
            raise click.BadParameter(str(exc)) from None
        now = _now()
        record = dynamodb.stream_record(
            event_name,  # type: ignore[arg-type]
            keys=key_item,
            new_image=new,
            old_image=old,
            view_type=view_type,  # type: ignore[arg-type]
            sequence_number=_rng.getrandbits(64),
            event_id=ids.hex_id(_rng, 32),
            created=now,
            region=region,
            stream_arn=dynamodb.stream_arn(region, account, table, dynamodb.stream_label(now)),
            ttl_delete=ttl,
        )
        _emit(dynamodb.batch([record]))

    command.__doc__ = f"A {event_name} record."
    dynamodb_group.command(name)(command)


for _name in ("insert", "modify", "remove"):
    _ddb_command(_name, _name.upper())


# --- events --------------------------------------------------------------------------------


@generate_event.group("events")
def events_group() -> None:
    """EventBridge schedule events."""


@events_group.command("scheduled")
@click.option("--rule", default="my-scheduled-rule", show_default=True)
@_where
def events_scheduled(rule: str, region: str, account: str) -> None:
    """The "Scheduled Event" of an EventBridge rule."""
    _emit(
        schedule.scheduled_event(
            event_id=ids.uuid4(_rng),
            time=_now(),
            region=region,
            account=account,
            rule_arn=schedule.rule_arn(region, account, rule),
        )
    )


# --- apigateway ----------------------------------------------------------------------------


@generate_event.group("apigateway")
def apigateway_group() -> None:
    """API Gateway proxy events."""


def _request(
    method: str, path: str, body: str | None, query: str, headers: tuple[str, ...]
) -> apigateway.HttpRequest:
    if not path.startswith("/"):
        raise click.BadParameter("a path starts with '/'", param_hint="--path")
    pairs: list[tuple[str, str]] = []
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME:VALUE, got {header!r}", param_hint="--header")
        pairs.append((name.strip(), value.strip()))
    return apigateway.HttpRequest(
        method.upper(),
        path,
        query=parse_qsl(query, keep_blank_values=True),
        headers=pairs,
        body=(body or "").encode(),
        raw_query=query,
    )


def _http_options(command: F) -> F:
    for decorator in reversed(
        [
            click.option("--method", default="GET", show_default=True),
            click.option("--path", default="/", show_default=True),
            click.option("--body"),
            click.option("--query", default="", help="A raw query string: a=1&b=2."),
            click.option("--header", "headers", multiple=True, metavar="NAME:VALUE"),
        ]
    ):
        command = decorator(command)
    return _where(command)


@apigateway_group.command("aws-proxy")
@_http_options
@click.option("--resource", help="The route template, e.g. /items/{id} (default: --path).")
@click.option("--stage", default="prod", show_default=True)
def apigateway_aws_proxy(
    method: str,
    path: str,
    body: str | None,
    query: str,
    headers: tuple[str, ...],
    region: str,
    account: str,
    resource: str | None,
    stage: str,
) -> None:
    """A REST API (v1) proxy event."""
    request = _request(method, path, body, query, headers)
    resource = resource or path
    _emit(
        apigateway.rest_event(
            request,
            resource=resource,
            path_parameters=apigateway.path_parameters(resource, path),
            request_id=ids.uuid4(_rng),
            time=_now(),
            api_id=ids.hex_id(_rng, 10),
            account=account,
            region=region,
            stage=stage,
        )
    )


@apigateway_group.command("http-api-proxy")
@_http_options
@click.option("--route-key", help='"METHOD /path/{param}" (default: "$default").')
def apigateway_http_api_proxy(
    method: str,
    path: str,
    body: str | None,
    query: str,
    headers: tuple[str, ...],
    region: str,
    account: str,
    route_key: str | None,
) -> None:
    """An HTTP API (payload format 2.0) event."""
    request = _request(method, path, body, query, headers)
    template = route_key.split(" ", 1)[-1] if route_key else path
    _emit(
        apigateway.http_event(
            request,
            route_key=route_key or "$default",
            path_parameters=apigateway.path_parameters(template, path),
            request_id=ids.uuid4(_rng),
            time=_now(),
            api_id=ids.hex_id(_rng, 10),
            account=account,
            region=region,
        )
    )


# --- lambda --------------------------------------------------------------------------------


@generate_event.group("lambda")
def lambda_group() -> None:
    """What Lambda sends to an asynchronous invocation's destinations."""


@lambda_group.command("destination")
@click.option("--function", "function_name", default="my-function", show_default=True)
@click.option(
    "--condition",
    type=click.Choice(["Success", "RetriesExhausted", "EventAgeExceeded"]),
    default="RetriesExhausted",
    show_default=True,
)
@_json_option("--request-payload", "{}", "The original event.")
@_json_option("--response-payload", None, "The result or error (default: a KeyError).")
@_where
def lambda_destination(
    function_name: str,
    condition: str,
    request_payload: Any,
    response_payload: Any,
    region: str,
    account: str,
) -> None:
    """An async invocation record."""
    request_id = ids.uuid4(_rng)
    failed = condition != "Success"
    if response_payload is None and condition != "EventAgeExceeded":
        response_payload = (
            {"errorMessage": "'action'", "errorType": "KeyError", "requestId": request_id,
             "stackTrace": []} if failed else None
        )  # fmt: skip
    extra: dict[str, Any] = {}
    if condition != "EventAgeExceeded":
        extra = {
            "response_payload": response_payload,
            "function_error": "Unhandled" if failed else None,
        }
    _emit(
        destinations.invocation_record(
            request_id=request_id,
            function_arn=f"arn:aws:lambda:{region}:{account}:function:{function_name}:$LATEST",
            condition=condition,  # type: ignore[arg-type]
            approximate_invoke_count=3 if condition == "RetriesExhausted" else 1,
            request_payload=request_payload,
            timestamp=_now(),
            **extra,
        )
    )


def _kinds() -> str:
    lines = []
    for service, group in sorted(generate_event.commands.items()):
        assert isinstance(group, click.Group)
        lines.append(f"  {service:<11} {', '.join(sorted(group.commands))}")
    return "\b\nEvents (SERVICE KIND):\n" + "\n".join(lines)


generate_event.epilog = _kinds()
