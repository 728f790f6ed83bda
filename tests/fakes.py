"""Hand-written fakes that behave like the real clients, for workflow and venue tests.

Each fake is injected where the real client would be (activity classes take their clients in the
constructor), so workflows run against the real activity code and names. What a fake says about
the CLOB comes from the recorded answers (`tests.recorded`): `RecordedClob` answers with them,
and `GatedVenue` takes its market rules and its rejections from them
(tests/adapters/polymarket/test_fakes_contract.py checks it against the real parser).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from py_clob_client_v2.exceptions import PolyApiException
from temporalio import activity

from adapters.polymarket import ClobEndpoint
from adapters.polymarket.errors import post_failure
from adapters.polymarket.schemas import TradeStatus, error_text, read_book
from adapters.polymarket.verdicts import classify_post_error
from projectk.decisions import fold_fill
from projectk.messages import (
    BookLevel,
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
from projectk.models import (
    MICRO,
    Exchange,
    FillCursor,
    MarketVersion,
    PairConfig,
    PairState,
    Side,
    SourceFill,
    SourceOrder,
)
from tests import recorded
from tests.recorded import Sample

SOURCE = "0x1111111111111111111111111111111111111111"
FOLLOWER = "0x2222222222222222222222222222222222222222"
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"


def order_hash_of(n: int) -> str:
    """Return the hash of the n-th source order of the tests."""
    return f"0x{0xD0 << 240 | n:064x}"


def make_order(*fills: SourceFill) -> SourceOrder:
    """Return the source order the fills (pieces of one order) add up to."""
    state = PairState(
        config=PairConfig(
            pair_id="orders",
            source=SOURCE,
            follower=FOLLOWER,
            key_ref="vault://f",
            budget_micro=MICRO,
        )
    )
    for fill in fills:
        state = fold_fill(state, fill)
    return state.orders[fills[0].order_key]


def make_fill(
    n: int,
    *,
    side: Side = Side.BUY,
    price: str = "0.50",
    shares: int = 20 * MICRO,
    wallet: str = SOURCE,
    block_time: datetime | None = None,
    token_id: str = TOKEN,
    order: int | None = None,
    exchange: Exchange = Exchange.CTF,
) -> SourceFill:
    """Return the n-th fill of a wallet (block 1000+n, log index 0), a piece of source order
    `order` (default: an order of its own, number n)."""
    tx = f"0x{n:064x}"
    order_hash = order_hash_of(n if order is None else order)
    price_d = Decimal(price)
    return SourceFill(
        fill_id=f"{tx}:{order_hash}",
        order_hash=order_hash,
        wallet=wallet,
        side=side,
        token_id=token_id,
        shares_micro=shares,
        notional_micro=int(Decimal(shares) * price_d),
        price=price_d,
        exchange=exchange,
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

    async def wait(
        self, source: str, cursor: FillCursor, timeout_s: float, rewind_epoch: int = 0
    ) -> FillBatch:
        """Return the source's fills after the cursor, waiting up to the timeout (it knows of
        no reorg, so it has no retraction to hold back for `rewind_epoch`)."""
        del rewind_epoch
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
    """A venue that fills every order at its limit price once its gate is open.

    Its market rules are the recorded book's; with `reject_with` naming a recorded rejection
    (an `orders.json` case such as "not_enough_balance"), every post is refused as the CLOB
    refused it there.
    """

    def __init__(self, open_gate: bool = True) -> None:
        self.gate = asyncio.Event()
        if open_gate:
            self.gate.set()
        self.executed: list[PostOrderInput] = []
        self.started = asyncio.Event()
        self.reject_with = ""
        self.cancels: list[CancelOrdersInput] = []

    async def quote(self, data: QuoteInput) -> Quote:
        """Return a deep one-level book at the reference price, under the recorded rules."""
        level = BookLevel(price=data.reference_price, size_micro=10_000 * MICRO)
        rules = read_book(recorded.body(recorded.READS, "book")).quote(data.token_id)
        return rules.model_copy(update={"bids": [level], "asks": [level]})

    async def sign(self, data: SignOrderInput) -> SignedOrder:
        """Return a fake signed order of the intent's exact size at its limit price."""
        intent = data.intent
        notional = int(Decimal(intent.shares_micro) * intent.limit_price)
        return SignedOrder(
            order_id=f"0xorder-{intent.decision_id}-{data.round}",
            order_type=data.order_type,
            token_id=intent.token_id,
            side=intent.side,
            limit_price=intent.limit_price,
            maker_amount_micro=notional if intent.side is Side.BUY else intent.shares_micro,
            taker_amount_micro=intent.shares_micro if intent.side is Side.BUY else notional,
        )

    async def post(self, data: PostOrderInput, attempt: int = 1) -> PostOrderResult:
        """Accept the order (or refuse it as the recorded `reject_with` answer did)."""
        del attempt
        self.executed.append(data)
        self.started.set()
        if self.reject_with:
            refused = recorded.sample(recorded.ORDERS, self.reject_with)
            raise post_failure(classify_post_error(refused["status"], error_text(refused["body"])))
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
            status=TradeStatus.CONFIRMED.value,
        )
        return FollowOrderResult(
            order_id=order.order_id,
            state=VenueOrderState.MATCHED,
            filled_shares_micro=order.shares_micro,
            notional_micro=notional,
            trades=[trade],
        )

    async def cancel_open(self, data: CancelOrdersInput) -> CancelOrdersResult:
        """Cancel nothing (no order of this fake ever rests); remember what was asked."""
        self.cancels.append(data)
        return CancelOrdersResult()


class FakeChain:
    """Chain balances as the mirror and reconciliation read them: the source held 100 shares
    before any sale, and the follower's balances are unknown (so nothing is repaired)."""

    def __init__(self) -> None:
        self.reads: list[tuple[str, str, int | None, MarketVersion]] = []
        self.positions_read: list[dict[str, MarketVersion]] = []

    async def token_balance(
        self,
        wallet: str,
        token_id: str,
        block: int | None = None,
        version: MarketVersion = MarketVersion.V1,
    ) -> int:
        """Say every wallet held 100 shares (and remember what was asked)."""
        self.reads.append((wallet, token_id, block, version))
        return 100 * MICRO

    async def balances(
        self,
        wallet: str,
        token_ids: list[str],
        versions: Mapping[str, MarketVersion] | None = None,
    ) -> dict[str, int]:
        """Report no balances: reconciliation then has nothing to compare."""
        self.positions_read.append(dict(versions or {}))
        return {}


class RecordedClob:
    """A py-clob-client-v2 stand-in that answers each route with recorded samples in turn (the
    last one repeats): a 200 sample returns its body, any other raises the client's exception
    with that status and body. Calls are counted by route."""

    def __init__(self, **routes: Sample | list[Sample]) -> None:
        self._routes = {k: v if isinstance(v, list) else [v] for k, v in routes.items()}
        # An account with no trades, unless a test says otherwise (an order the lookup does not
        # return is searched for in the trades).
        self._routes.setdefault("get_trades", [{"status": 200, "body": []}])
        self.calls: defaultdict[str, int] = defaultdict(int)

    def _answer(self, route: str) -> Any:
        answers = self._routes[route]
        answer = answers[min(self.calls[route], len(answers) - 1)]
        self.calls[route] += 1
        if answer["status"] != 200:
            raise PolyApiException(httpx.Response(answer["status"], json=answer["body"]))
        return answer["body"]

    def post_order(self, order: Any, order_type: str = "GTC") -> Any:
        """POST /order."""
        return self._answer("post_order")

    def get_order(self, order_id: str) -> Any:
        """GET /data/order/{order_id}."""
        return self._answer("get_order")

    def get_trades(self, params: Any = None, only_first_page: bool = False) -> Any:
        """GET /data/trades (the rows of its pages)."""
        return self._answer("get_trades")

    def cancel_order(self, payload: Any) -> Any:
        """DELETE /order."""
        return self._answer("cancel_order")

    def cancel_all(self) -> Any:
        """DELETE /cancel-all."""
        return self._answer("cancel_all")

    def cancel_market_orders(self, params: Any) -> Any:
        """DELETE /cancel-market-orders."""
        return self._answer("cancel_market_orders")

    def get_order_book(self, token_id: str) -> Any:
        """GET /book."""
        return self._answer("get_order_book")

    def get_market(self, condition_id: str) -> Any:
        """GET /markets/{condition_id}."""
        return self._answer("get_market")


class RecordedSessions:
    """`ClobSessions` handing out one `RecordedClob` for every wallet and for public reads."""

    def __init__(self, clob: RecordedClob) -> None:
        self.endpoint = ClobEndpoint(host="http://recorded.invalid")
        self.clob = clob
        self.forgotten = 0

    async def client(self, wallet: object) -> RecordedClob:
        """Return the recorded client."""
        return self.clob

    def public(self) -> RecordedClob:
        """Return the recorded client."""
        return self.clob

    def forget(self, wallet: object) -> None:
        """Count a dropped credential."""
        self.forgotten += 1
