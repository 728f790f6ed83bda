"""Price-time priority matching for one CLOB, pure and in memory (no I/O, time injected).

Invariants:
- bids are sorted by price descending then arrival, asks by price ascending then arrival;
- a fill always executes at the resting (maker) order's price, computed from that order's own
  amount ratio with floor rounding (as the on-chain exchange does), in integer micro-units: the
  exchange takes a maker's maker-asset amount and pays floor(amount x ratio), so a resting BUY
  that pays floor(shares x price) receives floor(that / price) shares, and fills are sized by
  what the exchange delivers;
- the two outcomes of a market are paired: a BUY also matches BUYs of the other outcome at an
  effective price of 1 - their price (full sets are minted), a SELL also matches SELLs of the
  other outcome (full sets are merged); the maker pays/gets its price, the taker the rest of 1;
- a taker never trades beyond its limit price, its share size, or (market BUY: FOK/FAK BUY) its
  pUSD budget; no fill gives nothing for something (every fill moves shares and pUSD both ways);
  an order leaves the book exactly when it is filled, cancelled or expired;
- ``plan`` never mutates, so FOK can be killed without side effects; ``apply`` commits a plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum, unique

from sandbox.clob.orders import Side, SignedOrder


@unique
class OrderType(StrEnum):
    """Time in force."""

    GTC = "GTC"  # rests until filled or cancelled
    GTD = "GTD"  # rests until its expiration
    FOK = "FOK"  # fills completely at once or is killed
    FAK = "FAK"  # fills what it can at once, the rest is killed


@unique
class OrderStatus(StrEnum):
    """Order state as /data/order reports it."""

    LIVE = "LIVE"  # resting on the book
    MATCHED = "MATCHED"  # fully filled, or filled and the remainder killed (FOK/FAK)
    CANCELED = "CANCELED"  # cancelled by the owner, killed, or expired
    CANCELED_MARKET_RESOLVED = "CANCELED_MARKET_RESOLVED"  # removed when the market resolved


@dataclass
class BookOrder:
    """An accepted order and its fill state."""

    id: str
    order: SignedOrder
    owner: str
    order_type: OrderType
    price: Decimal
    market: str
    created_at: int
    seq: int
    expires_at: int | None = None
    filled_shares: int = 0
    spent_usd: int = 0
    status: OrderStatus = OrderStatus.LIVE
    trade_ids: list[str] = field(default_factory=list)
    account: str = ""  # the EOA behind the API key that posted it (owns cancels and reads)

    @property
    def side(self) -> Side:
        """Return the order side."""
        return self.order.side

    @property
    def remaining(self) -> int:
        """Return the unfilled shares in micro-units."""
        return self.order.shares - self.filled_shares

    @property
    def budget_based(self) -> bool:
        """A market BUY (FOK/FAK) spends a pUSD amount rather than buying a share count."""
        return self.side == Side.BUY and self.order_type in (OrderType.FOK, OrderType.FAK)

    def locked_usd(self) -> int:
        """pUSD still reserved by a BUY: its remaining shares at its limit price (or budget)."""
        if self.side != Side.BUY:
            return 0
        if self.budget_based:
            return self.order.maker_amount - self.spent_usd
        o = self.order
        return -(-self.remaining * o.maker_amount // o.taker_amount)


@dataclass(frozen=True)
class MakerFill:
    """One resting order's part of a match."""

    maker: BookOrder
    shares: int
    usd: int  # what the maker pays (BUY) or receives (SELL)
    complement: bool = False  # the maker is on the other outcome: full sets are minted or merged

    @property
    def taker_usd(self) -> int:
        """pUSD the taker pays (BUY) or receives (SELL) for this fill: a set is worth 1 pUSD."""
        return self.shares - self.usd if self.complement else self.usd

    @property
    def price(self) -> Decimal:
        """The price this fill gives the taker's outcome."""
        return 1 - self.maker.price if self.complement else self.maker.price

    @property
    def making(self) -> int:
        """What the maker gives: pUSD for a BUY, shares for a SELL."""
        return self.usd if self.maker.side == Side.BUY else self.shares

    @property
    def taking(self) -> int:
        """What the maker receives."""
        return self.shares if self.maker.side == Side.BUY else self.usd


@dataclass(frozen=True)
class Plan:
    """The fills a taker would get now, and whether that completes it."""

    fills: tuple[MakerFill, ...]
    complete: bool

    @property
    def shares(self) -> int:
        """Total shares traded."""
        return sum(f.shares for f in self.fills)

    @property
    def usd(self) -> int:
        """Total pUSD the taker pays or receives."""
        return sum(f.taker_usd for f in self.fills)

    def by_kind(self) -> list[Plan]:
        """Split into same-token fills and complementary fills (settled by different calls)."""
        kinds = [tuple(f for f in self.fills if f.complement == c) for c in (False, True)]
        return [Plan(fills, self.complete) for fills in kinds if fills]


def _usd_for(maker: BookOrder, shares: int) -> int:
    # The maker's own ratio, floored, like the exchange's taking-amount computation.
    o = maker.order
    if maker.side == Side.SELL:
        return shares * o.taker_amount // o.maker_amount
    return shares * o.maker_amount // o.taker_amount


def _fill_of(maker: BookOrder, shares: int) -> tuple[int, int]:
    # (shares, pUSD) of filling ``shares`` of a resting order as the exchange settles it.
    usd = _usd_for(maker, shares)
    if maker.side == Side.BUY:
        o = maker.order
        shares = usd * o.taker_amount // o.maker_amount
    return shares, usd


def _budget_fill(maker: BookOrder, budget: int) -> tuple[int, int]:
    # A market BUY spends pUSD: it takes the whole maker order if affordable, else the shares the
    # rest of its budget buys at the maker's price (floored), paying the exchange's floored cost
    # of those shares, which can be a micro-unit under the budget.
    whole = _usd_for(maker, maker.remaining)
    if budget >= whole:
        return maker.remaining, whole
    o = maker.order
    return _fill_of(maker, budget * o.maker_amount // o.taker_amount)


def _complement_budget_fill(maker: BookOrder, budget: int) -> tuple[int, int]:
    # A market BUY against a BUY on the other outcome pays 1 - maker price per minted set.
    whole = maker.remaining - _usd_for(maker, maker.remaining)
    if budget >= whole:
        return _fill_of(maker, maker.remaining)
    o = maker.order
    shares = budget * o.taker_amount // (o.taker_amount - o.maker_amount)
    while shares > 0 and shares - _usd_for(maker, shares) > budget:
        shares -= 1
    return _fill_of(maker, shares)


class Book:
    """Resting orders of one token."""

    def __init__(self) -> None:
        self.bids: list[BookOrder] = []
        self.asks: list[BookOrder] = []

    def side_for(self, side: Side) -> list[BookOrder]:
        """Return the resting list holding orders of ``side``."""
        return self.bids if side == Side.BUY else self.asks

    def insert(self, order: BookOrder) -> None:
        """Insert keeping price-time priority."""
        rows = self.side_for(order.side)
        rows.append(order)
        if order.side == Side.BUY:
            rows.sort(key=lambda o: (-o.price, o.seq))
        else:
            rows.sort(key=lambda o: (o.price, o.seq))

    def remove(self, order: BookOrder) -> None:
        """Remove an order if present."""
        rows = self.side_for(order.side)
        if order in rows:
            rows.remove(order)


def crosses(taker: BookOrder, maker: BookOrder, complement: bool = False) -> bool:
    """Return True when ``maker``'s (effective) price satisfies ``taker``'s limit."""
    price = 1 - maker.price if complement else maker.price
    if taker.side == Side.BUY:
        return price <= taker.order.price()
    return price >= taker.order.price()


class Engine:
    """All books of the CLOB."""

    def __init__(self) -> None:
        self.books: dict[int, Book] = {}
        self.orders: dict[str, BookOrder] = {}
        self.complements: dict[int, int] = {}
        self._seq = 0

    def next_seq(self) -> int:
        """Return the next arrival number."""
        self._seq += 1
        return self._seq

    def book(self, token_id: int) -> Book:
        """Return (creating) the book of a token."""
        return self.books.setdefault(token_id, Book())

    def pair(self, token_a: int, token_b: int) -> None:
        """Declare two tokens the outcomes of one binary condition (enables mint/merge matches)."""
        self.complements[token_a] = token_b
        self.complements[token_b] = token_a

    def opposite(self, taker: BookOrder) -> list[tuple[BookOrder, bool]]:
        """Return (order, is_complement) a taker could trade against, best effective price first.

        A BUY of one outcome also matches BUYs of the other (a full set is minted), a SELL also
        matches SELLs of the other (a full set is merged); their effective price is 1 - price.
        """
        buy = taker.side == Side.BUY
        book = self.book(taker.order.token_id)
        rows = [(o, False) for o in (book.asks if buy else book.bids)]
        other = self.complements.get(taker.order.token_id)
        if other is not None:
            other_book = self.book(other)
            rows += [(o, True) for o in (other_book.bids if buy else other_book.asks)]

        def key(row: tuple[BookOrder, bool]) -> tuple[Decimal, int]:
            price = 1 - row[0].price if row[1] else row[0].price
            return (price if buy else -price, row[0].seq)

        return sorted(rows, key=key)

    def would_cross(self, taker: BookOrder) -> bool:
        """Return True when the order would trade on arrival."""
        rows = self.opposite(taker)
        return bool(rows) and crosses(taker, *rows[0])

    def plan(self, taker: BookOrder) -> Plan:
        """Compute the fills the taker would get now, without changing anything."""
        fills: list[MakerFill] = []
        want_shares = taker.remaining
        budget = taker.order.maker_amount - taker.spent_usd if taker.budget_based else 0
        slack = 0  # floored share counts cannot always spend a budget to the last micro-unit
        for maker, complement in self.opposite(taker):
            if not crosses(taker, maker, complement):
                break
            if taker.budget_based:
                fill_for = _complement_budget_fill if complement else _budget_fill
                shares, usd = fill_for(maker, budget)
                slack += 2 if complement or shares < maker.remaining else 0
            else:
                shares, usd = _fill_of(maker, min(maker.remaining, want_shares))
            fill = MakerFill(maker, shares, usd, complement)
            if min(shares, usd, fill.taker_usd) <= 0:
                break  # dust: one side would give nothing (budgets end here, so do worse prices)
            fills.append(fill)
            want_shares -= shares
            budget -= fill.taker_usd
        complete = budget <= slack if taker.budget_based else want_shares == 0
        return Plan(tuple(fills), complete and bool(fills))

    def apply(self, taker: BookOrder, plan: Plan, trade_id: str) -> None:
        """Commit a plan: fill the makers (removing filled ones) and the taker."""
        for fill in plan.fills:
            maker = fill.maker
            maker.filled_shares += fill.shares
            maker.spent_usd += fill.usd
            maker.trade_ids.append(trade_id)
            if maker.remaining <= 0:
                maker.status = OrderStatus.MATCHED
                self.book(maker.order.token_id).remove(maker)
        taker.filled_shares += plan.shares
        taker.spent_usd += plan.usd
        taker.trade_ids.append(trade_id)

    def rest(self, order: BookOrder) -> None:
        """Put an order on the book."""
        self.orders[order.id] = order
        self.book(order.order.token_id).insert(order)

    def record(self, order: BookOrder) -> None:
        """Remember an order that does not rest (filled or killed on arrival)."""
        self.orders[order.id] = order

    def cancel(self, order_id: str, status: OrderStatus = OrderStatus.CANCELED) -> bool:
        """Cancel a live order; return False when it is unknown or not live."""
        order = self.orders.get(order_id)
        if order is None or order.status != OrderStatus.LIVE:
            return False
        order.status = status
        self.book(order.order.token_id).remove(order)
        return True

    def expire(self, now: int) -> list[str]:
        """Cancel every GTD order whose time has come; return their ids."""
        due = [
            o.id
            for o in self.orders.values()
            if o.status == OrderStatus.LIVE and o.expires_at is not None and o.expires_at <= now
        ]
        for order_id in due:
            self.cancel(order_id)
        return due

    def live(self) -> list[BookOrder]:
        """Return all live orders in arrival order."""
        return sorted(
            (o for o in self.orders.values() if o.status == OrderStatus.LIVE), key=lambda o: o.seq
        )

    def locked(self, funder: str, side: Side, token_id: int | None = None) -> int:
        """pUSD (BUY) or shares of ``token_id`` (SELL) reserved by a funder's live orders."""
        total = 0
        for o in self.live():
            if o.order.maker != funder or o.side != side:
                continue
            if side == Side.BUY:
                total += o.locked_usd()
            elif o.order.token_id == token_id:
                total += o.remaining
        return total
