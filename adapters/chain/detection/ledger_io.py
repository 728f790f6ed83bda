"""Ledger writes of the chain tail (run in a worker thread: the ledger is synchronous).

Invariants: fills are written idempotently by fill id (a re-detected fill writes nothing, a
fill back after a reorg is un-retracted by the ledger); a retraction raises its alert once, keyed
`reorg:<fill id>`, and only when this call retracted the fill.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from adapters.ledger import Ledger
from projectk.models import MICRO, AlertKind, AlertLevel, SourceFill


def by_wallet(fills: Iterable[SourceFill]) -> dict[str, list[SourceFill]]:
    """Group fills by their wallet, keeping their order."""
    grouped: dict[str, list[SourceFill]] = defaultdict(list)
    for fill in fills:
        grouped[fill.wallet].append(fill)
    return grouped


def record_fills(ledger: Ledger, fills: list[SourceFill]) -> None:
    """Write detected fills (idempotent by fill id; each keeps its detection time)."""
    for fill in fills:
        ledger.record_fill(fill)


def retract_fills(ledger: Ledger, fills: list[SourceFill]) -> None:
    """Mark fills removed by a reorg and raise one HIGH alert per fill."""
    for fill in fills:
        if ledger.retract_fill(fill.fill_id):
            ledger.record_alert(
                f"reorg:{fill.fill_id}",
                AlertLevel.HIGH,
                AlertKind.REORG,
                f"source fill {fill.fill_id} of {fill.wallet} ({fill.side.value} "
                f"{Decimal(fill.shares_micro) / MICRO} shares at {fill.price}) was removed by a "
                "chain reorganisation",
            )
