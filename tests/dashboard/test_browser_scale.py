"""The dashboard with a full ledger (100,000 entries) in a real headless Chromium: lists come
a page at a time and the timeline a window at a time, so the page stays usable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eventsim import Outcome
from eventsim.ledger import Attempt
from eventsim.testing import SimulatorFactory

from .conftest import CHROMIUM_ARGS, chromium, needs_playwright, scenario

needs_playwright()
from playwright.async_api import async_playwright, expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.asyncio, pytest.mark.timeout(120)]

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ENTRIES = 100_000


async def test_a_full_ledger_keeps_the_page_usable(
    eventsim_factory: SimulatorFactory, tmp_path: Path
) -> None:
    sim = await eventsim_factory(
        scenario(tmp_path), virtual_time=True, isolation="thread", start_time=START
    )
    names = ("echo", "fail", "orders")
    for n in range(ENTRIES):
        sim.ledger.record(
            Attempt(function=names[n % 3], request_id=f"r{n}", invocation_type="Event",
                    source="invoke", event={"n": n}, attempt=1,
                    started_at=START + timedelta(milliseconds=10 * n),
                    outcome=Outcome.ERROR if n % 7 == 0 else Outcome.SUCCESS,
                    duration_ms=4.0, billed_duration_ms=4)
        )  # fmt: skip
    assert len(sim.ledger) == ENTRIES
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1360, "height": 860})
        base = f"{sim.endpoint_url}/_eventsim/"

        await page.goto(base + "#timeline")
        await expect(page.locator("#live")).to_have_attribute("data-live", "yes")
        await page.select_option("#timeline-span", str(86_400_000))  # a day: every entry
        note = page.locator("#timeline-note")
        await expect(note).to_contain_text("more than 2000")
        assert await page.locator(".bar").count() == 2000  # the newest, not 100,000

        await page.goto(base + "#functions")
        await expect(page.locator('tr[data-function="echo"] td.invocations')).to_have_text("33334")
        await page.locator('tr[data-function="fail"]').click()
        recent = page.locator("#function-recent tr.attempt")
        await expect(recent).to_have_count(20)
        await page.locator("#function-detail .older button").click()
        await expect(recent).to_have_count(70)
        newest_fail = max(n for n in range(ENTRIES) if names[n % 3] == "fail")
        assert await recent.first.get_attribute("data-seq") == str(newest_fail)

        # Still live with a full ledger: a new entry evicts the oldest, and the header says so.
        await sim.invoke("echo", {"late": True})
        await expect(page.locator("#ledger-size")).to_contain_text("(1 evicted)")
        await page.goto(base + "#explain")
        await page.locator("#explain-kind").select_option("key")
        await page.locator("#explain-input").fill("nothing/here")
        await page.locator("#explain-button").click()
        await expect(page.locator("pre.explain-text")).to_contain_text("nothing in the ledger")
        await browser.close()
