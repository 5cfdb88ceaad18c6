"""Every queue of one simulator, by region and name: the config's and those made at run time.

The config's queues live in the config's region. CreateQueue makes a queue in the caller's
region (the edge reads it from the request's signature), so the same name in two regions is
two queues, with two URLs and ARNs. DeleteQueue removes one; SQS then refuses the name for
60 seconds on the simulator's clock (``QueueDeletedRecently``).

A queue created at run time lasts until the simulator closes, unless it is persisted
(``persist=True`` from Python, or the tag ``eventsim:persist`` = ``true`` at CreateQueue): then
its definition (attributes, tags) and its messages are kept in ``state_dir/queues.sqlite3``
and it is made again at the next start. A config queue with ``persist: true`` keeps its
messages; its definition is the config's.

As a ``Mapping`` the registry holds the config region's queues by name (``sim.queues``).

Example::

    queues = QueueRegistry(config, clock=clock, rng=rng, state_dir=state_dir)
    await queues.open(activity, supervisor)          # restores persisted messages
    jobs = queues.create("jobs-2", {"VisibilityTimeout": "60"}, region="eu-west-1")
    queues.delete(jobs)
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from ..activity import Activity
from ..clock import Clock
from ..config import Config, QueueConfig
from ..errors import QueueError
from .move_tasks import MoveTasks, Spawner
from .queue import Observe, Queue
from .queue_attributes import bad_value, changes, differing, parse_arn, unknown
from .queue_store import QueueStore

log = structlog.get_logger("eventsim.queues")

#: After DeleteQueue, SQS refuses the name this long.
RECENTLY_DELETED_S = 60
#: The tag that makes a queue created through the API a persisted one.
PERSIST_TAG = "eventsim:persist"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_FIFO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,75}\.fifo$")
_NAME_RULE = "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
_FIFO_NAME_RULE = (
    "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
    "underscores, must end with .fifo suffix and be 1 to 80 in length."
)


def not_found() -> QueueError:
    return QueueError("QueueDoesNotExist", "The specified queue does not exist.")


class QueueRegistry(Mapping[str, Queue]):
    """The queues of one simulator; as a mapping, the config region's by name."""

    def __init__(
        self, config: Config, *, clock: Clock, rng: random.Random, state_dir: Path
    ) -> None:
        self.region = config.region
        self.account = config.account
        self._config = config
        self._clock = clock
        self._rng = rng
        self._path = state_dir / "queues.sqlite3"
        self._queues: dict[tuple[str, str], Queue] = {}
        self._deleted: dict[tuple[str, str], float] = {}
        self._store: QueueStore | None = None
        self.moves = MoveTasks(self, clock, rng)
        #: Called with (queue, what, message id, body, target) for every message moved to a
        #: dead-letter queue, expired by retention or redriven (see ``Queue.notify``).
        self.observers: list[Observe] = []

    # --- lifecycle ------------------------------------------------------------------------

    async def open(self, activity: Activity | None = None, tasks: Spawner | None = None) -> None:
        """Build the config's queues, remake persisted ones created at run time, and restore
        persisted messages a chunk at a time (the loop gets a turn between chunks)."""
        self.moves.bind(activity, tasks)
        if any(q.persist for q in self._config.queues.values()) or self._path.exists():
            self._store = QueueStore(self._path, self.region)
        for name, queue_config in self._config.queues.items():
            self._make(name, queue_config, self.region)
        if self._store is None:
            return
        for region, name, data, created, modified in self._store.definitions():
            if (region, name) in self._queues:
                log.warning("queue.definition_ignored", queue=name, region=region,
                            reason="the config defines a queue of this name")  # fmt: skip
                continue
            try:
                queue = self._make(name, QueueConfig.model_validate(data), region)
            except ValidationError as exc:
                log.warning("queue.definition_ignored", queue=name, region=region, reason=str(exc))
                continue
            queue.created_at, queue.modified_at = created, modified
        for queue in list(self._queues.values()):
            if queue.config.persist:
                restored = 0
                async for chunk in self._store.load(f"{queue.region}/{queue.name}"):
                    restored += queue.restore(chunk)
                if restored:
                    log.info("queue.restored", queue=queue.name, messages=restored)

    def close(self) -> None:
        self.moves.cancel_all()
        if self._store is not None:
            self._store.close()
            self._store = None

    def _make(self, name: str, config: QueueConfig, region: str) -> Queue:
        def dead_letter() -> Queue | None:
            redrive = queue.config.redrive
            return self.get_queue(redrive.dead_letter_queue, region) if redrive else None

        if config.persist and self._store is None:
            self._store = QueueStore(self._path, self.region)
        queue = Queue(
            name, config, clock=self._clock, rng=self._rng, region=region,
            account=self.account, dead_letter=dead_letter, store=self._store,
            observe=self._notify,
        )  # fmt: skip
        self._queues[(region, name)] = queue
        return queue

    def _notify(
        self, queue: Queue, what: str, message_id: str, body: str, target: Queue | None
    ) -> None:
        for observer in list(self.observers):
            observer(queue, what, message_id, body, target)

    # --- the config region's queues, as a mapping -----------------------------------------

    def __getitem__(self, name: str) -> Queue:
        return self._queues[(self.region, name)]

    def __iter__(self) -> Iterator[str]:
        return (name for region, name in self._queues if region == self.region)

    def __len__(self) -> int:
        return sum(1 for region, _ in self._queues if region == self.region)

    # --- lookups --------------------------------------------------------------------------

    def get_queue(self, name: str, region: str | None = None) -> Queue | None:
        return self._queues.get((region or self.region, name))

    def by_arn(self, arn: str) -> Queue | None:
        parsed = parse_arn(arn) if isinstance(arn, str) else None
        if parsed is None or parsed[1] != self.account:
            return None
        return self._queues.get((parsed[0], parsed[2]))

    def names(self, region: str | None = None, prefix: str = "") -> list[str]:
        region = region or self.region
        return sorted(n for r, n in self._queues if r == region and n.startswith(prefix))

    def dead_letter_sources(self, queue: Queue) -> list[Queue]:
        """The queues whose redrive policy names ``queue``, by name."""
        return sorted(
            (q for (region, _), q in self._queues.items()
             if region == queue.region and q.config.redrive is not None
             and q.config.redrive.dead_letter_queue == queue.name),
            key=lambda q: q.name,
        )  # fmt: skip

    # --- CreateQueue, DeleteQueue, SetQueueAttributes, tags -----------------------------------

    def create(
        self,
        name: str,
        attributes: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        region: str | None = None,
        persist: bool = False,
    ) -> Queue:
        """CreateQueue: a queue by AWS's attribute names; the existing one when every given
        attribute matches it (``QueueAlreadyExists`` naming the first that does not)."""
        region = region or self.region
        given = dict(attributes or {})
        fifo = self._check_name(name, given.pop("FifoQueue", None))
        updates = changes(given, fifo=fifo, creating=True, region=region, account=self.account,
                          target=self.get_queue)  # fmt: skip
        existing = self._queues.get((region, name))
        if existing is not None:
            different = differing(existing, updates, given)
            if different is not None:
                raise QueueError(
                    "QueueAlreadyExists",
                    "A queue already exists with the same name and a different value for "
                    f"attribute {different}",
                )
            return existing
        deleted = self._deleted.get((region, name))
        if deleted is not None and self._clock.time() - deleted < RECENTLY_DELETED_S:
            raise QueueError("QueueDeletedRecently", "You must wait 60 seconds after deleting a "
                             "queue before you can create another with the same name.")  # fmt: skip
        tags = dict(tags or {})
        persist = persist or tags.get(PERSIST_TAG, "").lower() == "true"
        config = _validated({**updates, "tags": tags, "persist": persist})
        queue = self._make(name, config, region)
        self._save(queue)
        log.info("queue.created", queue=name, region=region, persist=persist)
        return queue

    def _check_name(self, name: object, fifo_attribute: object) -> bool:
        """Whether the queue is FIFO, from its name and FifoQueue attribute."""
        if not isinstance(name, str) or not name:
            raise QueueError("InvalidParameterValue", "Queue name cannot be empty.")
        if fifo_attribute is not None and not isinstance(fifo_attribute, str):
            raise bad_value("FifoQueue")
        flag = (fifo_attribute or "").lower()
        if flag == "true":
            if not _FIFO_NAME.match(name):
                raise QueueError("InvalidParameterValue", _FIFO_NAME_RULE)
            return True
        if flag == "false" and _NAME.match(name):
            raise unknown("FifoQueue")  # SQS: a standard queue has no FifoQueue attribute
        if fifo_attribute is not None and flag != "false":
            raise bad_value("FifoQueue")
        if not _NAME.match(name):
            raise QueueError("InvalidParameterValue", _NAME_RULE)
        return False

    def delete(self, queue: Queue) -> None:
        """DeleteQueue: its messages go; the name is refused for 60 seconds."""
        key = (queue.region, queue.name)
        if self._queues.get(key) is not queue:
            return
        del self._queues[key]
        queue.close()
        self._deleted[key] = self._clock.time()
        if self._store is not None:
            self._store.drop(queue.region, queue.name)
        log.info("queue.deleted", queue=queue.name, region=queue.region)

    def set_attributes(self, queue: Queue, attributes: Mapping[str, Any]) -> None:
        """SetQueueAttributes by AWS's names."""
        updates = changes(attributes, fifo=queue.fifo, creating=False, region=queue.region,
                          account=self.account, target=self.get_queue)  # fmt: skip
        queue.reconfigure(_validated({**queue.config.model_dump(), **updates}))
        self._save(queue)

    def tag(self, queue: Queue, tags: Mapping[str, str]) -> None:
        merged = {**queue.config.tags, **tags}
        queue.reconfigure(_validated({**queue.config.model_dump(), "tags": merged}))
        self._save(queue)

    def untag(self, queue: Queue, keys: list[str]) -> None:
        kept = {k: v for k, v in queue.config.tags.items() if k not in keys}
        queue.reconfigure(_validated({**queue.config.model_dump(), "tags": kept}))
        self._save(queue)

    def _save(self, queue: Queue) -> None:
        """A run-time persisted queue's definition, written through."""
        if not queue.config.persist or self._store is None:
            return
        if queue.region == self.region and queue.name in self._config.queues:
            return  # the config's definition is the one that counts
        self._store.save_definition(queue.region, queue.name, queue.config.model_dump(mode="json"),
                                    queue.created_at, queue.modified_at)  # fmt: skip

    # --- URLs -----------------------------------------------------------------------------

    def url(self, base: str, queue: Queue) -> str:
        """A queue's URL on the edge at ``base``: ``base/<account>/<name>`` in the config's
        region, ``base/queue/<region>/<account>/<name>`` in another."""
        if queue.region == self.region:
            return f"{base}/{queue.account}/{queue.name}"
        return f"{base}/queue/{queue.region}/{queue.account}/{queue.name}"

    def by_url(self, url: str, region: str | None = None) -> Queue:
        """The queue a QueueUrl names (an eventsim or AWS URL, or a bare name) for a caller
        in ``region``; ``QueueDoesNotExist`` otherwise."""
        found = self._parse_url(url, region or self.region)
        if found is None:
            raise not_found()
        return found

    def _parse_url(self, url: str, region: str) -> Queue | None:
        if not isinstance(url, str) or not url:
            return None
        if "/" not in url:
            return self._queues.get((region, url))
        rest = url.split("://", 1)[-1]
        host, _, path = rest.partition("/")
        parts = [p for p in path.split("/") if p]
        aws = re.match(r"^(?:sqs\.)?([a-z]{2}(?:-[a-z]+)+-\d)\.", host)
        if len(parts) == 4 and parts[0] == "queue":
            region, parts = parts[1], parts[2:]
        elif aws is not None:
            region = aws[1]
        if len(parts) != 2 or parts[0] != self.account:
            return None
        return self._queues.get((region, parts[1]))


def list_page(names: list[str], max_results: int | None, token: str | None) -> tuple[
    list[str], str | None
]:  # fmt: skip
    """One page of sorted ``names`` after ``token`` (an opaque NextToken we made)."""
    start = 0
    if token:
        try:
            after = base64.b64decode(token, validate=True).decode()
        except ValueError:
            raise QueueError("InvalidParameterValue", "Invalid NextToken value.") from None
        start = next((i for i, n in enumerate(names) if n > after), len(names))
    limit = 1000 if max_results is None else max_results
    page = names[start : start + limit]
    more = max_results is not None and start + limit < len(names)
    return page, base64.b64encode(page[-1].encode()).decode() if more and page else None


def _validated(values: dict[str, Any]) -> QueueConfig:
    try:
        return QueueConfig.model_validate(values)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(map(str, problem["loc"]))
        raise QueueError("InvalidParameterValue", f"{where}: {problem['msg']}") from None
