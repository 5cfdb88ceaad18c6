"""Checks of a whole config beyond its schema, and how its errors read.

``check_references`` finds names that refer to nothing and pairs S3 would refuse;
``error_message`` turns a pydantic error into what the user should read. Both read the config
by attribute and trigger kind, so this module needs config's classes only for type checking.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from . import yamlpos
from .filters import configurations_overlap

if TYPE_CHECKING:
    from .config import Config, Destination, S3Trigger

#: What AWS accepts as a name, in words, for error messages.
NAME_RULES = {
    "functions": "a function name is 1-64 letters, digits, - or _",
    "buckets": "a bucket name is 3-63 lowercase letters, digits, . or -",
    "queues": "a queue name is up to 80 letters, digits, - or _, optionally ending in .fifo",
    "tables": "a table name is 3-255 letters, digits, _, . or -",
}


def error_message(error: Any, root: type[BaseModel]) -> str:
    """A pydantic error as the user should read it (``root`` is the config's model)."""
    kind, loc, msg = error["type"], error["loc"], str(error["msg"])
    if kind == "extra_forbidden":
        allowed = _fields_at(root, tuple(loc[:-1]))
        hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {loc[-1]!r}{hint}"
    if kind == "missing":
        return f"missing required key {loc[-1]!r}" if loc else "missing"
    if kind == "model_type":
        return "expected a mapping of settings"
    if loc and loc[-1] == "[key]" and str(loc[0]) in NAME_RULES:
        return f"invalid name {error.get('input')!r}: {NAME_RULES[str(loc[0])]}"
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    value = error.get("input")
    if isinstance(value, str | int | float | bool) and kind not in ("value_error",):
        msg = f"{msg} (got {value!r})"
    return msg


def _fields_at(root: type[BaseModel], loc: yamlpos.Path) -> list[str]:
    """The keys the model at ``loc`` accepts, for 'unknown key' messages."""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif get_origin(annotation) in (dict, list):
            annotation = get_args(annotation)[-1]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [name for name, f in annotation.model_fields.items() if not f.exclude]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin is Union or str(origin) == "<class 'types.UnionType'>":
            options = [a for a in get_args(annotation) if a is not type(None)]
            annotation = options[0]
        else:
            return annotation


def check_references(config: Config) -> list[tuple[yamlpos.Path, str]]:
    """Problems that span sections: names that refer to nothing, incompatible pairs."""
    problems: list[tuple[yamlpos.Path, str]] = []

    def known(kind: str, name: str, names: dict[str, Any], path: yamlpos.Path) -> bool:
        if name in names:
            return True
        choices = ", ".join(sorted(names)) or f"no {kind}s are defined"
        problems.append((path, f"unknown {kind} {name!r} (defined: {choices})"))
        return False

    def destination(dest: Destination | None, path: yamlpos.Path) -> None:
        if dest is None:
            return
        names: dict[str, Any] = config.functions if dest.kind == "function" else config.queues
        if known(dest.kind, dest.name, names, path) and dest.name.endswith(".fifo"):
            problems.append((path, "a destination queue must be a standard (non-FIFO) queue"))

    routes: dict[tuple[str, str], str] = {}
    notifications: dict[str, list[tuple[yamlpos.Path, str, S3Trigger]]] = {}
    for fname, function in config.functions.items():
        base: yamlpos.Path = ("functions", fname)
        destination(function.on_success, (*base, "on_success"))
        destination(function.on_failure, (*base, "on_failure"))
        for index, trigger in enumerate(function.triggers):
            at: yamlpos.Path = (*base, "triggers", index, trigger.kind)
            if (spec := trigger.s3) is not None:
                if known("bucket", spec.bucket, config.buckets, (*at, "bucket")):
                    for other_at, other_name, other in notifications.get(spec.bucket, []):
                        if configurations_overlap(
                            other.events, other.prefix, other.suffix,
                            spec.events, spec.prefix, spec.suffix,
                        ):  # fmt: skip
                            problems.append(
                                (at, f"overlaps the notification configuration of "
                                 f"{other_name!r} ({yamlpos.dotted(other_at)}) on bucket "
                                 f"{spec.bucket!r}: S3 refuses configurations whose event "
                                 f"types, prefixes and suffixes all overlap")
                            )  # fmt: skip
                            break
                    notifications.setdefault(spec.bucket, []).append((at, fname, spec))
            elif (sqs := trigger.sqs) is not None:
                if (
                    known("queue", sqs.queue, config.queues, (*at, "queue"))
                    and sqs.queue.endswith(".fifo")
                    and sqs.batch_size > 10
                ):
                    problems.append(((*at, "batch_size"), "a FIFO queue allows batch_size 1..10"))
            elif (stream := trigger.dynamodb) is not None:
                if known("table", stream.table, config.tables, (*at, "table")):
                    if config.tables[stream.table].stream is None:
                        problems.append(
                            (
                                (*at, "table"),
                                f"table {stream.table!r} has no stream: set its stream",
                            )
                        )
                destination(stream.on_failure, (*at, "on_failure"))
                if stream.on_failure is not None and stream.on_failure.kind != "queue":
                    problems.append(
                        (
                            (*at, "on_failure"),
                            "a stream mapping sends failed batches to a queue (queue:NAME); "
                            "AWS does not allow a function here",
                        )
                    )
            elif (http := trigger.http) is not None:
                route = (http.method, http.path)
                if route in routes:
                    problems.append(
                        (
                            (*at, "path"),
                            f"{http.method} {http.path} is already routed to {routes[route]!r}",
                        )
                    )
                routes.setdefault(route, fname)

    for qname, queue in config.queues.items():
        if queue.redrive is None:
            continue
        at = ("queues", qname, "redrive", "dead_letter_queue")
        dlq = queue.redrive.dead_letter_queue
        if known("queue", dlq, config.queues, at):
            if dlq == qname:
                problems.append((at, "a queue cannot be its own dead-letter queue"))
            elif dlq.endswith(".fifo") != qname.endswith(".fifo"):
                problems.append(
                    (at, "the dead-letter queue must be FIFO exactly when the queue is")
                )
    return problems
