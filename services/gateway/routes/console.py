from __future__ import annotations

import base64
import hashlib
import re
from functools import cache

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.gateway.console import page_html

router = APIRouter(tags=["console"])


def _hashes(tag: str, page: str) -> str:
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.S)
    )


@cache
def content_security_policy() -> str:
    """Nothing but the page's own inline script and style (by hash) and calls
    to this gateway; never framed (clickjacking an associate's handover)."""
    page = page_html()
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src {_hashes('script', page)}",
            f"style-src {_hashes('style', page)}",
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


@router.get("/console", response_class=HTMLResponse, include_in_schema=False)
async def console() -> HTMLResponse:
    """The store associate page; it calls the API with the pasted token."""
    return HTMLResponse(
        page_html(),
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": content_security_policy(),
            "X-Frame-Options": "DENY",
        },
    )
