"""The bot's configuration, taken from `Settings` once at start.

Invariants:
- A bot without a token or without owners refuses to start, with a message naming the
  variable; the token stays a `SecretStr` until the moment PTB needs it.
- Nothing here reads the environment (settings did).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.addpair import PairDefaults
from bot.alerts import AlertRhythm
from projectk.models import MICRO
from projectk.settings import Settings, env_name

SWEEP_S = 1.0  # how often expired conversations are looked for
POLL_TIMEOUT_S = 10.0  # getUpdates long-poll length


class BotConfigError(ValueError):
    """The settings do not allow the bot to start; the message names the variable."""


@dataclass(frozen=True)
class BotConfig:
    """Everything the bot process needs to know."""

    token: SecretStr
    base_url: str
    base_file_url: str
    owner_ids: frozenset[int]
    dashboard_url: str
    data_dir: Path
    task_queue: str
    conversation_timeout_s: float
    alert_poll_s: float
    rhythm: AlertRhythm
    defaults: PairDefaults
    sweep_s: float = SWEEP_S
    poll_timeout_s: float = POLL_TIMEOUT_S

    @classmethod
    def from_settings(cls, settings: Settings) -> BotConfig:
        """Return the bot configuration, or raise BotConfigError naming the missing variable."""
        if settings.telegram_token is None or not settings.telegram_token.get_secret_value():
            raise BotConfigError(f"{env_name('telegram_token')} is not set")
        if not settings.telegram_owner_ids:
            raise BotConfigError(
                f"{env_name('telegram_owner_ids')} is empty: list the owners' chat ids"
            )
        return cls(
            token=settings.telegram_token,
            base_url=settings.telegram_base_url,
            base_file_url=settings.telegram_base_file_url
            or file_url_for(settings.telegram_base_url),
            owner_ids=frozenset(settings.telegram_owner_ids),
            dashboard_url=settings.dashboard_url,
            data_dir=settings.data_dir,
            task_queue=settings.temporal_task_queue,
            conversation_timeout_s=settings.telegram_conversation_timeout_s,
            alert_poll_s=settings.telegram_alert_poll_s,
            rhythm=AlertRhythm(
                debounce_s=settings.telegram_alert_debounce_s,
                batch_s=settings.telegram_alert_batch_s,
            ),
            defaults=PairDefaults(
                budget_ceiling_micro=settings.budget_ceiling_pusd * MICRO,
                funder=settings.polymarket_funder,
                signature_type=settings.polymarket_signature_type,
            ),
        )


def file_url_for(base_url: str) -> str:
    """Return the Bot API file URL matching a method URL ('…/bot' → '…/file/bot')."""
    if base_url.endswith("/bot"):
        return base_url.removesuffix("/bot") + "/file/bot"
    return base_url.rstrip("/") + "/file/bot"
