"""What an order filled, from everything the CLOB said about it: its trade rows, the trade ids and
`size_matched` of each lookup, and the post answer's trade ids and amounts.

Invariants:
- Every trade id the CLOB ever named for the order (post answer, any lookup) is kept, even when a
  later lookup no longer returns the order.
- The order's claimed fill is the largest of the post answer's filled shares and any lookup's
  `size_matched`. The trades are settled only when every known id has a row, every row's
  settlement has an outcome and the rows cover the claim: no rows while anything is known to
  have filled is never settled.
- The filled amount is never less than the claim. Shares the rows do not show are counted,
  marked `trades_missing`, at the order's limit price: the most a BUY could have paid for them
  (rounded up) and the least a SELL could have received (rounded down), so budgets and caps err
  on the safe side. A failed settlement is not counted, but it covers its part of the claim (the
  CLOB matched it, then the chain refused it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from adapters.polymarket.schemas import OpenOrder, is_settled, split_counted
from projectk.messages import (
    FollowOrderResult,
    OrderTrade,
    PostOrderResult,
    SignedOrder,
    VenueOrderState,
)
from projectk.models import Side


@dataclass
class FillEvidence:
    """What the CLOB has said filled an order so far, gathered over a follow."""

    trade_ids: list[str] = field(default_factory=list)  # in the order first named
    claimed_micro: int = 0  # the most shares any answer said matched

    @classmethod
    def of_post(cls, posted: PostOrderResult) -> FillEvidence:
        """Start from what the post answer (or the post's lookup) said."""
        return cls(list(dict.fromkeys(posted.trade_ids)), posted.filled_shares_micro)

    def add(self, found: OpenOrder) -> None:
        """Take in one lookup of the order: its trade ids and its `size_matched`."""
        for trade_id in found.associate_trades:
            self.name(trade_id)
        self.claimed_micro = max(self.claimed_micro, found.matched_shares_micro)

    def name(self, trade_id: str) -> None:
        """Take in a trade id found otherwise (a search of the account's trades)."""
        if trade_id not in self.trade_ids:
            self.trade_ids.append(trade_id)

    def unproven(self) -> bool:
        """Tell whether nothing the CLOB said so far shows the order filled anything."""
        return not self.trade_ids and self.claimed_micro == 0

    def settled(self, trades: list[OrderTrade]) -> bool:
        """Tell whether these trade rows are the whole, settled story of the order."""
        seen = {t.trade_id for t in trades}
        return (
            all(i in seen for i in self.trade_ids)
            and all(is_settled(t) for t in trades)
            and sum(t.shares_micro for t in trades) >= self.claimed_micro
        )


INFERRED_PREFIX = "inferred:"  # trade id of the part of a fill no trade row backs
INFERRED_STATUS = "INFERRED"


def followed(
    order: SignedOrder,
    state: VenueOrderState,
    trades: list[OrderTrade],
    cancelled: bool,
    evidence: FillEvidence,
) -> FollowOrderResult:
    """Return the follow's result: the counted trades, plus what the CLOB claimed beyond them."""
    counted, failed = split_counted(trades)
    seen = {t.trade_id for t in trades}
    unseen_ids = [i for i in evidence.trade_ids if i not in seen]
    inferred = max(0, evidence.claimed_micro - sum(t.shares_micro for t in trades))
    inferred_notional = at_limit(order, inferred)
    filled = sum(t.shares_micro for t in counted) + inferred
    if state is VenueOrderState.MISSING and filled > 0:
        # The lookup no longer returns an order that filled (a matched FAK often is not
        # returned at all): it is done, not unknown.
        state = VenueOrderState.MATCHED
    rows = list(counted)
    if inferred:
        # The ledger keeps what the books count: the part no trade row backs is one row of its
        # own, named as inferred, at the limit price (so a settled flight and the dashboard
        # see it too).
        rows.append(
            OrderTrade(
                trade_id=f"{INFERRED_PREFIX}{order.order_id}",
                shares_micro=inferred,
                price=order.limit_price,
                notional_micro=inferred_notional,
                status=INFERRED_STATUS,
            )
        )
    return FollowOrderResult(
        order_id=order.order_id,
        state=state,
        filled_shares_micro=filled,
        notional_micro=sum(t.notional_micro for t in counted) + inferred_notional,
        fee_micro=sum(t.fee_micro for t in counted),
        trades=rows,
        failed_trades=failed,
        cancelled_rest=cancelled,
        trades_missing=bool(inferred or unseen_ids),
        inferred_shares_micro=inferred,
        inferred_notional_micro=inferred_notional,
        missing_trade_ids=unseen_ids,
    )


def at_limit(order: SignedOrder, shares_micro: int) -> int:
    """Return the pUSD of shares at the order's limit price: a BUY's most, a SELL's least."""
    rounding = ROUND_CEILING if order.side is Side.BUY else ROUND_FLOOR
    return int((Decimal(shares_micro) * order.limit_price).to_integral_value(rounding))
