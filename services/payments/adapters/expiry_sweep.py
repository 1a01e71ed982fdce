"""The timer that expires lapsed authorizations even when nobody captures them."""

from __future__ import annotations

import asyncio
import logging

from services.payments import use_cases
from services.payments.use_cases import App

logger = logging.getLogger(__name__)


async def sweep_forever(app: App, interval_seconds: float) -> None:
    """Every replica may run it: the sweep skips payments another one has locked."""
    while True:
        try:
            expired = await use_cases.expire_lapsed(app)
            if expired:
                logger.info("expired %d lapsed authorizations", len(expired))
        except Exception:
            logger.exception("authorization expiry sweep failed; trying again")
        await asyncio.sleep(interval_seconds)
