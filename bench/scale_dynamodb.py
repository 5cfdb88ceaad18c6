"""Scale cases: a DynamoDB table of N items (bench/scale.py runs them).

Each case fills a table file with N items in a child process (plain SQL through the table's
own layout, as another program would: the stall probe measures eventsim, not the setup),
starts a simulator on it and times one operation through ``sim.table()``: Query ``Limit=10``
in a partition holding all N items (from a random position), GetItem, PutItem (a new item
each time) and one Scan page of 100 items (from a random position). Each operation yields to
the loop after it, as a server answering one request at a time does, so the probe sees the
longest single operation. The paired floor for Query (raw SQLite) is in
``bench/dynamodb.py``. Two stream cases start on N stream rows written while eventsim was
down (none stamped): one reads them a slice at a time as a mapping does, the other reads 25
virtual hours later, when every read first drops rows past the 24-hour retention.

Targets (issue #16): Query ``Limit=10`` at 100k items within 1.5x of 1k (and <= 20x raw
SQLite: ``bench/dynamodb.py``); the longest loop stall <= 20 ms at 1M stream rows.

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
from eventsim.triggers.dynamodb_stream import READ_SLICE

TABLE = {"partition_key": "pk", "sort_key": "sk", "sort_key_type": "N"}
STREAM_TABLE = {**TABLE, "stream": "NEW_IMAGE"}
SIZES = (1_000, 10_000, 100_000)  # add 1,000,000 with --sizes (about 50 s to build each)


def item(partition: str, n: int) -> str:
    return json.dumps(
        {"pk": {"S": partition}, "sk": {"N": str(n)}, "body": {"S": f"item {n} " + "x" * 40}}
    )


def fill(path: Path, size: int, partitions: int, stream: bool = False) -> None:
    """``size`` items over ``partitions`` partitions, written in one transaction (with
    ``stream``, each leaves a stream row that no one has stamped yet)."""
    config = TableConfig.model_validate(STREAM_TABLE if stream else TABLE)
    store = TableStore(path, config, "tables/bench")
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
    after: int = 0  # the stream read so far


async def build(folder: Path, size: int, partitions: int, *, stream: bool = False,
                virtual_time: bool = False) -> Context:  # fmt: skip
    state = folder / "state"
    path = state / "tables" / "bench.sqlite3"
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, str(path), str(size), str(partitions), str(stream)
    )
    if await child.wait() != 0:
        raise RuntimeError(f"filling {path} failed")
    sim = Simulator.from_dict({"tables": {"bench": STREAM_TABLE if stream else TABLE}},
                              state_dir=state, virtual_time=virtual_time)  # fmt: skip
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


async def written_while_down(folder: Path, size: int) -> Context:
    """N items written by another program while eventsim was down: N unstamped stream rows."""
    return await build(folder, size, max(1, size // 10), stream=True)


async def past_retention(folder: Path, size: int) -> Context:
    """N stream rows, all read once, then 25 virtual hours later: all past retention."""
    context = await build(folder, size, max(1, size // 10), stream=True, virtual_time=True)
    while changes := context.table.changes(context.after, READ_SLICE):  # as a mapping reads
        context.after = changes[-1].seq
        await asyncio.sleep(0)
    await context.sim.advance(hours=25)
    return context


async def read_stream(context: Context) -> None:
    """The next slice of stream records, as a mapping's reader takes them in one turn of the
    loop (back to the start at the end); rows it reaches unstamped are stamped 1,000 at a
    time."""
    changes = context.table.changes(context.after, READ_SLICE)
    if not changes:
        context.after = 0
        changes = context.table.changes(0, READ_SLICE)
    for change in changes:
        context.table.record(change)
    context.after = changes[-1].seq
    await asyncio.sleep(0)


async def read_past_retention(context: Context) -> None:
    """A read after 24 hours: each drops (at most) 1,000 rows past retention first."""
    context.table._trimmed_at = 0  # every read trims, as when a minute passed between reads
    context.table.changes(context.after, READ_SLICE)
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
    Case("dynamodb stream: read a slice of N records written while eventsim was down",
         written_while_down, read_stream, close, sizes=SIZES,
         note=f"{READ_SLICE} records a read, as a mapping reads; rows are stamped 1,000 at a "
              "time as reading reaches them: from 125k rows every read pays its share of "
              "stamping, below it re-reads find them stamped"),
    Case("dynamodb stream: a read 25 h after N records (retention trim)", past_retention,
         read_past_retention, close, sizes=SIZES, operations=10,
         note="each read first drops up to 1,000 rows past the 24 h retention"),
]  # fmt: skip


if __name__ == "__main__":  # the child process that fills a table file
    fill(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "True")
