"""The chain (Polygon): contract addresses and ABIs, decoding of exchange fill events, balance
reads, redeem transactions, the detection of source fills (`detection`), and the RPC pool every
chain read and send of a process goes through (`rpc`, web3 over it in `provider`).

Invariants:
- Addresses are the production ones; the sandbox places its contracts at the same addresses.
- Decoding is pure; every read or transaction goes through an injected client.
"""

from adapters.chain import contracts
from adapters.chain.claims import ClaimChain, pusd_received
from adapters.chain.decoding import (
    ChainLog,
    NotOrderFilled,
    OrderFilled,
    decode_order_filled,
    fill_price,
    parse_log,
    source_fills,
)
from adapters.chain.detection import (
    STATS_FILE,
    ChainFillFeed,
    ChainTail,
    DetectionStats,
    TailConfig,
    build_bare_tail,
    build_tail,
    percentile,
    read_stats,
    stats_path,
)
from adapters.chain.factory import build_claim_chain, build_reader, build_rpc_pool, build_web3
from adapters.chain.probe import ChainUnavailable, RpcProbe, endpoint_of, head_block, probe_rpc
from adapters.chain.reader import ChainReader
from adapters.chain.rpc import RpcError, RpcPool, RpcUnavailable

__all__ = [
    "STATS_FILE",
    "ChainFillFeed",
    "ChainLog",
    "ChainReader",
    "ChainTail",
    "ChainUnavailable",
    "ClaimChain",
    "DetectionStats",
    "NotOrderFilled",
    "OrderFilled",
    "RpcError",
    "RpcPool",
    "RpcProbe",
    "RpcUnavailable",
    "TailConfig",
    "build_bare_tail",
    "build_claim_chain",
    "build_reader",
    "build_rpc_pool",
    "build_tail",
    "build_web3",
    "contracts",
    "decode_order_filled",
    "endpoint_of",
    "fill_price",
    "head_block",
    "parse_log",
    "percentile",
    "probe_rpc",
    "pusd_received",
    "read_stats",
    "source_fills",
    "stats_path",
]
