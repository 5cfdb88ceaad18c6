"""What both halves of ``export sam`` share: CloudFormation's short tags as values, the
template being written (its resources, logical ids, marks), and small helpers."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config


class Ref(str):
    """``!Ref name`` in the output."""


class GetAtt(str):
    """``!GetAtt Logical.Attribute`` in the output."""


class Sub(str):
    """``!Sub "..."`` in the output."""


@dataclass
class Export:
    """The template being written from ``config`` (paths relative to ``folder``)."""

    config: Config
    folder: Path
    resources: dict[str, Any] = field(default_factory=dict)
    #: Logical ids by (section, name).
    ids: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Key path in the template -> the comment marking what eventsim filled in or left out.
    marks: dict[tuple[str, ...], str] = field(default_factory=dict)
    #: queue or topic logical id -> (service principal, source ARN) allowed to send to it.
    senders: dict[str, list[tuple[str, Any]]] = field(default_factory=dict)
    #: Rules already named, by (bus, rule): triggers sharing one become rules of their own.
    rules: set[tuple[str, str]] = field(default_factory=set)

    def mark(self, path: tuple[str, ...], comment: str) -> None:
        """A comment at the end of the line of ``Resources.<path>``."""
        self.marks[("Resources", *path)] = comment


def camel(name: str) -> str:
    """A name as a logical id: ``resize-images`` -> ``ResizeImages``."""
    words = re.split(r"[^A-Za-z0-9]+", name)
    joined = "".join(w[:1].upper() + w[1:] for w in words if w)
    return joined if joined[:1].isalpha() else f"R{joined}"


def logical_id(export: Export, section: str, name: str) -> str:
    return export.ids[(section, name)]


def bucket_name(name: str) -> Sub:
    return Sub(f"{name[:35]}-${{AWS::AccountId}}-${{AWS::Region}}")


def arn(section: str, logical: str) -> Any:
    return GetAtt(f"{logical}.Arn") if section == "queues" else Ref(logical)


def target_input(export: Export, target: Any) -> dict[str, Any]:
    """A rule target's Input, InputPath, InputTransformer, RetryPolicy, DeadLetterConfig."""
    entry: dict[str, Any] = target.aws_input()
    given = target.retry_policy.model_dump(exclude_defaults=True)
    if given:
        entry["RetryPolicy"] = {
            key: given[option]
            for option, key in (("maximum_retry_attempts", "MaximumRetryAttempts"),
                                ("maximum_event_age", "MaximumEventAgeInSeconds"))
            if option in given
        }  # fmt: skip
    if target.dead_letter_queue is not None:
        dlq = logical_id(export, "queues", target.dead_letter_queue)
        entry["DeadLetterConfig"] = {"Arn": GetAtt(f"{dlq}.Arn")}
    return entry


def relative(export: Export, path: Path) -> str:
    text = os.path.relpath(path, export.folder)
    return "." if text == "." else text.replace(os.sep, "/")
