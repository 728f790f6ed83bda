"""A key that cannot be opened fails the order at once (non-retryable), naming no secret."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from eth_account import Account
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.orders import OrderActivities
from adapters.polymarket.session import ClobEndpoint, ClobSessions
from adapters.polymarket.venue import ClobVenue
from adapters.vault import Vault
from projectk.messages import SignOrderInput, Wallet
from projectk.models import MICRO, OrderIntent, Side
from tests.venue_sandbox import FAST_KDF, PASSPHRASE

INTENT = OrderIntent(
    pair_id="p",
    decision_id="order",
    token_id="1",
    side=Side.BUY,
    shares_micro=10 * MICRO,
    limit_price=Decimal("0.5"),
    notional_micro=5 * MICRO,
)


@pytest.mark.parametrize(
    ("key_ref", "passphrase"),
    [("vault://missing", PASSPHRASE), ("vault://follower", "not the passphrase")],
    ids=["unknown-key", "wrong-passphrase"],
)
async def test_unopenable_key_is_a_non_retryable_vault_error(
    tmp_path: Path, key_ref: str, passphrase: str
) -> None:
    account = Account.create()
    vault = Vault(tmp_path / "vault.json", kdf=FAST_KDF)
    vault.add("follower", account.key.hex(), PASSPHRASE)
    endpoint = ClobEndpoint(host="http://127.0.0.1:9")  # never reached
    orders = OrderActivities(ClobVenue(ClobSessions(endpoint, vault, passphrase)))
    data = SignOrderInput(intent=INTENT, wallet=Wallet(key_ref=key_ref, funder=account.address))
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(orders.sign_order, data)
    assert err.value.type == "VaultError" and err.value.non_retryable
    assert account.key.hex().removeprefix("0x") not in str(err.value)
    assert passphrase not in str(err.value)
