"""The dashboard: a live page at ``/_eventsim/`` on the edge, and the JSON API it uses.

The page (static/: index.html, app.js, app.css, written by hand, shipped in the package, no
build step, nothing fetched from elsewhere) shows functions, a timeline of attempts, queues,
tables, buckets, schedules, explain and cost. It reads ``GET /_eventsim/api/...`` (api.py),
changes things with ``POST /_eventsim/api/...`` (actions.py) and follows the simulator live
over server-sent events (stream.py). docs/dashboard.md documents every endpoint.

Example::

    app = web.Application(middlewares=[...])    # the edge's, with its Host/Origin gate
    dashboard.add_routes(app, sim)
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ...errors import SimulatorStateError, UnknownResourceError
from .actions import Actions
from .api import ReadApi, Refused, refusal, reply
from .stream import Hub

if TYPE_CHECKING:
    from ...simulator import Simulator

__all__ = ["add_routes"]

#: The page's files: name -> content type. Nothing else is served from static/.
STATIC = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "app.css": "text/css",
}
#: The page loads only its own files and talks only to its own origin.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def add_routes(app: web.Application, sim: Simulator) -> None:
    """Serve the dashboard and its API on ``app`` (before any catch-all route)."""
    hub = Hub(sim)
    read = ReadApi(sim, hub)
    actions = Actions(sim)
    app.middlewares.append(_answers)
    app.router.add_get("/_eventsim", _to_page)
    app.router.add_get("/_eventsim/", _page)
    app.router.add_get("/_eventsim/static/{name}", _static)
    app.router.add_get("/_eventsim/api/stream", hub.stream)
    app.router.add_routes(read.routes())
    app.router.add_routes(actions.routes())
    app.router.add_route("*", "/_eventsim/api/{tail:.*}", _unknown)

    async def close(app: web.Application) -> None:
        hub.close()

    async def detach(app: web.Application) -> None:
        hub.detach()

    app.on_shutdown.append(close)
    app.on_cleanup.append(detach)


@web.middleware
async def _answers(request: web.Request, handler: Any) -> web.StreamResponse:
    """The API's refusals as JSON: ``{"error": code, "message": ...}`` with a status."""
    if not request.path.startswith("/_eventsim/api/"):
        response: web.StreamResponse = await handler(request)
        return response
    try:
        response = await handler(request)
        return response
    except Refused as exc:
        return refusal(exc)
    except UnknownResourceError as exc:
        return refusal(Refused(404, "NotFound", str(exc)))
    except SimulatorStateError as exc:
        return refusal(Refused(503, "NotRunning", str(exc)))


def _file(name: str) -> bytes:
    return resources.files(__package__).joinpath("static", name).read_bytes()


async def _to_page(request: web.Request) -> web.Response:
    raise web.HTTPFound("/_eventsim/")


async def _page(request: web.Request) -> web.Response:
    return _static_response("index.html")


async def _static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        return web.Response(status=404, text=f"no dashboard file {name!r}\n")
    return _static_response(name)


def _static_response(name: str) -> web.Response:
    return web.Response(
        body=_file(name),
        content_type=STATIC[name],
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": POLICY,
                 "X-Content-Type-Options": "nosniff"},
    )  # fmt: skip


async def _unknown(request: web.Request) -> web.Response:
    """A path of no endpoint (404), or of one that takes another method (405)."""
    for resource in request.app.router.resources():
        if resource is request.match_info.route.resource:
            continue
        match, allowed = await resource.resolve(request)
        if match is None and allowed and resource.canonical.startswith("/_eventsim/api/"):
            methods = ", ".join(sorted(allowed))
            response = reply({"error": "MethodNotAllowed",
                              "message": f"{request.path} takes {methods}, not {request.method}"},
                             405)  # fmt: skip
            response.headers["Allow"] = methods
            return response
    message = (
        f"no dashboard API at {request.method} {request.path}; the endpoints are listed in "
        "docs/dashboard.md"
    )
    return reply({"error": "NotFound", "message": message}, 404)
