"""Ledger writes of the chain tail (run in a worker thread: the ledger is synchronous).

Invariants: fills are written idempotently by fill id (a re-detected fill writes nothing, a
fill back after a reorg is un-retracted by the ledger); a retraction only marks the fill. It
raises no alert: a reorg's alert is the pair's (PairWorkflow), which knows whether it had the
fill and what became of its mirror, so a reorg raises one alert per pair that had a retracted
fill, and none for a fill no pair had.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from adapters.ledger import Ledger
from projectk.models import SourceFill


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
    """Mark fills removed by a reorg as retracted."""
    for fill in fills:
        ledger.retract_fill(fill.fill_id)
