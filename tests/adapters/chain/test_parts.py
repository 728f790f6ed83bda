"""The detection parts without a chain: wallet store batches, RPC failover and rate limits,
the poll schedule, log blooms, figures, and the activity's handling of retractions."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_utils.crypto import keccak
from temporalio.testing import ActivityEnvironment

from activities.fills import FillActivities
from adapters.chain.contracts import EXCHANGE_V3, FILL_EXCHANGES, ORDER_FILLED_TOPIC
from adapters.chain.detection.bloom import BLOOM_BYTES, bloom_bits, may_hold_fills
from adapters.chain.detection.heads import PollSchedule
from adapters.chain.detection.stats import read_stats, write_stats
from adapters.chain.detection.store import Rewind, WalletFills
from adapters.chain.rpc import RpcError, RpcPool, RpcUnavailable, TokenBucket
from adapters.ledger import Ledger
from control.pairs import PairRules, PairService
from projectk.messages import FillBatch, WaitForFillsInput
from projectk.models import FillCursor, Side, SourceFill

WALLET = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
T0 = datetime(2026, 11, 21, tzinfo=UTC)


def fill(block: int, index: int, wallet: str = WALLET) -> SourceFill:
    order_hash = f"0x{block:056x}{index:08x}"  # a source order of its own
    return SourceFill(
        fill_id=f"0x{block:064x}:{order_hash}",
        order_hash=order_hash,
        wallet=wallet,
        side=Side.BUY,
        token_id="1",
        shares_micro=5_000_000,
        notional_micro=2_000_000,
        price=Decimal("0.4"),
        tx_hash=f"0x{block:064x}",
        block_number=block,
        log_index=index,
        block_time=T0,
    )


# -- the wallet store -------------------------------------------------------------------------


def test_store_returns_fills_after_the_cursor_in_order_once_covered() -> None:
    store = WalletFills(WALLET)
    assert store.add([fill(12, 1), fill(10, 4), fill(10, 2), fill(10, 4)]) == 3
    assert store.batch_after(FillCursor(block=10), 10) is None  # not covered yet
    store.cover(10)
    batch = store.batch_after(FillCursor(block=10, log_index=2), 10)
    assert batch is not None
    assert [f.fill_id for f in batch.fills] == [fill(10, 4).fill_id, fill(12, 1).fill_id]
    assert batch.cursor == FillCursor(block=12, log_index=1) and batch.retracted == []
    assert store.batch_after(FillCursor(block=12, log_index=1), 10) is None
    assert store.batch_after(FillCursor(block=9), 10) is None  # older than the coverage
    limited = store.batch_after(FillCursor(block=10), 1)
    assert limited is not None and limited.cursor == FillCursor(block=10, log_index=2)


def test_rewind_reaches_only_pollers_that_may_have_seen_the_fill() -> None:
    store = WalletFills(WALLET)
    store.cover(10)
    store.add([fill(10, 1), fill(11, 3)])
    gone = store.drop_above(10)
    store.add([fill(12, 0)])  # the new branch
    store.add_rewind(Rewind(10, tuple((f.fill_id, f.cursor()) for f in gone), epoch=5))
    seen_it = store.batch_after(FillCursor(block=11, log_index=3), 10)
    assert seen_it is not None and seen_it.retracted == [fill(11, 3).fill_id]
    assert [f.fill_id for f in seen_it.fills] == [fill(12, 0).fill_id]
    assert seen_it.rewind_epoch == 5
    rewound = FillCursor(block=11, log_index=-1)
    assert store.batch_after(rewound, 10) == FillBatch(
        fills=[fill(12, 0)], cursor=fill(12, 0).cursor()
    )
    before = store.batch_after(FillCursor(block=10, log_index=1), 10)
    assert before is not None and before.retracted == []


def test_a_rewind_the_poller_acknowledged_is_not_handed_again() -> None:
    store = WalletFills(WALLET)
    store.cover(10)
    store.add([fill(10, 1), fill(11, 3)])
    gone = store.drop_above(10)
    store.add([fill(11, 0), fill(12, 0)])
    store.add_rewind(Rewind(10, tuple((f.fill_id, f.cursor()) for f in gone), epoch=5))
    past_it = FillCursor(block=12, log_index=0)  # where the poller is after applying it
    again = store.batch_after(past_it, 10)
    assert again is not None and again.retracted == [fill(11, 3).fill_id]  # not acknowledged
    assert store.batch_after(past_it, 10, acked=5) is None
    store.add([fill(13, 0)])
    assert store.batch_after(past_it, 10, acked=5) == FillBatch(
        fills=[fill(13, 0)], cursor=fill(13, 0).cursor()
    )
    with pytest.raises(ValueError, match="not after"):
        store.add_rewind(Rewind(9, (), epoch=5))  # epochs only grow


def test_a_rewind_names_the_older_ones_it_acknowledges() -> None:
    # The poller had fill(15, 0), then an older reorg moved it back to block 11; a later reorg
    # took fill(15, 0) while the poller was before it, and a newer one took fill(12, 0).
    store = WalletFills(WALLET)
    store.cover(10)
    store.add([fill(11, 0), fill(13, 0)])
    store.add_rewind(Rewind(14, ((fill(15, 0).fill_id, fill(15, 0).cursor()),), epoch=7))
    store.add_rewind(Rewind(11, ((fill(12, 0).fill_id, fill(12, 0).cursor()),), epoch=8))
    batch = store.batch_after(FillCursor(block=12, log_index=0), 10, acked=6)
    assert batch is not None and batch.rewind_epoch == 8
    assert batch.retracted == [fill(15, 0).fill_id, fill(12, 0).fill_id]
    assert batch.fills == [fill(13, 0)]  # from the fork the poller needs, not the older one's


async def test_waiters_wake_on_change() -> None:
    store = WalletFills(WALLET)
    waiter = asyncio.create_task(store.wait_changed(5))
    await asyncio.sleep(0)
    store.changed()
    await asyncio.wait_for(waiter, 1)


# -- RPC pool ---------------------------------------------------------------------------------


def transport(answers: dict[str, Any]) -> httpx.MockTransport:
    """Answer per host: "down" raises, an int is an HTTP status, a dict is the JSON reply."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = answers[request.url.host]
        if answer == "down":
            raise httpx.ConnectError("refused", request=request)
        if isinstance(answer, int):
            return httpx.Response(answer)
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, **answer})

    return httpx.MockTransport(handle)


async def test_failover_to_the_next_endpoint_and_back() -> None:
    answers: dict[str, Any] = {"a": "down", "b": {"result": "0x10"}}
    pool = RpcPool(["http://a", "http://b"], backoff_s=0, transport=transport(answers))
    assert await pool.call("eth_blockNumber", []) == "0x10"
    a, b = pool.stats()
    assert (a.errors, a.healthy, b.requests, b.healthy) == (1, False, 1, True)
    assert await pool.call("eth_blockNumber", []) == "0x10"
    assert pool.endpoints[0].requests == 1  # the dead one cools down instead of being retried
    answers["a"] = {"result": "0x11"}
    pool.endpoints[0].cooldown_until = 0
    pool.endpoints[0].score = 1.0
    assert await pool.call("eth_blockNumber", []) == "0x11"  # the preferred one recovers
    await pool.close()


async def test_rpc_requests_and_errors_reach_the_prometheus_counters() -> None:
    from adapters.metrics import RPC_ERRORS, RPC_REQUESTS

    before = RPC_REQUESTS.value(method="eth_chainId"), RPC_ERRORS.value(method="eth_chainId")
    answers: dict[str, Any] = {"a": "down", "b": {"result": "0x89"}}
    pool = RpcPool(["http://a", "http://b"], backoff_s=0, transport=transport(answers))
    assert await pool.call("eth_chainId", []) == "0x89"
    await pool.close()
    after = RPC_REQUESTS.value(method="eth_chainId"), RPC_ERRORS.value(method="eth_chainId")
    assert (after[0] - before[0], after[1] - before[1]) == (2, 1)


async def test_every_endpoint_down_raises_after_retries_and_node_errors_pass_through() -> None:
    answers: dict[str, Any] = {"a": 503, "b": "down"}
    pool = RpcPool(["http://a", "http://b"], attempts=3, backoff_s=0, transport=transport(answers))
    with pytest.raises(RpcUnavailable):
        await pool.call("eth_blockNumber", [])
    assert pool.total_requests == 3
    answers.update(a={"error": {"code": -32005, "message": "range too large"}})
    pool.endpoints[0].cooldown_until = pool.endpoints[1].cooldown_until = 0
    pool.endpoints[0].score = 1.0
    with pytest.raises(RpcError, match="range too large"):
        await pool.call("eth_getLogs", [{}])
    await pool.close()


async def test_token_bucket_limits_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=10, burst=2, clock=lambda: now[0])
    await bucket.acquire()
    await bucket.acquire()
    third = asyncio.create_task(bucket.acquire())
    await asyncio.sleep(0.02)
    assert not third.done()  # the burst is spent and no time passed
    now[0] = 0.1
    await asyncio.wait_for(third, 1)


# -- poll schedule --------------------------------------------------------------------------


def simulate(schedule: PollSchedule, interval: float, phase: float, blocks: int) -> list[float]:
    """Run the schedule against a chain making a block every `interval`; return lags."""
    now, number, lags, rng = 0.0, 0, [], random.Random(1)
    latency = 0.003
    schedule.latency = latency
    while len(lags) < blocks:
        overdue = 0
        while True:
            now += schedule.delay(now, overdue)
            head = int((now - phase) // interval) if now >= phase else -1
            if head > number or (number == 0 and head >= 0 and not lags):
                block_at = phase + head * interval
                schedule.on_head(now, head)
                lags.append(now + latency - block_at)
                number = head
                break
            schedule.on_empty(now)
            overdue += 1
            now += latency * rng.random()
    return lags


def test_schedule_locks_onto_the_block_rhythm() -> None:
    schedule = PollSchedule(block_time_s=2.0, fast_s=0.015)
    lags = simulate(schedule, interval=1.0, phase=0.37, blocks=60)
    settled = sorted(lags[20:])
    assert abs(schedule.interval - 1.0) < 0.01
    assert settled[len(settled) // 2] < 0.03 and settled[-1] < 0.06


# -- bloom --------------------------------------------------------------------------------------


def bloom_of(*values: bytes) -> bytes:
    bits = bytearray(BLOOM_BYTES)
    for value in values:
        for bit in bloom_bits(value):
            bits[BLOOM_BYTES - 1 - bit // 8] |= 1 << (bit % 8)
    return bytes(bits)


def test_bloom_rules_out_blocks_without_our_fills() -> None:
    exchange = bytes.fromhex("E111180000d2663C0091e4f400237545B87B996B")
    topic = bytes.fromhex(ORDER_FILLED_TOPIC[2:])
    ours = bytes(12) + bytes.fromhex(WALLET[2:])
    assert may_hold_fills(bloom_of(exchange, topic, ours), [WALLET])
    assert not may_hold_fills(bloom_of(exchange, topic), [WALLET])
    v3 = bytes.fromhex(EXCHANGE_V3[2:])  # a v2 market's fill
    assert may_hold_fills(bloom_of(v3, topic, ours), [WALLET])
    assert not may_hold_fills(bloom_of(topic, ours), [WALLET])  # another contract's event
    assert may_hold_fills(b"", [WALLET])  # no bloom: cannot rule anything out
    assert bloom_bits(b"") == bloom_bits(b"") and keccak(b"")  # cached and deterministic


# -- figures, activity, pair start ---------------------------------------------------------


def test_stats_file_round_trips(tmp_path: Path) -> None:
    from adapters.chain.detection.stats import DetectionStats

    stats = DetectionStats.model_validate(
        json.loads(
            json.dumps(
                {
                    **{
                        k: 0
                        for k in ("head_block", "synced_block", "head_lag_blocks", "blocks_seen")
                    },
                    **{k: 0 for k in ("rpc_requests", "rpc_errors", "wallets", "fills_detected")},
                    **{k: 0 for k in ("fills_retracted", "reorgs", "data_api_fallbacks")},
                    **{k: 0.0 for k in ("head_age_ms", "rpc_requests_per_block", "lag_ms_p50")},
                    **{k: 0.0 for k in ("lag_ms_p95", "poll_interval_ms")},
                    "head_mode": "poll",
                    "endpoints": [],
                    "updated_at": T0.isoformat(),
                }
            )
        )
    )
    write_stats(tmp_path / "d.json", stats)
    assert read_stats(tmp_path / "d.json") == stats
    assert read_stats(tmp_path / "missing.json") is None


class RetractingFeed:
    async def wait(
        self, source: str, cursor: FillCursor, timeout_s: float, rewind_epoch: int = 0
    ) -> FillBatch:
        return FillBatch(cursor=FillCursor(block=5), retracted=["0xabc:1"], rewind_epoch=7)


async def test_the_activity_returns_a_retraction_at_once() -> None:
    data = WaitForFillsInput(pair_id="p", source=WALLET, cursor=FillCursor(block=9), timeout_s=30)
    batch = await ActivityEnvironment().run(FillActivities(RetractingFeed()).wait_for_fills, data)
    assert batch.retracted == ["0xabc:1"] and batch.cursor == FillCursor(block=5)
    assert batch.rewind_epoch == 7  # the poller acknowledges it with its next poll


def test_a_new_pair_starts_after_the_chain_head(ledger: Ledger) -> None:
    rules = PairRules(budget_ceiling_micro=1, task_queue="q")
    service = PairService(None, ledger, None, rules, chain_head=lambda: 100)  # type: ignore[arg-type]
    assert service.latest_cursor(WALLET) == FillCursor(block=101)
    ledger.record_fill(fill(150, 2))
    assert service.latest_cursor(WALLET) == FillCursor(block=150, log_index=2)
    plain = PairService(None, ledger, None, rules)  # type: ignore[arg-type]
    assert plain.latest_cursor(WALLET) == FillCursor(block=150, log_index=2)


# -- log reader ---------------------------------------------------------------------------------


async def test_log_reader_chunks_blocks_and_wallets_and_shrinks_on_refusal() -> None:
    from adapters.chain.detection.logs import LogReader, LogsUnavailable

    queries: list[dict[str, Any]] = []
    refuse_over = [10_000]

    def answer(call: dict[str, Any]) -> dict[str, Any]:
        if call["method"] == "eth_blockNumber":  # asked with each range: the node is at 1000
            return {"jsonrpc": "2.0", "id": call["id"], "result": hex(1000)}
        query = call["params"][0]
        queries.append(query)
        span = int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1
        if span > refuse_over[0]:
            error = {"code": -32005, "message": "query returned more than 10000 results"}
            return {"jsonrpc": "2.0", "id": call["id"], "error": error}
        return {"jsonrpc": "2.0", "id": call["id"], "result": []}

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[answer(call) for call in json.loads(request.content)])

    pool = RpcPool(["http://node"], transport=httpx.MockTransport(handle))
    reader = LogReader(pool, max_block_range=100, max_wallets=2)
    wallets = [f"0x{i:040x}" for i in range(1, 6)]
    assert await reader.fetch(1, 250, wallets) == []
    assert len(queries) == 3 * 3  # 3 wallet chunks x 3 block chunks
    assert {len(q["topics"][2]) for q in queries} == {2, 1}
    exchanges = {address.lower() for address in FILL_EXCHANGES}
    assert all(q["topics"][0] == ORDER_FILLED_TOPIC for q in queries)
    assert all(set(q["address"]) == exchanges for q in queries)  # ExchangeV3 too: v2 markets
    queries.clear()
    refuse_over[0] = 30
    await reader.fetch(1, 100, wallets[:1])
    assert reader.max_block_range <= 30  # it learned the node's limit
    queries.clear()
    await reader.fetch(101, 200, wallets[:1])
    assert max(int(q["toBlock"], 16) - int(q["fromBlock"], 16) + 1 for q in queries) <= 30
    refuse_over[0] = 0
    with pytest.raises(LogsUnavailable):
        await reader.fetch(5, 5, wallets[:1])
    await pool.close()


def test_sandbox_mode_reads_the_running_sandboxs_urls(tmp_path: Path) -> None:
    from adapters.endpoints import resolve_endpoints as chain_settings
    from projectk.settings import load_settings

    (tmp_path / "sandbox").mkdir()
    ready = {"rpc_url": "http://127.0.0.1:1234", "data_api_url": "http://127.0.0.1:9/data-api"}
    (tmp_path / "sandbox" / "ready.json").write_text(json.dumps(ready))
    found = chain_settings(load_settings(data_dir=tmp_path, executor_mode="sandbox"))
    assert (found.rpc_urls, found.data_api_url) == ([ready["rpc_url"]], ready["data_api_url"])
    chosen = load_settings(data_dir=tmp_path, executor_mode="sandbox", rpc_urls="http://a:1")
    assert chain_settings(chosen).rpc_urls == ["http://a:1"]  # the CLOB is not the sandbox's
    live = load_settings(data_dir=tmp_path, executor_mode="live")
    assert chain_settings(live) is live


def test_sandbox_mode_reads_the_chain_as_the_venue_serves_it(tmp_path: Path) -> None:
    from adapters.endpoints import resolve_endpoints
    from projectk.settings import load_settings

    (tmp_path / "sandbox").mkdir()
    ready = {"rpc_url": "http://127.0.0.1:1234", "rpc_proxy_url": "http://127.0.0.1:1235/rpc"}
    (tmp_path / "sandbox" / "ready.json").write_text(json.dumps(ready))
    found = resolve_endpoints(load_settings(data_dir=tmp_path, executor_mode="sandbox"))
    assert found.rpc_urls == [ready["rpc_proxy_url"]]  # where the sandbox's RPC faults apply


def test_trading_on_the_running_sandbox_reads_its_chain_whatever_rpc_urls_say(
    tmp_path: Path,
) -> None:
    from adapters.endpoints import resolve_endpoints
    from projectk.settings import load_settings

    (tmp_path / "sandbox").mkdir()
    ready = {"rpc_url": "http://127.0.0.1:1234", "clob_url": "http://127.0.0.1:1235"}
    (tmp_path / "sandbox" / "ready.json").write_text(json.dumps(ready))
    stale = load_settings(data_dir=tmp_path, executor_mode="sandbox", rpc_urls="http://a:1")
    resolved = resolve_endpoints(stale)
    assert (resolved.rpc_urls, resolved.sandbox_clob_url) == ([ready["rpc_url"]], ready["clob_url"])
    assert resolve_endpoints(resolved) == resolved
    other = load_settings(
        data_dir=tmp_path,
        executor_mode="sandbox",
        rpc_urls="http://a:1",
        sandbox_clob_url="http://a:2",  # another sandbox's CLOB: its chain is the operator's
    )
    assert resolve_endpoints(other).rpc_urls == ["http://a:1"]


async def test_the_worker_uses_the_chain_tail_when_a_chain_is_read(
    tmp_path: Path, ledger: Ledger
) -> None:
    from adapters.chain.detection.feed import ChainFillFeed
    from adapters.ledger.feed import LedgerFillFeed
    from projectk.settings import load_settings
    from workers.main import build_feed

    for mode, kind in (
        ("paper", LedgerFillFeed),
        ("sandbox", ChainFillFeed),
        ("live", ChainFillFeed),
    ):
        settings = load_settings(data_dir=tmp_path, executor_mode=mode)
        rpc = RpcPool(settings.rpc_urls)
        feed = build_feed(settings, ledger, rpc)
        assert isinstance(feed, kind)
        if isinstance(feed, ChainFillFeed):
            assert feed.tail.rpc is rpc  # the worker's one pool
        await rpc.close()
