"""Redeem routes and their call data: which contract a follower's wallet calls to redeem a
resolved market, and the exact bytes it sends.

Invariants:
- Pure: no I/O, no key. Signing a Safe transaction hash happens in the claim activity; here
  the hash is computed and the signature is only placed into call data.
- Call data is ABI-encoded from the fragments in `redeem_abis` (selector from the fragment, then
  its input types), so an ABI typo cannot hide behind a hand-written selector.
- Routes: pUSD-backed ConditionalTokens positions (the sandbox) redeem on ConditionalTokens
  itself; on production the V2 collateral adapters redeem (binary and neg-risk) and pay pUSD.
  The wallet path wraps that call: an EOA sends it, a proxy wallet's owner sends it through
  the ProxyWalletFactory, a Safe's owner sends it through the Safe's `execTransaction`.
- Deposit wallets (POLY_1271) are redeemed only through Polymarket's relayer, which ProjectK
  does not drive: `wallet_call` refuses them with `UnsupportedRedeemError`.
"""

from __future__ import annotations

from enum import StrEnum, unique
from typing import Any

from eth_abi.abi import encode
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types
from eth_utils.crypto import keccak
from pydantic import Field

from adapters.chain import contracts as chain
from adapters.chain.abis import (
    CONDITIONAL_TOKENS_ABI,
    CTF_COLLATERAL_ADAPTER_ABI,
    NEG_RISK_ADAPTER_ABI,
    PROXY_WALLET_FACTORY_ABI,
    SAFE_ABI,
    Abi,
    function_abi,
)
from adapters.chain.ctf import to_bytes32
from projectk.claims import BINARY_INDEX_SETS
from projectk.models import Frozen, SignatureType

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO32 = b"\x00" * 32
PROXY_CALL = 1  # ProxyWalletFactory typeCode for a plain CALL
SAFE_CALL = 0  # Safe Enum.Operation.Call
_SAFE_DOMAIN_TYPEHASH = keccak(text="EIP712Domain(uint256 chainId,address verifyingContract)")
_SAFE_TX_TYPEHASH = keccak(
    text="SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,"
    "uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)"
)


_SAFE_TX_TYPES = [
    "bytes32",
    "address",
    "uint256",
    "bytes32",
    "uint8",
    "uint256",
    "uint256",
    "uint256",
    "address",
    "address",
    "uint256",
]


class UnsupportedRedeemError(ValueError):
    """The position cannot be redeemed by a transaction ProjectK sends (e.g. deposit wallets)."""


@unique
class RedeemRoute(StrEnum):
    """Which contract burns the outcome tokens and pays the collateral."""

    CTF = "ctf"  # ConditionalTokens.redeemPositions, pUSD collateral (sandbox)
    CTF_ADAPTER = "ctf_adapter"  # CtfCollateralAdapter, binary markets, pays pUSD (production)
    NEG_RISK_ADAPTER = "neg_risk_adapter"  # NegRiskCtfCollateralAdapter, neg-risk, pays pUSD


class Call(Frozen):
    """One contract call: target, call data (0x hex) and POL value (wei)."""

    to: str
    data: str
    value: int = Field(default=0, ge=0)


def encode_call(abi: Abi, name: str, args: list[Any]) -> str:
    """Return 0x call data of `name(args)` encoded from its ABI fragment."""
    entry = function_abi(abi, name)
    selector = function_abi_to_4byte_selector(entry)
    return "0x" + (selector + encode(list(get_abi_input_types(entry)), args)).hex()


def choose_route(neg_risk: bool, use_adapters: bool) -> RedeemRoute:
    """Return the redeem route for a market kind and deployment (adapters on production)."""
    if not use_adapters:  # the sandbox backs every market, neg-risk too, by pUSD directly
        return RedeemRoute.CTF
    return RedeemRoute.NEG_RISK_ADAPTER if neg_risk else RedeemRoute.CTF_ADAPTER


def redeem_call(route: RedeemRoute, condition_id: str, amounts: tuple[int, int]) -> Call:
    """Return the redeem call for a binary condition; amounts are the (Yes, No) shares held."""
    cond = to_bytes32(condition_id)
    index_sets = list(BINARY_INDEX_SETS)
    if route is RedeemRoute.CTF:
        args: list[Any] = [chain.PUSD, ZERO32, cond, index_sets]
        return Call(
            to=chain.CONDITIONAL_TOKENS,
            data=encode_call(CONDITIONAL_TOKENS_ABI, "redeemPositions", args),
        )
    if route is RedeemRoute.CTF_ADAPTER:
        args = [chain.PUSD, ZERO32, cond, index_sets]
        return Call(
            to=chain.CTF_COLLATERAL_ADAPTER,
            data=encode_call(CTF_COLLATERAL_ADAPTER_ABI, "redeemPositions", args),
        )
    return Call(
        to=chain.NEG_RISK_CTF_COLLATERAL_ADAPTER,
        data=encode_call(NEG_RISK_ADAPTER_ABI, "redeemPositions", [cond, list(amounts)]),
    )


def proxy_call(inner: Call) -> Call:
    """Return the ProxyWalletFactory call that runs `inner` from the sender's proxy wallet."""
    calls = [(PROXY_CALL, inner.to, inner.value, bytes.fromhex(inner.data[2:]))]
    return Call(
        to=chain.PROXY_WALLET_FACTORY,
        data=encode_call(PROXY_WALLET_FACTORY_ABI, "proxy", [calls]),
    )


def safe_tx_hash(safe: str, chain_id: int, inner: Call, nonce: int) -> bytes:
    """Return the EIP-712 SafeTx hash (Safe 1.3.0) an owner signs to run `inner`."""
    struct = keccak(
        encode(
            _SAFE_TX_TYPES,
            [
                _SAFE_TX_TYPEHASH,
                inner.to,
                inner.value,
                keccak(bytes.fromhex(inner.data[2:])),
                SAFE_CALL,
                0,
                0,
                0,
                ZERO_ADDRESS,
                ZERO_ADDRESS,
                nonce,
            ],
        )
    )
    domain = keccak(
        encode(["bytes32", "uint256", "address"], [_SAFE_DOMAIN_TYPEHASH, chain_id, safe])
    )
    return keccak(b"\x19\x01" + domain + struct)


def safe_call(safe: str, inner: Call, signature: bytes) -> Call:
    """Return the Safe `execTransaction` call running `inner` with an owner's signature."""
    args = [
        inner.to,
        inner.value,
        bytes.fromhex(inner.data[2:]),
        SAFE_CALL,
        0,
        0,
        0,
        ZERO_ADDRESS,
        ZERO_ADDRESS,
        signature,
    ]
    return Call(to=safe, data=encode_call(SAFE_ABI, "execTransaction", args))


def safe_signature(r: int, s: int, v: int) -> bytes:
    """Return an owner's ECDSA signature in the Safe's r || s || v layout (v 27 or 28)."""
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v if v >= 27 else v + 27])


def wallet_path_needs_safe_nonce(signature_type: SignatureType) -> bool:
    """Tell whether the wallet path must read the Safe's nonce and sign its hash."""
    return signature_type is SignatureType.POLY_GNOSIS_SAFE


def wallet_call(
    inner: Call, signature_type: SignatureType, holder: str, safe_sig: bytes | None = None
) -> Call:
    """Return the transaction the signer sends so that `holder` makes the `inner` call."""
    if signature_type is SignatureType.EOA:
        return inner
    if signature_type is SignatureType.POLY_PROXY:
        return proxy_call(inner)
    if signature_type is SignatureType.POLY_GNOSIS_SAFE:
        if safe_sig is None:
            raise ValueError("a Safe redeem needs the owner's signature of the SafeTx hash")
        return safe_call(holder, inner, safe_sig)
    raise UnsupportedRedeemError(
        "deposit wallets (signature type 3) redeem through Polymarket's relayer; "
        "redeem this position in the Polymarket app"
    )
