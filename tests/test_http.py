"""HTTP triggers: real HTTP requests to the trigger port, answered as API Gateway would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import urllib3

from eventsim import Simulator
from eventsim.config import Config
from eventsim.errors import ConfigError
from eventsim.testing import SimulatorFactory
from eventsim.triggers import http as http_trigger

from .helpers import demo, function

pytestmark = pytest.mark.asyncio

ROUTES = {
    "echo": function("web.echo", triggers=[
        {"http": {"method": "GET", "path": "/items/{id}"}},
        {"http": {"method": "ANY", "path": "/files/{proxy+}"}},
        {"http": {"method": "POST", "path": "/upload"}},
    ]),
    "special": function("web.echo", triggers=[
        {"http": {"method": "GET", "path": "/items/special"}},
    ]),
    "rest": function("web.v1", triggers=[
        {"http": {"method": "POST", "path": "/orders/{id}", "payload_version": "1.0"}},
    ]),
    "bad": function("web.v1_bad_shape", triggers=[
        {"http": {"path": "/bad", "payload_version": "1.0"}},
    ]),
    "png": function("web.png", triggers=[{"http": {"path": "/logo.png"}}]),
    "fail": function("fail", triggers=[{"http": {"path": "/fail"}}]),
    "fail1": function("fail", triggers=[{"http": {"path": "/fail1", "payload_version": "1.0"}}]),
    "slow": function("web.slow", timeout=5, triggers=[
        {"http": {"path": "/slow", "payload_version": "1.0"}},
        {"http": {"path": "/slow2"}},
    ]),
    "throttled": function("web.echo", reserved_concurrency=0, triggers=[
        {"http": {"path": "/throttled"}},
    ]),
}  # fmt: skip


class Api:
    """The simulator's HTTP triggers, served on a free port (``http=True``)."""

    def __init__(self, sim: Simulator) -> None:
        assert sim.http is not None
        self.sim = sim
        self.url = sim.http.url
        self.http = urllib3.PoolManager()

    async def request(self, method: str, path: str, **options: Any) -> Any:
        return await asyncio.to_thread(
            self.http.request, method, self.url + path, redirect=False, **options
        )


@pytest_asyncio.fixture
async def api(eventsim_factory: SimulatorFactory) -> AsyncIterator[Api]:
    sim = await eventsim_factory({"functions": ROUTES}, virtual_time=False, http=True)
    yield Api(sim)


async def test_v2_route_with_parameters_and_inference(api: Api) -> None:
    response = await api.request("GET", "/items/42?q=a&q=b&x=1", headers={"Cookie": "c=1; d=2"})
    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.data)
    assert body["route"] == "GET /items/{id}" and body["params"] == {"id": "42"}
    assert body["query"] == {"q": "a,b", "x": "1"}
    assert body["cookies"] == ["c=1", "d=2"]
    [attempt] = api.sim.ledger.for_function("echo")
    assert attempt.source == "http:GET /items/{id}"
    assert attempt.event["rawQueryString"] == "q=a&q=b&x=1"


async def test_the_most_specific_route_wins(api: Api) -> None:
    await api.request("GET", "/items/special")
    assert len(api.sim.ledger.for_function("special")) == 1
    greedy = json.loads((await api.request("DELETE", "/files/a/b/c.txt")).data)
    assert greedy["params"] == {"proxy": "a/b/c.txt"} and greedy["route"] == "ANY /files/{proxy+}"
    assert (await api.request("GET", "/files")).status == 404  # {proxy+} needs a segment
    assert (await api.request("POST", "/items/1")).status == 404  # wrong method
    missing = await api.request("GET", "/nowhere")
    assert missing.status == 404 and json.loads(missing.data) == {"message": "Not Found"}


async def test_binary_bodies_travel_as_base64(api: Api) -> None:
    sent = await api.request("POST", "/upload", body=b"\x00\xff",
                             headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    body = json.loads(sent.data)
    assert body["base64"] is True and body["body"] == "AP8="
    logo = await api.request("GET", "/logo.png")
    assert logo.status == 200 and logo.data == b"\x89PNG\x00"
    assert logo.headers["content-type"] == "image/png"
    assert logo.headers.getlist("set-cookie") == ["session=1; Path=/", "theme=dark"]


async def test_rest_v1_response_mapping(api: Api) -> None:
    response = await api.request("POST", "/orders/7", body=b'{"n": 1}')
    assert response.status == 201
    assert response.headers["X-One"] == "1"
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert json.loads(response.data) == {"resource": "/orders/{id}", "path": "/orders/7",
                                         "method": "POST"}  # fmt: skip
    [attempt] = api.sim.ledger.for_function("rest")
    assert attempt.event["pathParameters"] == {"id": "7"} and attempt.event["body"] == '{"n": 1}'


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/bad", 502, "Internal server error"),
        ("/fail1", 502, "Internal server error"),
        ("/fail", 500, "Internal Server Error"),
        ("/throttled", 500, "Internal Server Error"),
    ],
)
async def test_function_errors_as_api_gateway_answers(
    api: Api, path: str, status: int, message: str
) -> None:
    response = await api.request("GET", path)
    assert response.status == status
    assert json.loads(response.data) == {"message": message}


async def test_integration_timeouts(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_trigger, "REST_INTEGRATION_TIMEOUT_S", 0.05)
    monkeypatch.setattr(http_trigger, "HTTP_INTEGRATION_TIMEOUT_S", 0.05)
    rest = await api.request("GET", "/slow")
    assert rest.status == 504 and json.loads(rest.data) == {"message": "Endpoint request timed out"}
    http_api = await api.request("GET", "/slow2")
    assert http_api.status == 503
    # The functions keep running after API Gateway gives up, as in AWS.
    await api.sim.ledger.wait_for("slow", count=2)


async def test_the_demo_route(eventsim_factory: SimulatorFactory, tmp_path: Path) -> None:
    sim = await eventsim_factory(demo(tmp_path), virtual_time=False, http=True)
    response = await Api(sim).request("GET", "/hello/Ada?shout=1")
    assert response.status == 200 and json.loads(response.data) == {"message": "HELLO, ADA!"}


# --- the kind of API and its stage (§5.1, §5.2) ---------------------------------------------

STAGED = {
    "rest": function("web.v1", triggers=[
        {"http": {"method": "POST", "path": "/orders/{id}", "api": "rest", "stage": "Prod"}},
    ]),
    "http1": function("web.v1", triggers=[
        {"http": {"method": "POST", "path": "/hooks/{id}", "api": "http",
                  "payload_version": "1.0", "stage": "beta"}},
        {"http": {"path": "/hooks-default", "api": "http", "payload_version": "1.0"}},
    ]),
    "http2": function("web.echo", triggers=[{"http": {"path": "/v2/{id}", "stage": "beta"}}]),
    "fail": function("fail", triggers=[{"http": {"path": "/fail", "api": "http",
                                                 "payload_version": "1.0"}}]),
}  # fmt: skip


async def test_stages_show_where_api_gateway_puts_them(
    eventsim_factory: SimulatorFactory,
) -> None:
    sim = await eventsim_factory({"functions": STAGED})
    assert (await sim.request("POST", "/orders/1")).status == 201
    [rest] = sim.ledger.for_function("rest")
    assert "version" not in rest.event and rest.event["path"] == "/orders/1"
    assert rest.event["requestContext"]["stage"] == "Prod"
    assert rest.event["requestContext"]["path"] == "/Prod/orders/1"

    await sim.request("GET", "/v2/7")
    [http2] = sim.ledger.for_function("http2")
    assert http2.event["rawPath"] == http2.event["requestContext"]["http"]["path"] == "/beta/v2/7"
    assert http2.event["requestContext"]["stage"] == "beta"


async def test_an_http_api_with_payload_1_0(eventsim_factory: SimulatorFactory) -> None:
    sim = await eventsim_factory({"functions": STAGED})
    assert (await sim.request("POST", "/hooks/3")).status == 201
    await sim.request("GET", "/hooks-default")
    staged, default = (a.event for a in sim.ledger.for_function("http1"))
    assert staged["version"] == "1.0" and staged["resource"] == "/hooks/{id}"
    assert staged["path"] == staged["requestContext"]["path"] == "/beta/hooks/3"
    assert staged["multiValueHeaders"] and staged["pathParameters"] == {"id": "3"}
    assert default["path"] == default["requestContext"]["path"] == "/hooks-default"
    assert default["requestContext"]["stage"] == "$default"
    # An HTTP API answers as an HTTP API: 500 for a function error, 404 for no route.
    failed = await sim.request("GET", "/fail")
    assert failed.status == 500 and json.loads(failed.body) == {"message": "Internal Server Error"}
    missing = await sim.request("GET", "/nowhere")
    assert missing.status == 404


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ({"path": "/a", "api": "rest", "payload_version": "2.0"}, "sends payload format 1.0 only"),
        ({"path": "/a", "payload_version": "1.0", "stage": "$default"}, "an HTTP API's stage"),
        ({"path": "/a", "stage": "no spaces"}, "stage: String should match pattern"),
    ],
)
async def test_api_and_stage_settings_are_checked(
    trigger: dict[str, Any], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_dict({"functions": {"f": function("web.echo", triggers=[{"http": trigger}])}},
                         tmp_path)  # fmt: skip
    assert message in str(info.value)


async def test_a_web_page_of_another_origin_cannot_call_the_routes(
    eventsim_factory: SimulatorFactory,
) -> None:
    """The HTTP triggers' port answers only loopback (or configured) Host and Origin headers,
    as the edge does: a DNS-rebinding page (Host evil.example) and a cross-site request
    (Origin https://evil.example) are refused before any handler runs; a local front end and
    a configured origin are served."""
    sim = await eventsim_factory(
        {"functions": ROUTES, "server": {"allowed_origins": ["http://app.test:8080"]}},
        virtual_time=False, http=True,
    )  # fmt: skip
    api = Api(sim)
    for headers in ({"Host": "evil.example:3000"}, {"Origin": "https://evil.example"},
                    {"Origin": "null"}):  # fmt: skip
        refused = await api.request("POST", "/upload", body=b"{}", headers=headers)
        assert refused.status == 403, headers
        assert "server.allowed_" in json.loads(refused.data)["message"]  # says how to allow
    assert sim.ledger.for_function("echo") == []
    for origin in ("http://localhost:5173", "http://app.test:8080"):
        served = await api.request("GET", "/items/42", headers={"Origin": origin})
        assert served.status == 200, origin
    assert len(sim.ledger.for_function("echo")) == 2
