"""Chain reads for the contract suite: balances and decoded exchange logs, straight from web3.

Kept independent of the sandbox's own code so the tests check the chain, not the sandbox's view
of it: topics are computed from the event signatures, balances read with minimal ABIs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from web3 import Web3

PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"
CONDITIONAL_TOKENS = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
POSITION_MANAGER = "0x006F54F7f9A22e0000CC2AB60031000000ae9fEF"
EXCHANGE_V3 = "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa"
ORDER_FILLED = Web3.keccak(
    text="OrderFilled(bytes32,address,address,uint8,uint256,uint256,uint256,uint256,bytes32,bytes32)"
)
ORDERS_MATCHED = Web3.keccak(text="OrdersMatched(bytes32,address,uint8,uint256,uint256,uint256)")
FEE_CHARGED = Web3.keccak(text="FeeCharged(address,uint256)")
_BALANCE_ABI = [
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "a", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    }
]
_ERC1155_ABI = [
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "a", "type": "address"}, {"name": "id", "type": "uint256"}],
        "outputs": [{"name": "", "type": "uint256"}],
    }
]


@dataclass(frozen=True)
class Filled:
    """One decoded OrderFilled log."""

    exchange: str
    order_hash: str
    maker: str
    taker: str
    side: int
    token_id: int
    making: int
    taking: int
    fee: int


def pusd(w3: Web3, who: str) -> int:
    """pUSD balance in micro-units."""
    return int(w3.eth.contract(address=PUSD, abi=_BALANCE_ABI).functions.balanceOf(who).call())


def outcome_balance(w3: Web3, who: str, token: str | int, ledger: str) -> int:
    """Balance of an outcome on ``ledger`` (ConditionalTokens or PositionManager)."""
    contract = w3.eth.contract(address=Web3.to_checksum_address(ledger), abi=_ERC1155_ABI)
    return int(contract.functions.balanceOf(who, int(token)).call())


def receipt(w3: Web3, tx: str) -> Any:
    """Wait for and return the receipt of ``tx`` (it must have succeeded)."""
    rec = w3.eth.wait_for_transaction_receipt(tx, timeout=20)
    assert rec["status"] == 1, f"settlement {tx} reverted"
    return rec


def fills(rec: Any) -> list[Filled]:
    """Decode the OrderFilled logs of a receipt, in log order."""
    out = []
    for lg in rec["logs"]:
        if lg["topics"][0] != ORDER_FILLED:
            continue
        side, token, making, taking, fee, _, _ = decode(
            ["uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32"],
            bytes(lg["data"]),
        )
        out.append(
            Filled(
                lg["address"],
                lg["topics"][1].to_0x_hex(),
                Web3.to_checksum_address(lg["topics"][2][-20:]),
                Web3.to_checksum_address(lg["topics"][3][-20:]),
                side,
                token,
                making,
                taking,
                fee,
            )
        )
    return out


def fees_charged(rec: Any) -> list[tuple[str, int]]:
    """Decode the FeeCharged logs of a receipt as (receiver, amount)."""
    return [
        (Web3.to_checksum_address(lg["topics"][1][-20:]), int.from_bytes(bytes(lg["data"]), "big"))
        for lg in rec["logs"]
        if lg["topics"][0] == FEE_CHARGED
    ]
