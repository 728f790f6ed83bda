"""The vault: an encrypted file of follower keys, named by `key_ref` (`vault://NAME`).

Invariants: secrets are sealed with AES-GCM under a scrypt-derived key and only leave the vault
as an `eth_account` account in the memory of the process that signs; nothing here logs or
returns a secret in an error message.
"""

from adapters.vault.file import (
    DEFAULT_SCRYPT,
    DuplicateNameError,
    InvalidNameError,
    InvalidSecretError,
    PassphraseMissingError,
    ScryptParams,
    SecretKind,
    UnknownKeyError,
    VaultCorruptError,
    VaultEntry,
    VaultError,
    VaultPermissionError,
    WrongPassphraseError,
)
from adapters.vault.vault import MNEMONIC_PATH, Vault

__all__ = [
    "DEFAULT_SCRYPT",
    "MNEMONIC_PATH",
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
