"""Polygon contract addresses and the small ABIs ProjectK reads.

Invariant: addresses are the production ones (DESIGN.md); the sandbox places its contracts at
the same addresses, so configuration never differs between sandbox and production.
"""

from __future__ import annotations

from typing import Any

CTF_EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
CONDITIONAL_TOKENS = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"

# Protocol V2 ("v2" markets), as the SDK's environment config names them (`exchange_v3`,
# `position_manager`, `protocol_v2_router`): orders settle on ExchangeV3, positions live in
# PositionManager (an ERC-1155 whose ids are position ids), split/merge/redeem go through the
# Router.
EXCHANGE_V3 = "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa"
POSITION_MANAGER = "0x006F54F7f9A22e0000CC2AB60031000000ae9fEF"
PROTOCOL_V2_ROUTER = "0x12121212006e4CD160D18e3f00711DA5c3372600"

ERC1155_BALANCE_ABI: list[dict[str, Any]] = [
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [
            {"name": "owner", "type": "address"},
            {"name": "id", "type": "uint256"},
        ],
        "outputs": [{"name": "", "type": "uint256"}],
    }
]

# V2 fill event (DESIGN.md); ExchangeV3 emits the same event, with tokenId = the position id.
# topic0 = keccak("OrderFilled(bytes32,address,address,uint8,uint256,uint256,uint256,uint256,
# bytes32,bytes32)"); topics 1-3 are orderHash, maker, taker.
ORDER_FILLED_SIGNATURE = (
    "OrderFilled(bytes32,address,address,uint8,uint256,uint256,uint256,uint256,bytes32,bytes32)"
)
ORDER_FILLED_TOPIC = "0xd543adfd945773f1a62f74f0ee55a5e3b9b1a28262980ba90b1a89f2ea84d8ee"
ORDER_FILLED_DATA_TYPES = (
    "uint8",
    "uint256",
    "uint256",
    "uint256",
    "uint256",
    "bytes32",
    "bytes32",
)
# Every exchange whose OrderFilled logs are fills: both CTF exchanges (v1 markets) and ExchangeV3.
FILL_EXCHANGES = (CTF_EXCHANGE_V2, NEG_RISK_EXCHANGE_V2, EXCHANGE_V3)

# Redeem routes. Sources: docs.polymarket.com "Contracts" (NegRiskAdapter, ProxyWallet
# factory) and Polymarket's V2 migration guide / reference clients (pUSD collateral adapters).
CTF_COLLATERAL_ADAPTER = "0xAdA100Db00Ca00073811820692005400218FcE1f"
NEG_RISK_CTF_COLLATERAL_ADAPTER = "0xadA2005600Dec949baf300f4C6120000bDB6eAab"
NEG_RISK_ADAPTER = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296"  # CLOB V1 era, pays USDC.e
PROXY_WALLET_FACTORY = "0xaB45c5A4B0c941a2F231C04C3f49182e1A254052"
