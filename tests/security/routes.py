"""The gateway's own route table, flattened (FastAPI includes routers lazily)."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Route


def flat_routes(routes: list[BaseRoute]) -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found += flat_routes(list(included.routes))
        else:
            found.append(route)
    return found


def api_routes(app: Any) -> list[APIRoute]:
    return [r for r in flat_routes(list(app.routes)) if isinstance(r, APIRoute)]


def operations(app: Any) -> set[tuple[str, str]]:
    """(METHOD, path) of every route the app serves, documented or not."""
    found: set[tuple[str, str]] = set()
    for route in flat_routes(list(app.routes)):
        if isinstance(route, Route | APIRoute):
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((method, route.path))
    return found
