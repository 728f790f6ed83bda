"""The real worker process (`projectk worker`, sandbox mode) for end-to-end tests, fresh funded
wallets to trade as, and the check that the books (ledger, the pair's `state`) match the chain
and the CLOB.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, OrderType
from py_clob_client_v2.exceptions import PolyApiException
from web3 import Web3

from adapters.ledger import Ledger, OrderStatus
from adapters.vault import Vault
from projectk.models import PairState
from sandbox.runtime import Sandbox
from tests.e2e.sandbox_flow import balance, follower_trades, order_ids_of
from tests.venue_sandbox import PASSPHRASE

CHAIN_ID = 137


def worker_env(tmp: Path, sb: Sandbox, vault: Vault, address: str, queue: str) -> dict[str, str]:
    """Return the environment of a sandbox-mode worker reading the chain as the venue serves it
    (the sandbox's RPC endpoint, where its RPC faults apply)."""
    return {
        **os.environ,
        "PROJECTK_DATA_DIR": str(tmp),
        "PROJECTK_DB_URL": f"sqlite:///{tmp / 'ledger.db'}",
        "PROJECTK_EXECUTOR_MODE": "sandbox",
        "PROJECTK_SANDBOX_CLOB_URL": sb.info["clob_url"],
        "PROJECTK_RPC_URLS": sb.info["rpc_proxy_url"],
        "PROJECTK_VAULT_PATH": str(vault.path),
        "PROJECTK_VAULT_PASSPHRASE": PASSPHRASE,
        "PROJECTK_TEMPORAL_ADDRESS": address,
        "PROJECTK_TEMPORAL_TASK_QUEUE": queue,
    }


@contextlib.contextmanager
def running_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `projectk worker` with this environment until the block ends (SIGTERM, then wait)."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "worker"], env=env, stdout=out, stderr=out
        )
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclass(frozen=True)
class Trader:
    """A fresh funded, approved wallet with its own CLOB client (a source or a follower)."""

    address: str
    private_key: str
    client: ClobClient

    @classmethod
    def fresh(cls, sb: Sandbox, pusd: str = "100") -> Trader:
        """Create, fund (pUSD and POL) and approve a wallet; derive its CLOB API key."""
        account = Account.create()
        sb.fund(account.address, pusd=pusd, pol="1", approve=True)
        key = account.key.hex()
        client = ClobClient(sb.info["clob_url"], CHAIN_ID, key=key)
        client.set_api_creds(client.create_or_derive_api_key())
        return cls(account.address, key, client)

    def trade(self, token: str, side: str, price: float, size: float) -> None:
        """Take liquidity with a FAK order; an answer the venue lost is not an error here (the
        sandbox processed the order; the worker sees the fill on chain)."""
        order = self.client.create_order(
            OrderArgsV2(token_id=token, price=price, size=size, side=side)
        )
        with contextlib.suppress(PolyApiException):
            self.client.post_order(order, OrderType.FAK)

    def rest(self, token: str, side: str, price: float, size: float) -> None:
        """Place a resting GTC order."""
        order = self.client.create_order(
            OrderArgsV2(token_id=token, price=price, size=size, side=side)
        )
        self.client.post_order(order, OrderType.GTC)


def vault_follower(sb: Sandbox, vault: Vault) -> tuple[Trader, str]:
    """Return a fresh funded follower and its key_ref in the test vault."""
    follower = Trader.fresh(sb, pusd="50")
    name = f"f{uuid.uuid4().hex[:12]}"
    vault.add(name, follower.private_key, PASSPHRASE)
    return follower, f"vault://{name}"


def settled(state: PairState) -> bool:
    """True when nothing is in flight and no source order waits for a decision."""
    return not state.in_flight and all(not order.undecided for order in state.orders.values())


def check_books(
    state: PairState, ledger: Ledger, pair_id: str, follower: Trader, token: str, w3: Web3
) -> dict[str, Any]:
    """Assert the books match the CLOB and the chain; return a summary for messages.

    Every CLOB trade of the follower is one ledger execution (and no other), the executions sum
    to the pair's position, which is the follower's balance on chain, and nothing rests.
    """
    orders = [o for o in ledger.list_orders(pair_id=pair_id) if o.status is not OrderStatus.SKIPPED]
    executions = ledger.list_executions(pair_id=pair_id)
    trades = follower_trades(follower.client, token)
    assert sorted(e.trade_id for e in executions) == sorted(t["id"] for t in trades), (
        executions,
        trades,
    )
    assert order_ids_of(trades, follower.address) == {e.order_id for e in executions}
    bought = sum(e.shares_micro for e in executions if e.side.value == "BUY")
    sold = sum(e.shares_micro for e in executions if e.side.value == "SELL")
    held = state.positions[token].shares_micro if token in state.positions else 0
    assert held == bought - sold == balance(w3, follower.address, token), (held, bought, sold)
    assert [o for o in follower.client.get_open_orders() if o["asset_id"] == token] == []
    return {"orders": [(o.side.value, o.status.value) for o in orders], "held": held}
