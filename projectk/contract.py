"""The public contract of ProjectK's workflows: type names, ids, signals, queries, updates, search
attributes and the error types activities raise.

Invariants:
- Workflows register under these names, and every client (CLI, bot, dashboard, operators'
  `temporal` commands) uses these names, so no client imports workflow code.
- Workflow ids are deterministic functions of natural keys; starting a second flow for the same
  key is rejected by Temporal.
- Plain strings only: the kernel imports no Temporal code; `adapters.temporal` turns the search
  attribute names into typed keys.
"""

from __future__ import annotations

PAIR_WORKFLOW = "PairWorkflow"
MIRROR_ORDER_WORKFLOW = "MirrorOrderWorkflow"
CLAIM_WORKFLOW = "ClaimWorkflow"
CLAIM_SWEEP_WORKFLOW = "ClaimSweepWorkflow"
CLAIM_SWEEP_ID = "claim-sweep"  # the Temporal Schedule id (its runs get suffixed ids)

SIGNAL_PAUSE = "pause"
SIGNAL_RESUME = "resume"
SIGNAL_EMERGENCY_STOP = "emergency_stop"
SIGNAL_MIRROR_FINISHED = "mirror_finished"  # MirrorOrderWorkflow -> PairWorkflow, MirrorReport
SIGNAL_CLAIM_FINISHED = "claim_finished"  # ClaimWorkflow -> PairWorkflow, ClaimReport
SIGNAL_REMOVE = "remove"
QUERY_STATE = "state"
UPDATE_CONFIG = "update_config"

# Search attributes (all Keyword).
SA_PAIR_ID = "PairId"
SA_SOURCE_WALLET = "SourceWallet"
SA_FOLLOWER_WALLET = "FollowerWallet"
SA_PAIR_STATUS = "PairStatus"
SEARCH_ATTRIBUTE_NAMES = (SA_PAIR_ID, SA_SOURCE_WALLET, SA_FOLLOWER_WALLET, SA_PAIR_STATUS)

# Error types (ApplicationError.type) that activities raise; retry policies list them by name.
ERROR_INVALID_INPUT = "InvalidInput"  # a value that will not become valid by retrying
ERROR_VAULT = "VaultError"  # the key cannot be opened: wrong passphrase or unknown key_ref
ERROR_ORDER_REJECTED = "OrderRejected"  # the venue refused an order; a retry cannot fix it
ERROR_VENUE_REFUSED = "VenueRefused"  # the CLOB refused a read or cancel (4xx other than 425/429)
ERROR_VENUE_THROTTLED = "VenueThrottled"  # 429: retried after the venue's Retry-After
ERROR_VENUE_UNAVAILABLE = "VenueUnavailable"  # 5xx, 425, no answer: retried
ERROR_VENUE_UNREADABLE = "VenueUnreadable"  # an answer or order status not understood: read again
ERROR_VENUE_UNKNOWN_STATUS = "VenueUnknownStatus"  # an order status this code does not know
ERROR_ORDER_OUTCOME_UNKNOWN = "OrderOutcomeUnknown"  # a post's fate is unknown: looked up again
ERROR_REDEEM_UNSUPPORTED = "RedeemUnsupported"  # the wallet kind cannot redeem this way
ERROR_REDEEM_WOULD_REVERT = "RedeemWouldRevert"  # the chain refuses the redeem


def pair_workflow_id(pair_id: str) -> str:
    """Return the workflow id of a pair."""
    return f"pair/{pair_id}"


def mirror_workflow_id(pair_id: str, decision_id: str) -> str:
    """Return the workflow id of the one mirror flow a mirror decision may have in a pair."""
    return f"mirror/{pair_id}/{decision_id}"


def claim_workflow_id(follower: str, condition_id: str) -> str:
    """Return the workflow id of the claim of one follower wallet in one market."""
    return f"claim/{follower}/{condition_id}"
