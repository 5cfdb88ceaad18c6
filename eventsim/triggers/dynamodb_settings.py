"""A ``dynamodb`` trigger's settings: those of AWS's stream event source mapping, snake_cased
(docs/aws-behaviour.md §7.2), and ``wait_for_table``.

The kind (``dynamodb.py``) names this model; the reader (``dynamodb_stream.py``) and its lanes
(``dynamodb_lanes.py``) follow it. It has a module of its own so that they depend on it and not
on the kind, which depends on them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ..config import DestinationRef, Filters, Model


class DynamoDbTrigger(Model):
    """One DynamoDB stream event source mapping's settings."""

    table: str
    starting_position: Literal["TRIM_HORIZON", "LATEST"]
    batch_size: int = Field(default=100, ge=1, le=10000)
    batching_window: int = Field(default=0, ge=0, le=300)
    maximum_retry_attempts: int = Field(default=-1, ge=-1, le=10000)
    maximum_record_age: int = Field(default=-1, ge=-1, le=604800)
    bisect_on_error: bool = False
    parallelization_factor: int = Field(default=1, ge=1, le=10)
    tumbling_window: int = Field(default=0, ge=0, le=900)
    on_failure: DestinationRef | None = None
    report_batch_item_failures: bool = False
    filters: Filters = Field(default_factory=list, max_length=10)
    #: The table is made at run time (CreateTable): the mapping waits for it. Without this,
    #: a table the config does not define is an error.
    wait_for_table: bool = False
    enabled: bool = True

    @field_validator("maximum_record_age")
    @classmethod
    def _record_age(cls, value: int) -> int:
        if value != -1 and value < 60:
            raise ValueError("expected -1 (no limit) or 60..604800 seconds")
        return value
