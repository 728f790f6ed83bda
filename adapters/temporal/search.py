"""ProjectK's search attributes as typed Temporal keys, and a new pair workflow's values.

Invariant: the names come from `projectk.contract`; this is the one place they become keys.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from projectk import contract
from projectk.models import PairConfig, PairStatus

PAIR_ID = SearchAttributeKey.for_keyword(contract.SA_PAIR_ID)
SOURCE_WALLET = SearchAttributeKey.for_keyword(contract.SA_SOURCE_WALLET)
FOLLOWER_WALLET = SearchAttributeKey.for_keyword(contract.SA_FOLLOWER_WALLET)
PAIR_STATUS = SearchAttributeKey.for_keyword(contract.SA_PAIR_STATUS)
SEARCH_ATTRIBUTES = (PAIR_ID, SOURCE_WALLET, FOLLOWER_WALLET, PAIR_STATUS)


def pair_search_attributes(config: PairConfig, status: PairStatus) -> TypedSearchAttributes:
    """Return the search attributes a pair's workflow starts with."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(PAIR_ID, config.pair_id),
            SearchAttributePair(SOURCE_WALLET, config.source),
            SearchAttributePair(FOLLOWER_WALLET, config.follower),
            SearchAttributePair(PAIR_STATUS, status.value),
        ]
    )
