"""The vault file's on-disk format and its crypto; `adapters.vault` is the API on top of it.

File (JSON, bytes in base64): {"format": "projectk-vault", "version": 1, "check": SEALED,
"entries": [{"name", "address", "kind", "created_at", "sealed": SEALED}]}, where SEALED =
{"kdf": {"name": "scrypt", "n", "r", "p", "salt"}, "cipher": "aes-256-gcm", "nonce", "ciphertext"}.

Invariants:
- Each secret is sealed with AES-256-GCM under a key derived from the passphrase by scrypt with its
  own random salt and nonce, the scrypt cost recorded beside it. `check` seals a constant under the
  same passphrase, so a wrong passphrase is told apart from an altered entry.
- Name, address, kind and creation time are in clear (listing and address checks need no
  passphrase) and are the ciphertext's associated data: altering any of them, or one byte of the
  ciphertext, makes the entry fail to open.
- A file that does not parse as a vault (truncated, altered, newer version) raises
  `VaultCorruptError`; its messages name the damaged fields, never their values.
- This module does no I/O: reading, writing and locking the file are `adapters.vault`'s job.
"""

from __future__ import annotations

import json
import os
import string
import unicodedata
from base64 import b64decode, b64encode
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum, unique
from pathlib import Path
from typing import Annotated, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

from projectk.models import KEY_REF_PREFIX, Address, is_vault_name

VAULT_VERSION = 1
_CHECK_PLAINTEXT = b"projectk-vault-check-v1"
_CHECK_AAD = b"projectk-vault/v1/check"


class VaultError(Exception):
    """Base of every vault failure; the message is safe to show and never holds a secret."""


class PassphraseMissingError(VaultError):
    """No passphrase was given (PROJECTK_VAULT_PASSPHRASE is unset or empty)."""


class WrongPassphraseError(VaultError):
    """The passphrase is not the one this vault was created with."""


class DuplicateNameError(VaultError):
    """An entry with that name already exists."""


class InvalidNameError(VaultError):
    """The name or key_ref is not an acceptable vault name."""


class InvalidSecretError(VaultError):
    """The secret is neither a valid private key nor a valid BIP-39 mnemonic."""


class UnknownKeyError(VaultError, LookupError):
    """No entry has that name."""


class VaultCorruptError(VaultError):
    """The vault file is truncated, altered, or not a vault this version can read."""


class VaultPermissionError(VaultError):
    """The vault file is readable or writable by users other than its owner."""


@unique
class SecretKind(StrEnum):
    """What the operator imported; the vault always stores the resulting private key."""

    PRIVATE_KEY = "private_key"  # a raw secp256k1 private key
    MNEMONIC = "mnemonic"  # a BIP-39 mnemonic; its account m/44'/60'/0'/0/0 is stored


@dataclass(frozen=True)
class VaultEntry:
    """Public facts about one stored key (no secret)."""

    name: str
    address: str
    kind: SecretKind
    created_at: datetime

    @property
    def key_ref(self) -> str:
        """Return the reference the rest of the system uses for this key."""
        return f"{KEY_REF_PREFIX}{self.name}"


def _b64decode(value: object) -> object:
    # Strict: a stray character is damage, not something to skip.
    return b64decode(value, validate=True) if isinstance(value, str) else value


def _iso_time(value: str) -> str:
    if datetime.fromisoformat(value).tzinfo is None:
        raise ValueError("created_at needs a time zone")
    return value


def _name(value: str) -> str:
    if not acceptable_name(value):
        raise ValueError("invalid name")
    return value


B64 = Annotated[
    bytes, BeforeValidator(_b64decode), PlainSerializer(lambda b: b64encode(b).decode("ascii"))
]


class FileModel(BaseModel):
    """Base of the file models: immutable, and nothing unknown or loosely typed is accepted."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ScryptParams(FileModel):
    """scrypt cost; the default costs about 0.1 s and 32 MiB per derivation."""

    n: int = Field(default=2**15, ge=2, le=2**20)
    r: int = Field(default=8, ge=1, le=32)
    p: int = Field(default=1, ge=1, le=16)

    @model_validator(mode="after")
    def _bounded(self) -> ScryptParams:
        if self.n & (self.n - 1):
            raise ValueError("scrypt n must be a power of two")
        if 128 * self.n * self.r > 256 * 1024 * 1024:
            raise ValueError("scrypt n * r needs more than 256 MiB")
        return self


class KdfModel(ScryptParams):
    """The scrypt cost and salt one sealed secret was derived with."""

    name: Literal["scrypt"] = "scrypt"
    salt: Annotated[B64, Field(min_length=16, max_length=64)]


class SealedModel(FileModel):
    """One AES-256-GCM ciphertext and what is needed to open it, bar passphrase and AAD."""

    kdf: KdfModel
    cipher: Literal["aes-256-gcm"] = "aes-256-gcm"
    nonce: Annotated[B64, Field(min_length=12, max_length=12)]
    ciphertext: Annotated[B64, Field(min_length=16, max_length=1024)]


class EntryModel(FileModel):
    """One stored key: public fields in clear, the key sealed with them as associated data."""

    name: Annotated[str, AfterValidator(_name)]
    address: Address
    kind: SecretKind
    created_at: Annotated[str, AfterValidator(_iso_time)]
    sealed: SealedModel

    def aad(self) -> bytes:
        """Return the associated data `sealed` opens with."""
        return entry_aad(self.name, self.address, self.kind, self.created_at)

    def public(self) -> VaultEntry:
        """Return the entry's public facts."""
        created = datetime.fromisoformat(self.created_at)
        return VaultEntry(self.name, self.address, self.kind, created)


class VaultFileModel(FileModel):
    """The whole vault file."""

    format: Literal["projectk-vault"] = "projectk-vault"
    version: Literal[1] = 1
    check: SealedModel | None = None
    entries: tuple[EntryModel, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> VaultFileModel:
        names = [entry.name for entry in self.entries]
        if len(set(names)) != len(names):
            raise ValueError("duplicate entry names")
        if self.entries and self.check is None:
            raise ValueError("entries without a passphrase check")
        return self

    def find(self, name: str) -> EntryModel | None:
        """Return the entry named `name`, or None."""
        return next((entry for entry in self.entries if entry.name == name), None)


DEFAULT_SCRYPT = ScryptParams()


def parse_vault_file(raw: bytes, path: Path) -> VaultFileModel:
    """Parse the file's bytes, or raise `VaultCorruptError` naming `path` but no field value."""
    untouched = "it was left untouched"
    try:
        doc = json.loads(raw)
    except ValueError:
        raise VaultCorruptError(f"{path} is not valid JSON (truncated?); {untouched}") from None
    version = doc.get("version") if isinstance(doc, dict) else None
    if isinstance(version, int) and version > VAULT_VERSION:
        raise VaultCorruptError(f"{path} has vault version {version}; this ProjectK reads 1")
    try:
        return VaultFileModel.model_validate_json(raw)
    except ValidationError as exc:
        # Only the locations: pydantic's full text would quote field values.
        where = ", ".join(".".join(map(str, err["loc"])) or "file" for err in exc.errors())
        raise VaultCorruptError(f"{path} is damaged or altered ({where}); {untouched}") from None


def entry_aad(name: str, address: str, kind: SecretKind, created_at: str) -> bytes:
    """Return the associated data an entry with these public fields is sealed with."""
    # Canonical public fields: a ciphertext opens only next to exactly these values.
    fields = [VAULT_VERSION, name, address, kind.value, created_at]
    return json.dumps(fields, separators=(",", ":")).encode("utf-8")


def acceptable_name(name: str) -> bool:
    """Return whether `name` may name an entry."""
    # A 64-hex-digit "name" is most likely a pasted private key: refuse it and never echo it.
    looks_like_key = len(name) == 64 and all(c in string.hexdigits for c in name)
    return is_vault_name(name) and not looks_like_key


def _derive(passphrase: str, kdf: KdfModel) -> bytes:
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return Scrypt(salt=kdf.salt, length=32, n=kdf.n, r=kdf.r, p=kdf.p).derive(secret)


def seal(plaintext: bytes, aad: bytes, passphrase: str, params: ScryptParams) -> SealedModel:
    """Encrypt `plaintext` under `passphrase` with a fresh salt and nonce, bound to `aad`."""
    kdf = KdfModel(n=params.n, r=params.r, p=params.p, salt=os.urandom(16))
    nonce = os.urandom(12)
    ciphertext = AESGCM(_derive(passphrase, kdf)).encrypt(nonce, plaintext, aad)
    return SealedModel(kdf=kdf, nonce=nonce, ciphertext=ciphertext)


def unseal(sealed: SealedModel, aad: bytes, passphrase: str) -> bytes | None:
    """Decrypt `sealed`, or return None if it does not open with `aad` and `passphrase`."""
    # None for a wrong passphrase and for altered data alike: AES-GCM cannot tell them apart.
    try:
        return AESGCM(_derive(passphrase, sealed.kdf)).decrypt(sealed.nonce, sealed.ciphertext, aad)
    except InvalidTag:
        return None


def seal_check(passphrase: str, params: ScryptParams) -> SealedModel:
    """Return a new passphrase check (the file's `check`) for `passphrase`."""
    return seal(_CHECK_PLAINTEXT, _CHECK_AAD, passphrase, params)


def check_opens(check: SealedModel, passphrase: str) -> bool:
    """Return whether the passphrase check `check` opens with `passphrase`."""
    return unseal(check, _CHECK_AAD, passphrase) == _CHECK_PLAINTEXT
