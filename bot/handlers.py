"""Telegram update handlers: the secret guard, the owner gate, conversations and commands.

Invariants:
- Order of handling (PTB handler groups): the secret guard first (a key-like message is refused
  and deleted, whoever sent it), then the owner gate (anyone else gets a short refusal, nothing
  happens, and the attempt is logged without its text), then conversation housekeeping (any
  command other than the conversation's own ends it), then the command or answer itself.
- Every change goes through `PairService`, the CLI's one implementation.
- Message texts are never logged (they may hold anything a user pasted); logs name the chat,
  user and command only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes
from temporalio.service import RPCError

from adapters.ledger import utcnow
from bot.addpair import AddPairFlow, PairDefaults
from bot.conversation import Conversations, Reply
from bot.guard import SECRET_WARNING, looks_secret
from bot.status import StatusProbe
from bot.texts import HELP, HOWTO, REFUSAL, pairs_text, state_text, stop_all_text
from bot.timeouts import TemporalTimeoutError, bounded
from control.pairs import PairError, PairService
from projectk.money import AmountError, format_micro, parse_micro

log = logging.getLogger(__name__)

T = TypeVar("T")
Context = ContextTypes.DEFAULT_TYPE
MESSAGE_LIMIT = 4000  # Telegram allows 4096 characters per message


def chunks(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a text into messages Telegram accepts, at line breaks where possible."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            parts.append(line[:limit])
            line = line[limit:]
        if current and len(current) + 1 + len(line) > limit:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return [*parts, current] if current or not parts else parts


async def send(bot: Bot, chat_id: int, text: str) -> None:
    """Send a text to a chat, split into as many messages as it needs."""
    for part in chunks(text):
        await bot.send_message(chat_id=chat_id, text=part)


@dataclass(frozen=True)
class BotRoles:
    """Who may use the bot and what it links to."""

    owner_ids: frozenset[int]
    dashboard_url: str


class RemoveAllFlow:
    """The /rmpairall confirmation: only an explicit yes removes every pair."""

    command = "/rmpairall"

    def __init__(self, service: PairService, names: list[str]) -> None:
        self._service = service
        self._names = names

    async def answer(self, text: str) -> Reply:
        """Remove every pair on yes; cancel on anything else."""
        if text.strip().lower() != "yes":
            return Reply("Cancelled; no pair was removed.", done=True)
        failed = []
        for name in self._names:
            try:
                await bounded(self._service.remove(name))
            except (PairError, RPCError, TemporalTimeoutError) as exc:
                failed.append(f"{name}: {exc}")
        removed = len(self._names) - len(failed)
        lines = [f"🗑 removed {removed} pair(s)", *failed]
        return Reply("\n".join(lines), done=True)


class Handlers:
    """Everything the bot does in answer to an update."""

    def __init__(
        self,
        service: PairService,
        conversations: Conversations,
        probe: StatusProbe,
        roles: BotRoles,
        defaults: PairDefaults,
        wall: Callable[[], datetime] = utcnow,
    ) -> None:
        self._service = service
        self._conversations = conversations
        self._probe = probe
        self._roles = roles
        self._defaults = defaults
        self._wall = wall  # the ages of mirrors in flight are measured on it

    # -- plumbing ---------------------------------------------------------------------------

    @staticmethod
    async def say(context: Context, chat_id: int, text: str) -> None:
        """Send a text to the chat of an update."""
        await send(context.bot, chat_id, text)

    async def guard(self, update: Update, context: Context) -> None:
        """Refuse (and delete) a message that looks like a private key or a mnemonic."""
        message = update.effective_message
        if message is None or not looks_secret(message.text or message.caption or ""):
            return
        log.warning(
            "refused a key-like message in chat %s from user %s (deleted, not logged)",
            message.chat_id,
            update.effective_user.id if update.effective_user else "?",
        )
        try:
            await message.delete()
        except TelegramError as exc:
            log.warning("could not delete the key-like message: %s", exc)
        await self.say(context, message.chat_id, SECRET_WARNING)
        raise ApplicationHandlerStop

    def is_owner(self, update: Update) -> bool:
        """Tell whether an update comes from an owner's chat (and, in groups, from an owner)."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or chat.id not in self._roles.owner_ids:
            return False
        return chat.type == chat.PRIVATE or (user is not None and user.id in self._roles.owner_ids)

    async def gate(self, update: Update, context: Context) -> None:
        """Let owners through; refuse and log anyone else."""
        if self.is_owner(update):
            return
        chat, user, message = update.effective_chat, update.effective_user, update.effective_message
        command = (message.text or "").split(maxsplit=1)[0][:32] if message and message.text else ""
        log.warning(
            "refused update %s from user %s in chat %s (%s)",
            update.update_id,
            user.id if user else "?",
            chat.id if chat else "?",
            command if command.startswith("/") else "message",
        )
        if chat is not None:
            await self.say(context, chat.id, REFUSAL)
        raise ApplicationHandlerStop

    async def housekeeping(self, update: Update, context: Context) -> None:
        """Tell chats whose conversation expired; end a conversation when another command comes."""
        await self.expire_conversations(context.bot)
        message, chat = update.message, update.effective_chat  # an edit is not a new command
        text = message.text if message and message.text else ""
        if chat is None or not text.startswith("/"):
            return
        open_flow = self._conversations.get(chat.id)
        command = text.split(maxsplit=1)[0].split("@")[0]
        if open_flow is not None and command not in {open_flow.command, "/cancel"}:
            self._conversations.close(chat.id)
            await self.say(context, chat.id, f"{open_flow.command} ended; nothing was saved.")

    async def expire_conversations(self, bot: Bot) -> None:
        """End conversations that waited too long, telling their chats."""
        for chat_id, flow in self._conversations.expire():
            timeout = int(self._conversations.timeout_s)
            log.info("conversation %s in chat %s expired", flow.command, chat_id)
            await send(
                bot,
                chat_id,
                f"⌛ {flow.command} expired after {timeout} s without an "
                "answer; nothing was saved.",
            )

    async def text(self, update: Update, context: Context) -> None:
        """Route a plain message to the chat's open conversation."""
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None:
            return
        flow = self._conversations.get(chat.id)
        if flow is None:
            await self.say(context, chat.id, "No question is open. /help lists the commands.")
            return
        reply = await flow.answer(message.text or "")
        if reply.done:
            self._conversations.close(chat.id)
        else:
            self._conversations.touch(chat.id)
        await self.say(context, chat.id, reply.text)

    async def on_error(self, update: object, context: Context) -> None:
        """Log an unexpected failure and tell the chat, without details that could leak."""
        log.error("update handling failed", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            name = type(context.error).__name__
            await self.say(context, update.effective_chat.id, f"⚠️ That failed ({name}); see logs.")

    # -- commands ---------------------------------------------------------------------------

    async def addpair(self, update: Update, context: Context) -> None:
        """Open the /addpair conversation (one per chat)."""
        chat_id = _chat_id(update)
        if self._conversations.get(chat_id) is not None:
            await self.say(
                context,
                chat_id,
                "An /addpair is already open: answer the question above, or /cancel it.",
            )
            return
        flow = AddPairFlow(self._service, self._defaults)
        reply = flow.start(context.args[0] if context.args else None)
        self._conversations.open(chat_id, flow)
        await self.say(context, chat_id, reply.text)

    async def cancel(self, update: Update, context: Context) -> None:
        """End the chat's open conversation."""
        chat_id = _chat_id(update)
        flow = self._conversations.close(chat_id)
        text = f"{flow.command} cancelled; nothing was saved." if flow else "Nothing to cancel."
        await self.say(context, chat_id, text)

    async def rmpairall(self, update: Update, context: Context) -> None:
        """Ask to confirm removing every pair."""
        chat_id = _chat_id(update)
        if self._conversations.get(chat_id) is not None:
            await self.say(context, chat_id, "Already waiting for your answer: yes or no.")
            return
        names = [record.pair_id for record in self._service.list_pairs()]
        if not names:
            await self.say(context, chat_id, "There are no pairs to remove.")
            return
        self._conversations.open(chat_id, RemoveAllFlow(self._service, names))
        await self.say(
            context,
            chat_id,
            f"Remove all {len(names)} pair(s): {', '.join(names)}? "
            "Their workflows cancel in-flight orders and end. Reply `yes` to remove.",
        )

    async def stopall(self, update: Update, context: Context) -> None:
        """Emergency-stop every pair."""
        chat_id = _chat_id(update)
        user = update.effective_user
        reason = f"emergency stop from Telegram by {user.id if user else chat_id}"
        log.warning("stopall requested in chat %s", chat_id)
        try:
            result = await bounded(self._service.stop_all(reason))
        except (PairError, RPCError, TemporalTimeoutError) as exc:
            await self.say(context, chat_id, f"❌ Emergency stop failed: {exc}")
            return
        await self.say(context, chat_id, stop_all_text(result))

    async def pairs(self, update: Update, context: Context) -> None:
        """List the registered pairs."""
        await self.say(context, _chat_id(update), pairs_text(self._service.list_pairs()))

    async def pair(self, update: Update, context: Context) -> None:
        """Show a pair's live state."""
        await self._named(
            update,
            context,
            "/pair NAME",
            lambda name: _then(
                self._service.state(name), lambda state: state_text(state, self._wall())
            ),
        )

    async def pause(self, update: Update, context: Context) -> None:
        """Pause a pair."""
        await self._named(
            update,
            context,
            "/pause NAME",
            lambda name: _then(self._service.pause(name), lambda _: f"⏸ {name} paused"),
        )

    async def resume(self, update: Update, context: Context) -> None:
        """Resume a pair."""
        await self._named(
            update,
            context,
            "/resume NAME",
            lambda name: _then(self._service.resume(name), lambda _: f"▶️ {name} resumed"),
        )

    async def rmpair(self, update: Update, context: Context) -> None:
        """Remove a pair."""
        await self._named(
            update,
            context,
            "/rmpair NAME",
            lambda name: _then(self._service.remove(name), lambda _: f"🗑 {name} removed"),
        )

    async def budget(self, update: Update, context: Context) -> None:
        """Set a pair's budget."""
        chat_id, args = _chat_id(update), context.args or []
        if len(args) != 2:
            await self.say(context, chat_id, "Usage: /budget NAME AMOUNT (pUSD)")
            return
        try:
            micro = parse_micro(args[1], what="budget")
            config = await bounded(self._service.set_budget(args[0], micro))
        except (AmountError, PairError, RPCError, TemporalTimeoutError) as exc:
            await self.say(context, chat_id, f"❌ {exc}")
            return
        await self.say(
            context,
            chat_id,
            f"💰 {config.pair_id} budget set to {format_micro(config.budget_micro)} pUSD",
        )

    async def status(self, update: Update, context: Context) -> None:
        """Report Temporal, workers and the chain tail."""
        await self.say(context, _chat_id(update), await self._probe.report())

    async def whereami(self, update: Update, context: Context) -> None:
        """Report this bot's host, pid and version."""
        await self.say(context, _chat_id(update), self._probe.whereami())

    async def site(self, update: Update, context: Context) -> None:
        """Give the dashboard's address."""
        await self.say(context, _chat_id(update), f"Dashboard: {self._roles.dashboard_url}")

    async def howto(self, update: Update, context: Context) -> None:
        """Explain how to add a pair."""
        await self.say(context, _chat_id(update), HOWTO)

    async def help(self, update: Update, context: Context) -> None:
        """List the commands."""
        await self.say(context, _chat_id(update), HELP)

    async def _named(
        self, update: Update, context: Context, usage: str, action: Callable[[str], Awaitable[str]]
    ) -> None:
        chat_id, args = _chat_id(update), context.args or []
        if len(args) != 1:
            await self.say(context, chat_id, f"Usage: {usage}")
            return
        log.info("chat %s: %s %s", chat_id, usage.split()[0], args[0])
        try:
            text = await bounded(action(args[0]))
        except (PairError, RPCError, TemporalTimeoutError) as exc:
            text = f"❌ {exc}"
        await self.say(context, chat_id, text)


async def _then(step: Awaitable[T], show: Callable[[T], str]) -> str:
    return show(await step)


def _chat_id(update: Update) -> int:
    chat = update.effective_chat
    assert chat is not None  # command handlers only see messages, which have a chat
    return chat.id
