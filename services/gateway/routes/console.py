from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.gateway.console import page_html

router = APIRouter(tags=["console"])


@router.get("/console", response_class=HTMLResponse, include_in_schema=False)
async def console() -> HTMLResponse:
    """The store associate page; it calls the API with the pasted token."""
    return HTMLResponse(page_html(), headers={"Cache-Control": "no-store"})
