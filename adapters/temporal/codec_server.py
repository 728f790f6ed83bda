"""Codec server: lets the Temporal UI (and `temporal … --codec-endpoint`) show encrypted payloads.

Protocol (Temporal's remote codec): `POST /encode` and `POST /decode` take and return
`{"payloads": [{"metadata": {K: BASE64}, "data": BASE64}, ...]}` (the JSON form of `Payloads`).

Invariants:
- It decrypts for whoever can reach it, so it binds 127.0.0.1 by default
  (PROJECTK_CODEC_SERVER_HOST); operators reach it through an SSH tunnel, like the UI.
- Cross-origin requests are allowed only from PROJECTK_CODEC_CORS_ORIGINS (the Temporal UI's
  origin); the browser calls the codec server directly, so that origin must be listed.
- A bad request is answered 400 and a payload that does not decrypt 422, with a message that
  names no key; nothing is logged of a payload.
"""

from __future__ import annotations

from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payloads

from adapters.temporal.codec import EncryptionCodec, PayloadDecryptError
from projectk.settings import Settings

CORS_HEADERS = ["Content-Type", "X-Namespace", "Authorization"]
MAX_BODY_BYTES = 8 * 1024 * 1024


async def _payloads_of(request: Request) -> Payloads | Response:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return PlainTextResponse("request too large", status_code=413)
    payloads = Payloads()
    try:
        json_format.Parse(body or b"{}", payloads)
    except json_format.ParseError:
        return PlainTextResponse("body is not a JSON Payloads message", status_code=400)
    return payloads


def _answer(payloads: Payloads) -> Response:
    return JSONResponse(json_format.MessageToDict(payloads))


def build_app(codec: EncryptionCodec, cors_origins: list[str]) -> Starlette:
    """Return the codec server's ASGI app for `codec`, open to `cors_origins`."""

    async def encode(request: Request) -> Response:
        payloads = await _payloads_of(request)
        if isinstance(payloads, Response):
            return payloads
        return _answer(Payloads(payloads=await codec.encode(payloads.payloads)))

    async def decode(request: Request) -> Response:
        payloads = await _payloads_of(request)
        if isinstance(payloads, Response):
            return payloads
        try:
            return _answer(Payloads(payloads=await codec.decode(payloads.payloads)))
        except PayloadDecryptError as exc:
            return PlainTextResponse(str(exc), status_code=422)

    async def health(_request: Request) -> Response:
        return PlainTextResponse(f"ok (key id {codec.active_key_id})")

    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=cors_origins,
            allow_methods=["POST", "OPTIONS"],
            allow_headers=CORS_HEADERS,
            allow_credentials=True,
        )
    ]
    routes = [
        Route("/encode", encode, methods=["POST"]),
        Route("/decode", decode, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ]
    return Starlette(routes=routes, middleware=middleware)


def run_codec_server(settings: Settings, codec: EncryptionCodec) -> None:
    """Serve the codec on the configured host and port until interrupted."""
    import uvicorn  # the server is needed only by this command

    app = build_app(codec, settings.codec_cors_origins)
    uvicorn.run(
        app,
        host=settings.codec_server_host,
        port=settings.codec_server_port,
        log_level="warning",
        access_log=False,
    )
