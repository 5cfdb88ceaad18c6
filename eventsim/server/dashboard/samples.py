"""A sample event for a function's "invoke" form: what its first trigger would send.

Built with the event builders of ``eventsim.events`` (as ``eventsim generate-event`` is), with
the names of the function's own bucket, queue, table, schedule or route. A function with no
trigger (or a kind without a builder here) gets ``{}``, as an Invoke call without a payload.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...events import apigateway, dynamodb, ids, s3, sns, sqs
from ...events.dynamodb_json import marshal_item
from ...runtime.spec import FunctionSpec
from ...triggers.schedule import ScheduleBinding

if TYPE_CHECKING:
    from ...simulator import Simulator

# Ids need not repeat across runs; the simulator's own seeded generator is left alone.
_rng = random.Random()
_BODY = '{"hello": "from the eventsim dashboard"}'


def sample(sim: Simulator, name: str) -> tuple[str, Any]:
    """``(kind, event)`` for function ``name``: its first trigger's kind (or ``invoke``)."""
    spec = sim.function(name)
    settings = sim.config.functions.get(spec.name)
    if settings is None or not settings.triggers:
        return "invoke", {}
    trigger = settings.triggers[0]
    build = _BUILDERS.get(trigger.kind)
    if build is None:
        return trigger.kind, {}
    return trigger.kind, build(sim, spec, trigger.spec)


def _s3(sim: Simulator, spec: FunctionSpec, trigger: Any) -> Any:
    key = f"{trigger.prefix}example{trigger.suffix or '.txt'}"
    record = s3.object_created(
        "Put", bucket=trigger.bucket, key=key, size=len(_BODY),
        etag=hashlib.md5(_BODY.encode()).hexdigest(), sequencer=s3.sequencer(_rng.getrandbits(64)),
        configuration_id=trigger.id or f"eventsim-{spec.name}", time=sim.clock.now(),
        region=spec.region, request_id=ids.hex_id(_rng, 16, upper=True), host_id=ids.host_id(_rng),
    )  # fmt: skip
    return s3.notification(record)


def _sqs(sim: Simulator, spec: FunctionSpec, trigger: Any) -> Any:
    now_ms = int(sim.clock.time() * 1000)
    fifo = trigger.queue.endswith(".fifo")
    attributes = sqs.system_attributes(
        sent_ms=now_ms, receive_count=1, first_receive_ms=now_ms,
        group_id="1" if fifo else None,
        deduplication_id=hashlib.sha256(_BODY.encode()).hexdigest() if fifo else None,
        sequence_number=str(_rng.getrandbits(64)) if fifo else None,
    )  # fmt: skip
    record = sqs.record(
        message_id=ids.uuid4(_rng), receipt_handle=ids.receipt_handle(_rng), body=_BODY,
        attributes=attributes, message_attributes={},
        queue_arn=sqs.queue_arn(spec.region, spec.account, trigger.queue), region=spec.region,
    )  # fmt: skip
    return sqs.batch([record])


def _dynamodb(sim: Simulator, spec: FunctionSpec, trigger: Any) -> Any:
    table = sim.tables.get(trigger.table)
    now = sim.clock.now()
    keys: dict[str, Any] = {"id": "1"}
    view: dynamodb.ViewType = "NEW_AND_OLD_IMAGES"
    arn = dynamodb.stream_arn(spec.region, spec.account, trigger.table,
                              dynamodb.stream_label(now))  # fmt: skip
    if table is not None:
        config = table.config
        keys = {config.partition_key: _key_value(config.partition_key_type)}
        if config.sort_key is not None:
            keys[config.sort_key] = _key_value(config.sort_key_type)
        view = config.stream or view
        arn = table.stream_arn
    item = marshal_item(keys)
    record = dynamodb.stream_record(
        "INSERT", keys=item, new_image={**item, **marshal_item({"note": "sample"})},
        old_image=None, view_type=view, sequence_number=_rng.getrandbits(40),
        event_id=ids.hex_id(_rng, 32), created=now, region=spec.region, stream_arn=arn,
    )  # fmt: skip
    return dynamodb.batch([record])


def _key_value(kind: str) -> Any:
    return 1 if kind == "N" else b"1" if kind == "B" else "1"


def _schedule(sim: Simulator, spec: FunctionSpec, trigger: Any) -> Any:
    for binding in sim.bindings:
        if isinstance(binding, ScheduleBinding) and binding.trigger is trigger:
            return binding.event(sim.clock.now())
    return {}


def _http(sim: Simulator, spec: FunctionSpec, trigger: Any) -> Any:
    path = trigger.path.replace("{", "").replace("}", "").replace("+", "")
    method = "GET" if trigger.method == "ANY" else trigger.method
    request = apigateway.HttpRequest(method, path, headers=[("Host", "localhost")])
    common: dict[str, Any] = dict(
        path_parameters=apigateway.path_parameters(trigger.path, path),
        request_id=ids.uuid4(_rng), time=sim.clock.now(), api_id=ids.hex_id(_rng, 10),
        account=spec.account, region=spec.region,
    )  # fmt: skip
    if trigger.payload_version == "1.0":
        return apigateway.rest_event(request, resource=trigger.path, **common)
    return apigateway.http_event(request, route_key=f"{trigger.method} {trigger.path}", **common)


def _sns(sim: Simulator, spec: FunctionSpec, trigger: Any) -> Any:
    topic = sns.topic_arn(spec.region, spec.account, trigger.topic)
    subscription = sns.subscription_arn(topic, ids.uuid4(_rng))
    record = sns.record(
        message_id=ids.uuid4(_rng), topic_arn=topic, subscription_arn=subscription,
        message=_BODY, subject=None, attributes={}, timestamp=datetime.now(UTC),
        region=spec.region, signature="EXAMPLE",
    )  # fmt: skip
    return sns.event([record])


_BUILDERS = {
    "s3": _s3,
    "sqs": _sqs,
    "dynamodb": _dynamodb,
    "schedule": _schedule,
    "http": _http,
    "sns": _sns,
}
