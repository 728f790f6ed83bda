"""An emergency stop signals every running pair, whatever happens to one of them, and says which
pairs it stopped and which it could not, with the error each gave."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.ledger import Ledger
from adapters.vault import ScryptParams, Vault
from control.pairs import PairError, PairRules, PairService
from projectk.contract import SIGNAL_EMERGENCY_STOP, pair_workflow_id
from projectk.messages import StopRequest
from projectk.models import MICRO, PairConfig, PairStatus
from tests.fake_temporal import FakePairsTemporal, ended_error

SOURCE = "0x1111111111111111111111111111111111111111"
FOLLOWER = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"


def service_on(temporal: FakePairsTemporal, ledger: Ledger, tmp_path: Path) -> PairService:
    """Return a PairService on the fake Temporal and the test ledger."""
    vault = Vault(tmp_path / "vault.json", kdf=ScryptParams(n=16))
    rules = PairRules(budget_ceiling_micro=1000 * MICRO, task_queue="unused")
    return PairService(cast(Client, temporal), ledger, vault, rules)


def register(ledger: Ledger, *names: str) -> None:
    """Register active pairs in the ledger (as `add` leaves them)."""
    for name in names:
        config = PairConfig(
            pair_id=name,
            source=SOURCE,
            follower=FOLLOWER,
            key_ref="vault://hot",
            budget_micro=100 * MICRO,
            shared_funder=True,
        )
        ledger.upsert_pair(config, PairStatus.ACTIVE)


async def test_a_pair_whose_signal_fails_does_not_keep_the_others_running(
    ledger: Ledger, tmp_path: Path
) -> None:
    names = ["alpha", "beta", "gamma", "delta"]
    register(ledger, *names)
    timeout = RPCError("deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b"")
    temporal = FakePairsTemporal.of(names, refused={"beta": ended_error(), "delta": timeout})

    result = await service_on(temporal, ledger, tmp_path).stop_all("test stop")

    assert sorted(temporal.attempted()) == sorted(pair_workflow_id(n) for n in names)
    assert sorted(temporal.delivered()) == [pair_workflow_id("alpha"), pair_workflow_id("gamma")]
    assert all(s.name == SIGNAL_EMERGENCY_STOP for s in temporal.signals)
    assert all(s.arg == StopRequest(reason="test stop") for s in temporal.signals)
    assert result.stopped == ["alpha", "gamma"]
    assert result.failed == {
        "beta": "workflow execution already completed",
        "delta": "deadline exceeded",
    }
    statuses = {record.pair_id: record.status for record in ledger.list_pairs()}
    # A pair the stop did not reach is not booked as stopped.
    assert statuses == {
        "alpha": PairStatus.STOPPED,
        "beta": PairStatus.ACTIVE,
        "gamma": PairStatus.STOPPED,
        "delta": PairStatus.ACTIVE,
    }


async def test_when_every_signal_arrives_nothing_is_reported_failed(
    ledger: Ledger, tmp_path: Path
) -> None:
    register(ledger, "alpha", "beta")
    temporal = FakePairsTemporal.of(["alpha", "beta"], refused={})

    result = await service_on(temporal, ledger, tmp_path).stop_all("test stop")

    assert result.stopped == ["alpha", "beta"] and result.failed == {}
    assert all(r.status is PairStatus.STOPPED for r in ledger.list_pairs())


@pytest.mark.parametrize("refused", [["alpha"], ["alpha", "beta"]])
async def test_failures_are_reported_not_raised(
    ledger: Ledger, tmp_path: Path, refused: list[str]
) -> None:
    register(ledger, "alpha", "beta")
    temporal = FakePairsTemporal.of(["alpha", "beta"], {n: ended_error() for n in refused})

    result = await service_on(temporal, ledger, tmp_path).stop_all("test stop")

    assert sorted(result.failed) == refused
    assert result.stopped == [n for n in ["alpha", "beta"] if n not in refused]


async def test_a_listing_that_breaks_off_still_stops_the_pairs_listed_and_says_so(
    ledger: Ledger, tmp_path: Path
) -> None:
    register(ledger, "alpha", "beta", "gamma")
    temporal = FakePairsTemporal.of(["alpha", "beta", "gamma"], refused={})
    temporal.listing_breaks_after = 2

    result = await service_on(temporal, ledger, tmp_path).stop_all("test stop")

    assert result.stopped == ["alpha", "beta"] and result.listing_error == "connection reset"
    assert not result.complete
    statuses = {record.pair_id: record.status for record in ledger.list_pairs()}
    assert statuses["gamma"] is PairStatus.ACTIVE  # never reached: not booked as stopped


async def test_a_listing_that_fails_at_once_is_an_error_for_the_operator(
    ledger: Ledger, tmp_path: Path
) -> None:
    register(ledger, "alpha")
    temporal = FakePairsTemporal.of(["alpha"], refused={})
    temporal.listing_breaks_after = 0

    with pytest.raises(PairError, match="could not list the running pairs: connection reset"):
        await service_on(temporal, ledger, tmp_path).stop_all("test stop")
    assert [r.status for r in ledger.list_pairs()] == [PairStatus.ACTIVE]
