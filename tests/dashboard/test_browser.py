"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright), against simulators with an edge started by the test and against a real
``eventsim up``. Every wait is on state: a selector appearing, a text the live stream put
there. Each view is photographed (``EVENTSIM_SCREENSHOTS=docs/screenshots`` refreshes the
README's pictures)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from eventsim import Outcome
from eventsim.testing import SyncSimulator

from ..helpers import demo
from ..test_up_s3 import Up
from .conftest import CHROMIUM_ARGS, chromium, needs_playwright, scenario, screenshot_folder

needs_playwright()
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]

VIEWPORT = {"width": 1360, "height": 860}
expect.set_options(timeout=20_000)


# One browser for this module; not for the session: while Playwright's synchronous driver is
# open, its event loop counts as running and the async tests after this module could not run.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium()
    with sync_playwright() as driver:
        # launch() starts it with a new, empty profile (--user-data-dir) of its own.
        browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page that may reach only 127.0.0.1: anything else is refused and reported."""
    context = browser.new_context(viewport=VIEWPORT)
    elsewhere: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith("http://127.0.0.1:") or url.startswith("http://evil.example/"):
            route.fallback()
        else:
            elsewhere.append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    yield page
    context.close()
    assert not elsewhere, f"the dashboard reached outside: {elsewhere}"


@pytest.fixture
def sim(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SyncSimulator]:
    """A simulator on real time; its handlers run in threads (fast), or in processes as
    ``eventsim up`` runs them with ``@pytest.mark.parametrize("sim", ["process"],
    indirect=True)``."""
    isolation = getattr(request, "param", "thread")
    with SyncSimulator(
        scenario(tmp_path), state_dir=tmp_path / "state", virtual_time=False, isolation=isolation
    ) as running:
        yield running


def dashboard(sim: SyncSimulator, view: str) -> str:
    return f"{sim.endpoint_url}/_eventsim/#{view}"


def open_view(page: Page, sim: SyncSimulator, view: str) -> None:
    page.goto(dashboard(sim, view))
    expect(page.locator("#live")).to_have_attribute("data-live", "yes")
    expect(page.locator(f'#view[data-view="{view}"]')).to_be_visible()


def lambda_client(sim: SyncSimulator) -> Any:
    return boto3.client(
        "lambda", endpoint_url=sim.endpoint_url, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip


def pause_orders(sim: SyncSimulator) -> None:
    """Pause the orders queue's mapping through Lambda's API (the messages stay put)."""
    client = lambda_client(sim)
    [mapping] = client.list_event_source_mappings(FunctionName="orders")["EventSourceMappings"]
    client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)


def dead_letters(sim: SyncSimulator, count: int) -> list[str]:
    """Send ``count`` orders the handler rejects; return their ids once all are dead letters
    (max_receive_count 1, a visibility timeout of 1 s: the second receive moves them)."""
    ids = [
        sim.queue("orders").send_message(json.dumps({"id": n, "total": -n - 1}))
        for n in range(count)
    ]
    sim.ledger.wait_for("orders", count=count, outcome=Outcome.MOVED)
    return ids


def shot(page: Page, tmp_path: Path, name: str) -> None:
    path = screenshot_folder(tmp_path) / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000, f"{path} looks empty"


# --- every view ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sim", ["process"], indirect=True)  # real cold starts and logs
def test_every_view_loads_with_live_data(sim: SyncSimulator, page: Page, tmp_path: Path) -> None:
    for n in range(3):
        sim.invoke("echo", {"n": n})
    sim.invoke("fail", {"id": 9})
    orders = sim.queue("orders")
    for n in range(4):
        orders.send_message(json.dumps({"id": 10 + n, "total": 5 * n + 5}))
    dead_letters(sim, 2)
    for n in range(5):
        sim.table("stock").put_item({"sku": f"sku-{n}", "count": n * 3, "warehouse": "north"})
    sim.bucket("uploads").put_object("reports/q1.csv", "region,total\nnorth,12\n")
    sim.ledger.wait_for("changes")
    sim.ledger.wait_for("uploads")
    sim.settle()

    open_view(page, sim, "functions")
    expect(page.locator('tr[data-function="echo"] td.invocations')).to_have_text("3")
    expect(page.locator('tr[data-function="fail"] td.errors')).to_have_text("1")
    page.locator('tr[data-function="orders"]').click()
    expect(page.locator('#invoke-form[data-function="orders"] textarea')).to_contain_text("aws:sqs")
    expect(page.locator("#function-log")).to_contain_text("rejecting order")
    shot(page, tmp_path, "functions")

    open_view(page, sim, "timeline")
    lane = page.locator('.lane[data-function="orders"]')
    expect(lane.locator(".bar.o-success").first).to_be_visible()
    expect(page.locator('.lane[data-function="fail"] .bar.o-error')).to_have_count(1)
    page.select_option("#timeline-span", "10000")  # zoom in: the scenario took seconds
    expect(page.locator(".bar.partial").first).to_be_visible()  # the batches with a failure
    shot(page, tmp_path, "timeline")
    page.locator('.lane[data-function="fail"] .bar').click()
    detail = page.locator("#detail")
    expect(detail).to_be_visible()
    expect(detail.locator("pre.event")).to_contain_text('"id": 9')
    expect(detail.locator("pre.result")).to_contain_text("ValueError")
    expect(detail.locator("pre.log")).to_contain_text("about to fail")
    page.locator("#detail-close").click()
    expect(detail).to_be_hidden()
    page.locator('.lane[data-function="orders"] .bar.partial').first.click()
    expect(detail.locator("table.records td", has_text="failed")).to_have_count(1)
    expect(detail.locator("pre.result")).to_contain_text("batchItemFailures")
    shot(page, tmp_path, "attempt")

    open_view(page, sim, "queues")
    expect(page.locator('tr[data-queue="orders-dlq"] td.visible')).to_have_text("2")
    expect(page.locator('tr[data-queue="orders"] .dlq-depth')).to_have_text("2")
    page.locator('tr[data-queue="orders-dlq"] button.peek').click()
    expect(page.locator(".peek-state.state-visible li")).to_have_count(2)
    shot(page, tmp_path, "queues")

    open_view(page, sim, "tables")
    expect(page.locator('tr[data-table="stock"] td.items')).to_have_text("5")
    expect(page.locator('tr[data-table="stock"] td.lag')).to_have_text("0")
    expect(page.locator("#items pre.item")).to_have_count(5)
    page.locator("#query-pk").fill("sku-2")
    page.locator("#query-button").click()
    expect(page.locator("#items pre.item")).to_have_count(1)
    expect(page.locator("#items pre.item")).to_contain_text('"count": 6')
    shot(page, tmp_path, "tables")

    open_view(page, sim, "buckets")
    expect(page.locator('#objects tr[data-key="reports/q1.csv"]')).to_be_visible()
    expect(page.locator("#drop-zone")).to_contain_text("fires uploads")
    shot(page, tmp_path, "buckets")

    open_view(page, sim, "schedules")
    morning = page.locator('tr[data-schedule="morning"]')
    expect(morning).to_contain_text("Europe/Paris")
    expect(morning.locator("ol.times li")).to_have_count(5)
    expect(morning.locator("ol.times li").first).to_contain_text(":00:00+0")  # Paris: +01/+02
    shot(page, tmp_path, "schedules")

    open_view(page, sim, "cost")
    expect(page.locator('tr[data-function="echo"] td.requests')).to_have_text("3")
    expect(page.locator("#cost-body")).to_contain_text("us-east-1")
    expect(page.locator("#cost-body")).to_contain_text("2026-11-29")
    shot(page, tmp_path, "cost")


# --- live: a dropped file, a redrive, an explain search, an invoke ------------------------------


def test_a_dropped_file_fires_the_trigger_and_the_attempt_appears_live(
    sim: SyncSimulator, page: Page
) -> None:
    open_view(page, sim, "buckets")
    expect(page.locator("#drop-zone")).to_be_visible()
    files = page.evaluate_handle(
        """() => {
            const data = new DataTransfer();
            data.items.add(new File(["dropped\\nfrom the browser\\n"], "dropped.txt"));
            return data;
        }"""
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": files})
    # The row comes from the live stream: the page was not reloaded, nothing was polled.
    row = page.locator("#bucket-attempts tr.attempt")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-outcome", "success")
    expect(row).to_contain_text("s3:uploads")
    expect(page.locator('#objects tr[data-key="dropped.txt"]')).to_be_visible()
    [attempt] = sim.ledger.for_function("uploads")
    assert attempt.source == "s3:uploads" and attempt.payload == ["dropped.txt"]
    assert sim.bucket("uploads").get_object("dropped.txt") == b"dropped\nfrom the browser\n"


def test_redrive_from_the_button_moves_the_dead_letters_back(
    sim: SyncSimulator, page: Page
) -> None:
    dead_letters(sim, 3)
    pause_orders(sim)  # so the redriven messages stay in orders, where the page shows them
    open_view(page, sim, "queues")
    dlq = page.locator('tr[data-queue="orders-dlq"]')
    source = page.locator('tr[data-queue="orders"]')
    expect(dlq.locator("td.visible")).to_have_text("3")
    expect(source.locator("td.visible")).to_have_text("0")
    dlq.locator("button.redrive").click()
    expect(dlq.locator("td.visible")).to_have_text("0")
    expect(source.locator("td.visible")).to_have_text("3")
    expect(source.locator(".dlq-depth")).to_have_text("0")
    expect(page.locator("#queue-panel")).to_contain_text("moving 3 message(s)")
    assert sorted(sim.queue("orders").snapshot()["visible"]) == sorted(
        json.dumps({"id": n, "total": -n - 1}) for n in range(3)
    )


def test_an_explain_search_shows_the_life_of_a_message(
    sim: SyncSimulator, page: Page, tmp_path: Path
) -> None:
    sim.queue("orders").send_message(json.dumps({"id": 1, "total": 12}))
    [bad] = dead_letters(sim, 1)
    open_view(page, sim, "explain")
    page.locator("#explain-input").fill(bad)
    page.locator("#explain-button").click()
    result = page.locator("#explain-result")
    expect(result.locator("pre.explain-text")).to_contain_text(f"message '{bad}'")
    rows = result.locator("tr.attempt")
    expect(rows.first).to_contain_text("record failed")
    expect(result.locator('tr.attempt[data-outcome="moved"]')).to_have_count(1)
    shot(page, tmp_path, "explain")
    rows.first.click()
    expect(page.locator("#detail pre.event")).to_contain_text(bad)


def test_the_invoke_form_runs_the_sample_and_the_counts_follow(
    sim: SyncSimulator, page: Page
) -> None:
    open_view(page, sim, "functions")
    page.locator('tr[data-function="echo"]').click()
    form = page.locator('#invoke-form[data-function="echo"]')
    expect(form.locator("textarea")).to_have_value("{}")
    form.locator("textarea").fill('{"name": "Ada"}')
    form.locator("#invoke-button").click()
    expect(page.locator("#invoke-result")).to_contain_text('"name": "Ada"')
    expect(page.locator('tr[data-function="echo"] td.invocations')).to_have_text("1")
    # Traffic from elsewhere shows up too: the live stream makes the page reload the counts.
    sim.invoke("echo", {"from": "python"})
    expect(page.locator('tr[data-function="echo"] td.invocations')).to_have_text("2")
    expect(page.locator("#function-recent tr.attempt")).to_have_count(2)


def test_a_cross_site_page_cannot_use_the_api_from_the_browser(
    sim: SyncSimulator, page: Page
) -> None:
    target = f"{sim.endpoint_url}/_eventsim/api/queues/orders/send"
    evil = f"""<html><body>
      <form id="f" method="POST" action="{target}" enctype="text/plain">
        <input name='{{"body": "csrf", "x": "' value='"}}'>
      </form>
      <script>
        window.results = [];
        const tries = [
          fetch("{target}", {{method: "POST", mode: "no-cors", body: '{{"body": "no-cors"}}'}}),
          fetch("{target}", {{method: "POST", headers: {{"Content-Type": "application/json"}},
                              body: '{{"body": "cors"}}'}}),
        ];
        Promise.allSettled(tries).then((r) => {{ window.results = r.map((x) => x.status); }});
      </script></body></html>"""
    page.route(
        "http://evil.example/", lambda route: route.fulfill(body=evil, content_type="text/html")
    )
    page.goto("http://evil.example/")
    page.wait_for_function("window.results.length === 2")
    with page.expect_navigation():
        page.evaluate("document.getElementById('f').submit()")
    assert "eventsim refuses requests from web pages of other origins" in page.content() or (
        page.url.startswith("chrome-error://")
    )
    assert sim.queue("orders").snapshot()["visible"] == [] and len(sim.ledger) == 0


# --- a real `eventsim up` -------------------------------------------------------------------


def test_the_dashboard_of_a_real_eventsim_up(page: Page, tmp_path: Path) -> None:
    config = demo(tmp_path)
    up = Up(config.parent)
    try:
        edge = next(
            line.split()[1] for line in up.ready.splitlines() if line.strip().startswith("edge:")
        )
        assert f"dashboard: {edge}/_eventsim/" in up.ready
        page.goto(f"{edge}/_eventsim/#timeline")
        expect(page.locator("#live")).to_have_attribute("data-live", "yes")
        sent = []
        for body in ({"id": 1, "total": 5}, {"id": 2, "total": -1}, {"id": 3, "total": 8}):
            request = urllib.request.Request(
                f"{edge}/_eventsim/api/queues/orders/send",
                data=json.dumps({"body": json.dumps(body)}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request) as response:
                sent.append(json.load(response)["message_id"])
        lane = page.locator('.lane[data-function="orders"]')
        expect(lane.locator(".bar").first).to_be_visible()
        lane.locator(".bar").first.click()
        expect(page.locator("#detail pre.event")).to_contain_text("aws:sqs")
        page.goto(f"{edge}/_eventsim/#explain")
        page.locator("#explain-input").fill(sent[1])
        page.locator("#explain-button").click()
        first = page.locator("#explain-result tr.attempt").first
        expect(first).to_have_attribute("data-outcome", "error")  # alone in its batch: all failed
        expect(first).to_contain_text("sqs:orders")
        page.goto(f"{edge}/_eventsim/#functions")
        expect(page.locator('tr[data-function="orders"] td.invocations')).not_to_have_text("0")
    finally:
        up.stop()
