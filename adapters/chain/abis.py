"""The contract ABI fragments the claim flow reads and calls, each with where it comes from.

Invariant: these are verbatim fragments of the published ABIs (names, types, order); the tests
compare the ConditionalTokens ones with the compiled artifact the sandbox deploys and encode
every call through web3 against them.
"""

from __future__ import annotations

from typing import Any, cast

from eth_typing import ABIFunction

Abi = list[dict[str, Any]]


def _fn(
    name: str,
    inputs: list[tuple[str, str]],
    outputs: list[str] | None = None,
    mutability: str = "nonpayable",
) -> dict[str, Any]:
    return {
        "name": name,
        "type": "function",
        "stateMutability": mutability,
        "inputs": [{"name": n, "type": t} for n, t in inputs],
        "outputs": [{"name": "", "type": t} for t in outputs or []],
    }


# Gnosis conditional-tokens-contracts 1.0.3, ConditionalTokens.sol (the contract at
# CONDITIONAL_TOKENS; also sandbox/node_modules/@gnosis.pm/conditional-tokens-contracts).
CONDITIONAL_TOKENS_ABI: Abi = [
    _fn(
        "redeemPositions",
        [
            ("collateralToken", "address"),
            ("parentCollectionId", "bytes32"),
            ("conditionId", "bytes32"),
            ("indexSets", "uint256[]"),
        ],
    ),
    _fn("payoutDenominator", [("", "bytes32")], ["uint256"], "view"),
    _fn("payoutNumerators", [("", "bytes32"), ("", "uint256")], ["uint256"], "view"),
    _fn("getOutcomeSlotCount", [("conditionId", "bytes32")], ["uint256"], "view"),
    _fn("balanceOf", [("owner", "address"), ("id", "uint256")], ["uint256"], "view"),
]

# Polymarket CtfCollateralAdapter (CLOB V2, pUSD): same signature as ConditionalTokens'
# redeemPositions; redeems the caller's whole balance of the index sets and pays pUSD.
CTF_COLLATERAL_ADAPTER_ABI: Abi = [
    _fn(
        "redeemPositions",
        [
            ("collateralToken", "address"),
            ("parentCollectionId", "bytes32"),
            ("conditionId", "bytes32"),
            ("indexSets", "uint256[]"),
        ],
    ),
]

# Polymarket neg-risk-ctf-adapter, src/NegRiskAdapter.sol `redeemPositions(bytes32 _conditionId,
# uint256[] calldata _amounts)`; the V2 NegRiskCtfCollateralAdapter keeps this signature and
# pays pUSD. `_amounts` are the Yes and No amounts to redeem.
NEG_RISK_ADAPTER_ABI: Abi = [
    _fn("redeemPositions", [("_conditionId", "bytes32"), ("_amounts", "uint256[]")]),
]

# Polymarket proxy-factories, ProxyWalletFactory.sol: `proxy(ProxyCall[] calls)` runs the calls
# from msg.sender's proxy wallet; ProxyCall = (uint8 typeCode, address to, uint256 value,
# bytes data), typeCode 1 = CALL.
PROXY_WALLET_FACTORY_ABI: Abi = [
    {
        "name": "proxy",
        "type": "function",
        "stateMutability": "payable",
        "inputs": [
            {
                "name": "calls",
                "type": "tuple[]",
                "components": [
                    {"name": "typeCode", "type": "uint8"},
                    {"name": "to", "type": "address"},
                    {"name": "value", "type": "uint256"},
                    {"name": "data", "type": "bytes"},
                ],
            }
        ],
        "outputs": [{"name": "returnValues", "type": "bytes[]"}],
    }
]

# Safe (Gnosis Safe) 1.3.0, GnosisSafe.sol: execTransaction and nonce.
SAFE_ABI: Abi = [
    _fn(
        "execTransaction",
        [
            ("to", "address"),
            ("value", "uint256"),
            ("data", "bytes"),
            ("operation", "uint8"),
            ("safeTxGas", "uint256"),
            ("baseGas", "uint256"),
            ("gasPrice", "uint256"),
            ("gasToken", "address"),
            ("refundReceiver", "address"),
            ("signatures", "bytes"),
        ],
        ["bool"],
        "payable",
    ),
    _fn("nonce", [], ["uint256"], "view"),
]

# ERC-20 Transfer event (pUSD pays redemptions with it) and balanceOf.
ERC20_ABI: Abi = [
    _fn("balanceOf", [("owner", "address")], ["uint256"], "view"),
    {
        "name": "Transfer",
        "type": "event",
        "anonymous": False,
        "inputs": [
            {"name": "from", "type": "address", "indexed": True},
            {"name": "to", "type": "address", "indexed": True},
            {"name": "value", "type": "uint256", "indexed": False},
        ],
    },
]


def function_abi(abi: Abi, name: str) -> ABIFunction:
    """Return the one function named `name` in an ABI."""
    found = [e for e in abi if e.get("type") == "function" and e.get("name") == name]
    if len(found) != 1:
        raise KeyError(f"expected one function {name!r}, found {len(found)}")
    return cast(ABIFunction, found[0])
