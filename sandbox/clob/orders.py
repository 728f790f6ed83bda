"""V2 orders as the clients post them: parse, EIP-712 hash (the order id), signature check.

Invariants: the order id is the EIP-712 digest over the "Polymarket CTF Exchange" domain of the
exchange the market trades on: version "2" for CTF Exchange V2 and NegRisk Exchange V2 (v1
markets), version "3" for ExchangeV3 (v2 markets); ``expiration`` is posted but not signed;
amounts are integer micro-units; a BUY gives pUSD (makerAmount) for shares (takerAmount), a SELL
gives shares for pUSD.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum, unique
from functools import cache
from typing import Any

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from sandbox.chain import EXCHANGE_V3
from sandbox.clob.ecdsa import SIGNERS

DOMAIN_NAME = "Polymarket CTF Exchange"
DOMAIN_VERSION = "2"
DOMAIN_VERSION_V3 = "3"
ORDER_TYPE = (
    "Order(uint256 salt,address maker,address signer,uint256 tokenId,uint256 makerAmount,"
    "uint256 takerAmount,uint8 side,uint8 signatureType,uint256 timestamp,bytes32 metadata,"
    "bytes32 builder)"
)
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
ORDER_TYPEHASH = keccak(text=ORDER_TYPE)


@unique
class Side(IntEnum):
    """Order side as signed in the V2 struct."""

    BUY = 0  # gives pUSD, receives outcome shares
    SELL = 1  # gives outcome shares, receives pUSD


@unique
class SignatureType(IntEnum):
    """Wallet kind of the order's maker."""

    EOA = 0  # signer == maker, plain ECDSA
    POLY_PROXY = 1  # signer owns a Polymarket proxy wallet (maker)
    POLY_GNOSIS_SAFE = 2  # signer owns a Gnosis safe (maker)
    POLY_1271 = 3  # deposit wallet, ERC-1271 (not verifiable in the sandbox)


class OrderFormatError(ValueError):
    """The posted order JSON is malformed."""


@dataclass(frozen=True)
class SignedOrder:
    """One signed V2 order."""

    salt: int
    maker: str
    signer: str
    token_id: int
    maker_amount: int
    taker_amount: int
    side: Side
    signature_type: SignatureType
    timestamp: int
    metadata: bytes
    builder: bytes
    expiration: int
    signature: str

    @property
    def shares(self) -> int:
        """Outcome shares in micro-units that the order buys or sells."""
        return self.taker_amount if self.side == Side.BUY else self.maker_amount

    @property
    def usd(self) -> int:
        """pUSD in micro-units that the order pays or asks."""
        return self.maker_amount if self.side == Side.BUY else self.taker_amount

    def price(self) -> Decimal:
        """Return the exact limit price pUSD/share implied by the amounts."""
        return Decimal(self.usd) / Decimal(self.shares)


def _bytes32(value: Any) -> bytes:
    text = str(value or "0x0")
    raw = bytes.fromhex(text[2:] if text.startswith("0x") else text)
    if len(raw) > 32:
        raise OrderFormatError("bytes32 field too long")
    return raw.rjust(32, b"\x00")


def parse_order(raw: dict[str, Any]) -> SignedOrder:
    """Turn the ``order`` object of a POST /order body into a SignedOrder."""
    try:
        side = raw["side"]
        return SignedOrder(
            salt=int(raw["salt"]),
            maker=str(to_checksum_address(raw["maker"])),
            signer=str(to_checksum_address(raw["signer"])),
            token_id=int(raw["tokenId"]),
            maker_amount=int(raw["makerAmount"]),
            taker_amount=int(raw["takerAmount"]),
            side=Side[side] if isinstance(side, str) else Side(int(side)),
            signature_type=SignatureType(int(raw.get("signatureType", 0))),
            timestamp=int(raw.get("timestamp", 0)),
            metadata=_bytes32(raw.get("metadata")),
            builder=_bytes32(raw.get("builder")),
            expiration=int(raw.get("expiration") or 0),
            signature=str(raw["signature"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise OrderFormatError(f"invalid order payload: {exc}") from exc


def domain_version(exchange: str) -> str:
    """Return the EIP-712 domain version orders for ``exchange`` are signed under."""
    return DOMAIN_VERSION_V3 if exchange == EXCHANGE_V3 else DOMAIN_VERSION


@cache
def domain_separator(chain_id: int, exchange: str) -> bytes:
    """Return the EIP-712 domain separator of one exchange."""
    return keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                keccak(text=DOMAIN_TYPE),
                keccak(text=DOMAIN_NAME),
                keccak(text=domain_version(exchange)),
                chain_id,
                exchange,
            ],
        )
    )


def struct_hash(order: SignedOrder) -> bytes:
    """Return the EIP-712 struct hash of the order."""
    return keccak(
        encode(
            [
                "bytes32",
                "uint256",
                "address",
                "address",
                "uint256",
                "uint256",
                "uint256",
                "uint8",
                "uint8",
                "uint256",
                "bytes32",
                "bytes32",
            ],
            [
                ORDER_TYPEHASH,
                order.salt,
                order.maker,
                order.signer,
                order.token_id,
                order.maker_amount,
                order.taker_amount,
                int(order.side),
                int(order.signature_type),
                order.timestamp,
                order.metadata,
                order.builder,
            ],
        )
    )


def order_digest(order: SignedOrder, chain_id: int, exchange: str) -> bytes:
    """Return the EIP-712 digest of the order (its hash and id)."""
    return keccak(b"\x19\x01" + domain_separator(chain_id, exchange) + struct_hash(order))


def signature_valid(order: SignedOrder, digest: bytes) -> bool:
    """Check an ECDSA order signature (types 0-2; type 3 is checked by sandbox.clob.wallets)."""
    if order.signature_type == SignatureType.POLY_1271:
        return False
    if not SIGNERS.signed_by(digest, order.signature, order.signer):
        return False
    return order.signature_type != SignatureType.EOA or order.signer == order.maker
