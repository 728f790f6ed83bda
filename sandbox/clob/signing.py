"""Sign limit orders inside the sandbox (its market maker), for either exchange domain.

Invariants: amounts are those a client computes for an on-tick limit order (BUY: pUSD =
size x price for size shares; SELL the reverse), in micro-units; the signature is an EOA
signature (v = 27/28) over the order's EIP-712 digest for the exchange the market trades on, so
the order is indistinguishable from one a client posts.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from decimal import Decimal

from eth_keys.datatypes import PrivateKey

from sandbox.clob.orders import Side, SignatureType, SignedOrder, order_digest

MICRO = Decimal(1_000_000)
ZERO32 = b"\x00" * 32


def limit_order(
    private_key: str,
    address: str,
    token_id: int,
    side: Side,
    price: Decimal,
    size: Decimal,
    chain_id: int,
    exchange: str,
) -> SignedOrder:
    """Build and sign an EOA limit order of ``size`` shares at ``price``."""
    shares = int(size * MICRO)
    usd = int(size * price * MICRO)
    maker_amount, taker_amount = (usd, shares) if side == Side.BUY else (shares, usd)
    unsigned = SignedOrder(
        salt=secrets.randbits(48),
        maker=address,
        signer=address,
        token_id=token_id,
        maker_amount=maker_amount,
        taker_amount=taker_amount,
        side=side,
        signature_type=SignatureType.EOA,
        timestamp=int(time.time() * 1000),
        metadata=ZERO32,
        builder=ZERO32,
        expiration=0,
        signature="",
    )
    digest = order_digest(unsigned, chain_id, exchange)
    sig = PrivateKey(bytes.fromhex(private_key.removeprefix("0x"))).sign_msg_hash(digest)
    raw = sig.to_bytes()
    signature = "0x" + (raw[:64] + bytes([raw[64] + 27])).hex()
    return replace(unsigned, signature=signature)
