"""The real worker process (`projectk worker`, sandbox mode: chain tail, CLOB venue, vault, ledger)
killed with SIGKILL while a mirror flow signs, posts or follows its order, then restarted: the
source fill still gets exactly one order flow, the ledger keeps every row, and the books match
the CLOB and the chain.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2
from temporalio.testing import WorkflowEnvironment
from web3 import Web3

from adapters.ledger import Ledger, OrderStatus, create_ledger_engine, upgrade
from adapters.vault import Vault
from projectk.contract import mirror_workflow_id
from projectk.models import MICRO, FillCursor, Guards, OrderType, Sizing
from sandbox.runtime import Sandbox
from tests.e2e.sandbox_flow import balance, follower_trades, order_ids_of, trade
from tests.temporal_env import env_address
from tests.venue_sandbox import PASSPHRASE, Follower, Market
from tests.workflows.harness import eventually, pair_config, start_pair, wait_state

pytestmark = [pytest.mark.sandbox, pytest.mark.devserver, pytest.mark.slow]

Clients = Callable[[int], ClobClient]
Give = Callable[[Market, int, int], None]
SOURCE, MAKER = 0, 2
SLOW_PATHS = {"sign": "/auth", "post": "/order"}


def ledger_dump(tmp: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp.glob("ledger.db*"))


def in_state(ledger: Ledger, pair_id: str, status: OrderStatus) -> bool:
    return any(o.status is status for o in ledger.list_orders(pair_id=pair_id))


def spawn(
    tmp: Path, sb: Sandbox, vault: Vault, address: str, queue: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PROJECTK_DATA_DIR": str(tmp),
        "PROJECTK_DB_URL": f"sqlite:///{tmp / 'ledger.db'}",
        "PROJECTK_EXECUTOR_MODE": "sandbox",
        "PROJECTK_SANDBOX_CLOB_URL": sb.info["clob_url"],
        "PROJECTK_RPC_URLS": sb.info["rpc_url"],
        "PROJECTK_VAULT_PATH": str(vault.path),
        "PROJECTK_VAULT_PASSPHRASE": PASSPHRASE,
        "PROJECTK_TEMPORAL_ADDRESS": address,
        "PROJECTK_TEMPORAL_TASK_QUEUE": queue,
    }
    log = (tmp / "worker.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "worker"], env=env, stdout=log, stderr=log
    )


@pytest.mark.parametrize("window", ["sign", "post", "follow"])
async def test_worker_killed_mid_order_flow_repeats_and_loses_nothing(
    dev_env: WorkflowEnvironment,
    task_queue: str,
    tmp_path: Path,
    sandbox: Sandbox,
    vault: Vault,
    client_for: Clients,
    market: Market,
    give_shares: Give,
    faults: Sandbox,
    fresh_follower: Follower,
    window: str,
) -> None:
    demo = sandbox.info["accounts"]["demo"]
    wallet = fresh_follower.address
    follower_client = ClobClient(sandbox.info["clob_url"], 137, key=fresh_follower.private_key)
    follower_client.set_api_creds(follower_client.create_or_derive_api_key())
    w3 = Web3(Web3.HTTPProvider(sandbox.info["rpc_url"]))
    engine = create_ledger_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
    ledger = Ledger(engine)
    give_shares(market, MAKER, 30)
    resting = window == "follow"  # a GTC order that rests on a thin book until its deadline
    client_for(MAKER).create_and_post_order(
        OrderArgsV2(token_id=market.yes, price=0.50, size=13 if resting else 30, side="SELL")
    )
    address = env_address(dev_env)
    proc = spawn(tmp_path, sandbox, vault, address, task_queue)
    try:
        config = pair_config(
            task_queue,
            source=demo[SOURCE]["address"],
            follower=wallet,
            key_ref=fresh_follower.key_ref,
            sizing=Sizing(fixed_micro=5 * MICRO),
            guards=Guards(max_fill_age_s=600),
            order_type=OrderType.GTC if resting else OrderType.FAK,
            order_deadline_s=8,
        )
        start = FillCursor(block=w3.eth.block_number)
        handle = await start_pair(dev_env.client, task_queue, config, start_cursor=start)
        if window in SLOW_PATHS:  # sign (opening the wallet's CLOB client) or post hangs
            faults.set_faults(latency_ms=3000, paths=[SLOW_PATHS[window]])
        trade(client_for(SOURCE), market.yes, "BUY", 0.50, 10)
        awaited = OrderStatus.POSTED if resting else OrderStatus.INTENT
        await eventually(lambda: in_state(ledger, task_queue, awaited), 30)
        await asyncio.sleep(1.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        faults.set_faults(reset=True)
        proc = spawn(tmp_path, sandbox, vault, address, task_queue)
        state = await wait_state(
            handle, lambda s: s.mirrors_started == 1 and not s.in_flight, timeout_s=90
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        faults.set_faults(reset=True)
    [order] = ledger.list_orders(pair_id=task_queue)
    assert order.status is (OrderStatus.PARTIAL if resting else OrderStatus.FILLED)
    executions = ledger.list_executions(pair_id=task_queue)
    trades = follower_trades(follower_client, market.yes)
    assert order_ids_of(trades, wallet) == {e.order_id for e in executions} == {order.order_id}
    assert sorted(e.trade_id for e in executions) == sorted(t["id"] for t in trades)
    held = state.positions[market.yes].shares_micro
    assert held == sum(e.shares_micro for e in executions) == balance(w3, wallet, market.yes)
    assert [o for o in follower_client.get_open_orders() if o["asset_id"] == market.yes] == []
    engine.dispose()
    child = mirror_workflow_id(task_queue, order.decision_id)
    history = (await dev_env.client.get_workflow_handle(child).fetch_history()).to_json()
    key = fresh_follower.private_key.lower().removeprefix("0x")
    for text in (history, (tmp_path / "worker.log").read_text(), str(ledger_dump(tmp_path))):
        assert key not in text.lower()  # the key is in no history, log line or ledger row
        assert PASSPHRASE not in text
