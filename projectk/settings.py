"""Process settings, read once from `PROJECTK_*` environment variables (and an optional `.env`).

Invariants:
- Nothing else in the code base reads the environment; every knob is a field here.
- A bad value fails at start with a `SettingsError` whose message names the environment variable.
- Secrets are `SecretStr`: their repr and str are masked, so printing settings never leaks them.
"""

from __future__ import annotations

from enum import StrEnum, unique
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "PROJECTK_"


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

    rpc_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://127.0.0.1:8545"]
    )
    ws_url: str | None = None

    fill_poll_timeout_s: float = Field(default=300.0, gt=0)
    budget_ceiling_pusd: int = Field(default=100_000, gt=0)

    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_owner_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    dashboard_password: SecretStr | None = None
    dashboard_url: str = "http://127.0.0.1:8501"

    @field_validator("rpc_urls", "telegram_owner_ids", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

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
