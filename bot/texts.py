"""What the bot says: help, how-to, and the formatting of pairs, states and errors.

Invariants:
- Pure functions of their inputs; amounts are formatted from micro-units with `format_micro`.
- Nothing here includes a secret: configs name keys only by key_ref, and errors are turned into
  short field/message lines (pydantic's input echo is left out: it may be anything the user typed).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pydantic import ValidationError

from adapters.ledger import PairRecord
from control.pairs import StopAllResult
from projectk.models import MICRO, PairConfig, PairState, SizingMode
from projectk.money import format_micro

CENT = Decimal("0.01")

COMMANDS: tuple[tuple[str, str], ...] = (
    ("addpair", "register a pair, step by step"),
    ("pairs", "list the pairs"),
    ("pair", "NAME — live state of a pair"),
    ("pause", "NAME — stop mirroring new fills"),
    ("resume", "NAME — resume a paused, blocked or stopped pair"),
    ("budget", "NAME AMOUNT — set a pair's budget in pUSD"),
    ("rmpair", "NAME — remove a pair"),
    ("rmpairall", "remove every pair (asks to confirm)"),
    ("stopall", "EMERGENCY STOP of every pair"),
    ("status", "Temporal, workers and chain tail"),
    ("whereami", "host, process and version of this bot"),
    ("site", "the dashboard's address"),
    ("howto", "how to add a pair, step by step"),
    ("cancel", "end the open conversation"),
    ("help", "this list"),
)

HELP = "ProjectK commands:\n" + "\n".join(f"/{name} {text}" for name, text in COMMANDS)

HOWTO = """How to add a pair:
1. On the server, put the follower's key in the vault (never in this chat):
   `projectk wallet add NAME` — it reads the key or recovery phrase without echo and prints
   `vault://NAME` and the wallet address.
2. Check the address it printed is your follower wallet (or the configured funder).
3. Here, send /addpair and answer: pair name, source wallet, follower wallet, budget,
   key_ref (`vault://NAME`), sizing, guards.
4. Read the summary and answer `yes`. The pair starts mirroring new fills of the source.
5. Watch it with /pair NAME, /pairs or /site; /pause NAME or /stopall stop it."""

REFUSAL = "⛔ This is a private bot. Your attempt was logged."


def describe_error(exc: Exception) -> str:
    """Return a short operator message for a validation error (without echoing the input)."""
    if isinstance(exc, ValidationError):
        parts = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            parts.append(f"{where}: {message}" if where else message)
        return "; ".join(parts)
    return str(exc)


def _pusd(micro: int | None) -> str:
    return "none" if micro is None else f"{format_micro(micro)} pUSD"


def guards_text(config: PairConfig) -> str:
    """Return the guard options of an /addpair in progress, one per line, by their answer keys."""
    guards = config.guards
    sell_age = "none" if guards.max_sell_age_s is None else f"{guards.max_sell_age_s} s"
    distance = "off" if guards.max_book_distance is None else str(guards.max_book_distance)
    return "\n".join(
        [
            f"  slippage_bps = {guards.slippage_bps} (BUYs' price cap)",
            f"  exit_slippage_bps = {guards.exit_slippage_bps} (SELLs' price cap)",
            f"  max_failures = {guards.max_consecutive_failures} (consecutive, then the pair "
            "is blocked)",
            f"  max_order = {_pusd(guards.max_order_micro)}",
            f"  max_market_exposure = {_pusd(guards.max_market_exposure_micro)} (per market: "
            "Yes and No together, including orders in flight)",
            f"  daily_loss_limit = {_pusd(guards.daily_loss_limit_micro)}",
            f"  max_buy_age = {guards.max_fill_age_s} s (older source buys are skipped)",
            f"  max_sell_age = {sell_age} (none: exits are never dropped for age)",
            f"  max_book_distance = {distance} (from the book's mid, else the fill is skipped)",
            f"  buys_only = {_yes_no(guards.buys_only)}",
            f"  order_type = {config.order_type.value}",
            f"  shared_funder = {_yes_no(config.shared_funder)} (funder {config.funder_address})",
        ]
    )


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def sizing_text(config: PairConfig) -> str:
    """Return a pair's sizing in words."""
    sizing = config.sizing
    if sizing.mode is SizingMode.FIXED:
        return f"fixed {format_micro(sizing.fixed_micro)} pUSD per source buy"
    if sizing.mode is SizingMode.PROPORTIONAL:
        return f"proportional, {sizing.ratio} x the source's notional"
    return f"{sizing.percent}% of the source's shares"


def pair_summary(config: PairConfig) -> str:
    """Return a pair's configuration, as shown before confirmation."""
    guards = config.guards
    sell_age = "any age" if guards.max_sell_age_s is None else f"up to {guards.max_sell_age_s} s"
    distance = "off" if guards.max_book_distance is None else str(guards.max_book_distance)
    shared = " (shared with other pairs)" if config.shared_funder else ""
    return "\n".join(
        [
            f"Pair {config.pair_id}",
            f"  source   {config.source}",
            f"  follower {config.follower}",
            f"  funder   {config.funder_address}{shared}",
            f"  key      {config.key_ref}",
            f"  budget   {format_micro(config.budget_micro)} pUSD",
            f"  sizing   {sizing_text(config)}",
            f"  guards   slippage {guards.slippage_bps} bps (exits "
            f"{guards.exit_slippage_bps} bps), block after "
            f"{guards.max_consecutive_failures} failures, max order "
            f"{_pusd(guards.max_order_micro)}, max per market "
            f"{_pusd(guards.max_market_exposure_micro)}, daily loss limit "
            f"{_pusd(guards.daily_loss_limit_micro)}, "
            f"{'buys only' if guards.buys_only else 'buys and sells'}",
            f"  ages     buys up to {guards.max_fill_age_s} s, sells {sell_age}; max book "
            f"distance {distance}",
            f"  orders   {config.order_type.value}",
        ]
    )


def pairs_text(records: list[PairRecord]) -> str:
    """Return the registry as a short list."""
    if not records:
        return "No pairs yet: /addpair registers one (see /howto)."
    lines = [f"{len(records)} pair(s):"]
    for record in records:
        config = record.config
        lines.append(
            f"• {config.pair_id} — {record.status.value}, budget "
            f"{format_micro(config.budget_micro)} pUSD\n  {config.source} → {config.follower}"
        )
    return "\n".join(lines)


def state_text(state: PairState, now: datetime) -> str:
    """Return a pair's live state from its workflow, with its reservations in flight."""
    config = state.config
    reason = f" ({state.status_reason})" if state.status_reason else ""
    last = state.last_fill_at.isoformat(timespec="seconds") if state.last_fill_at else "never"
    return "\n".join(
        [
            f"Pair {config.pair_id}: {state.status.value}{reason}",
            f"  budget {format_micro(config.budget_micro)} · spent "
            f"{format_micro(state.spent_micro)} · reserved {format_micro(state.reserved_micro)}"
            f" · left {format_micro(state.remaining_micro)} pUSD",
            f"  positions {len(state.positions)} · realized PnL "
            f"{format_micro(state.realized_pnl_micro)} pUSD (today "
            f"{format_micro(state.day_realized_pnl_micro)})",
            f"  fills seen {state.fills_seen} · mirrors started {state.mirrors_started} · "
            f"in flight {len(state.in_flight)} · consecutive failures "
            f"{state.consecutive_failures}",
            *in_flight_lines(state, now),
            f"  last source fill {last} · cursor block {state.cursor.block}",
            f"  {config.source} → {config.follower}",
        ]
    )


def in_flight_lines(state: PairState, now: datetime) -> list[str]:
    """Return one line per mirror in flight (oldest first) and their total reserved pUSD."""
    if not state.in_flight:
        return []
    flights = sorted(state.in_flight.values(), key=lambda flight: flight.started_at)
    lines = [
        f"    {flight.side.value} {short_token(flight.token_id)} · reserved "
        f"{pusd_2(flight.reserved_micro)} pUSD · {ago(now - flight.started_at)}"
        for flight in flights
    ]
    total = sum(flight.reserved_micro for flight in flights)
    return [f"  reserved in flight {pusd_2(total)} pUSD:", *lines]


def short_token(token_id: str) -> str:
    """Return a token id short enough for a chat line (its start and end)."""
    return token_id if len(token_id) <= 12 else f"{token_id[:6]}…{token_id[-4:]}"


def pusd_2(micro: int) -> str:
    """Return micro-units as pUSD with exactly 2 decimals."""
    return str((Decimal(micro) / MICRO).quantize(CENT))


def ago(delta: timedelta) -> str:
    """Return an age in seconds, minutes or hours (a clock behind the start reads 0 s)."""
    seconds = int(max(delta.total_seconds(), 0))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def stop_all_text(result: StopAllResult) -> str:
    """Say which pairs an emergency stop reached and, one per line, each it could not stop."""
    named = f": {', '.join(result.stopped)}" if result.stopped else ""
    lines = [
        f"🛑 Emergency stop sent to {len(result.stopped)} pair(s){named}. "
        "They cancel open orders; only /resume NAME restarts one."
    ]
    if result.complete:
        return "\n".join(lines)
    lines.append("❌ NOT stopped (these may still be trading):")
    lines += [f"• {name}: {error}" for name, error in result.failed.items()]
    if result.listing_error:
        lines.append(
            f"• the list of running pairs broke off ({result.listing_error}): "
            "pairs after it were not reached"
        )
    lines.append("Send /stopall again, or stop them in the Temporal UI.")
    return "\n".join(lines)
