"""The bot process: wire settings, Temporal, the ledger and the vault into `ProjectKBot`, and
run it until SIGTERM/SIGINT.

Invariants:
- This is the bot's composition root: the only place its clients are built.
- A start that cannot succeed (no token, no owners, another instance polling, Temporal
  unreachable) fails with `BotStartError` and one clear message, before polling.
- The vault is used for address look-ups only; the bot never has the passphrase's help to
  open a key (it does not read `PROJECTK_VAULT_PASSPHRASE`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

from telegram.error import InvalidToken, TelegramError

from adapters.chain import stats_path
from adapters.ledger import open_ledger
from adapters.temporal import TemporalUnavailableError, connect
from bot.app import ProjectKBot
from bot.config import BotConfig, BotConfigError
from bot.lock import BotAlreadyRunningError
from bot.logs import protect_token
from bot.status import StatusProbe
from control.pairs import build_pair_service
from projectk.logs import redact
from projectk.settings import Settings

log = logging.getLogger(__name__)


class BotStartError(RuntimeError):
    """The bot cannot start; the message says why and what to change."""


async def run_bot(settings: Settings) -> None:
    """Run the Telegram bot until SIGTERM or SIGINT."""
    try:
        config = BotConfig.from_settings(settings)
    except BotConfigError as exc:
        raise BotStartError(str(exc)) from None
    protect_token(config.token.get_secret_value())
    try:
        client = await connect(settings)
    except TemporalUnavailableError as exc:
        raise BotStartError(str(exc)) from None
    ledger = open_ledger(settings)
    service = build_pair_service(settings, client, ledger)
    probe = StatusProbe(
        client, ledger, settings.temporal_task_queue, stats_file=Path(stats_path(settings))
    )
    bot = ProjectKBot(config, service, ledger, probe)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await bot.run(stop)
    except BotAlreadyRunningError as exc:
        raise BotStartError(str(exc)) from None
    except InvalidToken:
        raise BotStartError(
            f"the Bot API at {settings.telegram_base_url} rejected PROJECTK_TELEGRAM_TOKEN"
        ) from None
    except TelegramError as exc:  # its text may quote a URL with the token: redact it
        raise BotStartError(f"cannot use the Bot API: {redact(str(exc))}") from None
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
