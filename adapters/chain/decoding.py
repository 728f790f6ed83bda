"""Pure decoding of Polymarket exchanges' `OrderFilled` logs into source fills.

Invariants:
- Pure: no I/O and no clock; the detection time and block times are arguments.
- A log is an `OrderFilled` only if topic0 is the V2 event topic, it was emitted by one of the
  fill exchanges (CTF Exchange V2, NegRisk Exchange V2, ExchangeV3) and its data has the exact V2
  layout; anything else raises `NotOrderFilled`.
- The emitting exchange tells the market's version: ExchangeV3 settles only v2 markets, whose
  `tokenId` is a PositionManager position id; the two V2 exchanges settle only v1 markets.
- A fill belongs to the log's `maker` (topic2) only: each matched order emits one `OrderFilled`
  whose maker is that order's funder, so the taker-side view of the same trade is never counted.
- fill id = "<tx hash>:<maker order hash>" (lower-case 0x hashes): the maker's order names the
  fill, not the log's index, so a transaction a reorg re-includes at another index gives the same
  fill id. A second fill of one order in one transaction (not seen on Polymarket, but possible)
  gets "#2", "#3", ... in log order.
- Amounts stay integers in micro-units; the price is pUSD / shares as a `Decimal`, exact whenever
  the quotient terminates (every price on a tick grid) and to 40 significant digits otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

from eth_abi.abi import decode
from eth_utils.address import to_checksum_address

from adapters.chain.contracts import (
    CTF_EXCHANGE_V2,
    EXCHANGE_V3,
    NEG_RISK_EXCHANGE_V2,
    ORDER_FILLED_DATA_TYPES,
    ORDER_FILLED_TOPIC,
)
from projectk.models import Exchange, Side, SourceFill

_EXCHANGES = {
    CTF_EXCHANGE_V2.lower(): Exchange.CTF,
    NEG_RISK_EXCHANGE_V2.lower(): Exchange.NEG_RISK,
    EXCHANGE_V3.lower(): Exchange.V3,
}
_DATA_BYTES = 32 * len(ORDER_FILLED_DATA_TYPES)
_PRICE_CONTEXT = Context(prec=40)

BlockTimes = Callable[[int], datetime | None]


class NotOrderFilled(ValueError):
    """A log that is not an `OrderFilled` of a Polymarket exchange; the message says why."""


@dataclass(frozen=True)
class ChainLog:
    """One log as `eth_getLogs` returns it, with hex strings turned into Python values."""

    address: str  # lower-case
    topics: tuple[str, ...]  # lower-case 0x hex, 32 bytes each
    data: bytes
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    block_timestamp: int | None = None  # seconds; nodes that add `blockTimestamp` to logs
    removed: bool = False


@dataclass(frozen=True)
class OrderFilled:
    """The decoded fields of one `OrderFilled` event."""

    log: ChainLog
    exchange: Exchange
    order_hash: str
    maker: str  # checksummed
    taker: str  # checksummed
    side: Side
    token_id: int  # ConditionalTokens token id (v1) or PositionManager position id (v2)
    maker_amount: int  # what the maker gave: pUSD for a BUY, shares for a SELL (micro-units)
    taker_amount: int  # what the maker received: shares for a BUY, pUSD for a SELL
    fee: int

    @property
    def fill_id(self) -> str:
        """Return the id of the maker's fill: "<tx hash>:<order hash>"."""
        return fill_id_of(self.log.tx_hash, self.order_hash)

    @property
    def shares_micro(self) -> int:
        """Return the shares that changed hands."""
        return self.taker_amount if self.side is Side.BUY else self.maker_amount

    @property
    def notional_micro(self) -> int:
        """Return the pUSD paid (BUY) or received (SELL)."""
        return self.maker_amount if self.side is Side.BUY else self.taker_amount

    @property
    def price(self) -> Decimal:
        """Return pUSD per share."""
        return fill_price(self.notional_micro, self.shares_micro)


def fill_id_of(tx_hash: str, order_hash: str, nth: int = 1) -> str:
    """Return the id of the `nth` fill of a maker order in a transaction."""
    base = f"{tx_hash.lower()}:{order_hash.lower()}"
    return base if nth == 1 else f"{base}#{nth}"


def fill_price(notional_micro: int, shares_micro: int) -> Decimal:
    """Return pUSD per share of a fill, exact when the quotient terminates."""
    if shares_micro <= 0:
        raise ValueError("a fill has a positive share amount")
    return _PRICE_CONTEXT.divide(Decimal(notional_micro), Decimal(shares_micro)).normalize(
        _PRICE_CONTEXT
    )


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise NotOrderFilled(f"{name} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 16) if value.startswith(("0x", "0X")) else int(value)
        except ValueError:
            raise NotOrderFilled(f"{name} is not a number: {value!r}") from None
    raise NotOrderFilled(f"{name} is missing or not a number")


def _hex(value: Any, name: str) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if hasattr(value, "to_0x_hex"):  # HexBytes from web3
        return str(value.to_0x_hex()).lower()
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        return value.lower()
    raise NotOrderFilled(f"{name} is missing or not hex")


def _bytes(value: Any, name: str) -> bytes:
    text = _hex(value, name)
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise NotOrderFilled(f"{name} is not hex: {text[:20]!r}") from None


def parse_log(raw: Mapping[str, Any]) -> ChainLog:
    """Turn one log object of `eth_getLogs` (hex strings or web3 values) into a `ChainLog`."""
    if not isinstance(raw, Mapping):
        raise NotOrderFilled("a log is a JSON object")
    topics = raw.get("topics")
    if not isinstance(topics, list | tuple):
        raise NotOrderFilled("topics is missing")
    stamp = raw.get("blockTimestamp")
    return ChainLog(
        address=_hex(raw.get("address"), "address"),
        topics=tuple(_hex(t, "topic") for t in topics),
        data=_bytes(raw.get("data"), "data"),
        block_number=_int(raw.get("blockNumber"), "blockNumber"),
        block_hash=_hex(raw.get("blockHash"), "blockHash"),
        tx_hash=_hex(raw.get("transactionHash"), "transactionHash"),
        log_index=_int(raw.get("logIndex"), "logIndex"),
        block_timestamp=None if stamp is None else _int(stamp, "blockTimestamp"),
        removed=bool(raw.get("removed", False)),
    )


def decode_order_filled(log: ChainLog) -> OrderFilled:
    """Decode an `OrderFilled` log, or raise `NotOrderFilled` saying why it is not one."""
    exchange = _EXCHANGES.get(log.address)
    if exchange is None:
        raise NotOrderFilled(f"log of {log.address} is not from a Polymarket exchange")
    if not log.topics or log.topics[0] != ORDER_FILLED_TOPIC:
        raise NotOrderFilled("topic0 is not OrderFilled (V2)")
    if len(log.topics) != 4 or len(log.data) != _DATA_BYTES:
        raise NotOrderFilled("OrderFilled topic or data layout is not the V2 one")
    side, token, making, taking, fee, _builder, _metadata = decode(
        list(ORDER_FILLED_DATA_TYPES), log.data
    )
    if side not in (0, 1):
        raise NotOrderFilled(f"side {side} is neither 0 (BUY) nor 1 (SELL)")
    return OrderFilled(
        log=log,
        exchange=exchange,
        order_hash=log.topics[1],
        maker=str(to_checksum_address("0x" + log.topics[2][-40:])),
        taker=str(to_checksum_address("0x" + log.topics[3][-40:])),
        side=Side.BUY if side == 0 else Side.SELL,
        token_id=int(token),
        maker_amount=int(making),
        taker_amount=int(taking),
        fee=int(fee),
    )


def to_source_fill(
    event: OrderFilled, block_time: datetime, detected_at: datetime, nth: int = 1
) -> SourceFill:
    """Return the maker's source fill for a decoded event (the `nth` of its order in its tx)."""
    if event.shares_micro <= 0:
        raise NotOrderFilled("OrderFilled moved no shares")
    log = event.log
    return SourceFill(
        fill_id=fill_id_of(log.tx_hash, event.order_hash, nth),
        order_hash=event.order_hash,
        wallet=event.maker,
        side=event.side,
        token_id=str(event.token_id),
        shares_micro=event.shares_micro,
        notional_micro=event.notional_micro,
        price=event.price,
        fee_micro=event.fee,
        exchange=event.exchange,
        tx_hash=log.tx_hash,
        block_number=log.block_number,
        log_index=log.log_index,
        block_time=block_time,
        detected_at=detected_at,
    )


def block_time_of(log: ChainLog, block_times: BlockTimes | None = None) -> datetime:
    """Return a log's block time from the log itself or from `block_times`."""
    if log.block_timestamp is not None:
        return datetime.fromtimestamp(log.block_timestamp, UTC)
    found = block_times(log.block_number) if block_times else None
    if found is None:
        raise LookupError(f"no time known for block {log.block_number}")
    return found


def source_fills(
    logs: Iterable[ChainLog],
    wallets: Collection[str] | None,
    detected_at: datetime,
    block_times: BlockTimes | None = None,
) -> list[SourceFill]:
    """Return the fills of `wallets` (all makers if None) in the logs, in chain order.

    Logs that are not `OrderFilled`s of a fill exchange and `removed` logs are skipped.
    """
    events = []
    for log in logs:
        if log.removed:
            continue
        try:
            event = decode_order_filled(log)
        except NotOrderFilled:
            continue
        if wallets is None or event.maker in wallets:
            events.append(event)
    events.sort(key=lambda e: (e.log.block_number, e.log.log_index))
    seen: dict[str, int] = {}
    fills = []
    for event in events:
        nth = seen[event.fill_id] = seen.get(event.fill_id, 0) + 1
        try:
            fills.append(
                to_source_fill(event, block_time_of(event.log, block_times), detected_at, nth)
            )
        except NotOrderFilled:
            continue
    return fills
