"""Registration refuses a pair whose funder already holds another live pair's funds, unless
every pair at that funder (the new one too) is marked shared; a removed pair's funder is free."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from temporalio.client import Client

from adapters.ledger import Ledger
from adapters.vault import ScryptParams, Vault
from control.pairs import FunderTaken, PairError, PairRules, PairService
from projectk.models import MICRO, PairConfig, PairStatus

KEY = "0x" + "11" * 32
FUNDER = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"  # KEY's address
OTHER_FOLLOWER = "0x2222222222222222222222222222222222222222"
SOURCE = "0x1111111111111111111111111111111111111111"


@pytest.fixture
def service(ledger: Ledger, tmp_path: Path) -> PairService:
    """Return a PairService on the test ledger whose vault holds the funder's key as `hot`."""
    vault = Vault(tmp_path / "vault.json", kdf=ScryptParams(n=16))
    vault.add("hot", KEY, "pw")
    rules = PairRules(budget_ceiling_micro=1000 * MICRO, task_queue="unused")
    # Validation reads the ledger and the vault only: no Temporal call is made.
    return PairService(cast(Client, None), ledger, vault, rules)


def pair(name: str, **changes: Any) -> PairConfig:
    """Return a pair whose follower (and so funder) is FUNDER."""
    values: dict[str, Any] = {
        "pair_id": name,
        "source": SOURCE,
        "follower": FUNDER,
        "key_ref": "vault://hot",
        "budget_micro": 100 * MICRO,
    }
    return PairConfig(**{**values, **changes})


def test_two_pairs_at_one_funder_are_refused_naming_the_other(
    service: PairService, ledger: Ledger
) -> None:
    ledger.upsert_pair(pair("alpha"), PairStatus.ACTIVE)
    with pytest.raises(PairError) as caught:
        service.validate_new(pair("beta"))
    message = str(caught.value)
    assert FUNDER in message and "alpha" in message and "--shared-funder" in message
    assert "register this pair with --shared-funder" not in message  # alpha is not shared


def test_a_funder_given_explicitly_counts_like_a_follower(
    service: PairService, ledger: Ledger
) -> None:
    ledger.upsert_pair(pair("alpha"), PairStatus.PAUSED)  # paused is still live
    beta = pair("beta", follower=OTHER_FOLLOWER, funder=FUNDER)
    with pytest.raises(FunderTaken, match="alpha was not, so use another funder") as caught:
        service.validate_new(beta)
    assert caught.value.unshared == ["alpha"]


def test_pairs_all_marked_shared_are_accepted(service: PairService, ledger: Ledger) -> None:
    ledger.upsert_pair(pair("alpha", shared_funder=True), PairStatus.ACTIVE)
    ledger.upsert_pair(pair("beta", shared_funder=True), PairStatus.STOPPED)
    service.validate_new(pair("gamma", shared_funder=True))
    with pytest.raises(PairError, match="register this pair with --shared-funder") as caught:
        service.validate_new(pair("gamma"))  # the new pair must be marked too
    assert "alpha, beta" in str(caught.value)


def test_a_shared_pair_cannot_join_one_that_is_not(service: PairService, ledger: Ledger) -> None:
    ledger.upsert_pair(pair("alpha", shared_funder=True), PairStatus.ACTIVE)
    ledger.upsert_pair(pair("beta"), PairStatus.ACTIVE)
    with pytest.raises(FunderTaken, match="beta was not") as caught:
        service.validate_new(pair("gamma", shared_funder=True))
    assert caught.value.others == ["alpha", "beta"]


def test_a_removed_pairs_funder_can_be_used_again(service: PairService, ledger: Ledger) -> None:
    ledger.upsert_pair(pair("alpha"), PairStatus.REMOVED)
    service.validate_new(pair("beta"))
    service.validate_new(pair("alpha"))  # its own name too, once removed
