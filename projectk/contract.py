"""The public contract of ProjectK's workflows: type names, ids, signals, queries, updates,
search attributes.

Invariants:
- Workflows register under these names, and every client (CLI, bot, dashboard, operators'
  `temporal` commands) uses these names, so no client imports workflow code.
- Workflow ids are deterministic functions of natural keys; starting a second flow for the same
  key is rejected by Temporal.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

PAIR_WORKFLOW = "PairWorkflow"
MIRROR_ORDER_WORKFLOW = "MirrorOrderWorkflow"
CLAIM_WORKFLOW = "ClaimWorkflow"

SIGNAL_PAUSE = "pause"
SIGNAL_RESUME = "resume"
SIGNAL_EMERGENCY_STOP = "emergency_stop"
SIGNAL_MIRROR_FINISHED = "mirror_finished"
SIGNAL_REMOVE = "remove"
QUERY_STATE = "state"
UPDATE_CONFIG = "update_config"

SA_PAIR_ID = SearchAttributeKey.for_keyword("PairId")
SA_SOURCE_WALLET = SearchAttributeKey.for_keyword("SourceWallet")
SA_FOLLOWER_WALLET = SearchAttributeKey.for_keyword("FollowerWallet")
SA_PAIR_STATUS = SearchAttributeKey.for_keyword("PairStatus")
SEARCH_ATTRIBUTES = (SA_PAIR_ID, SA_SOURCE_WALLET, SA_FOLLOWER_WALLET, SA_PAIR_STATUS)


def pair_workflow_id(pair_id: str) -> str:
    """Return the workflow id of a pair."""
    return f"pair/{pair_id}"


def mirror_workflow_id(pair_id: str, fill_id: str) -> str:
    """Return the workflow id of the one mirror flow a source fill may have in a pair."""
    return f"mirror/{pair_id}/{fill_id}"


def claim_workflow_id(follower: str, condition_id: str) -> str:
    """Return the workflow id of the claim of one follower wallet in one market."""
    return f"claim/{follower}/{condition_id}"
