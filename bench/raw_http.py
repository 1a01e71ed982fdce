"""A minimal HTTP/1.1 keep-alive client for load that must stay light.

httpx spends ~0.9 ms of CPU per request in the load process (bench quote),
as much as the gateway spends answering it; on a 2-core machine that CPU is
taken from the system under test. This client writes one pre-built request
head per call and reads a Content-Length response: ~0.1 ms a request. It
speaks only what the gateway answers (no chunked bodies, no redirects); a
closed connection is opened again on the next call.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlencode, urlsplit


class RawHttpError(Exception):
    """The gateway answered with a status outside 2xx, or something unreadable."""


class RawConnection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._headers = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    def post_bytes(self, path: str, body: Any, headers: dict[str, str] | None = None) -> bytes:
        """The whole request for `body` as JSON (with `headers` beside the
        connection's), built once and sent many times."""
        payload = json.dumps(body).encode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n{self._headers}"
            f"{extra}Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload

    def get_bytes(
        self, path: str, params: dict[str, str], headers: dict[str, str] | None = None
    ) -> bytes:
        """The whole GET request for `path` with `params` (and `headers` beside the
        connection's), built once and sent many times."""
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        head = (
            f"GET {path}?{urlencode(params)} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            f"{self._headers}{extra}\r\n"
        )
        return head.encode()

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Sends a request built by post_bytes; answers (status, body)."""
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        self._writer.write(request)
        try:
            status, body = await self._read_response(self._reader)
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise
        return status, body

    @staticmethod
    async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            elif name.strip().lower() == b"transfer-encoding":
                raise RawHttpError("chunked responses are not read by this client")
        if length is None:
            raise RawHttpError("a response without Content-Length")
        return status, await reader.readexactly(length)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except ConnectionError:
                pass
        self._reader = self._writer = None


class RawPool:
    """`size` keep-alive connections to one gateway, each used by one request
    at a time (closed-loop callers share them)."""

    def __init__(self, base_url: str, size: int, headers: dict[str, str] | None = None) -> None:
        self.connections = [RawConnection(base_url, headers or {}) for _ in range(size)]
        self._idle: asyncio.Queue[RawConnection] = asyncio.Queue()
        for connection in self.connections:
            self._idle.put_nowait(connection)

    async def send(self, request: bytes, expected: int = 200) -> bytes:
        """The body of the answer to `request`; RawHttpError for another status."""
        connection = await self._idle.get()
        try:
            status, body = await connection.send(request)
        finally:
            self._idle.put_nowait(connection)
        if status != expected:
            raise RawHttpError(f"answered {status}: {body[:200]!r}")
        return body

    async def close(self) -> None:
        for connection in self.connections:
            await connection.close()
