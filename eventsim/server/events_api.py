"""EventBridge's JSON protocol (``X-Amz-Target: AWSEvents.<Operation>``), as boto3 speaks it.

Served: PutEvents (at most 10 entries and 256 KB in all; each entry succeeds or fails on its
own, ``FailedEntryCount`` counting the failures), and, to look around, ListEventBuses,
DescribeEventBus, ListRules, DescribeRule and ListTargetsByRule. Rules are made in the config
(``buses:`` and ``eventbridge`` triggers), not through the API: any other operation is refused
with ``UnsupportedOperation``.

Example::

    events = boto3.client("events", endpoint_url=sim.endpoint_url, ...)
    events.put_events(Entries=[{"Source": "shop", "DetailType": "OrderPlaced",
                                "Detail": '{"id": 1}'}])
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from ..errors import ApiError, BusError, SimulatorStateError
from ..resources.buses import Bus, Buses, Rule
from .protocol import error_response, json_response, optional, read_json, require
from .services import Service, json_version

if TYPE_CHECKING:
    from ..simulator import Simulator

#: A PutEvents request holds at most 256 KB of entries; JSON may spell a byte in up to six.
MAX_REQUEST_BYTES = 2 * 1024 * 1024

Operation = Callable[["EventsApi", dict[str, Any]], dict[str, Any]]


class EventsApi:
    service: ClassVar[Service] = Service(
        "events", "json", MAX_REQUEST_BYTES, target_prefix="AWSEvents"
    )

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    def error(self, request: web.Request, error: ApiError) -> web.Response:
        return error_response("json", error, json_version(request))

    async def handle(self, request: web.Request) -> web.Response:
        prefix, _, operation = request.headers.get("X-Amz-Target", "").partition(".")
        method = _OPERATIONS.get(operation) if prefix == "AWSEvents" else None
        try:
            if method is None:
                raise ApiError(
                    "UnsupportedOperation",
                    f"eventsim does not serve {operation or 'this request'}; it serves "
                    f"{', '.join(sorted(_OPERATIONS))} (rules come from the config)",
                )
            body = await read_json(request)
            return json_response(method(self, body), content_type=json_version(request))
        except ApiError as exc:
            return self.error(request, exc)
        except BusError as exc:
            return self.error(request, ApiError(exc.code, str(exc), exc.status))
        except SimulatorStateError as exc:
            return self.error(request, ApiError("ServiceUnavailable", str(exc), 503))

    @property
    def _buses(self) -> Buses:
        return self._sim.buses

    def _bus(self, body: dict[str, Any]) -> Bus:
        name = optional(body, "EventBusName", str, "default")
        bus = self._buses.resolve(name)
        if bus is None:
            raise ApiError("ResourceNotFoundException", f"Event bus {name} does not exist.")
        return bus

    def _rule(self, body: dict[str, Any], key: str = "Name") -> Rule:
        bus = self._bus(body)
        name = require(body, key)
        rule = bus.rules.get(name)
        if rule is None:
            raise ApiError(
                "ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus.name}."
            )
        return rule

    def put_events(self, body: dict[str, Any]) -> dict[str, Any]:
        entries = require(body, "Entries", list)
        if not all(isinstance(entry, dict) for entry in entries):
            raise ApiError("ValidationException", "Entries must be a list of objects")
        results = self._buses.put_events(entries)
        failed = sum(1 for result in results if "ErrorCode" in result)
        return {"FailedEntryCount": failed, "Entries": results}

    def list_event_buses(self, body: dict[str, Any]) -> dict[str, Any]:
        prefix = optional(body, "NamePrefix", str, "")
        return {
            "EventBuses": [
                {"Name": bus.name, "Arn": bus.arn}
                for bus in self._buses.values()
                if bus.name.startswith(prefix)
            ]
        }

    def describe_event_bus(self, body: dict[str, Any]) -> dict[str, Any]:
        bus = self._bus({"EventBusName": optional(body, "Name", str, "default")})
        return {"Name": bus.name, "Arn": bus.arn}

    def list_rules(self, body: dict[str, Any]) -> dict[str, Any]:
        bus = self._bus(body)
        prefix = optional(body, "NamePrefix", str, "")
        return {"Rules": [_rule(r) for r in bus.rules.values() if r.name.startswith(prefix)]}

    def describe_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        return _rule(self._rule(body))

    def list_targets_by_rule(self, body: dict[str, Any]) -> dict[str, Any]:
        rule = self._rule(body, "Rule")
        targets = []
        for target in rule.targets:
            settings = target.settings
            described = {"Id": target.id, "Arn": target.arn, **settings.aws_input()}
            described["RetryPolicy"] = {
                "MaximumRetryAttempts": settings.retry_policy.maximum_retry_attempts,
                "MaximumEventAgeInSeconds": settings.retry_policy.maximum_event_age,
            }
            if settings.dead_letter_queue is not None:
                region, account = self._buses.region, self._buses.account
                described["DeadLetterConfig"] = {
                    "Arn": f"arn:aws:sqs:{region}:{account}:{settings.dead_letter_queue}"
                }
            targets.append(described)
        return {"Targets": targets}


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "Name": rule.name,
        "Arn": rule.arn,
        "EventPattern": json.dumps(rule.pattern),
        "State": "ENABLED" if rule.enabled else "DISABLED",
        "Description": rule.description,
        "EventBusName": rule.bus,
    }


_OPERATIONS: dict[str, Operation] = {
    "PutEvents": EventsApi.put_events,
    "ListEventBuses": EventsApi.list_event_buses,
    "DescribeEventBus": EventsApi.describe_event_bus,
    "ListRules": EventsApi.list_rules,
    "DescribeRule": EventsApi.describe_rule,
    "ListTargetsByRule": EventsApi.list_targets_by_rule,
}
