"""Source orders: the unit a pair makes its decisions about.

A source wallet's resting order can be filled by several takers, one `OrderFilled` each, in one
transaction or over many blocks. A pair folds every fill of one order (its EIP-712 hash) into
one running total and makes one budget decision about that order, topped up as the total grows
where the sizing mode says so.

Invariants:
- Pure: values in, values out; no clock, no I/O.
- A fill joins an order only if it has the order's hash, wallet, side and token; a fill already
  counted (same fill id) is never counted twice.
- Totals are integer micro-units; the order's price is its volume-weighted average, exact.
- A decision id is the order hash for the first decision and `<hash>/<n>` for the n-th top-up,
  so the workflow id and the ledger key of a mirror follow the source order.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Context, Decimal

from pydantic import Field

from projectk.models import Address, Exchange, Frozen, Micro, Side, SourceFill

MAX_FILL_IDS = 64  # fills remembered per order; later duplicates fall back to the pair's memory
_PRICE = Context(prec=40)


def decision_id(order_hash: str, decision: int) -> str:
    """Return the id of a source order's n-th decision (1 is the first)."""
    return order_hash if decision <= 1 else f"{order_hash}/{decision}"


class SourceOrder(Frozen):
    """One source order as a pair has seen it so far: the running total of its fills."""

    order_hash: str
    wallet: Address
    side: Side
    token_id: str
    exchange: Exchange = Exchange.CTF
    shares_micro: Micro = 0  # filled so far
    notional_micro: Micro = 0  # pUSD paid (BUY) or received (SELL) so far
    fee_micro: Micro = 0
    fills: int = Field(default=0, ge=0)
    first_block: int = Field(default=0, ge=0)  # the block of its first fill seen
    first_time: datetime
    last_time: datetime
    fill_ids: tuple[str, ...] = ()  # bounded memory of the fills counted

    @property
    def price(self) -> Decimal:
        """Return the volume-weighted average price of the fills so far."""
        if self.shares_micro <= 0:
            return Decimal(0)
        return _PRICE.divide(Decimal(self.notional_micro), Decimal(self.shares_micro)).normalize()

    @classmethod
    def of(cls, fill: SourceFill) -> SourceOrder:
        """Return the order a first fill opens."""
        empty = cls(
            order_hash=fill.order_hash,
            wallet=fill.wallet,
            side=fill.side,
            token_id=fill.token_id,
            exchange=fill.exchange,
            first_block=fill.block_number,
            first_time=fill.block_time,
            last_time=fill.block_time,
        )
        return empty.add(fill)

    def belongs(self, fill: SourceFill) -> bool:
        """Tell whether a fill is a fill of this order."""
        return (
            fill.order_hash == self.order_hash
            and fill.wallet == self.wallet
            and fill.side is self.side
            and fill.token_id == self.token_id
        )

    def add(self, fill: SourceFill) -> SourceOrder:
        """Return the order with one more fill counted (unchanged if already counted)."""
        if not self.belongs(fill):
            raise ValueError(f"fill {fill.fill_id} is not a fill of order {self.order_hash}")
        if fill.fill_id in self.fill_ids:
            return self
        return self.model_copy(
            update={
                "shares_micro": self.shares_micro + fill.shares_micro,
                "notional_micro": self.notional_micro + fill.notional_micro,
                "fee_micro": self.fee_micro + fill.fee_micro,
                "fills": self.fills + 1,
                "first_block": min(self.first_block, fill.block_number),
                "first_time": min(self.first_time, fill.block_time),
                "last_time": max(self.last_time, fill.block_time),
                "fill_ids": (*self.fill_ids, fill.fill_id)[-MAX_FILL_IDS:],
            }
        )


class OrderProgress(Frozen):
    """What a pair has decided and mirrored for one source order."""

    order: SourceOrder
    decisions: int = Field(default=0, ge=0)  # mirror children started for it
    in_flight: str | None = None  # the decision id of its child now running
    waiting: bool = False  # fills came in that no decision has looked at yet
    closed: str = ""  # non-empty: no further decision for this order, and why
    mirrored_shares_micro: Micro = 0  # what its children filled, in all
    mirrored_notional_micro: Micro = 0  # pUSD they paid (BUY, fees included) or received (SELL)
    basis_shares_micro: Micro = 0  # SELL: the follower's position when the first decision began
    source_before_micro: Micro = 0  # SELL: the source's balance before the order's first fill

    @property
    def next_decision_id(self) -> str:
        """Return the id the next decision about this order gets."""
        return decision_id(self.order.order_hash, self.decisions + 1)
