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

# V2 fill event (DESIGN.md). topic0 = keccak("OrderFilled(bytes32,address,address,uint8,uint256,
# uint256,uint256,uint256,bytes32,bytes32)"); topics 1-3 are orderHash, maker, taker.
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
V2_EXCHANGES = (CTF_EXCHANGE_V2, NEG_RISK_EXCHANGE_V2)

# Redeem routes. Sources: docs.polymarket.com "Contracts" (NegRiskAdapter, ProxyWallet
# factory) and Polymarket's V2 migration guide / reference clients (pUSD collateral adapters).
CTF_COLLATERAL_ADAPTER = "0xAdA100Db00Ca00073811820692005400218FcE1f"
NEG_RISK_CTF_COLLATERAL_ADAPTER = "0xadA2005600Dec949baf300f4C6120000bDB6eAab"
NEG_RISK_ADAPTER = "0xd91E80cF2E7be2e162c6513ceD06f1dD0dA35296"  # CLOB V1 era, pays USDC.e
PROXY_WALLET_FACTORY = "0xaB45c5A4B0c941a2F231C04C3f49182e1A254052"
