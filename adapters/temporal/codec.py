"""AES-256-GCM payload codec: workflow inputs, results, signals and memos encrypted at rest.

An encrypted payload has metadata `encoding: binary/encrypted` and `encryption-key-id: ID`; its
data is a 12-byte random nonce followed by the AES-GCM ciphertext of the whole original `Payload`
message (metadata and data), with `projectk-payload/v1/ID` as associated data.

Invariants:
- With a codec configured, every payload a ProjectK client writes is encrypted under the active
  key; the Temporal server and anyone reading its database see only ciphertext and the key id.
- Decoding picks the key by the payload's key id, so retired keys (`PROJECTK_PAYLOAD_OLD_KEYS`)
  keep old histories readable after a rotation. An unknown key id or a tampered payload fails
  with `PayloadDecryptError`, which names the key id and never a key.
- Payloads that are not encrypted are passed through unchanged when decoding: histories written
  before encryption was switched on stay readable.
- Keys never appear in a repr, a log line or an exception message.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from projectk.settings import AES256_KEY_BYTES, Settings

ENCODING_KEY = "encoding"
ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_KEY = "encryption-key-id"
NONCE_BYTES = 12
_AAD_PREFIX = b"projectk-payload/v1/"


class PayloadKeyError(ValueError):
    """A payload key setting is malformed; the message names the variable, never the key."""


class PayloadDecryptError(ValueError):
    """An encrypted payload cannot be decrypted with the keys this process has."""


class EncryptionCodec(PayloadCodec):
    """Encrypt payloads under the active key; decrypt with whichever known key a payload names."""

    def __init__(self, active_key_id: str, keys: Mapping[str, bytes]) -> None:
        if active_key_id not in keys:
            raise PayloadKeyError(f"no key with the active key id {active_key_id!r}")
        for key_id, key in keys.items():
            if len(key) != AES256_KEY_BYTES:
                raise PayloadKeyError(f"payload key {key_id!r} is not {AES256_KEY_BYTES} bytes")
        self._active = active_key_id
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    def __repr__(self) -> str:
        return f"EncryptionCodec(active={self._active!r}, key_ids={sorted(self._ciphers)!r})"

    @property
    def active_key_id(self) -> str:
        """Return the id of the key new payloads are encrypted with."""
        return self._active

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Encrypt each payload under the active key."""
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Decrypt each encrypted payload; pass the others through."""
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        """Return `payload` encrypted under the active key."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._active].encrypt(
            nonce, payload.SerializeToString(), _aad(self._active)
        )
        return Payload(
            metadata={ENCODING_KEY: ENCRYPTED_ENCODING, KEY_ID_KEY: self._active.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        """Return the original of an encrypted payload, or `payload` itself if not encrypted."""
        if payload.metadata.get(ENCODING_KEY) != ENCRYPTED_ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID_KEY, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadDecryptError(
                f"payload encrypted with unknown key id {key_id!r}; known: {sorted(self._ciphers)} "
                "(set PROJECTK_PAYLOAD_OLD_KEYS to keep retired keys)"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, _aad(key_id))
        except InvalidTag:
            raise PayloadDecryptError(
                f"payload under key id {key_id!r} does not decrypt: altered, or another key "
                "was given that id"
            ) from None
        original = Payload()
        original.ParseFromString(plain)
        return original


def _aad(key_id: str) -> bytes:
    # Binds the ciphertext to its key id: relabelling a payload with another id fails to open.
    return _AAD_PREFIX + key_id.encode("utf-8")


def new_key() -> str:
    """Return a fresh random payload key, base64-encoded (for PROJECTK_PAYLOAD_KEY)."""
    return base64.b64encode(os.urandom(AES256_KEY_BYTES)).decode("ascii")


def parse_key(text: str, variable: str) -> bytes:
    """Return the 32 key bytes of a base64 key, or raise `PayloadKeyError` naming `variable`."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise PayloadKeyError(f"{variable}: not valid base64") from None
    if len(key) != AES256_KEY_BYTES:
        raise PayloadKeyError(f"{variable}: must decode to {AES256_KEY_BYTES} bytes")
    return key


def parse_old_keys(text: str) -> dict[str, bytes]:
    """Return the retired keys of `ID:BASE64,ID:BASE64` (PROJECTK_PAYLOAD_OLD_KEYS) by id."""
    keys: dict[str, bytes] = {}
    for number, item in enumerate((part.strip() for part in text.split(",")), start=1):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not key_id.strip():
            raise PayloadKeyError(f"PROJECTK_PAYLOAD_OLD_KEYS: item {number} is not ID:BASE64")
        keys[key_id.strip()] = parse_key(encoded, f"PROJECTK_PAYLOAD_OLD_KEYS item {number}")
    return keys


def codec_from_settings(settings: Settings) -> EncryptionCodec | None:
    """Return the payload codec the settings ask for, or None when no payload key is set."""
    if settings.payload_key is None:
        return None
    keys = {}
    if settings.payload_old_keys is not None:
        keys.update(parse_old_keys(settings.payload_old_keys.get_secret_value()))
    active = parse_key(settings.payload_key.get_secret_value(), "PROJECTK_PAYLOAD_KEY")
    keys[settings.payload_key_id] = active
    return EncryptionCodec(settings.payload_key_id, keys)
