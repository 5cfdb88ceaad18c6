"""Building blocks of the config's models: the base ``Model``, paths and work folders, times,
environment globs, destinations and filter patterns, each validated as the file gives it."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    ValidationInfo,
)

from ..config_checks import unsafe_folder
from ..errors import PatternError
from ..filters import FilterSet


def _to_path(value: Any) -> Any:
    # Validation is strict (no str -> Path coercion), and YAML has no path type: take strings.
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("expected a path, got an empty string")
        return Path(value)
    if isinstance(value, Path):
        return value
    raise ValueError(f"expected a path (a string), got {value!r}")


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    value = value.expanduser()
    if not value.is_absolute() and base is not None:
        value = Path(base) / value
    return value.resolve()


def _safe_folder(value: Path) -> Path:
    problem = unsafe_folder(value)
    if problem:
        raise ValueError(problem)
    return value


ResolvedPath = Annotated[Path, BeforeValidator(_to_path), AfterValidator(_resolve_path)]
#: A folder eventsim writes to or watches: not a file, not a system folder.
WorkFolder = Annotated[ResolvedPath, AfterValidator(_safe_folder)]

_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _to_datetime(value: Any) -> Any:
    # Strict validation takes datetime objects only; YAML gives them unquoted, or strings.
    if isinstance(value, str) or (isinstance(value, date) and not isinstance(value, datetime)):
        try:
            return _DATETIME.validate_python(value)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise ValueError(f"expected an ISO 8601 date and time, got {value!r}") from exc
    return value


Timestamp = Annotated[datetime, BeforeValidator(_to_datetime)]

#: A variable name in which ``*`` and ``?`` are wildcards.
ENV_GLOB = re.compile(r"^[A-Za-z_*?][A-Za-z0-9_*?]*$")


def _env_glob(value: str) -> str:
    if not ENV_GLOB.match(value):
        raise ValueError(
            f"invalid variable name or glob {value!r}: letters, digits, _ and the wildcards "
            "* and ?, not starting with a digit"
        )
    return value


#: ``inherit_env`` entries: ``HOME``, ``MYAPP_*``, ``LC_?``...
EnvGlob = Annotated[str, AfterValidator(_env_glob)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


DestinationKind = Literal["function", "queue", "topic", "bus"]
DESTINATION_KINDS: tuple[DestinationKind, ...] = ("function", "queue", "topic", "bus")


class Destination(Model):
    """Where an async result, a failed event or a failed batch goes: ``function:NAME``,
    ``queue:NAME``, ``topic:NAME`` or ``bus:NAME`` (each setting says which kinds it takes)."""

    kind: DestinationKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


def _parse_destination(value: Any) -> Any:
    if isinstance(value, str):
        kind, sep, name = value.partition(":")
        if not sep or kind not in DESTINATION_KINDS or not name:
            raise ValueError(
                f"expected 'function:NAME', 'queue:NAME', 'topic:NAME' or 'bus:NAME', got {value!r}"
            )
        return {"kind": kind, "name": name}
    return value


DestinationRef = Annotated[Destination, BeforeValidator(_parse_destination)]
FilterPattern = dict[str, Any]


def _check_filters(patterns: list[FilterPattern]) -> list[FilterPattern]:
    try:
        FilterSet.compile(patterns)
    except PatternError as exc:
        raise ValueError(str(exc)) from None
    return patterns


Filters = Annotated[list[FilterPattern], AfterValidator(_check_filters)]
