"""Pure parts of the sandbox CLOB (no anvil): matching, rules, auth, paging."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from py_clob_client_v2.clob_types import ApiCreds, CreateOrderOptions, OrderArgsV2, RequestArgs
from py_clob_client_v2.headers.headers import create_level_1_headers, create_level_2_headers
from py_clob_client_v2.order_builder.builder import OrderBuilder
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2
from py_clob_client_v2.signer import Signer
from web3 import Web3

from sandbox.accounts import account
from sandbox.chain import CTF_EXCHANGE_V2
from sandbox.clob import rules
from sandbox.clob.auth import KeyStore
from sandbox.clob.engine import BookOrder, Engine, OrderType
from sandbox.clob.orders import order_digest, parse_order, signature_valid
from sandbox.clob.views import END_CURSOR, page
from sandbox.node import SANDBOX_DIR, ensure_node_modules
from sandbox.rpc_proxy import lag_call, lag_result

TOKEN = "1234"


def signed(i: int, side: str, price: float, size: float, tick: str = "0.01"):  # type: ignore[no-untyped-def]
    builder = OrderBuilder(Signer(account(i).private_key, 137))
    order = builder.build_order(
        OrderArgsV2(token_id=TOKEN, price=price, size=size, side=side),
        CreateOrderOptions(tick_size=tick, neg_risk=False),
    )  # type: ignore[arg-type]
    return parse_order(order_to_json_v2(order, "owner", "GTC")["order"])


def book_order(
    engine: Engine,
    i: int,
    side: str,
    price: float,
    size: float,
    order_type: OrderType = OrderType.GTC,
) -> BookOrder:
    o = signed(i, side, price, size)
    oid = "0x" + order_digest(o, 137, CTF_EXCHANGE_V2).hex()
    return BookOrder(
        oid, o, f"owner{i}", order_type, Decimal(str(price)), "m", 0, engine.next_seq()
    )


def test_order_hash_and_signature_match_the_client() -> None:
    o = signed(3, "BUY", 0.55, 10)
    digest = order_digest(o, 137, CTF_EXCHANGE_V2)
    assert signature_valid(o, digest)
    assert not signature_valid(
        o, order_digest(o, 137, "0xe2222d279d744050d28e00520010520000310F59")
    )


def test_price_time_priority_and_maker_price() -> None:
    e = Engine()
    first = book_order(e, 3, "SELL", 0.50, 10)
    better = book_order(e, 4, "SELL", 0.49, 10)
    later = book_order(e, 5, "SELL", 0.50, 10)
    for o in (first, better, later):
        e.rest(o)
    taker = book_order(e, 6, "BUY", 0.50, 25)
    plan = e.plan(taker)
    assert [(f.maker.id, f.shares, f.usd) for f in plan.fills] == [
        (better.id, 10_000_000, 4_900_000),
        (first.id, 10_000_000, 5_000_000),
        (later.id, 5_000_000, 2_500_000),
    ]
    assert plan.complete
    e.apply(taker, plan, "t1")
    assert [o.id for o in e.book(int(TOKEN)).asks] == [later.id]
    assert later.remaining == 5_000_000


def test_plan_does_not_mutate_and_fok_incomplete() -> None:
    e = Engine()
    e.rest(book_order(e, 3, "SELL", 0.50, 10))
    taker = book_order(e, 6, "BUY", 0.50, 20, OrderType.FOK)
    plan = e.plan(taker)
    assert not plan.complete and plan.shares == 10_000_000
    assert e.book(int(TOKEN)).asks[0].filled_shares == 0


def test_locked_funds() -> None:
    e = Engine()
    bid = book_order(e, 3, "BUY", 0.40, 10)
    e.rest(bid)
    assert e.locked(bid.order.maker, bid.side) == 4_000_000


def test_rules() -> None:
    o = signed(3, "BUY", 0.555, 10, tick="0.001")
    assert "breaks minimum tick size rule: 0.01" in (
        rules.price_error("0xab", o, Decimal("0.01")) or ""
    )
    assert rules.price_error("0xab", o, Decimal("0.001")) is None
    small = signed(3, "BUY", 0.5, 4)
    assert rules.size_error("0xab", small, OrderType.GTC, Decimal(5)) == (
        "order 0xab is invalid. Size (4) lower than the minimum: 5"
    )
    assert rules.size_error("0xab", small, OrderType.FOK, Decimal(5)) is None
    assert rules.marketable_buy_error(signed(3, "BUY", 0.1, 5), marketable=True) == (
        "invalid amount for a marketable BUY order ($0.5), min size: $1"
    )


def test_l1_and_l2_verify_client_headers() -> None:
    keys = KeyStore(137, b"k" * 32)
    signer = Signer(account(3).private_key, 137)
    address, nonce = keys.verify_l1(
        {k.lower(): v for k, v in create_level_1_headers(signer, nonce=5).items()}
    )
    creds = keys.derive(address, nonce)
    body = '{"orderID":"0x1"}'
    headers = create_level_2_headers(
        signer,
        ApiCreds(creds.api_key, creds.secret, creds.passphrase),
        RequestArgs("DELETE", "/order", serialized_body=body),
    )
    assert (
        keys.verify_l2({k.lower(): v for k, v in headers.items()}, "DELETE", "/order", body)
        == creds
    )


def test_cursor_paging() -> None:
    rows = [{"i": i} for i in range(7)]
    first = page(rows, "MA==", 5)
    assert first["count"] == 5 and first["next_cursor"] != END_CURSOR
    second = page(rows, first["next_cursor"], 5)
    assert [r["i"] for r in second["data"]] == [5, 6] and second["next_cursor"] == END_CURSOR


@pytest.mark.slow
def test_ensure_node_modules_installs_from_the_lock(tmp_path: Path) -> None:
    for name in ("package.json", "package-lock.json"):
        shutil.copy(SANDBOX_DIR / name, tmp_path / name)
    modules = ensure_node_modules(tmp_path)
    assert any(modules.glob("@foundry-rs/anvil-*/bin/anvil"))
    assert (modules / "solc" / "package.json").exists()


def test_signer_cache_fast_path_rejects_forgeries() -> None:
    from eth_account import Account
    from eth_utils.crypto import keccak

    from sandbox.clob.ecdsa import SignerCache

    cache = SignerCache()
    alice, mallory = Account.create(), Account.create()
    digest, other = keccak(b"order"), keccak(b"other order")

    def sign(acct: Any, d: bytes) -> str:
        return "0x" + bytes(Account._sign_hash(d, acct.key).signature).hex()

    assert cache.signed_by(digest, sign(alice, digest), alice.address)  # slow path, now cached
    assert cache.signed_by(other, sign(alice, other), alice.address)  # fast path
    assert not cache.signed_by(other, sign(alice, digest), alice.address)  # wrong digest
    assert not cache.signed_by(other, sign(mallory, other), alice.address)  # wrong signer
    assert not cache.signed_by(other, "0x1234", alice.address)  # malformed


def test_committed_artifacts_match_the_sources() -> None:
    import json

    from sandbox.build import compile_contracts
    from sandbox.node import load_artifact

    for name, fresh in compile_contracts().items():
        committed = load_artifact(name)
        assert committed["deployedBytecode"] == fresh["deployedBytecode"], (
            f"run python -m sandbox.build ({name})"
        )
        assert json.dumps(committed["abi"], sort_keys=True) == json.dumps(
            fresh["abi"], sort_keys=True
        )


def test_order_filled_topic_is_the_v2_event() -> None:
    from eth_utils.crypto import keccak

    from sandbox.node import load_artifact

    abi = load_artifact("SandboxExchange")["abi"]
    (event,) = [e for e in abi if e.get("name") == "OrderFilled"]
    signature = "OrderFilled(" + ",".join(i["type"] for i in event["inputs"]) + ")"
    assert [i["indexed"] for i in event["inputs"]][:3] == [True, True, True]
    assert (
        "0x" + keccak(text=signature).hex()
        == "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee"
    )


def test_fee_formula_floor_and_cap() -> None:
    from sandbox.clob.fees import taker_fee
    from sandbox.markets import FeeSchedule

    crypto, sports = FeeSchedule(Decimal("0.25"), 2), FeeSchedule(Decimal("0.07"), 1)
    # 11 x 0.07 x 0.55 x 0.45 = 0.190575 -> floored to 5 decimals
    assert taker_fee(sports, [(11_000_000, Decimal("0.55"))], 6_050_000) == 190_570
    # 100 x 0.07 x 0.05 x 0.95 = 0.3325, over 5 % of $5
    assert taker_fee(sports, [(100_000_000, Decimal("0.05"))], 5_000_000) == 250_000
    # several fills are summed exactly, then floored once
    fills = [(10_000_000, Decimal("0.4")), (7_000_000, Decimal("0.45"))]
    assert taker_fee(crypto, fills, 7_150_000) == 251_190
    assert taker_fee(FeeSchedule(), fills, 7_150_000) == 0


def test_v2_sdk_order_id_uses_the_v3_domain() -> None:
    from eth_account.messages import encode_typed_data
    from polymarket._internal.actions.orders.typed_data import build_order_typed_data
    from polymarket._internal.actions.orders.types import UnsignedOrder

    from sandbox.chain import EXCHANGE_V3
    from sandbox.clob.orders import Side, SignatureType, SignedOrder
    from sandbox.protocol_v2 import condition_id, position_id

    token = position_id(condition_id(b"q"), 0)
    maker = account(3).address
    unsigned = UnsignedOrder(chain_id=137, builder="0x" + "00" * 32, exchange_address=EXCHANGE_V3,
        expiration=0, maker=maker, maker_amount=2_000_000, metadata="0x" + "00" * 32,
        order_type="GTC", salt=7, side="BUY", signature_type=0, signer=maker,
        taker_amount=4_000_000, timestamp=1, token_id=str(token), protocol_version="3")  # fmt: skip
    digest = encode_typed_data(full_message=build_order_typed_data(unsigned))
    ours = SignedOrder(7, maker, maker, token, 2_000_000, 4_000_000, Side.BUY,
        SignatureType.EOA, 1, b"\x00" * 32, b"\x00" * 32, 0, "")  # fmt: skip
    expected = Web3.keccak(b"\x19" + digest.version + digest.header + digest.body)
    assert order_digest(ours, 137, EXCHANGE_V3) == expected


def test_a_budget_leaves_no_dust_fills() -> None:
    from dataclasses import replace

    # $3 at 0.51 buys 5.882352 shares for 2.999999; the micro-unit left buys nothing at 0.52
    engine = Engine()
    for price in (0.51, 0.52):
        engine.rest(book_order(engine, 2, "SELL", price, 100))
    order = replace(signed(3, "BUY", 0.52, 5.77), maker_amount=3_000_000, taker_amount=5_769_230)
    taker = BookOrder("t", order, "o", OrderType.FOK, Decimal("0.52"), "m", 0, engine.next_seq())
    plan = engine.plan(taker)
    assert [(f.shares, f.usd) for f in plan.fills] == [(5_882_352, 2_999_999)]
    assert plan.complete


@pytest.mark.parametrize(
    ("method", "params", "forwarded", "answered"),
    [
        ("eth_blockNumber", [], None, "0xa"),
        ("eth_getLogs", [{"fromBlock": "0xb"}], None, []),
        ("eth_getLogs", [{}], [{"fromBlock": "0xa", "toBlock": "0xa"}], None),
        (
            "eth_getLogs",
            [{"fromBlock": "0x1", "toBlock": "0x63"}],
            [{"fromBlock": "0x1", "toBlock": "0xa"}],
            None,
        ),
        ("eth_getBlockByNumber", ["0xb", False], None, None),
        ("eth_getBlockByNumber", ["pending", True], ["0xa", True], None),
        ("eth_getStorageAt", ["0xab", "0x0"], ["0xab", "0x0", "0xa"], None),
        ("eth_call", [{"to": "0xab"}, "0x5"], [{"to": "0xab"}, "0x5"], None),
        ("eth_chainId", [], [], None),
    ],
)
def test_lagging_node_rewrites(
    method: str, params: list[Any], forwarded: list[Any] | None, answered: Any
) -> None:
    lagged = lag_call({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, 10)
    assert (lagged.call["params"] if lagged.call else None) == forwarded
    assert lagged.result == answered


def test_lagging_node_has_no_state_above_its_head() -> None:
    call = {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [{"to": "0xab"}, "0xb"]}
    lagged = lag_call(call, 10)
    assert lagged.call is None and lagged.error == {"code": -32000, "message": "header not found"}


def test_lagging_node_hides_what_is_above_its_head() -> None:
    assert lag_result("eth_getTransactionReceipt", {"blockNumber": "0xb"}, 10) is None
    assert lag_result("eth_getTransactionByHash", {"blockNumber": "0xa"}, 10) == {
        "blockNumber": "0xa"
    }
    assert lag_result("eth_getTransactionByHash", {"blockNumber": None}, 10) == {
        "blockNumber": None
    }
    assert lag_result("eth_getLogs", [{"blockNumber": "0xb"}], 10) == []
