"""With interval mining (Polygon-like 2 s blocks), admission sees pending transfers."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import MarketOrderArgsV2, OrderType, TradeParams

from sandbox.runtime import Sandbox, SandboxOptions

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]


@pytest.fixture(scope="module")
def slow_chain() -> Iterator[Sandbox]:
    with Sandbox(SandboxOptions(block_time_s=2)) as sb:
        yield sb


def test_sell_shares_bought_in_a_pending_block(slow_chain: Sandbox) -> None:
    info = slow_chain.info
    token = info["markets"][0]["tokens"][0]["token_id"]
    c = ClobClient(info["clob_url"], 137, key=info["accounts"]["demo"][0]["private_key"])
    c.set_api_creds(c.create_or_derive_api_key())
    bought = c.create_and_post_market_order(
        MarketOrderArgsV2(token_id=token, amount=5, side="BUY"), order_type=OrderType.FOK
    )
    sold = c.create_and_post_market_order(
        MarketOrderArgsV2(token_id=token, amount=5, side="SELL"), order_type=OrderType.FOK
    )
    assert bought["status"] == sold["status"] == "matched"
    assert bought["transactionsHashes"] and sold["transactionsHashes"]
    deadline = time.time() + 10
    while time.time() < deadline:
        statuses = {
            t["status"]
            for t in c.get_trades(TradeParams(market=info["markets"][0]["condition_id"]))
        }
        if statuses == {"CONFIRMED"}:
            break
        time.sleep(0.5)
    assert statuses == {"CONFIRMED"}
