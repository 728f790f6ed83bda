"""The settlement transaction of a trade: which contract, which function, which arguments.

v1 markets settle on the sandbox settlement contract at the CTF Exchange V2 (or NegRisk Exchange
V2) address, through ``settle``/``settleComplement`` with the fills the CLOB matched; v2 markets
settle on ExchangeV3 through the real ``matchOrders(Order, Order[], uint256[], uint256[],
TakerAmounts)``, whose calldata carries the signed orders.

Invariants: maker fill amounts are in each maker's maker asset (pUSD for a BUY, shares for a
SELL), so the exchange's ``fill * takerAmount / makerAmount`` gives back exactly what the engine
matched; makers pay no fee; the taker's amounts are its making (cost or shares, fee excluded),
what it receives (shares, or gross pUSD) and its fee.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.chain import EXCHANGE_V3
from sandbox.clob.engine import BookOrder
from sandbox.clob.orders import SignedOrder

FILL_TUPLE = "(bytes32,address,uint8,uint256,uint256,uint256,bytes32,bytes32)"
SETTLE = f"settle({FILL_TUPLE},{FILL_TUPLE}[],uint256)"
SETTLE_COMPLEMENT = f"settleComplement({FILL_TUPLE},{FILL_TUPLE}[],bytes32,uint256)"
ORDER_TUPLE = (
    "(uint256,address,address,uint256,uint256,uint256,uint8,uint8,uint256,bytes32,bytes32,bytes)"
)
MATCH_ORDERS = (
    f"matchOrders({ORDER_TUPLE},{ORDER_TUPLE}[],uint256[],uint256[],(uint256,uint256,uint256))"
)
_GAS_BASE = 250_000
_GAS_PER_MAKER = 150_000
_GAS_V3_BASE = 450_000
_GAS_V3_PER_MAKER = 200_000


@dataclass(frozen=True)
class MakerPart:
    """One maker order's part in a trade: what it gives and what it gets."""

    order: BookOrder
    making: int
    taking: int


@dataclass(frozen=True)
class SettlementCall:
    """A transaction to send from the operator."""

    to: str
    signature: str
    args: tuple[object, ...]
    gas: int


def _fill_tuple(order: BookOrder, making: int, taking: int) -> tuple[object, ...]:
    o = order.order
    return (
        bytes.fromhex(order.id[2:]),
        o.maker,
        int(o.side),
        o.token_id,
        making,
        taking,
        o.builder,
        o.metadata,
    )


def order_tuple(o: SignedOrder) -> tuple[object, ...]:
    """Return the signed order as ExchangeV3's ``Order`` struct."""
    return (
        o.salt,
        o.maker,
        o.signer,
        o.token_id,
        o.maker_amount,
        o.taker_amount,
        int(o.side),
        int(o.signature_type),
        o.timestamp,
        o.metadata,
        o.builder,
        bytes.fromhex(o.signature.removeprefix("0x")),
    )


def settlement_call(
    exchange: str,
    taker: BookOrder,
    taker_amounts: tuple[int, int],
    makers: list[MakerPart],
    complement_of: bytes | None,
    fee: int,
) -> SettlementCall:
    """Build the settlement of one trade on ``exchange``.

    ``complement_of`` is the condition id when the makers are on the other outcome (a mint or a
    merge) on a v1 market; ExchangeV3 tells the cases apart itself.
    """
    making, taking = taker_amounts
    if exchange == EXCHANGE_V3:
        args: tuple[object, ...] = (
            order_tuple(taker.order),
            [order_tuple(m.order.order) for m in makers],
            [m.making for m in makers],
            [0] * len(makers),
            (making, taking, fee),
        )
        return SettlementCall(
            exchange, MATCH_ORDERS, args, _GAS_V3_BASE + _GAS_V3_PER_MAKER * len(makers)
        )
    taker_fill = _fill_tuple(taker, making, taking)
    maker_fills = [_fill_tuple(m.order, m.making, m.taking) for m in makers]
    gas = _GAS_BASE + _GAS_PER_MAKER * len(makers)
    if complement_of is not None:
        return SettlementCall(
            exchange,
            SETTLE_COMPLEMENT,
            (taker_fill, maker_fills, complement_of, fee),
            gas + _GAS_BASE,
        )
    return SettlementCall(exchange, SETTLE, (taker_fill, maker_fills, fee), gas)
