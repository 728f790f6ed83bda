"""Process settings, read once from `PROJECTK_*` environment variables (and an optional `.env`).

Invariants:
- Nothing else in the code base reads the environment; every knob is a field here.
- A bad value fails at start with a `SettingsError` whose message names the environment variable.
- Secrets are `SecretStr`: their repr and str are masked, so printing settings never leaks them.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from enum import StrEnum, unique
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "PROJECTK_"
AES256_KEY_BYTES = 32


@unique
class ExecutorMode(StrEnum):
    """Where mirror orders go."""

    LIVE = "live"  # Polymarket's production CLOB at PROJECTK_POLYMARKET_HOST
    PAPER = "paper"  # no key, no order: fills are simulated and recorded as paper trades
    SANDBOX = "sandbox"  # the local CLOB V2-compatible sandbox


class SettingsError(ValueError):
    """Raised when the environment holds an invalid setting; the message names the variable."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _is_aes256_key(text: str) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) == AES256_KEY_BYTES
    except ValueError:
        return False


class Settings(BaseSettings):
    """Every configurable value of ProjectK."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    executor_mode: ExecutorMode = ExecutorMode.SANDBOX
    data_dir: Path = Field(default_factory=lambda: Path.home() / ".projectk")

    vault_passphrase: SecretStr | None = None
    vault_path: Path | None = None  # default: <data_dir>/vault.json

    db_url: str | None = None  # default: sqlite file <data_dir>/ledger.db

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "projectk"
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535)

    polymarket_host: str = "https://clob.polymarket.com"
    polymarket_chain_id: int = 137
    polymarket_signature_type: int = Field(default=0, ge=0, le=3)
    polymarket_funder: str | None = None
    data_api_url: str = "https://data-api.polymarket.com"
    sandbox_clob_url: str | None = None  # sandbox mode; default: <data_dir>/sandbox/ready.json
    paper_book_url: str | None = None  # paper mode's book source; default: the sandbox CLOB

    rpc_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:8545"]
    )
    ws_url: str | None = None
    # Source fill detection (adapters.chain.detection): see DEFAULT_CONFIRMATIONS there for why 0.
    fill_confirmations: int = Field(default=0, ge=0, le=256)
    fill_reorg_window: int = Field(default=64, ge=1, le=10_000)  # blocks watched for reorgs
    chain_block_time_s: float = Field(default=2.0, gt=0)  # first guess; the poller learns it
    head_poll_fast_s: float = Field(default=0.015, gt=0)  # poll step while a block is due
    rpc_timeout_s: float = Field(default=10.0, gt=0)
    rpc_rate_per_s: float = Field(default=50.0, gt=0)  # token bucket per RPC URL
    rpc_max_block_range: int = Field(default=1000, ge=1)  # blocks per eth_getLogs
    rpc_max_wallets_per_query: int = Field(default=1000, ge=1)  # topic2 list length

    fill_poll_timeout_s: float = Field(default=3600.0, gt=0)  # see workflows/policies.py
    worker_max_activities: int = Field(default=5000, ge=10)  # every pair's long poll holds one
    budget_ceiling_pusd: int = Field(default=100_000, gt=0)

    # low-gas threshold, and whether redeems go through the V2 collateral
    # adapters (production) or ConditionalTokens directly (sandbox); None = by executor mode.
    claim_min_pol: Decimal = Field(default=Decimal("0.5"), ge=0)
    claim_use_adapters: bool | None = None

    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_owner_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    telegram_base_file_url: str | None = None  # default: derived from telegram_base_url
    telegram_conversation_timeout_s: float = Field(default=180.0, gt=0)
    telegram_alert_poll_s: float = Field(default=5.0, gt=0)
    telegram_alert_debounce_s: float = Field(default=300.0, ge=0)  # medium: per pair and kind
    telegram_alert_batch_s: float = Field(default=3600.0, ge=0)  # low: one digest per period

    dashboard_password: SecretStr | None = None
    dashboard_url: str = "http://127.0.0.1:8501"
    dashboard_refresh_s: int = Field(default=10, ge=0)  # dashboard auto-refresh; 0 turns it off
    temporal_ui_url: str | None = None  # default: http://<Temporal host>:<temporal_ui_port>

    # Operations: payload encryption, codec server, metrics, logs, backups.
    payload_key: SecretStr | None = None  # base64 of 32 random bytes; unset: payloads in clear
    payload_key_id: str = Field(default="k1", pattern=r"^[A-Za-z0-9._-]{1,32}$")
    payload_old_keys: SecretStr | None = None  # "ID:BASE64,..." retired keys, still decrypted
    codec_server_host: str = "127.0.0.1"
    codec_server_port: int = Field(default=8888, ge=1, le=65535)
    codec_cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:8080", "http://localhost:8080"]
    )
    metrics_bind: str | None = None  # HOST:PORT of ProjectK's /metrics; unset: off
    temporal_metrics_bind: str | None = None  # HOST:PORT of the Temporal SDK's /metrics
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    log_json: bool = False  # one JSON object per line instead of plain text
    log_file: Path | None = None  # unset: stderr (the journal under systemd)
    log_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)  # rotate the log file at this size
    log_backups: int = Field(default=5, ge=0)  # rotated log files kept

    @field_validator("rpc_urls", "telegram_owner_ids", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("codec_cors_origins", mode="before")
    @classmethod
    def _csv_origins(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("payload_key", "payload_old_keys", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `PROJECTK_PAYLOAD_KEY=` (as in .env.example) means no key, not an invalid one.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("payload_key")
    @classmethod
    def _payload_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _is_aes256_key(value.get_secret_value()):
            raise ValueError("must be the base64 of 32 bytes (make one: projectk codec-key)")
        return value

    @field_validator("payload_old_keys")
    @classmethod
    def _old_payload_keys(cls, value: SecretStr | None) -> SecretStr | None:
        items = [i for i in (value.get_secret_value().split(",") if value else []) if i.strip()]
        for number, item in enumerate(items, start=1):
            key_id, _, key = item.strip().partition(":")
            if not key_id or not _is_aes256_key(key):
                raise ValueError(f"item {number} is not ID:BASE64-OF-32-BYTES")
        return value

    @field_validator("polymarket_chain_id")
    @classmethod
    def _chain(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("chain id must be a positive integer (137 for Polygon)")
        return value

    @field_validator("rpc_urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"RPC URL must start with http:// or https://, got {url!r}")
        if not value:
            raise ValueError("at least one RPC URL is needed")
        return value

    @property
    def resolved_vault_path(self) -> Path:
        """Return the vault file path (default inside the data directory)."""
        return self.vault_path or self.data_dir / "vault.json"

    @property
    def resolved_db_url(self) -> str:
        """Return the ledger URL (default: a SQLite file inside the data directory)."""
        return self.db_url or f"sqlite:///{self.data_dir / 'ledger.db'}"

    def passphrase(self) -> str | None:
        """Return the vault passphrase in clear text, for the vault only."""
        return self.vault_passphrase.get_secret_value() if self.vault_passphrase else None


def env_name(field: str) -> str:
    """Return the environment variable that sets a settings field."""
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, raising `SettingsError` that names each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            problems.append(f"{env_name(field)}: {error['msg']}")
        raise SettingsError("invalid setting(s):\n  " + "\n  ".join(problems)) from None
