"""Time formats shared by the builders."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_ms(when: datetime) -> str:
    """``2024-05-01T12:34:56.789Z``: ISO-8601 UTC with milliseconds (S3, destinations)."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def iso_s(when: datetime) -> str:
    """``2015-10-08T16:53:06Z``: ISO-8601 UTC to the second (EventBridge)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def clf_time(when: datetime) -> str:
    """``09/Apr/2015:12:34:56 +0000``: API Gateway's request time."""
    return when.astimezone(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
