"""Encrypted key vault: the one place a follower's private key lives at rest.

The file format and its crypto are in `adapters.vault.file`; this module reads, writes and locks the
file and turns what the operator imports into the key that is sealed.

Invariants:
- The raw 32-byte key is what is sealed. A mnemonic is reduced on import to the key of its first
  account (m/44'/60'/0'/0/0) and its words are not kept, so the file unlocks that account only.
- `Vault.open_account` is the only way back to a key (it alone calls `vault_file.unseal` on an
  entry; nothing outside these two modules may). No secret or passphrase appears in an
  exception, a repr or a log line; invalid names are not echoed (they may be a pasted key).
- Writers hold an exclusive lock (`<vault>.lock`) and replace the file atomically (temp file in the
  same directory, fsync, os.replace) with mode 0600; a missing directory is made 0700.
- A vault file with group or other permission bits is refused, not fixed: reading must not change
  it, and the operator should learn that it was exposed.
- eth-account (about a second to import) is loaded only to turn a secret into an account, when
  adding or opening a key: reading entries' public facts, checking the passphrase and removing
  an entry need no chain library.
- A failing operation leaves the file byte-identical; a file that does not parse as a vault
  (truncated, altered, newer version) is refused and never overwritten.
"""

from __future__ import annotations

import fcntl
import logging
import os
import stat
import string
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.vault.file import (
    DEFAULT_SCRYPT,
    VAULT_VERSION,
    DuplicateNameError,
    EntryModel,
    InvalidNameError,
    InvalidSecretError,
    PassphraseMissingError,
    ScryptParams,
    SealedModel,
    SecretKind,
    UnknownKeyError,
    VaultCorruptError,
    VaultEntry,
    VaultError,
    VaultFileModel,
    VaultPermissionError,
    WrongPassphraseError,
    acceptable_name,
    check_opens,
    entry_aad,
    parse_vault_file,
    seal,
    seal_check,
    unseal,
)
from projectk.models import KEY_REF_PREFIX

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

# What this module offered before the file format moved out; importers keep using these names.
__all__ = [
    "DEFAULT_SCRYPT",
    "MNEMONIC_PATH",
    "VAULT_VERSION",
    "DuplicateNameError",
    "InvalidNameError",
    "InvalidSecretError",
    "PassphraseMissingError",
    "ScryptParams",
    "SecretKind",
    "UnknownKeyError",
    "Vault",
    "VaultCorruptError",
    "VaultEntry",
    "VaultError",
    "VaultPermissionError",
    "WrongPassphraseError",
]

logger = logging.getLogger(__name__)

MNEMONIC_PATH = "m/44'/60'/0'/0/0"
_MNEMONIC_WORD_COUNTS = (12, 15, 18, 21, 24)
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_MAX_FILE_BYTES = 4 * 1024 * 1024
_BAD_NAME = "invalid vault name: use 1-64 letters, digits, '-' or '_' (and never a key)"
_BAD_SECRET = "not a private key (64 hex digits, 0x optional) nor a BIP-39 mnemonic (12-24 words)"


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
        if not acceptable_name(name):
            raise InvalidNameError(_BAD_NAME)
        phrase = _require(passphrase)
        key, kind = _parse_secret(secret)
        address = str(_account_of(key).address)
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._locked():
            doc = self._load() or VaultFileModel()
            if doc.find(name) is not None:
                raise DuplicateNameError(f"the vault already has an entry named {name!r}")
            check = self._check_for(doc, phrase)
            created = datetime.now(UTC).replace(microsecond=0).isoformat()
            aad = entry_aad(name, address, kind, created)
            sealed = seal(key, aad, phrase, self._kdf)
            entry = EntryModel(
                name=name, address=address, kind=kind, created_at=created, sealed=sealed
            )
            self._write(VaultFileModel(check=check, entries=(*doc.entries, entry)))
        logger.info("vault: added %s (%s, %s) to %s", entry.name, address, kind.value, self._path)
        return entry.public()

    def remove(self, key_ref: str) -> VaultEntry:
        """Delete an entry (no passphrase: anyone who can write the file can delete it anyway)."""
        name = _name_of(key_ref)
        self._find(name)  # before locking: no lock file for a missing vault
        with self._locked():
            doc, entry = self._find(name)
            remaining = tuple(e for e in doc.entries if e.name != name)
            self._write(VaultFileModel(check=doc.check, entries=remaining))
        logger.info("vault: removed %s (%s) from %s", name, entry.address, self._path)
        return entry.public()

    def open_account(self, key_ref: str, passphrase: str | None) -> LocalAccount:
        """Decrypt one key for signing; the only way a key leaves the vault."""
        name = _name_of(key_ref)
        phrase = _require(passphrase)
        doc, entry = self._find(name)
        key = unseal(entry.sealed, entry.aad(), phrase)
        if key is None:
            self._verify(doc, phrase)
            raise VaultCorruptError(
                f"vault entry {KEY_REF_PREFIX}{name} in {self._path} was altered or damaged: "
                "it does not open with the vault's passphrase"
            )
        account = _account_of(key)
        if account.address != entry.address:
            raise VaultCorruptError(f"vault entry {KEY_REF_PREFIX}{name} holds another address")
        logger.debug("vault: opened %s (%s)", name, entry.address)
        return account

    def verify_passphrase(self, passphrase: str | None) -> None:
        """Fail fast (e.g. at worker start) when the passphrase does not open this vault."""
        doc = self._load()
        if doc is not None:
            self._verify(doc, _require(passphrase))

    def _check_for(self, doc: VaultFileModel, phrase: str) -> SealedModel:
        # An empty vault takes the caller's passphrase; a non-empty one must already use it.
        if not doc.entries or doc.check is None:
            return seal_check(phrase, self._kdf)
        self._verify(doc, phrase)
        return doc.check

    def _verify(self, doc: VaultFileModel, phrase: str) -> None:
        if doc.check is None or check_opens(doc.check, phrase):
            return
        # A passphrase that opens an entry but not the check means the check was altered.
        first = doc.entries[0] if doc.entries else None
        if first is not None and unseal(first.sealed, first.aad(), phrase) is not None:
            raise VaultCorruptError(f"the passphrase check in {self._path} was altered")
        raise WrongPassphraseError(
            f"wrong vault passphrase for {self._path} (PROJECTK_VAULT_PASSPHRASE)"
        )

    def _find(self, name: str) -> tuple[VaultFileModel, EntryModel]:
        doc = self._load()
        entry = doc.find(name) if doc else None
        if doc is None or entry is None:
            known = ", ".join(e.name for e in doc.entries) if doc else ""
            raise UnknownKeyError(
                f"no vault entry {KEY_REF_PREFIX}{name} in {self._path} (known: {known or 'none'})"
            )
        return doc, entry

    def _load(self) -> VaultFileModel | None:
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
        return parse_vault_file(raw, self._path)

    def _write(self, doc: VaultFileModel) -> None:
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


def _name_of(key_ref: str) -> str:
    name = key_ref.removeprefix(KEY_REF_PREFIX)
    if not acceptable_name(name):
        raise InvalidNameError(_BAD_NAME)
    return name


def _require(passphrase: str | None) -> str:
    if not passphrase:
        raise PassphraseMissingError("no vault passphrase: set PROJECTK_VAULT_PASSPHRASE")
    return passphrase


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


def _account_of(key: bytes) -> LocalAccount:
    from eth_account import Account

    account: LocalAccount = Account.from_key(key)
    return account


def _key_from_mnemonic(text: str) -> bytes:
    from eth_account.hdaccount import key_from_seed
    from eth_account.hdaccount.mnemonic import Mnemonic
    from eth_account.types import Language

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
