"""What reads and writes of a table give back: pages, capacity used, item sizes (pure).

Example::

    usage = Usage(consistent=False)
    usage.read_bytes("orders", 9000)          # 3 x 4 KB, eventually consistent: 1.5 units
    usage.report("orders", "TOTAL")           # {"TableName": "orders", "CapacityUnits": 1.5}
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..expressions import AV, Item

ITEM_LIMIT_BYTES = 400 * 1024
#: Capacity units: a read unit covers 4 KB (half a unit when eventually consistent), a write
#: unit 1 KB; a transaction costs twice as much.
READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


@dataclass(frozen=True)
class Page:
    """One page of a Query or Scan."""

    items: list[Item]
    scanned_count: int
    last_key: Item | None  # LastEvaluatedKey: pass as ``start_key`` for the next page


@dataclass
class Usage:
    """Capacity units an operation consumed, by table and index, for ``ReturnConsumedCapacity``
    (DynamoDB's arithmetic on item sizes; plausible, not billed)."""

    consistent: bool = False
    transactional: bool = False
    reads: dict[tuple[str, str | None], float] = field(default_factory=dict)
    writes: dict[tuple[str, str | None], float] = field(default_factory=dict)
    local: set[str] = field(default_factory=set)  # the indexes above that are local

    def read_bytes(
        self, table: str, size: int, index: str | None = None, *, local: bool = False
    ) -> None:
        units = max(1, math.ceil(size / READ_UNIT_BYTES))
        factor = 2.0 if self.transactional else 1.0 if self.consistent else 0.5
        key = (table, index)
        self.reads[key] = self.reads.get(key, 0.0) + units * factor
        if local and index is not None:
            self.local.add(index)

    def write_bytes(
        self, table: str, size: int, index: str | None = None, *, local: bool = False
    ) -> None:
        units = max(1, math.ceil(size / WRITE_UNIT_BYTES)) * (2 if self.transactional else 1)
        key = (table, index)
        self.writes[key] = self.writes.get(key, 0.0) + float(units)
        if local and index is not None:
            self.local.add(index)

    def tables(self) -> list[str]:
        return sorted({table for table, _ in (*self.reads, *self.writes)})

    def report(self, table: str, mode: str) -> dict[str, Any]:
        """One table's ConsumedCapacity for ``mode`` (``TOTAL`` or ``INDEXES``)."""
        reads = {k[1]: v for k, v in self.reads.items() if k[0] == table}
        writes = {k[1]: v for k, v in self.writes.items() if k[0] == table}
        total = sum(reads.values()) + sum(writes.values())
        out: dict[str, Any] = {"TableName": table, "CapacityUnits": total}
        if reads:
            out["ReadCapacityUnits"] = sum(reads.values())
        if writes:
            out["WriteCapacityUnits"] = sum(writes.values())
        if mode == "INDEXES":
            out["Table"] = _units(reads.get(None, 0.0), writes.get(None, 0.0))
            for index in sorted(i for i in {*reads, *writes} if i is not None):
                kind = "Local" if index in self.local else "Global"
                out.setdefault(f"{kind}SecondaryIndexes", {})[index] = _units(
                    reads.get(index, 0.0), writes.get(index, 0.0)
                )
        return out


def _units(read: float, write: float) -> dict[str, float]:
    out = {"CapacityUnits": read + write}
    if read:
        out["ReadCapacityUnits"] = read
    if write:
        out["WriteCapacityUnits"] = write
    return out


def item_size(item: Mapping[str, AV]) -> int:
    """An item's size as DynamoDB counts it: names plus values (numbers ~1 byte per 2 digits)."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def value_size(value: AV) -> int:
    ((tag, data),) = value.items()
    if tag == "S":
        return len(data.encode())
    if tag == "N":
        return (len(data.lstrip("-").replace(".", "")) + 1) // 2 + 1
    if tag == "B":
        return len(base64.b64decode(data))
    if tag in ("BOOL", "NULL"):
        return 1
    if tag == "L":
        return 3 + sum(value_size(member) + 1 for member in data)
    if tag == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in data.items())
    member = tag[0]
    return sum(value_size({member: m}) for m in data)
