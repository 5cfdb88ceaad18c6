"""EventBridge schedule payloads (docs/aws-behaviour.md §4.1, §4.4).

Example::

    scheduled_event(event_id=uuid, time=fire_at, region="us-east-1", account="123456789012",
                    rule_arn=rule_arn("us-east-1", "123456789012", "nightly"))
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .common import iso_s


def rule_arn(region: str, account: str, rule: str) -> str:
    return f"arn:aws:events:{region}:{account}:rule/{rule}"


def schedule_arn(region: str, account: str, name: str, group: str = "default") -> str:
    return f"arn:aws:scheduler:{region}:{account}:schedule/{group}/{name}"


def scheduled_event(
    *, event_id: str, time: datetime, region: str, account: str, rule_arn: str
) -> dict[str, Any]:
    """The "Scheduled Event" an EventBridge rule delivers; ``time`` to the second."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": iso_s(time),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def scheduler_payload(
    template: str, *, schedule_arn: str, scheduled_time: datetime, execution_id: str, attempt: int
) -> str:
    """An EventBridge Scheduler target ``Input``, with its ``<aws.scheduler.*>`` placeholders
    replaced; no envelope is added."""
    replacements = {
        "<aws.scheduler.schedule-arn>": schedule_arn,
        "<aws.scheduler.scheduled-time>": iso_s(scheduled_time),
        "<aws.scheduler.execution-id>": execution_id,
        "<aws.scheduler.attempt-number>": str(attempt),
    }
    for placeholder, value in replacements.items():
        template = template.replace(placeholder, value)
    return template
