"""Settlement on chain: balances move, OrderFilled/OrdersMatched logs are exact, redeem works."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from eth_abi.abi import decode
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2
from web3 import Web3

from sandbox.chain import CONDITIONAL_TOKENS, CTF_EXCHANGE_V2, PUSD

pytestmark = pytest.mark.sandbox

ORDER_FILLED_TOPIC = "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee"
ORDERS_MATCHED = "OrdersMatched(bytes32,address,uint8,uint256,uint256,uint256)"
ERC20_ABI = [
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "a", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    }
]
CTF_ABI = [
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "a", "type": "address"}, {"name": "id", "type": "uint256"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "name": "payoutDenominator",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "c", "type": "bytes32"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "name": "redeemPositions",
        "type": "function",
        "stateMutability": "nonpayable",
        "inputs": [
            {"name": "collateralToken", "type": "address"},
            {"name": "parentCollectionId", "type": "bytes32"},
            {"name": "conditionId", "type": "bytes32"},
            {"name": "indexSets", "type": "uint256[]"},
        ],
        "outputs": [],
    },
]

Clients = Callable[[int], ClobClient]
Mkt = Any


def pusd(w3: Web3, who: str) -> int:
    return int(w3.eth.contract(address=PUSD, abi=ERC20_ABI).functions.balanceOf(who).call())


def shares(w3: Web3, who: str, token: str) -> int:
    return int(
        w3.eth.contract(address=CONDITIONAL_TOKENS, abi=CTF_ABI)
        .functions.balanceOf(who, int(token))
        .call()
    )


def trade_two_makers(client_for: Clients, market: Mkt, give_shares: Any) -> dict[str, Any]:
    give_shares(market, 0, 10)
    give_shares(market, 1, 10)
    client_for(0).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.40, size=10, side="SELL")
    )
    client_for(1).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.42, size=10, side="SELL")
    )
    resp: dict[str, Any] = client_for(2).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.42, size=15, side="BUY")
    )
    return resp


def test_balances_move_on_chain(
    client_for: Clients, market: Mkt, give_shares: Any, w3: Web3, demo: Any
) -> None:
    a, b, c = (demo[i]["address"] for i in range(3))
    before = {who: (pusd(w3, who), shares(w3, who, market.yes)) for who in (a, b, c)}
    resp = trade_two_makers(client_for, market, give_shares)
    assert resp["status"] == "matched"
    w3.eth.wait_for_transaction_receipt(resp["transactionsHashes"][0], timeout=10)
    after = {who: (pusd(w3, who), shares(w3, who, market.yes)) for who in (a, b, c)}
    # the admin split minted a and b 10 Yes shares each from fresh faucet pUSD
    assert after[a] == (before[a][0] + 4_000_000, before[a][1])
    assert after[b] == (before[b][0] + 2_100_000, before[b][1] + 5_000_000)
    assert after[c] == (before[c][0] - 6_100_000, before[c][1] + 15_000_000)


def test_order_filled_logs(
    client_for: Clients, market: Mkt, give_shares: Any, w3: Web3, demo: Any
) -> None:
    resp = trade_two_makers(client_for, market, give_shares)
    receipt = w3.eth.wait_for_transaction_receipt(resp["transactionsHashes"][0], timeout=10)
    filled = [lg for lg in receipt["logs"] if lg["topics"][0].to_0x_hex() == ORDER_FILLED_TOPIC]
    assert len(filled) == 3
    assert all(lg["address"] == CTF_EXCHANGE_V2 for lg in filled)

    def fields(lg: Any) -> tuple[Any, ...]:
        maker = Web3.to_checksum_address(lg["topics"][2][-20:])
        taker = Web3.to_checksum_address(lg["topics"][3][-20:])
        data = decode(
            ["uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32"],
            bytes(lg["data"]),
        )
        return (lg["topics"][1].to_0x_hex(), maker, taker, *data[:5])

    a, b, c = (demo[i]["address"] for i in range(3))
    token = int(market.yes)
    m1, m2, t = (fields(lg) for lg in filled)
    assert m1[1:] == (a, c, 1, token, 10_000_000, 4_000_000, 0)
    assert m2[1:] == (b, c, 1, token, 5_000_000, 2_100_000, 0)
    assert t == (resp["orderID"], c, CTF_EXCHANGE_V2, 0, token, 6_100_000, 15_000_000, 0)
    matched = [lg for lg in receipt["logs"] if lg["topics"][0] == Web3.keccak(text=ORDERS_MATCHED)]
    assert len(matched) == 1 and matched[0]["topics"][1].to_0x_hex() == resp["orderID"]
    # the maker filter a copy-trading tail uses sees each wallet's fill exactly once
    logs = w3.eth.get_logs(
        {
            "fromBlock": receipt["blockNumber"],
            "toBlock": receipt["blockNumber"],
            "address": CTF_EXCHANGE_V2,
            "topics": [ORDER_FILLED_TOPIC, None, "0x" + "00" * 12 + c[2:].lower()],
        }
    )
    assert len(logs) == 1


def test_resolution_then_redeem(
    sandbox: Any, client_for: Clients, market: Mkt, give_shares: Any, w3: Web3, demo: Any
) -> None:
    give_shares(market, 0, 20)
    client_for(0).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.30, size=20, side="SELL")
    )
    resp = client_for(3).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.30, size=20, side="BUY")
    )
    w3.eth.wait_for_transaction_receipt(resp["transactionsHashes"][0], timeout=10)
    ctf = w3.eth.contract(address=CONDITIONAL_TOKENS, abi=CTF_ABI)
    cond = bytes.fromhex(market.condition_id[2:])
    assert ctf.functions.payoutDenominator(cond).call() == 0
    resolved = sandbox.resolve(market.condition_id, "Yes")
    assert resolved["market"]["winner"] == "Yes"
    assert ctf.functions.payoutDenominator(cond).call() > 0
    holder = demo[3]
    data_api = sandbox.info["data_api_url"]

    def position() -> list[Any]:
        rows = httpx.get(f"{data_api}/positions", params={"user": holder["address"]}).json()
        return [p for p in rows if p["asset"] == market.yes]

    assert [(p["size"], p["avgPrice"], p["redeemable"], p["curPrice"]) for p in position()] == [
        (20, 0.3, True, 1)
    ]
    before = pusd(w3, holder["address"])
    tx = ctf.functions.redeemPositions(PUSD, b"\x00" * 32, cond, [1, 2]).build_transaction(
        {
            "from": holder["address"],
            "nonce": w3.eth.get_transaction_count(holder["address"]),
            "chainId": 137,
        }
    )
    signed = w3.eth.account.sign_transaction(tx, holder["private_key"])
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(signed.raw_transaction)
    )
    assert receipt["status"] == 1
    assert pusd(w3, holder["address"]) == before + 20_000_000
    assert shares(w3, holder["address"], market.yes) == 0
    assert position() == []
    activity = httpx.get(f"{data_api}/activity", params={"user": holder["address"]}).json()
    redeems = [
        a for a in activity if a["type"] == "REDEEM" and a["conditionId"] == market.condition_id
    ]
    assert [(a["usdcSize"], a["transactionHash"]) for a in redeems] == [
        (20, receipt["transactionHash"].to_0x_hex())
    ]


def test_fresh_wallet_and_neg_risk_market(sandbox: Any, w3: Web3, client_for: Clients) -> None:
    from eth_account import Account

    from sandbox.chain import NEG_RISK_EXCHANGE_V2

    wallet = Account.create()
    sandbox.fund(wallet.address, pusd="50", approve=True)
    m = sandbox.create_market(
        "Neg risk test?", f"neg-{wallet.address[-8:]}", quote=False, neg_risk=True
    )
    yes = m["tokens"][0]["token_id"]
    sandbox.admin(
        "/split",
        {
            "market": m["condition_id"],
            "address": sandbox.info["accounts"]["demo"][0]["address"],
            "amount": "10",
        },
    )
    client_for(0).create_and_post_order(OrderArgsV2(token_id=yes, price=0.25, size=10, side="SELL"))
    fresh = ClobClient(sandbox.info["clob_url"], 137, key="0x" + bytes(wallet.key).hex())
    fresh.set_api_creds(fresh.create_or_derive_api_key())
    assert fresh.get_neg_risk(yes) is True
    resp = fresh.create_and_post_order(OrderArgsV2(token_id=yes, price=0.25, size=10, side="BUY"))
    receipt = w3.eth.wait_for_transaction_receipt(resp["transactionsHashes"][0], timeout=10)
    assert receipt["status"] == 1
    assert {
        lg["address"] for lg in receipt["logs"] if lg["topics"][0].to_0x_hex() == ORDER_FILLED_TOPIC
    } == {NEG_RISK_EXCHANGE_V2}
    assert pusd(w3, wallet.address) == 47_500_000


def test_settlement_failure_marks_trade_failed(
    sandbox: Any, client_for: Clients, market: Mkt, give_shares: Any, w3: Web3, demo: Any
) -> None:
    import time

    from py_clob_client_v2.clob_types import TradeParams

    from sandbox.chain import CTF_EXCHANGE_V2 as EXCHANGE

    give_shares(market, 4, 10)
    client_for(4).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.5, size=10, side="SELL")
    )
    approval = [
        {
            "name": "setApprovalForAll",
            "type": "function",
            "stateMutability": "nonpayable",
            "inputs": [{"name": "o", "type": "address"}, {"name": "a", "type": "bool"}],
            "outputs": [],
        }
    ]
    ctf = w3.eth.contract(address=CONDITIONAL_TOKENS, abi=approval)
    w3.eth.wait_for_transaction_receipt(
        ctf.functions.setApprovalForAll(EXCHANGE, False).transact({"from": demo[4]["address"]})
    )
    try:
        resp = client_for(1).create_and_post_order(
            OrderArgsV2(token_id=market.yes, price=0.5, size=10, side="BUY")
        )
        assert resp["status"] == "matched"
        deadline = time.time() + 5
        while time.time() < deadline:
            (trade,) = client_for(1).get_trades(TradeParams(id=resp["tradeIDs"][0]))
            if trade["status"] == "FAILED":
                break
            time.sleep(0.1)
        assert trade["status"] == "FAILED"
    finally:
        w3.eth.wait_for_transaction_receipt(
            ctf.functions.setApprovalForAll(EXCHANGE, True).transact({"from": demo[4]["address"]})
        )


def test_deposit_wallet_signature_type_3(
    sandbox: Any, w3: Web3, client_for: Clients, market: Mkt, give_shares: Any
) -> None:
    from eth_account import Account

    owner, wallet = Account.create(), Account.create().address  # the wallet is just an address here
    sandbox.fund(wallet, pusd="20", approve=True)
    give_shares(market, 0, 10)
    client_for(0).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.4, size=10, side="SELL")
    )
    c = ClobClient(
        sandbox.info["clob_url"],
        137,
        key="0x" + bytes(owner.key).hex(),
        signature_type=3,
        funder=wallet,
    )
    c.set_api_creds(c.create_or_derive_api_key())
    order = c.create_order(OrderArgsV2(token_id=market.yes, price=0.4, size=10, side="BUY"))
    assert order.signer == order.maker == wallet
    resp = c.post_order(order)
    receipt = w3.eth.wait_for_transaction_receipt(resp["transactionsHashes"][0], timeout=10)
    makers = [
        Web3.to_checksum_address(lg["topics"][2][-20:])
        for lg in receipt["logs"]
        if lg["topics"][0].to_0x_hex() == ORDER_FILLED_TOPIC
    ]
    assert makers[-1] == wallet
    assert shares(w3, wallet, market.yes) == 10_000_000
    assert [t["trader_side"] for t in c.get_trades()] == ["TAKER"]
    from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams

    held = c.get_balance_allowance(
        BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=market.yes)
    )
    assert held["balance"] == "10000000"  # the wallet's balance, not the EOA's
    stranger = Account.create()
    other = ClobClient(
        sandbox.info["clob_url"],
        137,
        key="0x" + bytes(stranger.key).hex(),
        signature_type=3,
        funder=wallet,
    )
    other.set_api_creds(other.create_or_derive_api_key())
    forged = c.create_order(OrderArgsV2(token_id=market.yes, price=0.3, size=10, side="BUY"))
    from py_clob_client_v2.exceptions import PolyApiException

    with pytest.raises(PolyApiException) as exc:
        other.post_order(forged)  # signed by the wallet's owner, posted under another EOA's key
    assert exc.value.error_msg == {"error": "invalid signature"}


def _filled(receipt: Any) -> list[tuple[Any, ...]]:
    out = []
    for lg in receipt["logs"]:
        if lg["topics"][0].to_0x_hex() != ORDER_FILLED_TOPIC:
            continue
        data = decode(
            ["uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32"],
            bytes(lg["data"]),
        )
        out.append(
            (
                Web3.to_checksum_address(lg["topics"][2][-20:]),
                Web3.to_checksum_address(lg["topics"][3][-20:]),
                *data[:4],
            )
        )
    return out


def test_buy_against_buy_of_other_outcome_mints(
    client_for: Clients, market: Mkt, w3: Web3, demo: Any
) -> None:
    a, b = demo[0]["address"], demo[1]["address"]
    no_before, yes_before = shares(w3, a, market.no), shares(w3, b, market.yes)
    client_for(0).create_and_post_order(
        OrderArgsV2(token_id=market.no, price=0.45, size=10, side="BUY")
    )
    resp = client_for(1).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.56, size=10, side="BUY")
    )
    assert (resp["status"], resp["makingAmount"], resp["takingAmount"]) == ("matched", "5.5", "10")
    receipt = w3.eth.wait_for_transaction_receipt(resp["transactionsHashes"][0], timeout=10)
    assert receipt["status"] == 1
    assert _filled(receipt) == [
        (a, b, 0, int(market.no), 4_500_000, 10_000_000),
        (b, CTF_EXCHANGE_V2, 0, int(market.yes), 5_500_000, 10_000_000),
    ]
    assert shares(w3, a, market.no) == no_before + 10_000_000
    assert shares(w3, b, market.yes) == yes_before + 10_000_000
    assert client_for(1).get_order_book(market.no)["bids"] == []


def test_sell_against_sell_of_other_outcome_merges(
    client_for: Clients, market: Mkt, give_shares: Any, w3: Web3, demo: Any
) -> None:
    give_shares(market, 2, 10)
    give_shares(market, 3, 10)
    c, d = demo[2]["address"], demo[3]["address"]
    cash_c, cash_d = pusd(w3, c), pusd(w3, d)
    client_for(3).create_and_post_order(
        OrderArgsV2(token_id=market.no, price=0.40, size=10, side="SELL")
    )
    resp = client_for(2).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.55, size=10, side="SELL")
    )
    assert (resp["status"], resp["makingAmount"], resp["takingAmount"]) == ("matched", "10", "6")
    receipt = w3.eth.wait_for_transaction_receipt(resp["transactionsHashes"][0], timeout=10)
    assert receipt["status"] == 1
    assert (pusd(w3, c) - cash_c, pusd(w3, d) - cash_d) == (6_000_000, 4_000_000)
    assert shares(w3, c, market.yes) == shares(w3, d, market.no) == 0


def test_mixed_direct_and_minted_fills_settle_as_two_trades(
    client_for: Clients, market: Mkt, give_shares: Any, w3: Web3
) -> None:
    give_shares(market, 0, 5)
    client_for(0).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.50, size=5, side="SELL")
    )
    client_for(4).create_and_post_order(
        OrderArgsV2(token_id=market.no, price=0.48, size=5, side="BUY")
    )
    resp = client_for(1).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.52, size=10, side="BUY")
    )
    assert (resp["makingAmount"], resp["takingAmount"]) == ("5.1", "10")  # 5 at 0.50 + 5 at 0.52
    assert len(resp["tradeIDs"]) == len(resp["transactionsHashes"]) == 2
    for tx in resp["transactionsHashes"]:
        assert w3.eth.wait_for_transaction_receipt(tx, timeout=10)["status"] == 1


def test_market_buy_spends_budget_through_mint(client_for: Clients, market: Mkt, w3: Web3) -> None:
    from py_clob_client_v2.clob_types import MarketOrderArgsV2, OrderType

    client_for(0).create_and_post_order(
        OrderArgsV2(token_id=market.no, price=0.45, size=20, side="BUY")
    )
    resp = client_for(1).create_and_post_market_order(
        MarketOrderArgsV2(token_id=market.yes, amount=5, side="BUY", price=0.55),
        order_type=OrderType.FOK,
    )
    # The resting BUY pays floor(9.090909 x 0.45) = 4.090909 and the exchange mints it
    # floor(4.090909 / 0.45) = 9.090908 sets; the taker pays the rest of 1 per set, a micro-unit
    # under its $5 budget: the closest the exchange's floor rounding allows.
    assert (resp["makingAmount"], resp["takingAmount"]) == ("4.999999", "9.090908")
    assert (
        w3.eth.wait_for_transaction_receipt(resp["transactionsHashes"][0], timeout=10)["status"]
        == 1
    )
