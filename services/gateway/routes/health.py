from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.gateway.models import HealthOut
from services.gateway.problems import RETRY_AFTER_SECONDS
from services.gateway.routes.deps import clients_of

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "a dependency is down"}},
)
async def healthz(request: Request) -> JSONResponse:
    """200 when every service and Temporal answer; 503 with each one's state."""
    dependencies = await clients_of(request).health()
    healthy = all(state == "ok" for state in dependencies.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", "dependencies": dependencies},
        status_code=200 if healthy else 503,
        headers={} if healthy else {"Retry-After": RETRY_AFTER_SECONDS},
    )
