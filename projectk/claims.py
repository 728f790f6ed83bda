"""Claim policy, pure: when to look again, when a held market is due for a claim, how a
finished claim changes a pair's books.

Invariants:
- Functions of their inputs only (time is passed in), so the waiting logic is tested without
  Temporal and the workflows stay deterministic.
- Waiting backs off geometrically to a ceiling, so a claim waiting for weeks costs a bounded,
  small number of Temporal actions per day (`checks_per_day_at_ceiling`).
- A claim is due for a market when the pair holds shares of one of its tokens and the market
  has ended (closed, past its end date, or resolved on chain).
- Applying a finished claim to a pair is idempotent: the market's positions are removed, so a
  second report finds nothing to apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from projectk.messages import ClaimReport, ClaimTarget, MarketInfo
from projectk.models import PairConfig, PairState, Position

BINARY_INDEX_SETS = (1, 2)  # Yes (outcome slot 0) and No (outcome slot 1)
WEI_PER_POL = 10**18
DEFAULT_MIN_POL = Decimal("0.5")  # the low-gas threshold operators asked for (DESIGN.md)

RESOLUTION_FIRST_WAIT = timedelta(minutes=15)
RESOLUTION_MAX_WAIT = timedelta(hours=12)
GAS_FIRST_WAIT = timedelta(minutes=10)
GAS_MAX_WAIT = timedelta(hours=6)
PAIR_CHECK_EVERY = timedelta(hours=6)  # how often a pair asks whether its markets ended
SWEEP_EVERY = timedelta(hours=6)


def backoff(attempt: int, first: timedelta, ceiling: timedelta) -> timedelta:
    """Return first x 2^attempt, capped at the ceiling."""
    if attempt >= 32:  # 2^32 x any positive first is far above any ceiling
        return ceiling
    wait: timedelta = first * (2**attempt)
    return min(wait, ceiling)


def resolution_wait(checks: int) -> timedelta:
    """Return how long to wait after the given number of unresolved checks."""
    return backoff(checks, RESOLUTION_FIRST_WAIT, RESOLUTION_MAX_WAIT)


def gas_wait(waits: int) -> timedelta:
    """Return how long to wait for POL after the given number of low-gas waits."""
    return backoff(waits, GAS_FIRST_WAIT, GAS_MAX_WAIT)


def checks_per_day_at_ceiling() -> int:
    """Return how many resolution checks a day a long wait makes once backed off."""
    return int(timedelta(days=1) / RESOLUTION_MAX_WAIT)


def pol_to_wei(pol: Decimal) -> int:
    """Return a POL amount in wei (rounded down)."""
    return int(pol * WEI_PER_POL)


def market_ended(market: MarketInfo, now: datetime) -> bool:
    """Tell whether a market no longer trades: resolved, closed, or past its end date."""
    if is_resolved(market.payout_denominator) or market.closed:
        return True
    return market.end_date is not None and market.end_date <= now


def held_tokens(positions: Mapping[str, Position]) -> list[str]:
    """Return the token ids with shares held, sorted."""
    return sorted(t for t, p in positions.items() if p.shares_micro > 0)


def check_due(last_check: datetime | None, now: datetime, every: timedelta) -> bool:
    """Tell whether a periodic market check is due."""
    return last_check is None or now - last_check >= every


def due_markets(
    positions: Mapping[str, Position],
    markets: Mapping[str, MarketInfo],
    now: datetime,
    started: Iterable[str] = (),
) -> list[MarketInfo]:
    """Return the ended markets of held tokens without a claim yet, one per condition, sorted."""
    seen = set(started)
    due: dict[str, MarketInfo] = {}
    for token in held_tokens(positions):
        market = markets.get(token)
        if market is None or market.condition_id in seen:
            continue
        if market_ended(market, now):
            due.setdefault(market.condition_id, market)
    return [due[c] for c in sorted(due)]


def target_for(config: PairConfig, market: MarketInfo) -> ClaimTarget:
    """Return the claim target of a pair's follower wallet in a market."""
    return ClaimTarget(
        holder=config.funder_address,
        condition_id=market.condition_id,
        key_ref=config.key_ref,
        signature_type=config.signature_type,
        token_ids=list(market.token_ids),
        neg_risk=market.neg_risk,
    )


def apply_claim(state: PairState, report: ClaimReport) -> PairState:
    """Return the pair's state with the market's positions settled at its payout."""
    positions = dict(state.positions)
    pnl = 0
    received = 0
    for token, numerator in zip(report.token_ids, report.numerators, strict=False):
        held = positions.pop(token, None)
        if held is None:
            continue
        payout = held.shares_micro * numerator // report.denominator
        received += payout
        pnl += payout - held.cost_micro
    if len(positions) == len(state.positions):
        return state
    return state.model_copy(
        update={
            "positions": positions,
            "spent_micro": max(0, state.spent_micro - received),
            "realized_pnl_micro": state.realized_pnl_micro + pnl,
            "day_realized_pnl_micro": state.day_realized_pnl_micro + pnl,
        }
    )


def is_resolved(payout_denominator: int) -> bool:
    """Tell whether a condition has its payouts reported (`payoutDenominator > 0`)."""
    return payout_denominator > 0


def payout_micro(stakes: Mapping[int, int], numerators: Sequence[int], denominator: int) -> int:
    """Return what `redeemPositions` pays for stakes per index set (collateral micro-units)."""
    if not is_resolved(denominator):
        return 0
    total = 0
    for index_set, stake in stakes.items():
        numerator = sum(n for slot, n in enumerate(numerators) if index_set & (1 << slot))
        total += stake * numerator // denominator
    return total
