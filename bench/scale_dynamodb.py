"""Scale cases: a DynamoDB table of N items (bench/scale.py runs them).

Each case fills a table file with N items in a child process (plain SQL through the table's
own layout, as another program would: the stall probe measures eventsim, not the setup),
starts a simulator on it and times one operation through ``sim.table()``: Query ``Limit=10``
in a partition holding all N items (from a random position), GetItem, PutItem (a new item
each time) and one Scan page of 100 items (from a random position). Each operation yields to
the loop after it, as a server answering one request at a time does, so the probe sees the
longest single operation. The paired floor for Query (raw SQLite) is in
``bench/dynamodb.py``.

Target (issue #16): Query ``Limit=10`` at 100k items within 1.5x of 1k (and <= 20x raw
SQLite: ``bench/dynamodb.py``).

    python bench/scale.py --only dynamodb [--sizes 1000,10000,100000,1000000]
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

from scale import Case

from eventsim import Simulator
from eventsim.config import TableConfig
from eventsim.resources.table import Table
from eventsim.resources.table_store import TableStore

TABLE = {"partition_key": "pk", "sort_key": "sk", "sort_key_type": "N"}
SIZES = (1_000, 10_000, 100_000)  # add 1,000,000 with --sizes (about 50 s to build each)


def item(partition: str, n: int) -> str:
    return json.dumps(
        {"pk": {"S": partition}, "sk": {"N": str(n)}, "body": {"S": f"item {n} " + "x" * 40}}
    )


def fill(path: Path, size: int, partitions: int) -> None:
    """``size`` items over ``partitions`` partitions, written in one transaction."""
    store = TableStore(path, TableConfig.model_validate(TABLE), "tables/bench")
    db = store.begin()
    db.executemany(
        "INSERT INTO items (item) VALUES (?)",
        ((item(f"p{n % partitions}", n),) for n in range(size)),
    )
    store.end(commit=True)
    # Checkpoint here, in a statement (which lets go of the GIL), not in close() (which
    # holds it): the stall probe measures eventsim, not this setup.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


@dataclass
class Context:
    sim: Simulator
    table: Table
    size: int
    rng: random.Random
    added: int = 0


async def build(folder: Path, size: int, partitions: int) -> Context:
    state = folder / "state"
    path = state / "tables" / "bench.sqlite3"
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, str(path), str(size), str(partitions)
    )
    if await child.wait() != 0:
        raise RuntimeError(f"filling {path} failed")
    sim = Simulator.from_dict({"tables": {"bench": TABLE}}, state_dir=state)
    await sim.start()
    return Context(sim, sim.table("bench"), size, random.Random(1))


async def one_partition(folder: Path, size: int) -> Context:
    return await build(folder, size, 1)


async def many_partitions(folder: Path, size: int) -> Context:
    return await build(folder, size, max(1, size // 10))


async def query(context: Context) -> None:
    start = context.rng.randrange(context.size)
    page = context.table.query_page(
        "pk = :p", values={":p": {"S": "p0"}}, limit=10,
        start_key={"pk": {"S": "p0"}, "sk": {"N": str(start)}},
    )  # fmt: skip
    assert page.items or start >= context.size - 1
    await asyncio.sleep(0)


async def get_item(context: Context) -> None:
    n = context.rng.randrange(context.size)
    partitions = max(1, context.size // 10)
    key = {"pk": {"S": f"p{n % partitions}"}, "sk": {"N": str(n)}}
    assert context.table.get(key) is not None
    await asyncio.sleep(0)


async def put_item(context: Context) -> None:
    context.added += 1
    n = context.size + context.added
    context.table.put(json.loads(item(f"new{n % 97}", n)))
    await asyncio.sleep(0)


async def scan_page(context: Context) -> None:
    n = context.rng.randrange(context.size)
    partitions = max(1, context.size // 10)
    start = {"pk": {"S": f"p{n % partitions}"}, "sk": {"N": str(n)}}
    page = context.table.scan_page(limit=100, start_key=start)
    assert page.scanned_count <= 100
    await asyncio.sleep(0)


async def close(context: Context) -> None:
    await context.sim.close(grace=0)


CASES = [
    Case("dynamodb Query Limit=10 (one partition of N items)", one_partition, query, close,
         sizes=SIZES, note="a range of the (pk, sort order) index from a random key"),
    Case("dynamodb GetItem (N items, 10 per partition)", many_partitions, get_item, close,
         sizes=SIZES),
    Case("dynamodb PutItem (N items, 10 per partition)", many_partitions, put_item, close,
         sizes=SIZES, note="one transaction: item, 3 indexes, no stream"),
    Case("dynamodb Scan page of 100 (N items, 10 per partition)", many_partitions, scan_page,
         close, sizes=SIZES, note="a range of the (hash, pk, sort order) index"),
]  # fmt: skip


if __name__ == "__main__":  # the child process that fills a table file
    fill(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
