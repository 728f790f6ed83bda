"""The dashboard's pure parts: PnL, overview rows and banners, system checks, the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from adapters.chain import endpoint_of, probe_rpc
from adapters.chain.detection.stats import DetectionStats, EndpointStats
from adapters.ledger.records import AlertRecord, OrderRecord, OrderStatus
from adapters.ledger.summaries import PairSummary, PairTotals, TokenMark, TokenTotals
from adapters.temporal import Poller, TaskKind
from cli import main
from cli.dashboard import is_loopback, streamlit_command
from dashboard.books import pair_pnl, replay, token_position
from dashboard.checks import (
    freshness_check,
    ledger_identity_check,
    tail_check,
    workers_check,
)
from dashboard.format import age, short_address
from dashboard.overview import banners, build_rows
from dashboard.tables import in_flight_rows, order_rows
from dashboard.temporal_reads import PairListing
from projectk import books
from projectk.health import Health
from projectk.models import (
    MICRO,
    AlertLevel,
    InFlight,
    MirrorOutcome,
    MirrorReport,
    PairState,
    PairStatus,
    Position,
    Side,
)
from tests.workflows.harness import pair_config

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
LEDGER_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def _order(n: int, side: Side, shares: int, notional: int, fee: int = 0) -> OrderRecord:
    return OrderRecord(
        id=n,
        pair_id="p1",
        decision_id=f"f{n}",
        token_id="t",
        side=side,
        status=OrderStatus.FILLED,
        filled_shares_micro=shares,
        notional_micro=notional,
        fee_micro=fee,
        created_at=NOW + timedelta(minutes=n),
        updated_at=NOW + timedelta(minutes=n),
    )


def test_replay_uses_average_cost_like_the_pairs_books() -> None:
    orders = [
        _order(1, Side.BUY, 10 * MICRO, 4 * MICRO),
        _order(2, Side.BUY, 10 * MICRO, 6 * MICRO),
        _order(3, Side.SELL, 5 * MICRO, 4 * MICRO, fee=MICRO // 10),
    ]
    points = replay(orders)
    assert [p.spent_micro for p in points] == [4 * MICRO, 10 * MICRO, 6_100_000]
    assert points[-1].realized_micro == 3_900_000 - 2_500_000  # proceeds - 5 shares at 0.50
    totals = TokenTotals(
        pair_id="p1",
        token_id="t",
        bought_shares_micro=20 * MICRO,
        bought_micro=10 * MICRO,
        sold_shares_micro=5 * MICRO,
        sold_micro=3_900_000,
    )
    held, realized = token_position(totals)
    assert realized == points[-1].realized_micro  # buys before sells: both agree
    assert (held.shares_micro, held.cost_micro) == (15 * MICRO, 7_500_000)
    mark = TokenMark(token_id="t", price=Decimal("0.6"), block_number=1, log_index=0)
    pnl = pair_pnl([totals], {"t": mark})
    assert pnl.marked_micro == 9 * MICRO - 7_500_000
    assert pair_pnl([totals], {}).marked_micro == 0  # no price known: marked at cost


def test_in_flight_rows_name_each_source_order_and_what_it_holds_back() -> None:
    order = "0x" + "ab" * 32

    def flight(decision_id: str, side: Side, reserved: int, seconds: int) -> InFlight:
        return InFlight(
            decision_id=decision_id,
            workflow_id=f"mirror/p1/{decision_id}",
            side=side,
            token_id="t",
            reserved_micro=reserved,
            started_at=NOW + timedelta(seconds=seconds),
            order_key=decision_id.split("/")[0],
            fill_ids=["f1", "f2"],
        )

    top_up, sell = flight(f"{order}/2", Side.BUY, 5 * MICRO, 5), flight(order, Side.SELL, 0, 1)
    rows = in_flight_rows({top_up.decision_id: top_up, sell.decision_id: sell})
    assert [(r["Source order"], r["Side"], r["Reserved (pUSD)"]) for r in rows] == [
        (order, "SELL", "0.00"),  # oldest first; a sell holds back no budget
        (f"{order}/2", "BUY", "5.00"),
    ]
    assert rows[0]["Started"] == "2026-11-21 12:00:01 UTC" and rows[1]["Source fills"] == 2
    assert in_flight_rows({}) == []


def test_order_rows_show_the_source_order_of_each_decision_and_skip() -> None:
    order = "0x" + "cd" * 32
    decision = _order(1, Side.BUY, MICRO, MICRO // 2).model_copy(
        update={"decision_id": f"{order}/2", "order_hash": order}
    )
    [row] = order_rows([decision], with_pair=True)
    assert (row["Pair"], row["Source order"], row["Status"]) == ("p1", f"{order}/2", "filled")


FILLS = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(min_value=0, max_value=50 * MICRO),  # shares
        st.integers(min_value=0, max_value=50 * MICRO),  # notional
        st.integers(min_value=0, max_value=MICRO),  # fee
    ),
    max_size=25,
)


def _books_after_each(fills: list[tuple[Side, int, int, int]]) -> list[PairState]:
    # The pair's own books, fed the same fills as mirror reports.
    s = PairState(config=pair_config("p1"))
    after = []
    for n, (side, shares, notional, fee) in enumerate(fills, start=1):
        flight = InFlight(
            decision_id=f"f{n}",
            workflow_id=f"mirror/p1/f{n}",
            side=side,
            token_id="t",
            started_at=NOW,
        )
        report = MirrorReport(
            decision_id=f"f{n}",
            outcome=MirrorOutcome.FILLED if shares else MirrorOutcome.UNFILLED,
            token_id="t",
            side=side,
            filled_shares_micro=shares,
            notional_micro=notional,
            fee_micro=fee,
        )
        started = s.model_copy(update={"in_flight": {flight.decision_id: flight}})
        s, _ = books.apply_report(started, report, NOW)
        if shares:
            after.append(s)
    return after


@given(fills=FILLS)
def test_replay_tells_what_the_pairs_books_tell(fills: list[tuple[Side, int, int, int]]) -> None:
    orders = [_order(n, *fill) for n, fill in enumerate(fills, start=1)]
    points = replay(orders)
    states = _books_after_each(fills)
    assert [(p.spent_micro, p.realized_micro) for p in points] == [
        (s.spent_micro, s.realized_pnl_micro) for s in states
    ]


@given(buys=FILLS, sells=FILLS)
def test_overview_totals_agree_with_the_books_up_to_a_micro_unit_per_sale(
    buys: list[tuple[Side, int, int, int]], sells: list[tuple[Side, int, int, int]]
) -> None:
    fills = [(Side.BUY, *b[1:]) for b in buys] + [(Side.SELL, *s[1:]) for s in sells]
    states = _books_after_each(fills)
    if not states:
        return
    bought = [f for f in fills if f[0] is Side.BUY and f[1]]
    sold = [f for f in fills if f[0] is Side.SELL and f[1]]
    totals = TokenTotals(
        pair_id="p1",
        token_id="t",
        bought_shares_micro=sum(f[1] for f in bought),
        bought_micro=sum(f[2] + f[3] for f in bought),
        sold_shares_micro=sum(f[1] for f in sold),
        sold_micro=sum(f[2] - f[3] for f in sold),
    )
    held, realized = token_position(totals)
    books_held = states[-1].positions.get("t", Position())
    assert held.shares_micro == books_held.shares_micro
    assert 0 <= states[-1].realized_pnl_micro - realized <= max(0, len(sold) - 1)


def _record(pair_id: str, status: PairStatus = PairStatus.ACTIVE) -> PairSummary:
    config = pair_config(pair_id)
    return PairSummary(
        pair_id=pair_id,
        source=config.source,
        follower=config.follower,
        budget_micro=config.budget_micro,
        status=status,
    )


def _listing(pair_id: str, status: str = "active") -> PairListing:
    return PairListing(pair_id, f"pair/{pair_id}", None, "0xS", "0xF", status, NOW)


def test_rows_join_temporal_and_ledger_and_show_what_is_missing_on_either_side() -> None:
    totals = [
        PairTotals(pair_id="a", bought_micro=30 * MICRO, sold_micro=5 * MICRO, open_micro=MICRO)
    ]
    rows = build_rows(
        [_listing("a", "blocked"), _listing("orphan")],
        [_record("a"), _record("idle")],
        totals,
        [],
        {},
        {},
    )
    by_id = {r.pair_id: r for r in rows}
    assert by_id["a"].status == "blocked" and by_id["a"].used_micro == 25 * MICRO
    assert by_id["a"].remaining_micro == 100 * MICRO - 25 * MICRO - MICRO
    assert by_id["idle"].status == "no workflow" and by_id["orphan"].budget_micro is None
    alert = AlertRecord(
        id=1,
        dedup_key="gas",
        level=AlertLevel.HIGH,
        kind="low_gas",
        message="follower has 0.1 POL",
        created_at=NOW - timedelta(hours=1),
    )
    found = banners(rows, [alert], [], NOW)
    texts = [b.text for b in found]
    assert found[0].health is Health.FAILED and "1 pair(s) blocked: a" in texts[0]
    assert any("orphan" in t and "registry" in t for t in texts)
    assert any(t.startswith("low gas (1 in 24 h)") for t in texts)
    assert any("no worker is polling" in t for t in texts)
    assert not banners(rows[1:2], [], [Poller(TaskKind.WORKFLOW, "w", NOW)], NOW)


def test_same_ledger_check_compares_advertised_ids() -> None:
    ours = Poller(TaskKind.WORKFLOW, f"1@host ledger={LEDGER_ID}", NOW)
    theirs = Poller(TaskKind.ACTIVITY, "2@host ledger=another-id", NOW)
    assert ledger_identity_check(LEDGER_ID, [ours]).health is Health.OK
    different = ledger_identity_check(LEDGER_ID, [ours, theirs])
    assert different.health is Health.WARNING and "another-id" in different.detail
    assert ledger_identity_check(LEDGER_ID, None).health is Health.NOT_CHECKED
    assert ledger_identity_check(None, [ours]).health is Health.WARNING


def test_freshness_check_flags_a_ledger_behind_the_workflows() -> None:
    state = PairState(config=pair_config("p1"), mirrors_started=4, last_fill_at=NOW)
    source = state.config.source
    behind = freshness_check(
        {"p1": state}, {"p1": PairTotals(pair_id="p1", orders=3)}, {source: NOW}
    )
    assert behind.health is Health.WARNING and "4 mirrors finished, 3" in behind.detail
    old_fills = {source: NOW - timedelta(minutes=1)}
    stale = freshness_check({"p1": state}, {"p1": PairTotals(pair_id="p1", orders=4)}, old_fills)
    assert stale.health is Health.WARNING and "newer than any" in stale.detail
    fresh = freshness_check(
        {"p1": state}, {"p1": PairTotals(pair_id="p1", orders=5)}, {source: NOW}
    )
    assert fresh.health is Health.OK


def test_workers_check_wants_recent_workflow_and_activity_pollers() -> None:
    old = NOW - timedelta(minutes=5)
    assert workers_check([Poller(TaskKind.WORKFLOW, "w", NOW)], NOW).health is Health.FAILED
    both = [Poller(TaskKind.WORKFLOW, "w", NOW), Poller(TaskKind.ACTIVITY, "w", NOW)]
    assert workers_check(both, NOW).health is Health.OK
    stale = [Poller(TaskKind.WORKFLOW, "w", old), Poller(TaskKind.ACTIVITY, "w", old)]
    assert workers_check(stale, NOW).health is Health.FAILED


def test_rpc_probe_reads_head_and_never_shows_the_key_in_the_url() -> None:
    url = "https://user:pw@polygon.example:8443/v2/SECRETKEY?apikey=SECRET2"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[{"id": 1, "result": "0x89"}, {"id": 2, "result": "0x10"}])

    probe = probe_rpc(url, client=httpx.Client(transport=httpx.MockTransport(answer)))
    assert (probe.endpoint, probe.chain_id, probe.head_block) == (
        "https://polygon.example:8443",
        137,
        16,
    )
    failing = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(401)))
    broken = probe_rpc(url, client=failing)
    assert broken.error == "HTTP 401" and "SECRET" not in f"{broken}"
    assert endpoint_of("http://127.0.0.1:8545") == "http://127.0.0.1:8545"


def test_formatting() -> None:
    assert short_address("0x1111111111111111111111111111111111111111") == "0x1111…1111"
    assert age(NOW - timedelta(seconds=75), NOW) == "1 min" and age(None, NOW) == "—"


def test_cli_serves_on_localhost_and_refuses_exposure_without_a_password() -> None:
    command = streamlit_command("127.0.0.1", 8599)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.port") + 1] == "8599"
    assert command[4].endswith("dashboard/app.py")
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("0.0.0.0")
    result = CliRunner().invoke(
        main,
        ["dashboard", "--host", "0.0.0.0"],
        env={"PROJECTK_DASHBOARD_PASSWORD": ""},  # empty counts as unset
    )
    assert result.exit_code == 1 and "PROJECTK_DASHBOARD_PASSWORD" in result.output


def _stats(lag: int, updated: datetime) -> DetectionStats:
    endpoint = EndpointStats(
        url="https://rpc.example", score=1.0, healthy=True, requests=9, errors=0, latency_ms=40.0
    )
    return DetectionStats(
        head_mode="poll",
        head_block=1_000,
        synced_block=1_000 - lag,
        head_lag_blocks=lag,
        head_age_ms=500.0,
        blocks_seen=100,
        rpc_requests=150,
        rpc_requests_per_block=1.5,
        rpc_errors=0,
        wallets=3,
        fills_detected=7,
        fills_retracted=0,
        reorgs=1,
        data_api_fallbacks=0,
        lag_ms_p50=900.0,
        lag_ms_p95=2100.0,
        poll_interval_ms=1000.0,
        endpoints=[endpoint],
        updated_at=updated,
    )


def test_tail_check_reads_the_workers_snapshot() -> None:
    healthy = tail_check(_stats(2, NOW), NOW)
    assert healthy.health is Health.OK and "2 block(s) behind" in healthy.detail
    assert "p95 2100 ms" in healthy.detail
    assert tail_check(_stats(40, NOW), NOW).detail.startswith("LAGGING")
    stale = tail_check(_stats(2, NOW - timedelta(minutes=10)), NOW)
    assert stale.health is Health.WARNING and stale.detail.startswith("STALE")
    assert tail_check(None, NOW).health is Health.NOT_CHECKED
