"""A function's triggers and plug-ins' resources: ``Trigger`` and ``Extensions``, whose
schemas come from the trigger registry when a model holding them is first used."""

from __future__ import annotations

import functools
import operator
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

from ..config_checks import did_you_mean
from ..triggers import registry


@dataclass(frozen=True)
class Trigger:
    """One entry of a function's ``triggers`` list: ``{<kind>: {settings}}``, exactly one kind.

    ``kind`` is a name from the trigger registry (``eventsim.triggers.registry``: the built-in
    ``s3``, ``sqs``, ``dynamodb``, ``schedule``, ``http``..., and plug-ins); ``spec`` holds the
    settings, validated by that kind's model. Errors keep their place in the file
    (``functions.f.triggers.0.sqs.batch_size``) whatever the kind.
    """

    kind: str
    spec: BaseModel

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # Built when a model holding triggers is first used (``defer_build``), so the registry
        # (and plug-ins) load then, not when this module is imported.
        choices: dict[Hashable, core_schema.CoreSchema] = {}
        for name, kind in registry.kinds().items():
            settings = handler.generate_schema(kind.model)
            choices[name] = core_schema.no_info_before_validator_function(
                operator.itemgetter(name),
                core_schema.no_info_after_validator_function(
                    functools.partial(cls, name), settings
                ),
            )
        union = core_schema.tagged_union_schema(choices, discriminator=_trigger_kind)
        return core_schema.no_info_wrap_validator_function(
            _trigger_shape,
            union,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda trigger: {trigger.kind: trigger.spec.model_dump(mode="json")}
            ),
        )


class Extensions(dict[str, dict[str, BaseModel]]):
    """``extensions:``: the resources of plug-in trigger kinds, ``{<kind>: {<name>: {...}}}``,
    each validated by its kind's ``resource_model`` (positions kept, as for triggers)."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        fields = {
            name: core_schema.typed_dict_field(
                core_schema.dict_schema(
                    core_schema.str_schema(), handler.generate_schema(kind.resource_model)
                ),
                required=False,
            )
            for name, kind in registry.kinds().items()
            if kind.resource_model is not None
        }
        return core_schema.no_info_after_validator_function(
            cls, core_schema.typed_dict_schema(fields, extra_behavior="forbid")
        )


def _trigger_kind(value: Any) -> str | None:
    return next(iter(value)) if isinstance(value, dict) and len(value) == 1 else None


def _trigger_shape(value: Any, handler: core_schema.ValidatorFunctionWrapHandler) -> Any:
    """A ``Trigger`` as is; a mapping with exactly one known kind; else a clear error."""
    if isinstance(value, Trigger):
        return value
    names = list(registry.kinds())
    given = list(value) if isinstance(value, dict) else None
    if given is None or len(given) != 1:
        got = "a mapping with none" if given == [] else f"{given}" if given else repr(value)
        raise PydanticCustomError(
            "trigger_shape", "a trigger has exactly one of {kinds}; got {got}",
            {"kinds": ", ".join(names), "got": got},
        )  # fmt: skip
    if given[0] not in names:
        raise PydanticCustomError(
            "trigger_kind", "unknown trigger kind {kind}{guess} (expected one of: {kinds})",
            {"kind": repr(given[0]), "guess": did_you_mean(str(given[0]), names),
             "kinds": ", ".join(names)},
        )  # fmt: skip
    return handler(value)
