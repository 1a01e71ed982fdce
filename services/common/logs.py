"""Process logging: one JSON object per line on stderr, with the trace_id,
span_id and order_id of the code that logged (when there is one)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from services.common.telemetry import log_context, setup_telemetry


class JsonFormatter(logging.Formatter):
    def __init__(self, process_name: str) -> None:
        super().__init__()
        self.process_name = process_name

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "process": self.process_name,
            "logger": record.name,
            "message": record.getMessage(),
            **log_context(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging(process_name: str, level: str = "INFO") -> None:
    """JSON logs for the process, and its tracing (OTEL_* variables) so the
    two share ids: every process calls this first."""
    setup_telemetry(process_name)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(process_name))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
