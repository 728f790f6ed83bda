"""Signature checks per wallet kind, including POLY_1271 deposit wallets.

Invariants: an EOA order is valid only if the maker signed it; proxy/safe orders (types 1, 2) only
if ``signer`` signed it; a deposit-wallet order (type 3, signer == maker == the wallet) only if its
ERC-1271 blob is the one py-clob-client-v2 builds (Solady TypedDataSign over this exchange's domain
and this order's struct hash) and the inner ECDSA signature comes from ``owner``. The sandbox has
no wallet contracts, so the owner of a deposit wallet is the EOA behind the API key that posts it.
"""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from sandbox.clob.ecdsa import SIGNERS
from sandbox.clob.orders import (
    ORDER_TYPE,
    SignatureType,
    SignedOrder,
    domain_separator,
    order_digest,
    signature_valid,
    struct_hash,
)

_TYPED_DATA_SIGN = keccak(
    text="TypedDataSign(Order contents,string name,string version,uint256 chainId,"
    "address verifyingContract,bytes32 salt)" + ORDER_TYPE
)
_WALLET_NAME = keccak(text="DepositWallet")
_WALLET_VERSION = keccak(text="1")


def _deposit_wallet_valid(order: SignedOrder, chain_id: int, exchange: str, owner: str) -> bool:
    raw = bytes.fromhex(order.signature.removeprefix("0x"))
    contents_type = ORDER_TYPE.encode()
    expected_len = 65 + 32 + 32 + len(contents_type) + 2
    if len(raw) != expected_len or order.signer != order.maker:
        return False
    inner, app_sep, contents = raw[:65], raw[65:97], raw[97:129]
    if app_sep != domain_separator(chain_id, exchange) or contents != struct_hash(order):
        return False
    if raw[129:-2] != contents_type or int.from_bytes(raw[-2:], "big") != len(contents_type):
        return False
    sign_struct = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "bytes32", "uint256", "address", "bytes32"],
            [
                _TYPED_DATA_SIGN,
                contents,
                _WALLET_NAME,
                _WALLET_VERSION,
                chain_id,
                order.signer,
                b"\x00" * 32,
            ],
        )
    )
    return SIGNERS.signed_by(keccak(b"\x19\x01" + app_sep + sign_struct), "0x" + inner.hex(), owner)


def order_signature_valid(
    order: SignedOrder, chain_id: int, exchange: str, owner: str | None
) -> bool:
    """Check an order's signature for its wallet kind; ``owner`` is the posting API key's EOA."""
    if order.signature_type == SignatureType.POLY_1271:
        return owner is not None and _deposit_wallet_valid(order, chain_id, exchange, owner)
    return signature_valid(order, order_digest(order, chain_id, exchange))
