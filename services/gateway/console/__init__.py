"""The store associate console: a plain HTML page, one JavaScript module and
one stylesheet, all served by the gateway (no build step, no CDN, works
offline; no inline script or style, so its CSP allows only 'self')."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

# What the gateway serves under /console/, and as which media type.
ASSETS = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}


def page_html() -> str:
    return asset("index.html")


@cache
def asset(name: str) -> str:
    return files(__package__).joinpath(name).read_text(encoding="utf-8")
