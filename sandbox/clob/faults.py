"""Fault injection: latency, 5xx, 429 + Retry-After, 425, lost answers, cancel-only, and the
live venue's quirks (late trade index, order lookups that forget orders, a lagging RPC node).

Invariants: faults never touch the /_sandbox admin routes; the HTTP faults reach the JSON-RPC
proxy (/rpc) only when ``paths`` names it; a "lost" response means the request was fully processed
(the order rests or fills) and only the reply is withheld past the client's timeout, and a "post
lost" one that an accepted post's reply became a 502; probabilities are independent per request
and drawn from a seedable RNG. The fields read elsewhere (trade index delay, hidden orders, RPC
lag) are applied by the service and the RPC proxy, which share this config object.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ADMIN_PREFIX = "/_sandbox"
RPC_PATH = "/rpc"
POST_PATHS = ("/order", "/orders")
CANCEL_ONLY_TEXT = (
    "Trading is currently cancel-only. New orders are not accepted, but cancels are allowed."
)


@dataclass
class FaultConfig:
    """What to inject; rates are probabilities in [0, 1]."""

    latency_ms: int = 0
    error_rate: float = 0.0  # 500 Internal Server Error
    rate_429: float = 0.0  # 429 Too Many Requests with Retry-After
    retry_after_s: int = 1
    rate_425: float = 0.0  # 425 engine restarting
    lost_rate: float = 0.0  # processed, but the response is held back
    lost_delay_s: float = 15.0
    cancel_only: bool = False  # 503 on new orders
    post_lost_rate: float = 0.0  # an accepted POST /order(s) is processed, then answered 502
    trades_delay_s: float = 0.0  # trades reach /data/trades and the Data API this late
    hide_matched_taker: bool = False  # GET /data/order answers null for a FAK/FOK that matched
    hide_closed: bool = False  # GET /data/order answers null for every order no longer live
    rpc_lag_blocks: int = 0  # how far behind the head a lagging RPC node is
    rpc_lag_rate: float = 0.0  # share of /rpc requests a lagging node answers
    paths: list[str] = field(default_factory=list)  # path prefixes to affect; empty = all
    seed: int | None = None

    def update(self, changes: dict[str, Any]) -> None:
        """Apply the known keys of ``changes``."""
        names = {f.name for f in fields(self)}
        for key, value in changes.items():
            if key not in names:
                raise ValueError(f"unknown fault setting {key!r}")
            setattr(self, key, value)

    def to_json(self) -> dict[str, Any]:
        """Return the settings as JSON."""
        return asdict(self)


async def _reply(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    raw = json.dumps(body).encode()
    base = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": base + (headers or [])})
    await send({"type": "http.response.body", "body": raw})


class FaultMiddleware:
    """ASGI middleware applying the current FaultConfig to every CLOB request."""

    def __init__(self, app: ASGIApp, config: FaultConfig) -> None:
        self.app = app
        self.config = config
        self.rng = random.Random(config.seed)  # noqa: S311 - test faults, not crypto

    def _applies(self, path: str) -> bool:
        if path.startswith(ADMIN_PREFIX):
            return False
        paths = self.config.paths
        if path.startswith(RPC_PATH):  # the chain proxy has its own fault (lag)
            return any(path.startswith(p) and p.startswith(RPC_PATH) for p in paths)
        return not paths or any(path.startswith(p) for p in paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._applies(scope["path"]):
            await self.app(scope, receive, send)
            return
        cfg = self.config
        if cfg.latency_ms:
            await asyncio.sleep(cfg.latency_ms / 1000)
        if await self._short_circuit(scope, send):
            return
        if cfg.lost_rate and self.rng.random() < cfg.lost_rate:
            await self._lost(scope, receive, send)
            return
        posting = scope["method"] == "POST" and scope["path"] in POST_PATHS
        if posting and cfg.post_lost_rate and self.rng.random() < cfg.post_lost_rate:
            await self._post_lost(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _short_circuit(self, scope: Scope, send: Send) -> bool:
        cfg = self.config
        if cfg.cancel_only and scope["method"] == "POST" and scope["path"] in ("/order", "/orders"):
            await _reply(send, 503, {"error": CANCEL_ONLY_TEXT})
            return True
        roll = self.rng.random()
        if roll < cfg.error_rate:
            await _reply(send, 500, {"error": "Internal Server Error"})
            return True
        roll -= cfg.error_rate
        if roll < cfg.rate_429:
            await _reply(
                send,
                429,
                {"error": "Too Many Requests"},
                [(b"retry-after", str(cfg.retry_after_s).encode())],
            )
            return True
        roll -= cfg.rate_429
        if roll < cfg.rate_425:
            await _reply(send, 425, {"error": "Too Early: the matching engine is restarting"})
            return True
        return False

    async def _lost(self, scope: Scope, receive: Receive, send: Send) -> None:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        await asyncio.sleep(self.config.lost_delay_s)
        for message in held:
            await send(message)

    async def _post_lost(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The post is processed in full; a gateway in front of the CLOB then loses its answer.
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if held and held[0].get("status", 500) < 400:
            await _reply(send, 502, {"error": "Bad Gateway"})
            return
        for message in held:  # a rejected post was not accepted: its answer gets through
            await send(message)
