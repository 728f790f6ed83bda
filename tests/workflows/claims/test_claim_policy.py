"""Pure claim policy: waiting, due markets, payouts, a pair's books after a claim, wire parsing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from adapters.chain import contracts as chain
from adapters.chain import pusd_received
from projectk import claims
from projectk.messages import ClaimReport, MarketInfo
from projectk.models import MICRO, PairState, Position
from tests.workflows.harness import pair_config

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
YES, NO, OTHER = "101", "102", "201"
HOLDER = "0x2222222222222222222222222222222222222222"


def market(cid: str, tokens: list[str], **changes: object) -> MarketInfo:
    return MarketInfo.model_validate({"condition_id": cid, "token_ids": tokens, **changes})


def test_waits_back_off_to_a_ceiling_of_two_checks_a_day() -> None:
    waits = [claims.resolution_wait(n) for n in range(12)]
    assert waits[0] == timedelta(minutes=15)
    assert waits[1] == timedelta(minutes=30)
    assert all(a <= b for a, b in itertools.pairwise(waits))
    assert waits[-1] == claims.RESOLUTION_MAX_WAIT == timedelta(hours=12)
    assert claims.checks_per_day_at_ceiling() == 2
    assert claims.resolution_wait(10_000) == claims.RESOLUTION_MAX_WAIT
    assert claims.gas_wait(0) == timedelta(minutes=10)
    assert claims.gas_wait(50) == claims.GAS_MAX_WAIT


def test_low_gas_threshold_defaults_to_half_a_pol() -> None:
    assert claims.pol_to_wei(Decimal("0.5")) == 5 * 10**17


def test_a_market_is_due_when_held_and_ended_once_per_condition() -> None:
    positions = {
        YES: Position(shares_micro=5 * MICRO, cost_micro=2 * MICRO),
        NO: Position(shares_micro=1 * MICRO),
        OTHER: Position(shares_micro=3 * MICRO),
        "999": Position(shares_micro=0),
    }
    ended = market("0xaa", [YES, NO], end_date=NOW - timedelta(minutes=1))
    running = market("0xbb", [OTHER, "202"], end_date=NOW + timedelta(days=1))
    markets = {YES: ended, NO: ended, OTHER: running}
    assert claims.due_markets(positions, markets, NOW) == [ended]
    assert claims.due_markets(positions, markets, NOW, started=["0xaa"]) == []
    closed = running.model_copy(update={"closed": True})
    assert claims.due_markets(positions, {OTHER: closed}, NOW) == [closed]
    resolved = running.model_copy(update={"payout_denominator": 1})
    assert claims.due_markets(positions, {OTHER: resolved}, NOW) == [resolved]
    assert claims.due_markets({}, markets, NOW) == []


def test_check_due_is_periodic() -> None:
    every = claims.PAIR_CHECK_EVERY
    assert claims.check_due(None, NOW, every)
    assert not claims.check_due(NOW - every + timedelta(seconds=1), NOW, every)
    assert claims.check_due(NOW - every, NOW, every)


def test_payout_follows_redeem_positions_rounding() -> None:
    assert claims.payout_micro({1: 7 * MICRO, 2: 3 * MICRO}, [1, 0], 1) == 7 * MICRO
    assert claims.payout_micro({1: 7 * MICRO, 2: 3 * MICRO}, [0, 1], 1) == 3 * MICRO
    assert claims.payout_micro({1: 3, 2: 3}, [1, 2], 3) == 1 + 2
    assert claims.payout_micro({1: 5}, [1, 0], 0) == 0


def test_a_finished_claim_settles_the_pairs_positions_once() -> None:
    config = pair_config()
    state = PairState(
        config=config,
        spent_micro=10 * MICRO,
        positions={
            YES: Position(shares_micro=6 * MICRO, cost_micro=3 * MICRO),
            NO: Position(shares_micro=4 * MICRO, cost_micro=2 * MICRO),
            OTHER: Position(shares_micro=1 * MICRO, cost_micro=MICRO // 2),
        },
    )
    report = ClaimReport(
        holder=config.follower,
        condition_id="0xaa",
        token_ids=[YES, NO],
        numerators=[1, 0],
        denominator=1,
        status="redeemed",
    )
    after = claims.apply_claim(state, report)
    assert set(after.positions) == {OTHER}
    assert after.realized_pnl_micro == 6 * MICRO - 3 * MICRO - 2 * MICRO
    assert after.spent_micro == 10 * MICRO - 6 * MICRO
    assert claims.apply_claim(after, report) == after


def test_claim_target_comes_from_the_pair_config() -> None:
    config = pair_config(funder="0x3333333333333333333333333333333333333333")
    target = claims.target_for(config, market("0xaa", [YES, NO], neg_risk=True))
    assert target.holder == config.funder_address
    assert (target.key_ref, target.token_ids, target.neg_risk) == (
        config.key_ref,
        [YES, NO],
        True,
    )


def test_pusd_received_sums_transfers_to_the_holder_only() -> None:
    def transfer(token: str, to: str, value: int) -> dict[str, object]:
        topic0 = bytes.fromhex("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
        return {
            "address": token,
            "topics": [topic0, bytes(32), bytes(12) + bytes.fromhex(to[2:])],
            "data": value.to_bytes(32, "big"),
        }

    logs = [
        transfer(chain.PUSD, HOLDER, 5 * MICRO),
        transfer(chain.PUSD, "0x" + "44" * 20, 9 * MICRO),
        transfer("0x" + "55" * 20, HOLDER, 7 * MICRO),
        transfer(chain.PUSD, HOLDER, 1),
    ]
    assert pusd_received(logs, HOLDER) == 5 * MICRO + 1
