"""The codec server: `python -m services.codec_server`.

Temporal's remote codec protocol, so engineers holding the key see decoded
payloads in the Temporal UI and `temporal workflow show --codec-endpoint`:
POST /decode and POST /encode take and return `{"payloads": [...]}` (each a
Payload in protobuf JSON: base64 metadata values and data).

Its own small process rather than a gateway route: only this process, the
workers and the Temporal clients hold OMNI_CODEC_KEY; the internet-facing
gateway never does, and the codec server listens on loopback (or a
cluster-internal address reached by port-forward) only.

Who may call it (an authorization check on every request):
- `Authorization: Bearer <OMNI_CODEC_AUTH_TOKEN>` (the CLI's `--codec-auth`),
  compared in constant time; no token configured means no bearer is accepted;
- or, when the request comes from an origin in OMNI_CODEC_TRUSTED_ORIGINS: the
  dev server's UI cannot send a token, so `omni up` trusts its own UI origin
  on loopback (with the development key). Production leaves it empty.
Browsers get CORS headers for OMNI_CODEC_ALLOWED_ORIGINS (the UI's origin).
"""

from __future__ import annotations

import hmac
import logging
import os
import sys
from typing import Any

import uvicorn
from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payloads

from services.common.logs import setup_logging
from services.common.settings import EnvSettings
from services.common.temporal_codec import CodecError, EncryptionCodec, encryption_codec

logger = logging.getLogger("services.codec_server")

MAX_BODY_BYTES = 4 * 1024 * 1024


class CodecServerSettings(EnvSettings):
    codec_server_host: str = "127.0.0.1"
    codec_server_port: int = 8089
    # Bearer token for the CLI and automation; "" accepts none.
    omni_codec_auth_token: str = ""
    # Comma-separated origins that get CORS headers (the Temporal UI's).
    omni_codec_allowed_origins: str = "http://127.0.0.1:8233,http://localhost:8233"
    # Origins allowed without a token (development only: the dev server's UI).
    omni_codec_trusted_origins: str = ""
    log_level: str = "INFO"

    @staticmethod
    def origins(text: str) -> frozenset[str]:
        return frozenset(o.strip().rstrip("/") for o in text.split(",") if o.strip())


def create_app(settings: CodecServerSettings, codec: EncryptionCodec | None = None) -> Starlette:
    codec = codec or encryption_codec()
    allowed = settings.origins(settings.omni_codec_allowed_origins)
    trusted = settings.origins(settings.omni_codec_trusted_origins)
    token = settings.omni_codec_auth_token.encode()

    def cors(request: Request) -> dict[str, str]:
        origin = request.headers.get("origin", "").rstrip("/")
        if origin not in allowed:
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Headers": "Authorization,Content-Type,X-Namespace",
            "Access-Control-Allow-Methods": "POST,OPTIONS",
            "Vary": "Origin",
        }

    def authorized(request: Request) -> bool:
        given = request.headers.get("authorization", "")
        scheme, _, credential = given.partition(" ")
        if token and scheme.lower() == "bearer":
            return hmac.compare_digest(credential.strip().encode(), token)
        origin = request.headers.get("origin", "").rstrip("/")
        return not given and origin in trusted

    async def handle(request: Request, decode: bool) -> Response:
        headers = cors(request)
        if request.method == "OPTIONS":
            return Response(status_code=204 if headers else 403, headers=headers)
        if not authorized(request):
            logger.warning("codec request refused: not authorized")
            return JSONResponse({"message": "not authorized"}, 401, headers=headers)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"message": "body too large"}, 413, headers=headers)
        payloads = Payloads()
        try:
            json_format.Parse(body or b"{}", payloads)
        except json_format.ParseError as error:
            return JSONResponse({"message": f"not payloads: {error}"}, 400, headers=headers)
        try:
            done = await (codec.decode if decode else codec.encode)(payloads.payloads)
        except CodecError as error:
            return JSONResponse({"message": str(error)}, 400, headers=headers)
        # Who read what, for the audit trail (counts and namespace, never data).
        logger.info(
            "codec %s: %d payloads (namespace %s, origin %s)",
            "decode" if decode else "encode",
            len(done),
            request.headers.get("x-namespace", "-"),
            request.headers.get("origin", "-"),
        )
        answer: dict[str, Any] = json_format.MessageToDict(Payloads(payloads=done))
        answer.setdefault("payloads", [])
        return JSONResponse(answer, headers=headers)

    async def decode(request: Request) -> Response:
        return await handle(request, decode=True)

    async def encode(request: Request) -> Response:
        return await handle(request, decode=False)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok", "key_id": codec.key_id})

    return Starlette(
        routes=[
            Route("/decode", decode, methods=["POST", "OPTIONS"]),
            Route("/encode", encode, methods=["POST", "OPTIONS"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )


def main() -> int:
    settings = CodecServerSettings()
    setup_logging("codec-server", settings.log_level)
    try:
        app = create_app(settings)
    except CodecError as error:
        logger.error("codec server cannot start: %s", error)
        return 2
    logger.info("codec server on %s:%s", settings.codec_server_host, settings.codec_server_port)
    uvicorn.run(
        app,
        host=settings.codec_server_host,
        port=settings.codec_server_port,
        log_config=None,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Imports temporalio (DESIGN.md, known traps).
    os._exit(status)
