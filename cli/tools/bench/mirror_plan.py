"""The shape of a `projectk bench mirror` run: the scripted source each pair count follows, how
many fills it makes and how long idle pairs are watched.

Invariant: this module imports only the kernel's settings, so the command checks its arguments
before the benchmark loads Temporal, the ledger or the chain.
"""

from __future__ import annotations

from projectk.settings import Settings

# The scripted source of each pair count (demo wallet index): distinct, so that a count's pairs,
# idle in their window, never see the next count's fills. Followers 1..3 are shared.
SOURCES = (0, 4, 5, 6)
DEFAULT_FILLS = 30  # source fills per pair count: 90 mirrored fills with 3 active pairs
# The shipped default of PROJECTK_FILL_POLL_TIMEOUT_S, as `projectk pair add` uses it.
POLL_TIMEOUT_S: float = Settings.model_fields["fill_poll_timeout_s"].default
DEFAULT_IDLE_MINUTES = POLL_TIMEOUT_S / 60  # one whole poll period (an hour)
