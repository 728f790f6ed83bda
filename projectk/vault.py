"""Encrypted key vault: the one place a follower's private key lives at rest.

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
- The raw 32-byte key is what is sealed. A mnemonic is reduced on import to the key of its first
  account (m/44'/60'/0'/0/0) and its words are not kept, so the file unlocks that account only.
- `Vault.open_account` is the only way back to a key. No secret or passphrase appears in an
  exception, a repr or a log line; invalid names are not echoed (they may be a pasted key).
- Writers hold an exclusive lock (`<vault>.lock`) and replace the file atomically (temp file in the
  same directory, fsync, os.replace) with mode 0600; a missing directory is made 0700.
- A vault file with group or other permission bits is refused, not fixed: reading must not change
  it, and the operator should learn that it was exposed.
- A failing operation leaves the file byte-identical; a file that does not parse as a vault
  (truncated, altered, newer version) is refused and never overwritten.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import stat
import string
import tempfile
import unicodedata
from base64 import b64decode, b64encode
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum, unique
from pathlib import Path
from typing import Annotated, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from eth_account import Account
from eth_account.hdaccount import key_from_seed
from eth_account.hdaccount.mnemonic import Mnemonic
from eth_account.signers.local import LocalAccount
from eth_account.types import Language
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

logger = logging.getLogger(__name__)

VAULT_VERSION = 1
MNEMONIC_PATH = "m/44'/60'/0'/0/0"
_MNEMONIC_WORD_COUNTS = (12, 15, 18, 21, 24)
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_CHECK_PLAINTEXT = b"projectk-vault-check-v1"
_CHECK_AAD = b"projectk-vault/v1/check"
_MAX_FILE_BYTES = 4 * 1024 * 1024
_BAD_NAME = "invalid vault name: use 1-64 letters, digits, '-' or '_' (and never a key)"
_BAD_SECRET = "not a private key (64 hex digits, 0x optional) nor a BIP-39 mnemonic (12-24 words)"


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
    if not _acceptable_name(value):
        raise ValueError("invalid name")
    return value


B64 = Annotated[
    bytes, BeforeValidator(_b64decode), PlainSerializer(lambda b: b64encode(b).decode("ascii"))
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ScryptParams(_Model):
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


class _Kdf(ScryptParams):
    name: Literal["scrypt"] = "scrypt"
    salt: Annotated[B64, Field(min_length=16, max_length=64)]


class _Sealed(_Model):
    kdf: _Kdf
    cipher: Literal["aes-256-gcm"] = "aes-256-gcm"
    nonce: Annotated[B64, Field(min_length=12, max_length=12)]
    ciphertext: Annotated[B64, Field(min_length=16, max_length=1024)]


class _Entry(_Model):
    name: Annotated[str, AfterValidator(_name)]
    address: Address
    kind: SecretKind
    created_at: Annotated[str, AfterValidator(_iso_time)]
    sealed: _Sealed

    def aad(self) -> bytes:
        return _entry_aad(self.name, self.address, self.kind, self.created_at)

    def public(self) -> VaultEntry:
        created = datetime.fromisoformat(self.created_at)
        return VaultEntry(self.name, self.address, self.kind, created)


class _VaultFile(_Model):
    format: Literal["projectk-vault"] = "projectk-vault"
    version: Literal[1] = 1
    check: _Sealed | None = None
    entries: tuple[_Entry, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> _VaultFile:
        names = [entry.name for entry in self.entries]
        if len(set(names)) != len(names):
            raise ValueError("duplicate entry names")
        if self.entries and self.check is None:
            raise ValueError("entries without a passphrase check")
        return self

    def find(self, name: str) -> _Entry | None:
        return next((entry for entry in self.entries if entry.name == name), None)


DEFAULT_SCRYPT = ScryptParams()


class Vault:
    """The vault file at `path`; `kdf` is the scrypt cost for newly sealed secrets."""

    def __init__(self, path: Path | str, *, kdf: ScryptParams = DEFAULT_SCRYPT) -> None:
        self._path = Path(path)
        self._kdf = kdf

    def __repr__(self) -> str:
        return f"Vault({str(self._path)!r})"

    @property
    def path(self) -> Path:
        """Return the vault file path."""
        return self._path

    def entries(self) -> list[VaultEntry]:
        """Return every entry's public facts, in the order they were added (no passphrase)."""
        doc = self._load()
        return [entry.public() for entry in doc.entries] if doc else []

    def address_of(self, key_ref: str) -> str | None:
        """Return the address stored for `vault://NAME` or `NAME`, or None (no passphrase)."""
        doc = self._load()
        entry = doc.find(_name_of(key_ref)) if doc else None
        return entry.address if entry else None

    def entry(self, key_ref: str) -> VaultEntry:
        """Return one entry's public facts, or raise `UnknownKeyError` (no passphrase)."""
        return self._find(_name_of(key_ref))[1].public()

    def add(self, name: str, secret: str, passphrase: str | None) -> VaultEntry:
        """Seal a private key or BIP-39 mnemonic under `name`; the vault is created if missing."""
        if not _acceptable_name(name):
            raise InvalidNameError(_BAD_NAME)
        phrase = _require(passphrase)
        key, kind = _parse_secret(secret)
        address = str(Account.from_key(key).address)
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._locked():
            doc = self._load() or _VaultFile()
            if doc.find(name) is not None:
                raise DuplicateNameError(f"the vault already has an entry named {name!r}")
            check = self._check_for(doc, phrase)
            created = datetime.now(UTC).replace(microsecond=0).isoformat()
            aad = _entry_aad(name, address, kind, created)
            sealed = _seal(key, aad, phrase, self._kdf)
            entry = _Entry(name=name, address=address, kind=kind, created_at=created, sealed=sealed)
            self._write(_VaultFile(check=check, entries=(*doc.entries, entry)))
        logger.info("vault: added %s (%s, %s) to %s", entry.name, address, kind.value, self._path)
        return entry.public()

    def remove(self, key_ref: str) -> VaultEntry:
        """Delete an entry (no passphrase: anyone who can write the file can delete it anyway)."""
        name = _name_of(key_ref)
        self._find(name)  # before locking: no lock file for a missing vault
        with self._locked():
            doc, entry = self._find(name)
            remaining = tuple(e for e in doc.entries if e.name != name)
            self._write(_VaultFile(check=doc.check, entries=remaining))
        logger.info("vault: removed %s (%s) from %s", name, entry.address, self._path)
        return entry.public()

    def open_account(self, key_ref: str, passphrase: str | None) -> LocalAccount:
        """Decrypt one key for signing; the only way a key leaves the vault."""
        name = _name_of(key_ref)
        phrase = _require(passphrase)
        doc, entry = self._find(name)
        key = _unseal(entry.sealed, entry.aad(), phrase)
        if key is None:
            self._verify(doc, phrase)
            raise VaultCorruptError(
                f"vault entry {KEY_REF_PREFIX}{name} in {self._path} was altered or damaged: "
                "it does not open with the vault's passphrase"
            )
        account: LocalAccount = Account.from_key(key)
        if account.address != entry.address:
            raise VaultCorruptError(f"vault entry {KEY_REF_PREFIX}{name} holds another address")
        logger.debug("vault: opened %s (%s)", name, entry.address)
        return account

    def verify_passphrase(self, passphrase: str | None) -> None:
        """Fail fast (e.g. at worker start) when the passphrase does not open this vault."""
        doc = self._load()
        if doc is not None:
            self._verify(doc, _require(passphrase))

    def _check_for(self, doc: _VaultFile, phrase: str) -> _Sealed:
        # An empty vault takes the caller's passphrase; a non-empty one must already use it.
        if not doc.entries or doc.check is None:
            return _seal(_CHECK_PLAINTEXT, _CHECK_AAD, phrase, self._kdf)
        self._verify(doc, phrase)
        return doc.check

    def _verify(self, doc: _VaultFile, phrase: str) -> None:
        if doc.check is None or _unseal(doc.check, _CHECK_AAD, phrase) == _CHECK_PLAINTEXT:
            return
        # A passphrase that opens an entry but not the check means the check was altered.
        first = doc.entries[0] if doc.entries else None
        if first is not None and _unseal(first.sealed, first.aad(), phrase) is not None:
            raise VaultCorruptError(f"the passphrase check in {self._path} was altered")
        raise WrongPassphraseError(
            f"wrong vault passphrase for {self._path} (PROJECTK_VAULT_PASSPHRASE)"
        )

    def _find(self, name: str) -> tuple[_VaultFile, _Entry]:
        doc = self._load()
        entry = doc.find(name) if doc else None
        if doc is None or entry is None:
            known = ", ".join(e.name for e in doc.entries) if doc else ""
            raise UnknownKeyError(
                f"no vault entry {KEY_REF_PREFIX}{name} in {self._path} (known: {known or 'none'})"
            )
        return doc, entry

    def _load(self) -> _VaultFile | None:
        try:
            fd = os.open(self._path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_FILE_BYTES:
                raise VaultCorruptError(f"{self._path} is not a vault file")
            if info.st_mode & 0o077:
                raise VaultPermissionError(
                    f"vault file {self._path} has mode {stat.S_IMODE(info.st_mode):04o}: other "
                    f"users may read or change it. Check it, then run: chmod 600 {self._path}"
                )
            raw = fh.read()
        return _parse(raw, self._path)

    def _write(self, doc: _VaultFile) -> None:
        data = doc.model_dump_json(indent=2).encode("utf-8") + b"\n"
        parent = self._path.parent
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{self._path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:  # mkstemp created it with mode 0600
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self._path.with_name(self._path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _parse(raw: bytes, path: Path) -> _VaultFile:
    untouched = "it was left untouched"
    try:
        doc = json.loads(raw)
    except ValueError:
        raise VaultCorruptError(f"{path} is not valid JSON (truncated?); {untouched}") from None
    version = doc.get("version") if isinstance(doc, dict) else None
    if isinstance(version, int) and version > VAULT_VERSION:
        raise VaultCorruptError(f"{path} has vault version {version}; this ProjectK reads 1")
    try:
        return _VaultFile.model_validate_json(raw)
    except ValidationError as exc:
        # Only the locations: pydantic's full text would quote field values.
        where = ", ".join(".".join(map(str, err["loc"])) or "file" for err in exc.errors())
        raise VaultCorruptError(f"{path} is damaged or altered ({where}); {untouched}") from None


def _entry_aad(name: str, address: str, kind: SecretKind, created_at: str) -> bytes:
    # Canonical public fields: a ciphertext opens only next to exactly these values.
    fields = [VAULT_VERSION, name, address, kind.value, created_at]
    return json.dumps(fields, separators=(",", ":")).encode("utf-8")


def _acceptable_name(name: str) -> bool:
    # A 64-hex-digit "name" is most likely a pasted private key: refuse it and never echo it.
    looks_like_key = len(name) == 64 and all(c in string.hexdigits for c in name)
    return is_vault_name(name) and not looks_like_key


def _name_of(key_ref: str) -> str:
    name = key_ref.removeprefix(KEY_REF_PREFIX)
    if not _acceptable_name(name):
        raise InvalidNameError(_BAD_NAME)
    return name


def _require(passphrase: str | None) -> str:
    if not passphrase:
        raise PassphraseMissingError("no vault passphrase: set PROJECTK_VAULT_PASSPHRASE")
    return passphrase


def _derive(passphrase: str, kdf: _Kdf) -> bytes:
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    return Scrypt(salt=kdf.salt, length=32, n=kdf.n, r=kdf.r, p=kdf.p).derive(secret)


def _seal(plaintext: bytes, aad: bytes, passphrase: str, params: ScryptParams) -> _Sealed:
    kdf = _Kdf(n=params.n, r=params.r, p=params.p, salt=os.urandom(16))
    nonce = os.urandom(12)
    ciphertext = AESGCM(_derive(passphrase, kdf)).encrypt(nonce, plaintext, aad)
    return _Sealed(kdf=kdf, nonce=nonce, ciphertext=ciphertext)


def _unseal(sealed: _Sealed, aad: bytes, passphrase: str) -> bytes | None:
    # None for a wrong passphrase and for altered data alike: AES-GCM cannot tell them apart.
    try:
        return AESGCM(_derive(passphrase, sealed.kdf)).decrypt(sealed.nonce, sealed.ciphertext, aad)
    except InvalidTag:
        return None


def _parse_secret(secret: str) -> tuple[bytes, SecretKind]:
    text = secret.strip()
    if len(text.split()) > 1:
        return _key_from_mnemonic(text), SecretKind.MNEMONIC
    return _key_from_hex(text), SecretKind.PRIVATE_KEY


def _key_from_hex(text: str) -> bytes:
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    if len(digits) != 64 or not all(c in string.hexdigits for c in digits):
        raise InvalidSecretError(_BAD_SECRET)
    value = int(digits, 16)
    if not 0 < value < _SECP256K1_ORDER:
        raise InvalidSecretError("the private key is out of range for secp256k1")
    return value.to_bytes(32, "big")


def _key_from_mnemonic(text: str) -> bytes:
    # Validate here rather than in eth-account, whose error messages quote the words.
    words = unicodedata.normalize("NFKD", text).lower().split()
    if len(words) not in _MNEMONIC_WORD_COUNTS:
        raise InvalidSecretError(
            f"a BIP-39 mnemonic has 12, 15, 18, 21 or 24 words, this one has {len(words)}"
        )
    mnemonic = Mnemonic(Language.ENGLISH)
    wordlist = frozenset(mnemonic.wordlist)
    unknown = [str(i) for i, word in enumerate(words, start=1) if word not in wordlist]
    if unknown:
        raise InvalidSecretError(
            f"mnemonic word(s) at position {', '.join(unknown)} are not BIP-39 English words"
        )
    phrase = " ".join(words)
    if not mnemonic.is_mnemonic_valid(phrase):
        raise InvalidSecretError("the mnemonic's checksum does not match: a word is wrong or moved")
    return bytes(key_from_seed(Mnemonic.to_seed(phrase), MNEMONIC_PATH))
