"""Reorgs on demand: the chain re-includes, re-sends or drops settlements; the CLOB follows it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, TradeParams
from web3 import Web3
from web3.exceptions import TransactionNotFound

from sandbox.runtime import Sandbox, SandboxOptions
from tests.sandbox_env import Market, clob_clients, demo_accounts, share_giver, unquoted_market

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def chain_sb() -> Iterator[Sandbox]:
    # Its own sandbox: rolling the session's chain back would confuse the other tests.
    options = SandboxOptions(block_time_s=0, market_maker=False, demo_markets=False)
    with Sandbox(options) as sb:
        yield sb


@pytest.fixture(scope="module")
def client_of(chain_sb: Sandbox) -> Callable[[int], ClobClient]:
    return clob_clients(chain_sb, demo_accounts(chain_sb))


@pytest.fixture(scope="module")
def node(chain_sb: Sandbox) -> Web3:
    return Web3(Web3.HTTPProvider(chain_sb.info["rpc_url"]))


@pytest.fixture
def traded(chain_sb: Sandbox, client_of: Callable[[int], ClobClient]) -> Market:
    """A market where demo 0 offers 20 Yes at 0.5."""
    m = unquoted_market(chain_sb, "reorg", "Reorg market")
    share_giver(chain_sb, demo_accounts(chain_sb))(m, 0, 30)
    client_of(0).create_and_post_order(OrderArgsV2(token_id=m.yes, price=0.5, size=20, side="SELL"))
    return m


def buy(c: ClobClient, m: Market) -> tuple[str, str]:
    """Buy 5 Yes at 0.5; return (trade id, settlement transaction hash)."""
    resp = c.create_and_post_order(OrderArgsV2(token_id=m.yes, price=0.5, size=5, side="BUY"))
    assert resp["status"] == "matched"
    return resp["tradeIDs"][0], resp["transactionsHashes"][0]


def trade_row(c: ClobClient, trade_id: str, status: str) -> dict[str, Any]:
    """Wait (bounded) until the trade has ``status``; return its /data/trades row."""
    deadline = time.monotonic() + 10
    while True:
        (row,) = c.get_trades(TradeParams(id=trade_id))
        if row["status"] == status or time.monotonic() > deadline:
            assert row["status"] == status
            return dict(row)
        time.sleep(0.1)


def test_reincluded_settlement_keeps_its_hash_in_a_new_block(
    chain_sb: Sandbox, client_of: Callable[[int], ClobClient], node: Web3, traded: Market
) -> None:
    trade_id, tx = buy(client_of(1), traded)
    old_block = node.eth.get_transaction_receipt(tx)["blockNumber"]
    old_hash = node.eth.get_block(old_block)["hash"]
    trade_row(client_of(1), trade_id, "CONFIRMED")
    head = node.eth.block_number

    result = chain_sb.reorg(depth=head - old_block + 1)

    assert result["reincluded"] == {tx: tx} and result["dropped"] == []
    assert result["old_head"] == head and result["new_head"] > head
    assert node.eth.block_number == result["new_head"]
    receipt = node.eth.get_transaction_receipt(tx)
    assert receipt["status"] == 1 and receipt["blockNumber"] != old_block
    assert node.eth.get_block(old_block)["hash"] != old_hash  # another branch
    row = trade_row(client_of(1), trade_id, "CONFIRMED")
    assert row["transaction_hash"] == tx


def test_dropped_settlement_fails_its_trade_and_resends_the_next(
    chain_sb: Sandbox, client_of: Callable[[int], ClobClient], node: Web3, traded: Market
) -> None:
    first_id, first_tx = buy(client_of(1), traded)
    second_id, second_tx = buy(client_of(2), traded)
    first_block = node.eth.get_transaction_receipt(first_tx)["blockNumber"]
    head = node.eth.block_number

    result = chain_sb.reorg(depth=head - first_block + 1, drop=[first_tx])

    assert result["dropped"] == [first_tx]
    new_tx = result["reincluded"][second_tx]
    assert new_tx != second_tx  # the operator's nonce moved down: sent anew
    assert node.eth.get_transaction_receipt(new_tx)["status"] == 1
    for gone in (first_tx, second_tx):
        with pytest.raises(TransactionNotFound):
            node.eth.get_transaction_receipt(gone)
    assert trade_row(client_of(1), first_id, "FAILED")["transaction_hash"] == first_tx
    assert trade_row(client_of(2), second_id, "CONFIRMED")["transaction_hash"] == new_tx


def test_reorg_refuses_what_it_cannot_do(chain_sb: Sandbox, node: Web3) -> None:
    unknown = "0x" + "11" * 32
    head = node.eth.block_number
    with pytest.raises(Exception, match="400"):
        chain_sb.reorg(depth=1, drop=[unknown])
    with pytest.raises(Exception, match="400"):
        chain_sb.reorg(depth=head + 1)
    assert node.eth.block_number == head


@pytest.mark.slow
def test_reorg_with_interval_mining() -> None:
    with Sandbox(SandboxOptions(block_time_s=2, market_maker=False, demo_markets=False)) as sb:
        node = Web3(Web3.HTTPProvider(sb.info["rpc_url"]))
        sender, to = (a["address"] for a in sb.info["accounts"]["demo"][:2])
        tx = node.eth.send_transaction({"from": sender, "to": to, "value": 1})
        old_block = node.eth.wait_for_transaction_receipt(tx, timeout=10)["blockNumber"]
        # the interval miner may add a block before the reorg starts: roll back a few more
        result = sb.reorg(depth=node.eth.block_number - old_block + 3)

        assert result["reincluded"][tx.to_0x_hex()] == tx.to_0x_hex()
        assert result["new_head"] > result["old_head"]
        assert node.eth.get_transaction_receipt(tx)["blockNumber"] != old_block
        assert node.provider.make_request("anvil_getAutomine", [])["result"] is False
        node.eth.send_transaction({"from": sender, "to": to, "value": 2})  # mined by the interval
        deadline = time.monotonic() + 10
        while node.eth.block_number <= result["new_head"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert node.eth.block_number > result["new_head"]
