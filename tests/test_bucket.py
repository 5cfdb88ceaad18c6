"""A real folder as an S3 bucket: real files, real watchdog, real handlers."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import S3Event

from eventsim import Outcome, Simulator
from eventsim.errors import InvalidKey, NoSuchKey
from eventsim.resources.bucket import _Hints, _Overflow
from eventsim.testing import SimulatorFactory

from .helpers import function

pytestmark = pytest.mark.asyncio


def config(root: Path, **trigger: Any) -> dict[str, Any]:
    options = {"bucket": "uploads", "events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}
    options.update(trigger)
    return {
        "functions": {"on_upload": function("echo", triggers=[{"s3": options}])},
        "buckets": {"uploads": {"path": str(root / "uploads")}},
    }


async def start(factory: SimulatorFactory, root: Path, **kw: Any) -> Simulator:
    state = kw.pop("state_dir", root / "state")
    return await factory(config(root, **kw.pop("trigger", {})), state_dir=state, **kw)


def records(sim: Simulator) -> list[dict[str, Any]]:
    return [a.event["Records"][0] for a in sim.ledger.for_function("on_upload")]


def summary(sim: Simulator) -> list[tuple[str, str]]:
    return [(r["eventName"], r["s3"]["object"]["key"]) for r in records(sim)]


async def test_put_object_notifies_before_returning(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await start(eventsim_factory, tmp_path)
    change = await sim.bucket("uploads").put_object("images/cat.jpg", b"meow")
    assert change is not None and change.kind == "Put"
    await sim.settle()
    [record] = records(sim)
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "images/cat.jpg"
    assert record["s3"]["object"]["size"] == 4
    assert record["s3"]["object"]["eTag"] == hashlib.md5(b"meow").hexdigest()
    assert record["s3"]["bucket"]["name"] == "uploads"
    assert record["s3"]["configurationId"] == "eventsim-on_upload-0"
    assert (tmp_path / "uploads" / "images" / "cat.jpg").read_bytes() == b"meow"
    attempt = sim.ledger.for_function("on_upload")[0]
    assert attempt.source == "s3:uploads" and attempt.invocation_type == "Event"


async def test_bucket_api(eventsim_factory: SimulatorFactory, tmp_path: Path) -> None:
    sim = await start(eventsim_factory, tmp_path)
    bucket = sim.bucket("uploads")
    await bucket.put_object("a/1.txt", "one")
    await bucket.put_object("b.txt", b"two")
    assert bucket.list_objects() == ["a/1.txt", "b.txt"]
    assert bucket.list_objects("a/") == ["a/1.txt"]
    assert await bucket.get_object("a/1.txt") == b"one"
    await bucket.delete_object("a/1.txt")
    assert bucket.list_objects() == ["b.txt"]
    with pytest.raises(NoSuchKey) as gone:  # also a KeyError
        await bucket.get_object("a/1.txt")
    assert (gone.value.code, gone.value.status, gone.value.key) == ("NoSuchKey", 404, "a/1.txt")
    await sim.settle()
    # Deliveries run concurrently and may finish in any order; the sequencer orders a key.
    [removed] = [r for r in records(sim) if r["eventName"] == "ObjectRemoved:Delete"]
    assert removed["s3"]["object"]["key"] == "a/1.txt" and "size" not in removed["s3"]["object"]
    [put] = [r for r in records(sim) if r["s3"]["object"]["key"] == "a/1.txt" and r is not removed]
    assert removed["s3"]["object"]["sequencer"] > put["s3"]["object"]["sequencer"]


@pytest.mark.parametrize("key", ["../outside", "/etc/passwd", "a/../../x", "a//b", "nul\x00l", ""])
async def test_keys_never_escape_the_folder(
    eventsim_factory: SimulatorFactory, tmp_path: Path, key: str
) -> None:
    sim = await start(eventsim_factory, tmp_path)
    with pytest.raises(InvalidKey):
        await sim.bucket("uploads").put_object(key, b"x")
    assert not (tmp_path / "outside").exists()


async def test_real_files_written_deleted_renamed_and_moved(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await start(eventsim_factory, tmp_path)
    folder = tmp_path / "uploads"
    (folder / "photos").mkdir()

    (folder / "photos" / "red flower.jpg").write_bytes(b"rose")
    await sim.ledger.wait_for("on_upload", count=1)
    (folder / "photos" / "red flower.jpg").rename(folder / "photos" / "a+b=c ü.jpg")
    await sim.ledger.wait_for("on_upload", count=3)
    (folder / "photos" / "a+b=c ü.jpg").unlink()
    await sim.ledger.wait_for("on_upload", count=4)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("from outside")
    shutil.move(outside, folder / "moved-in.txt")
    await sim.ledger.wait_for("on_upload", count=5)
    shutil.move(folder / "moved-in.txt", tmp_path / "moved-out.txt")
    await sim.ledger.wait_for("on_upload", count=6)

    assert summary(sim) == [
        ("ObjectCreated:Put", "photos/red+flower.jpg"),
        ("ObjectRemoved:Delete", "photos/red+flower.jpg"),
        ("ObjectCreated:Put", "photos/a%2Bb%3Dc+%C3%BC.jpg"),
        ("ObjectRemoved:Delete", "photos/a%2Bb%3Dc+%C3%BC.jpg"),
        ("ObjectCreated:Put", "moved-in.txt"),
        ("ObjectRemoved:Delete", "moved-in.txt"),
    ]
    # A handler decoding the AWS way gets the real names back.
    third = sim.ledger.for_function("on_upload")[2].event
    assert S3Event(third).object_key == "photos/a+b=c ü.jpg"
    assert all(a.outcome is Outcome.SUCCESS for a in sim.ledger.for_function("on_upload"))


async def test_files_are_announced_only_when_complete(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await start(eventsim_factory, tmp_path)
    folder = tmp_path / "uploads"
    # A user's program writing in two steps (blocking I/O is the point here).
    with open(folder / "big.bin", "wb") as file:  # noqa: ASYNC230
        file.write(b"a" * 1000)
        file.flush()
        os.fsync(file.fileno())
        file.write(b"b" * 1000)
    # Temp files are never announced; renaming one into place is.
    (folder / "download.crdownload").write_bytes(b"partial")
    (folder / "notes.txt.swp").write_bytes(b"vim")
    (folder / "download.crdownload").rename(folder / "download.zip")
    await sim.ledger.wait_for("on_upload", count=2)
    await sim.settle()

    # Different keys may be announced in either order, as in S3.
    assert sorted(summary(sim)) == [
        ("ObjectCreated:Put", "big.bin"), ("ObjectCreated:Put", "download.zip"),
    ]  # fmt: skip
    [big] = [r["s3"]["object"] for r in records(sim) if r["s3"]["object"]["key"] == "big.bin"]
    assert big["size"] == 2000
    assert big["eTag"] == hashlib.md5(b"a" * 1000 + b"b" * 1000).hexdigest()


async def test_files_written_into_a_new_folder_right_away(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await start(eventsim_factory, tmp_path)
    nested = tmp_path / "uploads" / "new" / "deeper"
    nested.mkdir(parents=True)
    for n in range(5):
        (nested / f"{n}.txt").write_text(str(n))
    await sim.ledger.wait_for("on_upload", count=5)
    await sim.settle()
    assert sorted(summary(sim)) == [("ObjectCreated:Put", f"new/deeper/{n}.txt") for n in range(5)]


async def test_overwrite_is_another_put_with_a_later_sequencer(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await start(eventsim_factory, tmp_path)
    path = tmp_path / "uploads" / "doc.txt"
    path.write_text("v1")
    await sim.ledger.wait_for("on_upload", count=1)
    path.write_text("version 2")
    await sim.ledger.wait_for("on_upload", count=2)
    first, second = records(sim)
    assert second["s3"]["object"]["size"] == 9
    assert second["s3"]["object"]["sequencer"] > first["s3"]["object"]["sequencer"]


async def test_prefix_and_suffix_filters(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await start(eventsim_factory, tmp_path, trigger={"prefix": "images/", "suffix": ".jpg"})
    bucket = sim.bucket("uploads")
    await bucket.put_object("images/a.png", b"")
    await bucket.put_object("docs/a.jpg", b"")
    await bucket.put_object("images/a.jpg", b"")
    await sim.settle()
    assert summary(sim) == [("ObjectCreated:Put", "images/a.jpg")]


async def test_event_type_filter(eventsim_factory: SimulatorFactory, tmp_path: Path) -> None:
    sim = await start(eventsim_factory, tmp_path, trigger={"events": ["s3:ObjectRemoved:Delete"]})
    bucket = sim.bucket("uploads")
    await bucket.put_object("x", b"")
    await bucket.delete_object("x")
    await sim.settle()
    assert summary(sim) == [("ObjectRemoved:Delete", "x")]


async def test_changes_made_while_stopped_are_announced_at_start(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    folder, state = tmp_path / "uploads", tmp_path / "state"
    sim = await start(eventsim_factory, tmp_path, state_dir=state)
    for name in ("keep.txt", "change.txt", "remove.txt"):
        await sim.bucket("uploads").put_object(name, name)
    await sim.close()

    (folder / "change.txt").write_text("changed while down")
    (folder / "remove.txt").unlink()
    (folder / "new.txt").write_text("added while down")

    again = await start(eventsim_factory, tmp_path, state_dir=state)
    await again.settle()
    assert sorted(summary(again)) == [
        ("ObjectCreated:Put", "change.txt"),
        ("ObjectCreated:Put", "new.txt"),
        ("ObjectRemoved:Delete", "remove.txt"),
    ]
    before = max(r["s3"]["object"]["sequencer"] for r in records(sim))
    assert min(r["s3"]["object"]["sequencer"] for r in records(again)) > before


@pytest.mark.parametrize("announce_existing", [False, True])
async def test_first_start_records_existing_files(
    eventsim_factory: SimulatorFactory, tmp_path: Path, announce_existing: bool
) -> None:
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "old.txt").write_text("was here")
    data = config(tmp_path)
    data["buckets"]["uploads"]["announce_existing"] = announce_existing
    sim = await eventsim_factory(data, state_dir=tmp_path / "state")
    await sim.settle()
    assert summary(sim) == ([("ObjectCreated:Put", "old.txt")] if announce_existing else [])
    assert sim.bucket("uploads").list_objects() == ["old.txt"]


async def test_lost_filesystem_events_are_recovered_by_a_rescan(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await start(eventsim_factory, tmp_path)
    bucket = sim.bucket("uploads")
    observer = bucket._observer
    assert observer is not None
    observer.unschedule_all()  # events from now on are lost, as on a kernel queue overflow
    (tmp_path / "uploads" / "unseen.txt").write_text("x")
    await sim.settle()
    assert summary(sim) == []
    _Hints(bucket, asyncio.get_running_loop()).on_any_event(_Overflow(str(tmp_path / "uploads")))
    await sim.ledger.wait_for("on_upload", count=1)
    assert summary(sim) == [("ObjectCreated:Put", "unseen.txt")]


async def test_failing_s3_handler_retries_and_reaches_on_failure(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    data = {
        "functions": {
            "thumb": function(
                "fail",
                on_failure="function:failures",
                triggers=[{"s3": {"bucket": "uploads"}}],
            ),
            "failures": function("echo"),
        },
        "buckets": {"uploads": {"path": str(tmp_path / "uploads")}},
    }
    sim = await eventsim_factory(data, state_dir=tmp_path / "state")
    await sim.bucket("uploads").put_object("cat.jpg", b"x")
    await sim.advance(minutes=3)
    assert [a.attempt for a in sim.ledger.for_function("thumb") if a.ran] == [1, 2, 3]
    [failure] = sim.ledger.for_function("failures")
    assert failure.event["requestPayload"]["Records"][0]["s3"]["object"]["key"] == "cat.jpg"


async def test_watchdogs_error_about_its_own_stop_race_is_not_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bucket restarted (or stopped) while watchdog's reader is mid-read made watchdog log
    ``InotifyEmitter.queue_events() called when the thread is inactive`` at error level: a
    harmless race in its own shutdown, shown to users as an error. Its other errors still are."""
    import eventsim.resources.bucket_watch  # noqa: F401 - installs the filter

    inotify = logging.getLogger("watchdog.observers.inotify")
    with caplog.at_level(logging.ERROR):
        inotify.error("InotifyEmitter.queue_events() called when the thread is inactive")
        inotify.error("something else went wrong")
    assert [r.getMessage() for r in caplog.records] == ["something else went wrong"]
