"""What the dashboard tests share: a config with one function per view, an HTTP client for the
JSON API, and (for the tests marked ``browser``) headless Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from eventsim import Simulator

HERE = Path(__file__).parent
#: Where the browser tests save their screenshots: ``EVENTSIM_SCREENSHOTS=docs/screenshots``
#: refreshes the README's; by default they go to the test's own folder.
SCREENSHOTS = "EVENTSIM_SCREENSHOTS"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives the dashboard in headless Chromium (CI runs them)"
    )


def function(handler: str, **options: Any) -> dict[str, Any]:
    return {"handler": f"dash_handlers.{handler}", "code": str(HERE), **options}


def scenario(folder: Path) -> dict[str, Any]:
    """A config with something for every view: functions that succeed and fail, a queue with
    a dead-letter queue, a table with a stream, a bucket, schedules."""
    return {
        "functions": {
            "echo": function("echo", memory=256),
            "fail": function("fail", retries=0),
            "orders": function(
                "orders",
                triggers=[
                    {
                        "sqs": {
                            "queue": "orders",
                            "batch_size": 10,
                            "report_batch_item_failures": True,
                        }
                    },
                ],
            ),
            "uploads": function("uploads", triggers=[{"s3": {"bucket": "uploads"}}]),
            "changes": function(
                "changes",
                triggers=[
                    {"dynamodb": {"table": "stock", "starting_position": "TRIM_HORIZON"}},
                ],
            ),
            "tick": function(
                "tick",
                triggers=[
                    {"schedule": {"expression": "rate(1 hour)", "name": "hourly"}},
                    {
                        "schedule": {
                            "expression": "cron(0 9 ? * MON-FRI *)",
                            "name": "morning",
                            "timezone": "Europe/Paris",
                        }
                    },
                ],
            ),
        },  # fmt: skip
        "queues": {
            "orders": {
                "visibility_timeout": 1,
                "redrive": {"dead_letter_queue": "orders-dlq", "max_receive_count": 1},
            },
            "orders-dlq": {},
        },
        "tables": {"stock": {"partition_key": "sku", "stream": "NEW_AND_OLD_IMAGES"}},
        "buckets": {"uploads": {"path": str(folder / "uploads")}},
    }


class Client:
    """The dashboard's JSON API over real HTTP, as a script would use it."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def get(self, path: str, **params: Any) -> tuple[int, Any]:
        async with self.session.get(self.base + path, params=params) as response:
            return response.status, await response.json()

    async def post(
        self, path: str, body: Any = None, *, data: bytes | None = None,
        headers: dict[str, str] | None = None, params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:  # fmt: skip
        if body is not None:
            data = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        async with self.session.post(
            self.base + path, data=data, headers=headers, params=params
        ) as response:
            return response.status, await response.json()


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client(session: aiohttp.ClientSession, sim: Simulator) -> Client:
    assert sim.endpoint_url is not None
    return Client(session, sim.endpoint_url + "/_eventsim/api")


def screenshot_folder(tmp_path: Path) -> Path:
    chosen = os.environ.get(SCREENSHOTS)
    folder = Path(chosen) if chosen else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


#: Chromium's flags for this machine: no sandbox as root, and none of its background traffic
#: (the network outside is closed; every such attempt would be refused and retried).
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic",
]  # fmt: skip


def chromium() -> str:
    """Debian's Chromium (``.ci/run`` installs it); the test is skipped without it, or fails
    in CI."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        message = "Chromium is not installed: apt-get install chromium (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def needs_playwright() -> None:
    """Skip a module without Playwright's package, except in CI, where its import fails."""
    if not os.environ.get("CI"):
        pytest.importorskip("playwright", reason="pip install -e '.[dev]' installs it")
