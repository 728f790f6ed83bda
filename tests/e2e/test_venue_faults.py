"""The fault matrix: the real worker process (`projectk worker`, sandbox mode: chain tail through
the sandbox's RPC endpoint, CLOB venue, vault, ledger) against each way the live venue
misbehaves, switched on in the sandbox at run time while a pair mirrors a source's BUY and SELL.

For every fault: exactly one order flow per source decision (both FILLED), the BUY spends no more
than the pair's fixed amount, and the books (ledger executions, the pair's `state`) match the
follower's CLOB trades and its balance on chain, with nothing left resting.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, OrderMarketCancelParams
from py_clob_client_v2.exceptions import PolyApiException
from temporalio.testing import WorkflowEnvironment
from web3 import Web3

from adapters.ledger import Ledger, OrderStatus, create_ledger_engine
from adapters.vault import Vault
from projectk.models import MICRO, FillCursor, Guards, PairState, Side, Sizing
from sandbox.runtime import Sandbox
from tests.e2e.real_worker import (
    Trader,
    check_books,
    running_worker,
    settled,
    vault_follower,
    worker_env,
)
from tests.temporal_env import env_address
from tests.venue_sandbox import Market
from tests.workflows.harness import pair_config, start_pair, wait_state

pytestmark = [pytest.mark.sandbox, pytest.mark.devserver, pytest.mark.slow]

MAKER = 2
FAULTS: dict[str, dict[str, Any]] = {
    "trades-indexed-late": {"trades_delay_s": 4.0},
    "matched-missing-from-lookup": {"hide_matched_taker": True},
    "closed-missing-from-lookup": {"hide_closed": True},
    "post-answer-lost": {"post_lost_rate": 1.0},
    "lost-unlisted-and-late": {
        "post_lost_rate": 1.0,
        "hide_matched_taker": True,
        "trades_delay_s": 4.0,
    },
    "rpc-node-lagging": {"rpc_lag_blocks": 3, "rpc_lag_rate": 0.5},
}


@pytest.fixture(scope="module")
def worker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's worker data directory (its ledger and log)."""
    return Path(tmp_path_factory.mktemp("venue-faults"))


@pytest.fixture(scope="module")
def worker_queue(
    dev_env: WorkflowEnvironment, sandbox: Sandbox, vault: Vault, worker_dir: Path
) -> Iterator[str]:
    """Run one real worker for the module's pairs; yield its task queue."""
    queue = f"vf-{uuid.uuid4().hex[:10]}"
    env = worker_env(worker_dir, sandbox, vault, env_address(dev_env), queue)
    with running_worker(env, worker_dir / "worker.log"):
        yield queue


@pytest.fixture(scope="module")
def worker_ledger(worker_dir: Path, worker_queue: str) -> Iterator[Ledger]:
    """The ledger the module's worker writes (migrated by the worker at start)."""
    engine = create_ledger_engine(f"sqlite:///{worker_dir / 'ledger.db'}")
    yield Ledger(engine)
    engine.dispose()


def buy_side_liquidity(maker: ClobClient, market: Market) -> None:
    maker.create_and_post_order(_order(market.yes, "SELL", 0.50, 40))


def sell_side_liquidity(maker: ClobClient, market: Market) -> None:
    # Placed while the fault is on: a lost answer is no error (the bid rests all the same).
    maker.cancel_market_orders(OrderMarketCancelParams(asset_id=market.yes))
    with contextlib.suppress(PolyApiException):
        maker.create_and_post_order(_order(market.yes, "BUY", 0.48, 40))


def _order(token: str, side: str, price: float, size: float) -> OrderArgsV2:
    return OrderArgsV2(token_id=token, price=price, size=size, side=side)


@pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
async def test_with_the_venue_misbehaving_each_source_order_is_mirrored_once_and_books_match(
    dev_env: WorkflowEnvironment,
    sandbox: Sandbox,
    vault: Vault,
    worker_queue: str,
    worker_ledger: Ledger,
    worker_dir: Path,
    client_for: Callable[[int], ClobClient],
    market: Market,
    give_shares: Callable[[Market, int, int], None],
    faults: Sandbox,
    fault: str,
) -> None:
    w3 = Web3(Web3.HTTPProvider(sandbox.info["rpc_url"]))
    give_shares(market, MAKER, 60)
    buy_side_liquidity(client_for(MAKER), market)
    source = Trader.fresh(sandbox)
    follower, key_ref = vault_follower(sandbox, vault)
    pair_id = f"vf-{fault}-{uuid.uuid4().hex[:6]}"
    config = pair_config(
        pair_id,
        source=source.address,
        follower=follower.address,
        key_ref=key_ref,
        budget_micro=50 * MICRO,
        sizing=Sizing(fixed_micro=5 * MICRO),
        guards=Guards(max_fill_age_s=600),
        order_deadline_s=8,
    )
    start = FillCursor(block=w3.eth.block_number)
    handle = await start_pair(dev_env.client, worker_queue, config, start_cursor=start)
    try:
        faults.set_faults(**FAULTS[fault])
        source.trade(market.yes, "BUY", 0.50, 10)
        bought = await wait_state(
            handle, lambda s: s.mirrors_started == 1 and s.fills_seen == 1 and settled(s), 180
        )
        assert bought.positions[market.yes].shares_micro > 0, _log_tail(worker_dir)
        sell_side_liquidity(client_for(MAKER), market)
        source.trade(market.yes, "SELL", 0.48, 10)
        state: PairState = await wait_state(
            handle, lambda s: s.mirrors_started == 2 and s.fills_seen == 2 and settled(s), 180
        )
    except AssertionError as err:
        raise AssertionError(f"{err}\n--- worker log ---\n{_log_tail(worker_dir)}") from None
    finally:
        faults.set_faults(reset=True)
        await handle.terminate("test over")
    orders = [
        o for o in worker_ledger.list_orders(pair_id=pair_id) if o.status is not OrderStatus.SKIPPED
    ]
    assert sorted((o.side, o.status) for o in orders) == [
        (Side.BUY, OrderStatus.FILLED),
        (Side.SELL, OrderStatus.FILLED),
    ], [(o.side, o.status, o.reason) for o in orders]
    executions = worker_ledger.list_executions(pair_id=pair_id)
    spent = sum(e.notional_micro for e in executions if e.side is Side.BUY)
    assert 0 < spent <= 5 * MICRO
    check_books(state, worker_ledger, pair_id, follower, market.yes, w3)
    assert market.yes not in state.positions  # the source sold all of it; so did the follower


def _log_tail(worker_dir: Path, lines: int = 60) -> str:
    log = worker_dir / "worker.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])
