"""The store associate console: one self-contained page (no CDN, works offline)."""

from __future__ import annotations

from importlib.resources import files


def page_html() -> str:
    return files(__package__).joinpath("index.html").read_text(encoding="utf-8")
