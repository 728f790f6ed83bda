"""Reorgs under the real worker (`projectk worker`, sandbox mode, its chain tail reading through
the sandbox's RPC endpoint), on a sandbox of their own (rolling back the shared one would move
other tests' blocks).

- A reorg that re-includes the source's BUY (same transaction, later block): the pair mirrors it
  once, never twice, and raises no reorg alert for a fill that is still there.
- A reorg that drops the source's BUY after it was mirrored (the follower's own trade is
  re-included): the pair hears of it exactly once (one reorg alert), keeps what the follower
  holds on chain, and goes on mirroring the source's next order.

Both end with the books (ledger, `state`) equal to the follower's CLOB trades and its balance.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2
from temporalio.testing import WorkflowEnvironment
from web3 import Web3
from web3.exceptions import TransactionNotFound

from adapters.ledger import Ledger, OrderStatus, create_ledger_engine
from adapters.vault import Vault
from projectk.models import MICRO, AlertKind, FillCursor, Guards, Sizing
from sandbox.runtime import Sandbox, SandboxOptions
from tests.e2e.real_worker import (
    CHAIN_ID,
    Trader,
    check_books,
    running_worker,
    settled,
    vault_follower,
    worker_env,
)
from tests.sandbox_env import Market, unquoted_market
from tests.temporal_env import env_address
from tests.workflows.harness import eventually, pair_config, start_pair, wait_state

pytestmark = [pytest.mark.sandbox, pytest.mark.devserver, pytest.mark.slow]


@pytest.fixture(scope="module")
def own_sandbox() -> Iterator[Sandbox]:
    """A sandbox for this module alone (no market maker, no demo markets)."""
    options = SandboxOptions(block_time_s=0, market_maker=False, demo_markets=False)
    with Sandbox(options) as sb:
        yield sb


@pytest.fixture(scope="module")
def reorg_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("reorg-e2e"))


@pytest.fixture(scope="module")
def reorg_queue(
    dev_env: WorkflowEnvironment, own_sandbox: Sandbox, vault: Vault, reorg_dir: Path
) -> Iterator[str]:
    """Run one real worker on the module's sandbox; yield its task queue."""
    queue = f"rg-{uuid.uuid4().hex[:10]}"
    env = worker_env(reorg_dir, own_sandbox, vault, env_address(dev_env), queue)
    with running_worker(env, reorg_dir / "worker.log"):
        yield queue


@pytest.fixture(scope="module")
def reorg_ledger(reorg_dir: Path, reorg_queue: str) -> Iterator[Ledger]:
    engine = create_ledger_engine(f"sqlite:///{reorg_dir / 'ledger.db'}")
    yield Ledger(engine)
    engine.dispose()


class Scene:
    """A fresh market with a maker's asks, a fresh source and follower, and their pair."""

    def __init__(self, sb: Sandbox, vault: Vault) -> None:
        self.sb = sb
        self.w3 = Web3(Web3.HTTPProvider(sb.info["rpc_url"]))
        self.market: Market = unquoted_market(sb, "rg", "Reorg e2e")
        maker = sb.info["accounts"]["demo"][2]  # unlocked: the sandbox can split for it
        sb.split(self.market.condition_id, maker["address"], "60")
        client = ClobClient(sb.info["clob_url"], CHAIN_ID, key=maker["private_key"])
        client.set_api_creds(client.create_or_derive_api_key())
        client.create_and_post_order(
            OrderArgsV2(token_id=self.market.yes, price=0.50, size=60, side="SELL")
        )
        self.source = Trader.fresh(sb)
        self.follower, self.key_ref = vault_follower(sb, vault)
        self.pair_id = f"rg-{uuid.uuid4().hex[:8]}"

    def source_buys(self, size: float) -> str:
        """The source buys at 0.50; return the settlement transaction's hash."""
        order = self.source.client.create_order(
            OrderArgsV2(token_id=self.market.yes, price=0.50, size=size, side="BUY")
        )
        answer: dict[str, Any] = self.source.client.post_order(order, "FAK")
        [tx] = answer["transactionsHashes"]
        self.w3.eth.wait_for_transaction_receipt(tx, timeout=30)
        return str(tx)

    def block_of(self, tx: str) -> int:
        return int(self.w3.eth.get_transaction_receipt(tx)["blockNumber"])


async def start(scene: Scene, dev_env: WorkflowEnvironment, queue: str) -> Any:
    config = pair_config(
        scene.pair_id,
        source=scene.source.address,
        follower=scene.follower.address,
        key_ref=scene.key_ref,
        budget_micro=50 * MICRO,
        sizing=Sizing(fixed_micro=5 * MICRO),
        guards=Guards(max_fill_age_s=600),
    )
    cursor = FillCursor(block=scene.w3.eth.block_number)
    return await start_pair(dev_env.client, queue, config, start_cursor=cursor)


def reorg_alerts(ledger: Ledger, pair_id: str) -> list[Any]:
    return [
        a for a in ledger.list_alerts() if a.kind == AlertKind.REORG.value and a.pair_id == pair_id
    ]


async def test_a_reorg_that_reincludes_the_source_buy_is_mirrored_once(
    dev_env: WorkflowEnvironment,
    own_sandbox: Sandbox,
    vault: Vault,
    reorg_queue: str,
    reorg_ledger: Ledger,
) -> None:
    scene = Scene(own_sandbox, vault)
    handle = await start(scene, dev_env, reorg_queue)
    try:
        tx = scene.source_buys(10)
        await wait_state(handle, lambda s: s.mirrors_started == 1 and settled(s), 120)
        old_block = scene.block_of(tx)
        head = scene.w3.eth.block_number
        moved = own_sandbox.reorg(head - old_block + 1)
        assert moved["reincluded"][tx] == tx  # the same transaction, now in a later block
        assert scene.block_of(tx) > old_block
        # The tail has read the new branch once the ledger has the fill at its new block.
        await eventually(
            lambda: any(
                f.block_number == scene.block_of(tx) and f.tx_hash == tx
                for f in reorg_ledger.list_fills()
            ),
            60,
        )
        await asyncio.sleep(3)  # room for a wrong second mirror to start
        state = await wait_state(handle, settled, 60)
    finally:
        await handle.terminate("test over")
    assert state.mirrors_started == 1
    orders = [
        o
        for o in reorg_ledger.list_orders(pair_id=scene.pair_id)
        if o.status is not OrderStatus.SKIPPED
    ]
    assert [o.status for o in orders] == [OrderStatus.FILLED]
    assert len(reorg_alerts(reorg_ledger, scene.pair_id)) <= 1
    check_books(state, reorg_ledger, scene.pair_id, scene.follower, scene.market.yes, scene.w3)


async def test_a_reorg_that_drops_a_mirrored_source_buy_is_heard_once_and_books_hold(
    dev_env: WorkflowEnvironment,
    own_sandbox: Sandbox,
    vault: Vault,
    reorg_queue: str,
    reorg_ledger: Ledger,
) -> None:
    scene = Scene(own_sandbox, vault)
    handle = await start(scene, dev_env, reorg_queue)
    try:
        doomed = scene.source_buys(10)
        await wait_state(handle, lambda s: s.mirrors_started == 1 and settled(s), 120)
        held = scene.w3.eth.block_number
        result = own_sandbox.reorg(held - scene.block_of(doomed) + 1, drop=(doomed,))
        assert result["dropped"] == [doomed]
        with pytest.raises(TransactionNotFound):
            scene.w3.eth.get_transaction_receipt(doomed)
        await eventually(lambda: len(reorg_alerts(reorg_ledger, scene.pair_id)) == 1, 60)
        scene.source_buys(10)  # the pair is not stuck: the next source order is mirrored
        state = await wait_state(handle, lambda s: s.mirrors_started == 2 and settled(s), 120)
        await asyncio.sleep(3)  # a second alert or a repeated retraction would show by now
    finally:
        await handle.terminate("test over")
    assert len(reorg_alerts(reorg_ledger, scene.pair_id)) == 1
    fills = reorg_ledger.list_fills(include_retracted=True)
    [gone] = [f for f in fills if f.tx_hash == doomed]
    assert gone.retracted_at is not None
    check_books(state, reorg_ledger, scene.pair_id, scene.follower, scene.market.yes, scene.w3)
