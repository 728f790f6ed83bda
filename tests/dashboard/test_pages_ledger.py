"""Pages against a seeded ledger with Temporal down, and against an empty system."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.ledger import ClaimStatus, ClaimUpdate, Ledger
from adapters.ledger.records import OrderStatus
from projectk.models import MICRO, MirrorOutcome, MirrorReport, PairStatus, Side
from projectk.money import format_micro
from tests.dashboard.conftest import PAGES, new_app, run_app
from tests.fakes import FOLLOWER, make_fill
from tests.temporal_env import env_address
from tests.workflows.harness import pair_config

CONDITION = "0x" + "ab" * 32


def decision(n: int) -> str:
    """Return the id of a mirror decision: its source order's hash."""
    return f"0x{n:064x}"


def _seed(ledger: Ledger) -> None:
    ledger.upsert_pair(pair_config("alpha"), PairStatus.ACTIVE)
    ledger.upsert_pair(pair_config("beta"), PairStatus.BLOCKED)
    fill = make_fill(1, price="0.40")
    ledger.record_fill(fill)
    reports = [
        ("alpha", decision(1), MirrorOutcome.FILLED, 10 * MICRO, 4 * MICRO, ""),
        ("alpha", decision(2), MirrorOutcome.SKIPPED, 0, 0, "price 0.995 above max_price 0.99"),
        ("beta", decision(3), MirrorOutcome.FAILED, 0, 0, "not enough balance / allowance"),
        ("beta", decision(4), MirrorOutcome.FAILED, 0, 0, "not enough balance / allowance"),
    ]
    for pair_id, decision_id, outcome, shares, notional, reason in reports:
        report = MirrorReport(
            decision_id=decision_id,
            outcome=outcome,
            token_id=fill.token_id,
            side=Side.BUY,
            filled_shares_micro=shares,
            notional_micro=notional,
            reason=reason,
        )
        ledger.record_outcome(pair_id, report)


async def test_temporal_down_shows_a_clear_message_and_the_ledger(
    ledger: Ledger, dashboard_env: dict[str, str]
) -> None:
    _seed(ledger)
    at = await run_app(new_app())
    assert not at.exception
    assert "Temporal is not reachable" in at.error[0].value
    assert dashboard_env["PROJECTK_TEMPORAL_ADDRESS"] in at.error[0].value
    assert "Traceback" not in at.error[0].value
    table = at.dataframe[0].value.set_index("Pair")
    assert list(table["Status"]) == ["active (ledger)", "blocked (ledger)"]
    assert table.loc["alpha"]["Volume"] == format_micro(4 * MICRO)
    assert table.loc["alpha"]["Marked PnL"] == format_micro(0)  # 10 shares at 0.40 cost 4
    assert table.loc["beta"]["Failure streak"] == 2
    for page in PAGES[1:]:
        await run_app(at.switch_page(page))
        assert not at.exception, page


async def test_orders_page_filters_and_gives_every_skip_and_failure_reason(
    ledger: Ledger, dashboard_env: dict[str, str]
) -> None:
    _seed(ledger)
    at = new_app()
    await run_app(at)
    await run_app(at.switch_page("views/orders.py"))
    assert not at.exception and not at.error
    assert len(at.dataframe[0].value) == len(ledger.list_orders())
    reasons = at.dataframe[1].value
    assert dict(zip(reasons["Reason"], reasons["Orders"], strict=True)) == {
        "not enough balance / allowance": 2,
        "price 0.995 above max_price 0.99": 1,
    }
    at.selectbox(key="orders-pair").set_value("beta")
    at.multiselect(key="orders-states").set_value([OrderStatus.FAILED])
    await run_app(at)
    shown = at.dataframe[0].value
    assert list(shown["Pair"]) == ["beta", "beta"] and set(shown["Status"]) == {"failed"}
    assert set(shown["Source order"]) == {decision(3), decision(4)}


async def test_claims_page_splits_pending_and_done_with_payouts(
    ledger: Ledger, dashboard_env: dict[str, str]
) -> None:
    ledger.upsert_pair(pair_config("alpha"), PairStatus.ACTIVE)
    waiting = ClaimUpdate(follower=FOLLOWER, condition_id=CONDITION, status=ClaimStatus.WAITING)
    ledger.upsert_claim(waiting)
    done = ClaimUpdate(
        follower=FOLLOWER,
        condition_id="0x" + "cd" * 32,
        status=ClaimStatus.REDEEMED,
        payout_micro=12_345_678,
        tx_hash="0x" + "ef" * 32,
    )
    ledger.upsert_claim(done)
    at = new_app()
    await run_app(at)
    await run_app(at.switch_page("views/claims.py"))
    assert not at.exception and not at.error
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Pending": "1", "Done": "1", "Paid out (pUSD)": "12.345678"}
    pending, finished = at.dataframe[0].value, at.dataframe[1].value
    assert list(pending["Market (condition id)"]) == [CONDITION]
    assert list(finished["Tx"]) == [done.tx_hash] and list(finished["Pairs"]) == ["alpha"]


@pytest.mark.devserver
@pytest.mark.parametrize("with_ledger", [False, True], ids=["no-ledger-file", "empty-ledger"])
async def test_an_empty_system_shows_helpful_empty_states(
    ledger: Ledger,
    dev_env: WorkflowEnvironment,
    dashboard_env: dict[str, str],
    with_ledger: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROJECTK_TEMPORAL_ADDRESS", env_address(dev_env))
    missing = Path(dashboard_env["PROJECTK_DATA_DIR"]) / "none.db"
    if not with_ledger:
        monkeypatch.setenv("PROJECTK_DB_URL", f"sqlite:///{missing}")
    at = await run_app(new_app())
    infos = " ".join(i.value for i in at.info)
    assert "No pairs yet" in infos and "projectk pair add" in infos
    assert not at.exception and not at.error and not at.dataframe
    assert "no worker is polling" in at.warning[0].value
    for page in PAGES[1:]:
        await run_app(at.switch_page(page))
        assert not at.exception and not at.error, page
        assert at.info, page
    assert not missing.exists()  # the dashboard never creates a ledger


async def test_the_password_gate_hides_everything_until_signed_in(
    ledger: Ledger, dashboard_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(ledger)
    monkeypatch.setenv("PROJECTK_DASHBOARD_PASSWORD", "s3cret-pass")
    at = await run_app(new_app())
    assert not at.dataframe and not at.metric
    at.text_input[0].input("wrong")
    await run_app(at.button[0].click())
    assert at.error[0].value == "Wrong password." and not at.dataframe
    at.text_input[0].input("s3cret-pass")
    await run_app(at.button[0].click())
    assert len(at.dataframe[0].value) == 2
    shown = [
        e.value for kind in (at.markdown, at.code, at.caption, at.info, at.error) for e in kind
    ]
    assert shown and not any("s3cret-pass" in str(text) for text in shown)
