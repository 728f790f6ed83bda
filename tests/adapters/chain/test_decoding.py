"""Decoding OrderFilled logs (CTF exchanges and ExchangeV3): recorded sandbox logs and properties
over generated logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from adapters.chain.contracts import (
    CTF_EXCHANGE_V2,
    EXCHANGE_V3,
    NEG_RISK_EXCHANGE_V2,
    ORDER_FILLED_TOPIC,
)
from adapters.chain.decoding import (
    NotOrderFilled,
    decode_order_filled,
    fill_price,
    parse_log,
    source_fills,
)
from projectk.models import MICRO, Exchange, MarketVersion, Side
from tests import RESOURCES

SAMPLES = json.loads((RESOURCES / "logs" / "sandbox_trades.json").read_text())
V2_SAMPLES = json.loads((RESOURCES / "logs" / "sandbox_v2_trades.json").read_text())
EXCHANGES = {
    CTF_EXCHANGE_V2: Exchange.CTF,
    NEG_RISK_EXCHANGE_V2: Exchange.NEG_RISK,
    EXCHANGE_V3: Exchange.V3,
}
NOW = datetime(2026, 11, 21, tzinfo=UTC)


@pytest.mark.parametrize("sample", SAMPLES + V2_SAMPLES, ids=lambda s: str(s["exchange"]))
def test_recorded_logs_decode_to_the_traded_fills(sample: dict[str, Any]) -> None:
    logs = [parse_log(raw) for raw in sample["logs"]]
    fills = source_fills(logs, None, NOW)
    got = [
        {
            "wallet": f.wallet,
            "side": f.side.value,
            "shares": str(Decimal(f.shares_micro) / MICRO),
            "notional": str(Decimal(f.notional_micro) / MICRO),
            "price": str(f.price),
        }
        for f in fills
    ]
    assert got == sample["expected"]
    for fill, raw in zip(
        fills, [r for r in sample["logs"] if r["topics"][0] == ORDER_FILLED_TOPIC], strict=True
    ):
        order_hash = raw["topics"][1].lower()  # the maker's order (OrderFilled topic1)
        assert fill.fill_id == f"{sample['tx_hash']}:{order_hash}"
        assert fill.order_hash == fill.order_key == order_hash
        assert fill.log_index == int(raw["logIndex"], 16)
        assert fill.token_id == sample["token_id"]
        assert fill.exchange is Exchange(sample["exchange"])
        version = MarketVersion.V2 if sample["exchange"] == "v3" else MarketVersion.V1
        assert fill.market_version is version
        assert fill.block_number == int(raw["blockNumber"], 16)
        assert fill.block_time == datetime.fromtimestamp(int(raw["blockTimestamp"], 16), UTC)
        assert fill.fee_micro == 0 and fill.detected_at == NOW


def test_only_the_watched_makers_own_log_counts() -> None:
    sample = SAMPLES[0]
    logs = [parse_log(raw) for raw in sample["logs"]]
    taker = sample["expected"][2]["wallet"]
    assert [f.wallet for f in source_fills(logs, {taker}, NOW)] == [taker]
    # The taker is the taker of both makers' logs too, but only its own order's log is its fill.
    filled = [r for r in sample["logs"] if r["topics"][0] == ORDER_FILLED_TOPIC]
    assert sum(r["topics"][3][-40:] == taker[2:].lower() for r in filled) == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"address": "0x" + "11" * 20}, "not from a Polymarket exchange"),
        ({"topics": ["0x" + "22" * 32]}, "topic0 is not OrderFilled"),
        ({"data": "0x00"}, "layout"),
        ({"logIndex": None}, "logIndex is missing"),
    ],
)
def test_other_logs_are_refused_with_a_reason(change: dict[str, Any], reason: str) -> None:
    raw = next(r for r in SAMPLES[0]["logs"] if r["topics"][0] == ORDER_FILLED_TOPIC)
    with pytest.raises(NotOrderFilled, match=reason):
        decode_order_filled(parse_log({**raw, **change}))


TX = "0x" + "ef" * 32
ORDER = "0x" + "ab" * 32  # the maker's order hash in `_log`


def _log(
    exchange: str,
    maker: str,
    taker: str,
    side: int,
    token: int,
    making: int,
    taking: int,
    fee: int,
    *,
    order: str = ORDER,
    log_index: int = 7,
    block: int = 123,
) -> dict[str, Any]:
    data = encode(
        ["uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32"],
        [side, token, making, taking, fee, b"\x01" * 32, b"\x02" * 32],
    )
    return {
        "address": exchange.lower(),
        "topics": [
            ORDER_FILLED_TOPIC,
            order,
            "0x" + "00" * 12 + maker[2:].lower(),
            "0x" + "00" * 12 + taker[2:].lower(),
        ],
        "data": "0x" + data.hex(),
        "blockNumber": hex(block),
        "blockHash": "0x" + "cd" * 32,
        "blockTimestamp": hex(1_795_000_000),
        "transactionHash": TX,
        "logIndex": hex(log_index),
        "removed": False,
    }


addresses = st.binary(min_size=20, max_size=20).map(lambda b: str(to_checksum_address(b)))
amounts = st.integers(min_value=1, max_value=10**15)


@given(
    exchange=st.sampled_from(list(EXCHANGES)),
    maker=addresses,
    taker=addresses,
    side=st.sampled_from([0, 1]),
    token=st.integers(min_value=0, max_value=2**256 - 1),
    making=amounts,
    taking=amounts,
    fee=st.integers(min_value=0, max_value=10**12),
)
def test_any_order_filled_round_trips(
    exchange: str, maker: str, taker: str, side: int, token: int, making: int, taking: int, fee: int
) -> None:
    raw = _log(exchange, maker, taker, side, token, making, taking, fee)
    (fill,) = source_fills([parse_log(raw)], {maker}, NOW)
    shares, usd = (taking, making) if side == 0 else (making, taking)
    assert fill.wallet == maker and fill.side is (Side.BUY if side == 0 else Side.SELL)
    assert (fill.shares_micro, fill.notional_micro, fill.fee_micro) == (shares, usd, fee)
    assert fill.token_id == str(token) and int(fill.token_id) == token
    assert fill.exchange is EXCHANGES[exchange]
    assert fill.fill_id == f"{TX}:{ORDER}" and fill.order_hash == ORDER
    assert fill.cursor().key() == (123, 7)
    # exact price: price x shares gives back the pUSD amount (to 40 significant digits)
    assert abs(fill.price * shares - usd) <= Decimal(usd) * Decimal("1e-38")
    assert source_fills([parse_log(raw)], {taker}, NOW) == [] or taker == maker


@given(shares=st.integers(min_value=1, max_value=10**12), ticks=st.integers(1, 9999))
def test_prices_on_a_tick_grid_are_exact(shares: int, ticks: int) -> None:
    price = Decimal(ticks) / 10_000
    usd = price * shares
    if usd == usd.to_integral_value():
        assert fill_price(int(usd), shares) == price


@given(raw=st.dictionaries(st.sampled_from(["address", "topics", "data", "logIndex"]), st.text()))
def test_garbage_never_decodes(raw: dict[str, Any]) -> None:
    with pytest.raises(NotOrderFilled):
        decode_order_filled(parse_log(raw))


MAKER, TAKER = "0x" + "11" * 20, "0x" + "22" * 20


def test_a_tx_re_included_at_another_log_index_gives_the_same_fill_ids() -> None:
    # A reorg may put the same transaction in another block, at other log indexes: its fills
    # keep their ids, so pairs that handled them do not mirror them again.
    other = "0x" + "cd" * 32
    before = [
        _log(CTF_EXCHANGE_V2, MAKER, TAKER, 0, 1, 5, 10, 0, log_index=7),
        _log(CTF_EXCHANGE_V2, MAKER, TAKER, 0, 1, 5, 10, 0, order=other, log_index=8),
    ]
    after = [
        _log(CTF_EXCHANGE_V2, MAKER, TAKER, 0, 1, 5, 10, 0, log_index=41, block=124),
        _log(CTF_EXCHANGE_V2, MAKER, TAKER, 0, 1, 5, 10, 0, order=other, log_index=42, block=124),
    ]
    first = source_fills([parse_log(raw) for raw in before], None, NOW)
    again = source_fills([parse_log(raw) for raw in after], None, NOW)
    assert [f.fill_id for f in first] == [f.fill_id for f in again]
    assert [f.fill_id for f in again] == [f"{TX}:{ORDER}", f"{TX}:{other}"]
    assert [f.cursor().key() for f in again] == [(124, 41), (124, 42)]


def test_two_fills_of_one_order_in_one_tx_are_numbered_in_log_order() -> None:
    logs = [
        _log(NEG_RISK_EXCHANGE_V2, MAKER, TAKER, 1, 1, 10, 4, 0, log_index=9),
        _log(NEG_RISK_EXCHANGE_V2, MAKER, TAKER, 1, 1, 10, 6, 0, log_index=3),
    ]
    fills = source_fills([parse_log(raw) for raw in logs], None, NOW)
    assert [(f.fill_id, f.log_index) for f in fills] == [
        (f"{TX}:{ORDER}", 3),
        (f"{TX}:{ORDER}#2", 9),
    ]
    assert {f.order_hash for f in fills} == {ORDER}
    assert max(len(f.fill_id) for f in fills) <= 140  # the ledger's fill id column


def test_hashes_in_upper_case_give_the_same_fill_id() -> None:
    raw = _log(CTF_EXCHANGE_V2, MAKER, TAKER, 0, 1, 5, 10, 0)
    shouted = {**raw, "transactionHash": "0x" + TX[2:].upper()}
    shouted["topics"] = [raw["topics"][0], "0x" + ORDER[2:].upper(), *raw["topics"][2:]]
    (fill,) = source_fills([parse_log(shouted)], None, NOW)
    assert fill.fill_id == f"{TX}:{ORDER}" and fill.order_hash == ORDER


def test_removed_logs_are_not_fills() -> None:
    raw = {
        **_log(CTF_EXCHANGE_V2, "0x" + "11" * 20, "0x" + "22" * 20, 0, 1, 5, 10, 0),
        "removed": True,
    }
    assert source_fills([parse_log(raw)], None, NOW) == []
