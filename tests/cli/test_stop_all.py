"""`projectk stop --all` signals every pair even when one signal fails, lists the pairs stopped and
each failure with its error, and exits non-zero when any pair was not stopped."""

from __future__ import annotations

from click.testing import CliRunner, Result

from adapters.ledger import open_ledger
from cli import main
from projectk.contract import pair_workflow_id
from projectk.models import MICRO, PairConfig, PairStatus
from projectk.settings import ExecutorMode, Settings
from tests.cli.conftest import make_settings
from tests.fake_temporal import FakePairsTemporal, ended_error

SOURCE = "0x1111111111111111111111111111111111111111"
FOLLOWER = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"
NAMES = ["alpha", "beta", "gamma"]


def stop_all(settings: Settings, temporal: FakePairsTemporal) -> Result:
    """Run `projectk stop --all` against the fake Temporal."""
    obj = {"settings": settings, "temporal_client": temporal}
    return CliRunner().invoke(main, ["stop", "--all"], obj=obj)


def paper_settings(settings: Settings) -> Settings:
    """Return the settings in paper mode (no chain to read a head from) with NAMES registered."""
    paper = make_settings(settings.data_dir, executor_mode=ExecutorMode.PAPER)
    ledger = open_ledger(paper)
    for name in NAMES:
        config = PairConfig(
            pair_id=name,
            source=SOURCE,
            follower=FOLLOWER,
            key_ref="vault://follower",
            budget_micro=100 * MICRO,
            shared_funder=True,
        )
        ledger.upsert_pair(config, PairStatus.ACTIVE)
    return paper


def test_stop_all_tries_every_pair_and_exits_non_zero_naming_the_failures(
    settings: Settings,
) -> None:
    paper = paper_settings(settings)
    temporal = FakePairsTemporal.of(NAMES, refused={"alpha": ended_error()})

    result = stop_all(paper, temporal)

    assert result.exit_code == 1, result.output
    assert sorted(temporal.delivered()) == [pair_workflow_id("beta"), pair_workflow_id("gamma")]
    assert "emergency stop sent to 2 pair(s): beta, gamma" in result.stdout
    assert "alpha: workflow execution already completed" in result.stderr
    assert "NOT stopped" in result.stderr


def test_stop_all_exits_zero_when_every_pair_is_stopped(settings: Settings) -> None:
    paper = paper_settings(settings)
    temporal = FakePairsTemporal.of(NAMES, refused={})

    result = stop_all(paper, temporal)

    assert result.exit_code == 0, result.output
    assert "emergency stop sent to 3 pair(s): alpha, beta, gamma" in result.stdout
    assert result.stderr == ""
