"""Wallet fills and positions computed from the trade record and the chain (for the Data API).

Invariants: a wallet's fill appears once per trade side it took (taker, or each of its maker
orders); a taker fill carries the trade's fee (paid on top of a BUY, out of a SELL's proceeds);
a holding's balance is read from the outcome's ledger (ConditionalTokens or PositionManager), so
shares redeemed, merged or moved away are gone; its price is the last trade price, or the payout
(1 or 0) once the market is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sandbox.chain import ledger_of
from sandbox.clob.orders import Side
from sandbox.clob.service import ClobService
from sandbox.clob.settlement import Trade, TradeStatus
from sandbox.markets import Market


@dataclass(frozen=True)
class Fill:
    """One wallet's side of one trade."""

    wallet: str
    token: int
    side: Side
    shares: int
    usd: int
    price: Decimal
    trade: Trade
    taker: bool

    @property
    def fee(self) -> int:
        """The fee this fill paid (only takers pay)."""
        return self.trade.fee if self.taker else 0


def fills_of(t: Trade, user: str | None, taker_only: bool) -> list[Fill]:
    """Return the fills of ``user`` (of everyone when None) in one trade."""
    out = []
    o = t.taker.order
    if user in (None, o.maker):
        price = Decimal(t.usd) / Decimal(t.shares)
        out.append(Fill(o.maker, o.token_id, o.side, t.shares, t.usd, price, t, True))
    if not taker_only:
        for f in t.fills:
            m = f.maker.order
            if user in (None, m.maker):
                out.append(
                    Fill(m.maker, m.token_id, m.side, f.shares, f.usd, f.maker.price, t, False)
                )
    return out


@dataclass
class Holding:
    """What a wallet did with one outcome, and holds of it now."""

    wallet: str
    market: Market
    token: int
    bought: int = 0
    bought_usd: int = 0
    sold: int = 0
    sold_usd: int = 0  # net of fees
    fees: int = 0  # taker fees paid on BUYs
    first_at: int = 0
    last_at: int = 0
    balance: int = 0
    other_balance: int = 0  # of the market's other outcome
    price: Decimal = Decimal(0)

    @property
    def outcome(self) -> int:
        """0 (Yes) or 1 (No)."""
        return self.market.outcome_of(self.token)

    @property
    def resolved(self) -> bool:
        """True once the market is resolved."""
        return self.market.winner is not None

    @property
    def mergeable(self) -> bool:
        """True while both outcomes are held and the market is unresolved."""
        return not self.resolved and self.balance > 0 and self.other_balance > 0

    def add(self, f: Fill) -> None:
        """Account for one fill of this wallet and outcome."""
        if f.side == Side.BUY:
            self.bought += f.shares
            self.bought_usd += f.usd
            self.fees += f.fee
        else:
            self.sold += f.shares
            self.sold_usd += f.usd - f.fee
        stamp = f.trade.match_time
        self.first_at = min(self.first_at or stamp, stamp)
        self.last_at = max(self.last_at, stamp)


async def holdings(s: ClobService, user: str | None, cids: set[str]) -> list[Holding]:
    """Return the holdings of ``user`` (of every trader when None) in markets ``cids`` (all)."""
    found: dict[tuple[str, int], Holding] = {}
    for t in s.trades:
        if t.status == TradeStatus.FAILED or (cids and t.market.lower() not in cids):
            continue
        for f in fills_of(t, user, taker_only=False):
            key = (f.wallet, f.token)
            if key not in found:
                found[key] = Holding(f.wallet, s.markets[t.market], f.token)
            found[key].add(f)
    held = list(found.values())
    if not held:
        return []
    calls = []
    for h in held:
        other = h.market.token_ids[1 - h.outcome]
        for token in (h.token, other):
            calls.append(
                (ledger_of(token), "balanceOf(address,uint256)", (h.wallet, token), ["uint256"])
            )
    answers = await s.rpc.call_many(calls)
    for i, h in enumerate(held):
        h.balance, h.other_balance = int(answers[2 * i][0]), int(answers[2 * i + 1][0])
        if h.resolved:
            h.price = Decimal(1 if h.market.winner == h.outcome else 0)
        else:
            h.price = s.last_price.get(h.token, Decimal("0.5"))
    return held
