"""Temporal: connecting clients with ProjectK's data converter, the payload codec and its server,
search attributes, the task queue's pollers, and the installed server binaries.

Invariant: every client is built here, with the pydantic data converter and (when a payload key
is set) the AES-GCM codec, so every process reads and writes the same payloads.
"""

from adapters.temporal.client import (
    CONNECT_TIMEOUT_S,
    BinaryNotFoundError,
    SearchAttributeConflictError,
    TemporalUnavailableError,
    connect,
    connect_address,
    data_converter,
    ensure_search_attributes,
    find_temporal_cli,
    find_test_server,
    missing_search_attributes,
    registered_search_attributes,
)
from adapters.temporal.codec import (
    ENCRYPTED_ENCODING,
    EncryptionCodec,
    PayloadDecryptError,
    PayloadKeyError,
    codec_from_settings,
    new_key,
)
from adapters.temporal.codec_server import build_app, run_codec_server
from adapters.temporal.pollers import (
    POLLER_FRESH,
    Poller,
    TaskKind,
    fresh_counts,
    task_queue_pollers,
)
from adapters.temporal.search import (
    FOLLOWER_WALLET,
    PAIR_ID,
    PAIR_STATUS,
    SEARCH_ATTRIBUTES,
    SOURCE_WALLET,
    pair_search_attributes,
)

__all__ = [
    "CONNECT_TIMEOUT_S",
    "ENCRYPTED_ENCODING",
    "FOLLOWER_WALLET",
    "PAIR_ID",
    "PAIR_STATUS",
    "POLLER_FRESH",
    "SEARCH_ATTRIBUTES",
    "SOURCE_WALLET",
    "BinaryNotFoundError",
    "EncryptionCodec",
    "PayloadDecryptError",
    "PayloadKeyError",
    "Poller",
    "SearchAttributeConflictError",
    "TaskKind",
    "TemporalUnavailableError",
    "build_app",
    "codec_from_settings",
    "connect",
    "connect_address",
    "data_converter",
    "ensure_search_attributes",
    "find_temporal_cli",
    "find_test_server",
    "fresh_counts",
    "missing_search_attributes",
    "new_key",
    "pair_search_attributes",
    "registered_search_attributes",
    "run_codec_server",
    "task_queue_pollers",
]
