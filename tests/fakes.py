"""Hand-written fakes that behave like the real clients, for workflow tests.

Each fake is injected where the real client would be (activity classes take their clients in the
constructor), so workflows run against the real activity code and names.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from decimal import Decimal

from temporalio import activity
from temporalio.exceptions import ApplicationError

from projectk.messages import (
    CancelOrdersInput,
    CancelOrdersResult,
    FillBatch,
    FollowOrderInput,
    FollowOrderResult,
    OrderTrade,
    PostOrderInput,
    PostOrderResult,
    Quote,
    QuoteInput,
    SignedOrder,
    SignOrderInput,
    VenueOrderState,
)
from projectk.models import MICRO, Exchange, FillCursor, Side, SourceFill

SOURCE = "0x1111111111111111111111111111111111111111"
FOLLOWER = "0x2222222222222222222222222222222222222222"
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"


def make_fill(
    n: int,
    *,
    side: Side = Side.BUY,
    price: str = "0.50",
    shares: int = 20 * MICRO,
    wallet: str = SOURCE,
    block_time: datetime | None = None,
    token_id: str = TOKEN,
) -> SourceFill:
    """Return the n-th fill of a wallet (block 1000+n, log index 0)."""
    tx = f"0x{n:064x}"
    price_d = Decimal(price)
    return SourceFill(
        fill_id=f"{tx}:0",
        wallet=wallet,
        side=side,
        token_id=token_id,
        shares_micro=shares,
        notional_micro=int(Decimal(shares) * price_d),
        price=price_d,
        exchange=Exchange.CTF,
        tx_hash=tx,
        block_number=1000 + n,
        log_index=0,
        block_time=block_time or datetime.now(UTC),
    )


class MemoryFeed:
    """A fill feed over an in-memory list, woken when fills are pushed."""

    def __init__(self) -> None:
        self._fills: list[SourceFill] = []
        self._changed = asyncio.Event()
        self.polls = 0

    def push(self, *fills: SourceFill) -> None:
        """Make fills visible to waiting pairs."""
        self._fills.extend(fills)
        self._fills.sort(key=lambda f: f.cursor().key())
        self._changed.set()

    async def wait(self, source: str, cursor: FillCursor, timeout_s: float) -> FillBatch:
        """Return the source's fills after the cursor, waiting up to the timeout."""
        self.polls += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            fills = [
                f for f in self._fills if f.wallet == source and f.cursor().key() > cursor.key()
            ]
            if fills:
                return FillBatch(fills=fills, cursor=fills[-1].cursor())
            left = deadline - loop.time()
            if left <= 0:
                return FillBatch(cursor=cursor)
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=left)


class GatedVenue:
    """A venue that fills every order at its limit price once its gate is open."""

    def __init__(self, open_gate: bool = True) -> None:
        self.gate = asyncio.Event()
        if open_gate:
            self.gate.set()
        self.executed: list[PostOrderInput] = []
        self.started = asyncio.Event()
        self.reject_reason = ""

    async def quote(self, data: QuoteInput) -> Quote:
        """Return a deep one-level book at the reference price."""
        from projectk.messages import BookLevel

        level = BookLevel(price=data.reference_price, size_micro=10_000 * MICRO)
        return Quote(token_id=data.token_id, bids=[level], asks=[level])

    async def sign(self, data: SignOrderInput) -> SignedOrder:
        """Return a fake signed order of the intent's exact size at its limit price."""
        intent = data.intent
        notional = int(Decimal(intent.shares_micro) * intent.limit_price)
        return SignedOrder(
            order_id=f"0xorder-{intent.fill_id}-{data.round}",
            order_type=data.order_type,
            token_id=intent.token_id,
            side=intent.side,
            limit_price=intent.limit_price,
            maker_amount_micro=notional if intent.side is Side.BUY else intent.shares_micro,
            taker_amount_micro=intent.shares_micro if intent.side is Side.BUY else notional,
        )

    async def post(self, data: PostOrderInput, attempt: int = 1) -> PostOrderResult:
        """Accept the order (or refuse it with `reject_reason`, as the CLOB's 400 would)."""
        del attempt
        self.executed.append(data)
        self.started.set()
        if self.reject_reason:
            raise ApplicationError(self.reject_reason, type="OrderRejected", non_retryable=True)
        return PostOrderResult(order_id=data.order.order_id, state=VenueOrderState.LIVE)

    async def follow(self, data: FollowOrderInput) -> FollowOrderResult:
        """Fill the whole order at its limit price once the gate opens (heartbeating).

        A flow winding down (`cancel_now`) finds its order cancelled with nothing filled.
        """
        while not self.gate.is_set():
            if data.cancel_now:
                return FollowOrderResult(
                    order_id=data.order.order_id,
                    state=VenueOrderState.CANCELED,
                    cancelled_rest=True,
                )
            activity.heartbeat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.gate.wait(), timeout=1)
        order = data.order
        notional = int(Decimal(order.shares_micro) * order.limit_price)
        trade = OrderTrade(
            trade_id=f"trade-{order.order_id}",
            shares_micro=order.shares_micro,
            price=order.limit_price,
            notional_micro=notional,
            status="CONFIRMED",
        )
        return FollowOrderResult(
            order_id=order.order_id,
            state=VenueOrderState.MATCHED,
            filled_shares_micro=order.shares_micro,
            notional_micro=notional,
            trades=[trade],
        )

    async def cancel_open(self, data: CancelOrdersInput) -> CancelOrdersResult:
        """Cancel nothing (no order of this fake ever rests)."""
        del data
        return CancelOrdersResult()


class FakeChain:
    """Chain balances as the mirror and reconciliation read them: the source held 100 shares
    before any sale, and the follower's balances are unknown (so nothing is repaired)."""

    async def token_balance(self, wallet: str, token_id: str, block: int | None = None) -> int:
        """Say every wallet held 100 shares."""
        return 100 * MICRO

    async def balances(self, wallet: str, token_ids: list[str]) -> dict[str, int]:
        """Report no balances: reconciliation then has nothing to compare."""
        return {}
