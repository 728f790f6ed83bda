"""secp256k1 signature checks: recover a signer, or verify against a known signer quickly.

Invariants: ``signed_by`` is True exactly when ``recover`` would return ``expected``; the first
check for an address recovers its public key in pure Python (~8 ms) and caches it, later checks
verify with OpenSSL (~0.3 ms). Malformed signatures are invalid, never errors.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from eth_keys.datatypes import PublicKey, Signature

_PREHASHED = ec.ECDSA(utils.Prehashed(hashes.SHA256()))  # any 32-byte digest; keccak here
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _split(signature: str) -> tuple[int, int, int] | None:
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        return None
    if len(raw) != 65:
        return None
    v = raw[64] - 27 if raw[64] >= 27 else raw[64]
    return v, int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")


def _recover_key(digest: bytes, signature: str) -> PublicKey | None:
    parts = _split(signature)
    if parts is None:
        return None
    try:
        return Signature(vrs=parts).recover_public_key_from_msg_hash(digest)
    except Exception:  # any malformed signature is simply invalid
        return None


def recover(digest: bytes, signature: str) -> str | None:
    """Recover the address that signed ``digest`` or None when the signature is malformed."""
    key = _recover_key(digest, signature)
    return None if key is None else str(key.to_checksum_address())


class SignerCache:
    """Public keys of addresses seen before, for fast verification."""

    def __init__(self, limit: int = 100_000) -> None:
        self._keys: dict[str, ec.EllipticCurvePublicKey] = {}
        self._limit = limit

    def signed_by(self, digest: bytes, signature: str, expected: str) -> bool:
        """Return True when ``expected`` (checksummed) signed ``digest``."""
        known = self._keys.get(expected)
        if known is None:
            return self._recover_and_remember(digest, signature, expected)
        parts = _split(signature)
        if parts is None or not (0 < parts[1] < _SECP256K1_N and 0 < parts[2] < _SECP256K1_N):
            return False
        try:
            known.verify(utils.encode_dss_signature(parts[1], parts[2]), digest, _PREHASHED)
        except InvalidSignature:
            return False
        return True

    def _recover_and_remember(self, digest: bytes, signature: str, expected: str) -> bool:
        key = _recover_key(digest, signature)
        if key is None or key.to_checksum_address() != expected:
            return False
        if len(self._keys) < self._limit:
            self._keys[expected] = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256K1(), b"\x04" + key.to_bytes()
            )
        return True


SIGNERS = SignerCache()  # process-wide: keys are facts about addresses, never stale
