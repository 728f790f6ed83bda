"""A local Bot API-compatible server for the bot tests (Starlette + uvicorn on 127.0.0.1).

It answers the methods the bot uses the way Telegram does (`{"ok": true, "result": …}`, 401 for
an unknown token), feeds scripted updates to `getUpdates` (long-polling, confirmed by offset,
dropped by `deleteWebhook(drop_pending_updates=true)`), and records every call, every sent
message and every deleted message for the tests to assert on.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "ProjectK", "username": "projectk_test_bot"}
LONG_POLL_CAP_S = 0.5  # answer an empty getUpdates quickly, so stopping is quick


@dataclass(frozen=True)
class Sent:
    """One sendMessage call."""

    chat_id: int
    text: str


@dataclass
class FakeBotApi:
    """State of the fake Bot API: tokens it accepts, queued updates, and what it was asked."""

    tokens: set[str]
    pending: list[dict[str, Any]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    deleted: list[tuple[int, int]] = field(default_factory=list)
    dropped: int = 0
    base_url: str = ""
    _next_update: int = 1000
    _next_message: int = 1
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    # -- scripting ----------------------------------------------------------------------

    def message(self, chat_id: int, text: str, user_id: int | None = None) -> int:
        """Queue a private-chat text message (a command when it starts with '/'); return its id."""
        self._next_update += 1
        self._next_message += 1
        message: dict[str, Any] = {
            "message_id": self._next_message,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Op"},
            "from": {"id": user_id or chat_id, "is_bot": False, "first_name": "Op"},
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self.pending.append({"update_id": self._next_update, "message": message})
        self._arrived.set()
        return self._next_message

    def texts(self, chat_id: int, since: int = 0) -> list[str]:
        """Return the texts sent to a chat, from the `since`-th sent message on."""
        return [s.text for s in self.sent[since:] if s.chat_id == chat_id]

    def methods(self) -> list[str]:
        """Return the names of the methods called so far."""
        return [name for name, _ in self.calls]

    async def wait_text(
        self, chat_id: int, contains: str, since: int = 0, timeout_s: float = 15.0
    ) -> str:
        """Wait until a message containing `contains` reaches the chat; return it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for text in self.texts(chat_id, since):
                if contains in text:
                    return text
            await asyncio.sleep(0.02)
        raise AssertionError(f"no message with {contains!r}; chat got {self.texts(chat_id, since)}")

    async def wait_polling(self, timeout_s: float = 30.0) -> None:
        """Wait until a bot has dropped the pending updates and polls for new ones."""
        deadline = time.monotonic() + timeout_s
        while "getUpdates" not in self.methods():
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot never polled; calls: {self.methods()}")
            await asyncio.sleep(0.05)

    async def ask(self, chat_id: int, text: str, expect: str, user_id: int | None = None) -> str:
        """Send a message as the chat and wait for a reply containing `expect`."""
        mark = len(self.sent)
        self.message(chat_id, text, user_id)
        return await self.wait_text(chat_id, expect, since=mark)

    async def settle(self, quiet_s: float = 0.3) -> None:
        """Wait until every queued update was fetched and nothing was sent for `quiet_s`."""
        deadline = time.monotonic() + 15
        count = -1
        while time.monotonic() < deadline:
            if not self.pending and count == len(self.sent):
                return
            count = len(self.sent)
            await asyncio.sleep(quiet_s)
        raise AssertionError("the bot never settled")

    # -- the Bot API ----------------------------------------------------------------------

    async def handle(self, request: Request) -> JSONResponse:
        """Answer one Bot API call."""
        prefix, _, method = request.path_params["rest"].rpartition("/")
        if not prefix.startswith("bot") or prefix[3:] not in self.tokens:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        params = await _params(request)
        self.calls.append((method, params))
        result = await self._answer(method, params)
        return JSONResponse({"ok": True, "result": result})

    async def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "deleteWebhook":
            if str(params.get("drop_pending_updates", "")).lower() == "true":
                self.dropped += len(self.pending)
                self.pending.clear()
            return True
        if method == "getUpdates":
            return await self._updates(params)
        if method == "sendMessage":
            return self._send(params)
        if method == "deleteMessage":
            self.deleted.append((int(params["chat_id"]), int(params["message_id"])))
            return True
        return True  # setMyCommands, and anything else the bot only fires and forgets

    async def _updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self.pending = [u for u in self.pending if u["update_id"] >= offset]  # confirmed
        if not self.pending:
            self._arrived.clear()
            wait = min(float(params.get("timeout") or 0), LONG_POLL_CAP_S)
            try:
                await asyncio.wait_for(self._arrived.wait(), wait)
            except TimeoutError:
                return []
        return list(self.pending)

    def _send(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, text = int(params["chat_id"]), str(params["text"])
        self.sent.append(Sent(chat_id, text))
        self._next_message += 1
        return {
            "message_id": self._next_message,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            "text": text,
        }


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    form = await request.form()
    params: dict[str, Any] = {}
    for key, value in form.items():
        text = value if isinstance(value, str) else ""
        try:
            params[key] = json.loads(text)
        except ValueError:
            params[key] = text
    return params


@asynccontextmanager
async def serve_fake_api(*tokens: str) -> AsyncIterator[FakeBotApi]:
    """Run a fake Bot API on a free port of 127.0.0.1 until the context exits."""
    api = FakeBotApi(tokens=set(tokens))
    app = Starlette(routes=[Route("/{rest:path}", api.handle, methods=["GET", "POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()  # raises why the server could not start
        await asyncio.sleep(0.01)
    api.base_url = f"http://127.0.0.1:{port}/bot"
    try:
        yield api
    finally:
        server.should_exit = True
        await task
        sock.close()
