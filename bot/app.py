"""The running bot: the one getUpdates poller of its token, its handlers and background loops.

Invariants:
- Nothing talks to Telegram before the per-token instance lock is held; a second instance
  fails with `BotAlreadyRunningError` naming the holder, having sent nothing.
- At start the Bot API drops the updates that arrived while the bot was down
  (`drop_pending_updates`): an old /stopall or /addpair answer is never replayed.
- The token is protected in the logs before the first request (see `bot.logs`).
- Updates are handled one at a time (no concurrent updates), so a conversation's answers are
  taken in order; alerts and conversation expiry run as background loops beside the poller and
  stop with it.
- The Bot API address is configurable (`base_url`/`base_file_url`), so tests and self-hosted
  Bot API servers are used exactly like Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from typing import Any

from telegram import BotCommand, Update
from telegram.error import Conflict, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from adapters.ledger import utcnow
from bot.alerts import AlertDispatcher, AlertStore
from bot.config import BotConfig
from bot.conversation import Conversations
from bot.handlers import BotRoles, Context, Handlers, send
from bot.lock import InstanceLock, lock_path
from bot.logs import protect_token
from bot.status import StatusProbe
from bot.texts import COMMANDS
from control.pairs import PairService

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE]
GUARD_GROUP, GATE_GROUP, HOUSEKEEPING_GROUP, COMMAND_GROUP = -3, -2, -1, 0


def build_application(config: BotConfig, handlers: Handlers) -> Application:  # type: ignore[type-arg]
    """Return a PTB application wired to the handlers, aimed at the configured Bot API."""
    app = (
        ApplicationBuilder()
        .token(config.token.get_secret_value())
        .base_url(config.base_url)
        .base_file_url(config.base_file_url)
        .job_queue(None)
        .concurrent_updates(False)
        .get_updates_read_timeout(config.poll_timeout_s + 10)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT | filters.CAPTION, handlers.guard), GUARD_GROUP)
    app.add_handler(TypeHandler(Update, handlers.gate), GATE_GROUP)
    app.add_handler(TypeHandler(Update, handlers.housekeeping), HOUSEKEEPING_GROUP)
    new = filters.UpdateType.MESSAGE  # an edited message is never taken as a command or answer
    commands: list[BaseHandler[Any, Context, Any]] = [
        CommandHandler(name, getattr(handlers, name), filters=new) for name, _ in COMMANDS
    ]
    commands.append(CommandHandler("start", handlers.help, filters=new))
    commands.append(MessageHandler(filters.TEXT & ~filters.COMMAND & new, handlers.text))
    app.add_handlers(commands, COMMAND_GROUP)
    app.add_error_handler(handlers.on_error)
    return app


class ProjectKBot:
    """The Telegram bot of one ProjectK installation."""

    def __init__(
        self,
        config: BotConfig,
        service: PairService,
        alerts: AlertStore,
        probe: StatusProbe,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = utcnow,
    ) -> None:
        self._config = config
        self._conversations = Conversations(config.conversation_timeout_s, monotonic)
        roles = BotRoles(owner_ids=config.owner_ids, dashboard_url=config.dashboard_url)
        self.handlers = Handlers(service, self._conversations, probe, roles, config.defaults, wall)
        self._app = build_application(config, self.handlers)
        self.dispatcher = AlertDispatcher(alerts, self.send_to_owners, config.rhythm, wall)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[ProjectKBot]:
        """Hold the instance lock and poll Telegram until the context exits."""
        token = self._config.token.get_secret_value()
        protect_token(token)
        async with AsyncExitStack() as stack:
            stack.enter_context(InstanceLock(lock_path(self._config.data_dir, token)))
            await stack.enter_async_context(self._app)
            await self._app.bot.set_my_commands([BotCommand(n, d) for n, d in COMMANDS])
            await self._app.start()
            stack.push_async_callback(self._app.stop)
            assert self._app.updater is not None  # the builder always makes one
            await self._app.updater.start_polling(
                poll_interval=0,
                timeout=int(self._config.poll_timeout_s),
                drop_pending_updates=True,
                allowed_updates=ALLOWED_UPDATES,
                error_callback=_polling_error,
            )
            stack.push_async_callback(self._app.updater.stop)
            for period, action in (
                (self._config.alert_poll_s, self.dispatcher.tick),
                (self._config.sweep_s, self._sweep),
            ):
                task = asyncio.create_task(_every(period, action))
                stack.push_async_callback(_cancel, task)
            log.info(
                "bot polling as @%s for %d owner(s)",
                self._app.bot.username,
                len(self._config.owner_ids),
            )
            yield self

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set."""
        async with self.running():
            await stop.wait()
        log.info("bot stopped")

    async def send_to_owners(self, text: str) -> bool:
        """Send a text to every owner; True if at least one received it."""
        delivered = False
        for owner in sorted(self._config.owner_ids):
            try:
                await send(self._app.bot, owner, text)
                delivered = True
            except TelegramError as exc:
                log.warning("could not reach owner %s: %s", owner, exc)
        return delivered

    async def _sweep(self) -> None:
        await self.handlers.expire_conversations(self._app.bot)


async def _every(period_s: float, action: Callable[[], Awaitable[object]]) -> None:
    # A failing round is logged and retried next period; the loop ends only by cancellation.
    while True:
        try:
            await action()
        except Exception:
            log.exception("background task %s failed", getattr(action, "__name__", action))
        await asyncio.sleep(period_s)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _polling_error(exc: TelegramError) -> None:
    if isinstance(exc, Conflict):
        log.error(
            "Telegram reports another getUpdates poller for this token (on another host?):"
            " stop the other bot instance"
        )
    else:
        log.warning("polling Telegram failed: %s", exc)
