"""Scale cases: a bucket folder holding N files (bench/scale.py runs them).

Each case writes a folder of N files (before the stall probe starts) and starts a simulator
over it (a first start: the files are recorded without being read; the build's stall shows
what that costs), then:

* put_object (Python API) of a 1 KB object: the manifest write per change;
* a ListObjectsV2 page (100 keys, full at every size) from the middle of the bucket;
* a restart over the folder (the manifest is compared with the files: nothing changed).

Target (issue #16): the longest loop stall <= 20 ms at 100k files (the stall column, which
covers the build, that is the first start, too).

    python bench/scale.py --only bucket
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scale import Case

from eventsim import Simulator
from eventsim.resources.listing import list_page

BODY = b"x" * 1024


def write_files(folder: Path, size: int) -> None:
    for n in range(size):
        directory = folder / "bucket" / f"d{n % 100:02d}"
        if n < 100:
            directory.mkdir(parents=True)
        (directory / f"f{n:07d}.txt").write_bytes(b"data")


async def with_files(folder: Path, size: int) -> Simulator:
    bucket = folder / "bucket"  # written by write_files, before the probe starts
    sim = Simulator.from_dict(
        {"buckets": {"scale": {"path": str(bucket)}}}, state_dir=folder / "state"
    )
    await sim.start()
    await sim.settle()
    sim.counter = 0  # type: ignore[attr-defined]
    return sim


async def put_object(sim: Any) -> None:
    sim.counter += 1
    await sim.bucket("scale").put_object(f"new/{sim.counter % 1000}", BODY)


async def list_a_page(sim: Any) -> None:
    bucket = sim.bucket("scale")
    listing = list_page(bucket.manifest.page, prefix="d5", after="d50/", max_keys=100)
    await bucket.with_etags(listing.objects)


async def restart(sim: Any) -> None:
    bucket = sim.bucket("scale")
    await bucket.stop()
    await bucket.start()


async def close(sim: Any) -> None:
    await sim.close(grace=0)


CASES = [
    Case(
        "bucket put_object (1 KB) with N files",
        with_files,
        put_object,
        close,
        prepare=write_files,
        note="temp file, rename, manifest row; build = a first start: no file is read",
    ),
    Case(
        "bucket ListObjectsV2 page (100 keys) with N files",
        with_files,
        list_a_page,
        close,
        operations=10,
        prepare=write_files,
        note="one range of the manifest; ETags computed on first listing",
    ),
    Case(
        "bucket restart over N unchanged files",
        with_files,
        restart,
        close,
        operations=1,
        prepare=write_files,
        note="scan the folder, compare each file's size and mtime with the manifest",
    ),
]
