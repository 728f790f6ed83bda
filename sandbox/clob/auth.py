"""L1 (ClobAuth EIP-712) and L2 (HMAC) authentication, as py-clob-client-v2 sends them.

Invariants: API credentials are derived deterministically from (address, nonce) with a per-server
secret, so ``derive`` always returns what ``create`` returned; an L2 request is accepted only when
the key exists, belongs to POLY_ADDRESS, the passphrase matches, and the HMAC over
``timestamp + method + path + body`` matches (the client replaces ' with " in the body first).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from sandbox.clob.ecdsa import SIGNERS

CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"
_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId)"
_AUTH_TYPE = "ClobAuth(address address,string timestamp,uint256 nonce,string message)"

L1_ERROR = "Invalid L1 Request headers"
L2_ERROR = "Unauthorized/Invalid api key"


class AuthError(Exception):
    """Authentication failed; the message is the real CLOB error text."""


@dataclass(frozen=True)
class ApiCreds:
    """One API key as returned by /auth/api-key."""

    address: str
    nonce: int
    api_key: str
    secret: str
    passphrase: str

    def to_json(self) -> dict[str, str]:
        """Return the wire shape {apiKey, secret, passphrase}."""
        return {"apiKey": self.api_key, "secret": self.secret, "passphrase": self.passphrase}


def clob_auth_digest(chain_id: int, address: str, timestamp: str, nonce: int) -> bytes:
    """Return the EIP-712 digest of the ClobAuth message the client signs."""
    domain = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256"],
            [keccak(text=_DOMAIN_TYPE), keccak(text="ClobAuthDomain"), keccak(text="1"), chain_id],
        )
    )
    struct = keccak(
        encode(
            ["bytes32", "address", "bytes32", "uint256", "bytes32"],
            [
                keccak(text=_AUTH_TYPE),
                address,
                keccak(text=timestamp),
                nonce,
                keccak(text=CLOB_AUTH_MESSAGE),
            ],
        )
    )
    return keccak(b"\x19\x01" + domain + struct)


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    """Compute the L2 signature exactly as the client does."""
    message = timestamp + method + path + body.replace("'", '"')
    digest = hmac.new(base64.urlsafe_b64decode(secret), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


class KeyStore:
    """Issued API keys, derived from a server secret."""

    def __init__(self, chain_id: int, server_secret: bytes | None = None) -> None:
        self.chain_id = chain_id
        self._secret = server_secret or secrets.token_bytes(32)
        self._by_key: dict[str, ApiCreds] = {}

    def _derive(self, address: str, nonce: int) -> ApiCreds:
        seed = hmac.new(
            self._secret, f"{address.lower()}:{nonce}".encode(), hashlib.sha256
        ).digest()
        api_key = str(uuid.UUID(bytes=seed[:16], version=4))
        secret = base64.urlsafe_b64encode(hashlib.sha256(seed + b"secret").digest()).decode()
        passphrase = hashlib.sha256(seed + b"passphrase").hexdigest()
        return ApiCreds(address, nonce, api_key, secret, passphrase)

    def verify_l1(self, headers: Mapping[str, str]) -> tuple[str, int]:
        """Check L1 headers; return (address, nonce)."""
        try:
            address = str(to_checksum_address(headers["poly_address"]))
            timestamp = headers["poly_timestamp"]
            nonce = int(headers.get("poly_nonce", "0"))
            signature = headers["poly_signature"]
        except (KeyError, ValueError) as exc:
            raise AuthError(L1_ERROR) from exc
        digest = clob_auth_digest(self.chain_id, address, timestamp, nonce)
        if not SIGNERS.signed_by(digest, signature, address):
            raise AuthError(L1_ERROR)
        return address, nonce

    def create(self, address: str, nonce: int) -> ApiCreds | None:
        """Issue the key for (address, nonce); None if it already exists (create fails)."""
        creds = self._derive(address, nonce)
        if creds.api_key in self._by_key:
            return None
        self._by_key[creds.api_key] = creds
        return creds

    def derive(self, address: str, nonce: int) -> ApiCreds:
        """Return (and register) the key for (address, nonce)."""
        creds = self._derive(address, nonce)
        self._by_key[creds.api_key] = creds
        return creds

    def delete(self, api_key: str) -> None:
        """Revoke one key."""
        self._by_key.pop(api_key, None)

    def keys_of(self, address: str) -> list[str]:
        """List the API keys of an address."""
        return [c.api_key for c in self._by_key.values() if c.address == address]

    def verify_l2(self, headers: Mapping[str, str], method: str, path: str, body: str) -> ApiCreds:
        """Check L2 headers for one request; return the caller's credentials."""
        creds = self._by_key.get(headers.get("poly_api_key", ""))
        if creds is None:
            raise AuthError(L2_ERROR)
        try:
            address = str(to_checksum_address(headers.get("poly_address", "")))
        except ValueError as exc:
            raise AuthError(L2_ERROR) from exc
        if address != creds.address or headers.get("poly_passphrase") != creds.passphrase:
            raise AuthError(L2_ERROR)
        expected = hmac_signature(
            creds.secret, headers.get("poly_timestamp", ""), method, path, body
        )
        if not hmac.compare_digest(expected, headers.get("poly_signature", "")):
            raise AuthError(L2_ERROR)
        return creds
