"""The vault keeps keys sealed, refuses bad input without writing, and never leaks a secret."""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from base64 import b64decode, b64encode
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.vault import (
    DuplicateNameError,
    InvalidNameError,
    InvalidSecretError,
    PassphraseMissingError,
    ScryptParams,
    SecretKind,
    UnknownKeyError,
    Vault,
    VaultCorruptError,
    VaultError,
    VaultPermissionError,
    WrongPassphraseError,
)

FAST = ScryptParams(n=16, r=1, p=1)  # tests only: the default costs ~0.1 s per derivation
PASS = "correct horse battery staple"
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
ANVIL0_KEY = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ANVIL1_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ANVIL1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ABANDON_MNEMONIC = "abandon " * 11 + "about"
ABANDON0 = "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault(tmp_path / "data" / "vault.json", kdf=FAST)


@pytest.fixture
def filled(vault: Vault) -> Vault:
    vault.add("anvil0", ANVIL_MNEMONIC, PASS)
    vault.add("anvil1", ANVIL1_KEY, PASS)
    return vault


def _edit(vault: Vault, change: Callable[[dict[str, object]], None]) -> None:
    doc = json.loads(vault.path.read_text())
    change(doc)
    vault.path.write_text(json.dumps(doc))


def _flip(sealed: dict[str, str], index: int) -> None:
    raw = bytearray(b64decode(sealed["ciphertext"]))
    raw[index] ^= 0x01
    sealed["ciphertext"] = b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "secret",
    [ANVIL1_KEY, ANVIL1_KEY[2:], "0X" + ANVIL1_KEY[2:].upper(), f"  {ANVIL1_KEY}\n"],
    ids=["0x", "bare", "upper", "whitespace"],
)
def test_private_key_round_trips(vault: Vault, secret: str) -> None:
    entry = vault.add("hot", secret, PASS)

    assert (entry.address, entry.kind, entry.key_ref) == (
        ANVIL1,
        SecretKind.PRIVATE_KEY,
        "vault://hot",
    )
    account = vault.open_account("vault://hot", PASS)
    assert account.address == ANVIL1
    assert account.key.hex().removeprefix("0x") == ANVIL1_KEY[2:]


@pytest.mark.parametrize(
    ("mnemonic", "address", "key"),
    [
        (ANVIL_MNEMONIC, ANVIL0, ANVIL0_KEY),
        ("  TEST test\ttest test test test test test test test test   junk\n", ANVIL0, ANVIL0_KEY),
        (ABANDON_MNEMONIC, ABANDON0, None),
    ],
    ids=["anvil", "messy-spacing-and-case", "bip39-abandon"],
)
def test_mnemonic_stores_first_account(
    vault: Vault, mnemonic: str, address: str, key: str | None
) -> None:
    entry = vault.add("m", mnemonic, PASS)

    assert (entry.address, entry.kind) == (address, SecretKind.MNEMONIC)
    account = vault.open_account("m", PASS)
    assert account.address == address
    if key is not None:
        assert account.key.hex().removeprefix("0x") == key


def test_listing_and_address_checks_need_no_passphrase(filled: Vault) -> None:
    reader = Vault(filled.path)  # e.g. the bot: no passphrase, default cost

    assert [(e.name, e.address) for e in reader.entries()] == [
        ("anvil0", ANVIL0),
        ("anvil1", ANVIL1),
    ]
    assert reader.address_of("vault://anvil1") == ANVIL1
    assert reader.address_of("anvil0") == ANVIL0
    assert reader.address_of("vault://nobody") is None
    assert reader.entry("vault://anvil0").kind is SecretKind.MNEMONIC
    with pytest.raises(UnknownKeyError, match=r"vault://nobody.*known: anvil0, anvil1"):
        reader.entry("nobody")


def test_missing_vault_reads_as_empty_and_creates_nothing(vault: Vault) -> None:
    assert vault.entries() == []
    assert vault.address_of("x") is None
    for call in [lambda: vault.remove("x"), lambda: vault.open_account("x", PASS)]:
        with pytest.raises(UnknownKeyError, match="known: none"):
            call()
    assert not vault.path.parent.exists()


def test_file_is_private_and_records_format_and_cost(vault: Vault) -> None:
    vault.add("hot", ANVIL1_KEY, PASS)

    assert stat.S_IMODE(vault.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(vault.path.parent.stat().st_mode) == 0o700
    doc = json.loads(vault.path.read_text())
    assert (doc["format"], doc["version"]) == ("projectk-vault", 1)
    kdf = doc["entries"][0]["sealed"]["kdf"]
    assert (kdf["name"], kdf["n"], kdf["r"], kdf["p"]) == ("scrypt", 16, 1, 1)
    assert doc["entries"][0]["sealed"]["cipher"] == "aes-256-gcm"
    assert ANVIL1_KEY[2:] not in vault.path.read_text().lower()
    assert [p.name for p in vault.path.parent.iterdir() if p.suffix == ".tmp"] == []


def test_each_entry_has_its_own_salt_and_nonce(filled: Vault) -> None:
    doc = json.loads(filled.path.read_text())
    sealed = [doc["check"]] + [entry["sealed"] for entry in doc["entries"]]

    assert len({s["kdf"]["salt"] for s in sealed}) == 3
    assert len({s["nonce"] for s in sealed}) == 3


def test_default_cost_is_recorded_and_opens(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "vault.json")
    vault.add("hot", ANVIL1_KEY, PASS)

    assert json.loads(vault.path.read_text())["check"]["kdf"]["n"] == 2**15
    assert Vault(vault.path, kdf=FAST).open_account("hot", PASS).address == ANVIL1


def test_remove_deletes_only_that_entry(filled: Vault) -> None:
    removed = filled.remove("vault://anvil0")

    assert removed.address == ANVIL0
    assert [e.name for e in filled.entries()] == ["anvil1"]
    assert filled.open_account("anvil1", PASS).address == ANVIL1


def test_emptied_vault_accepts_a_new_passphrase(filled: Vault) -> None:
    filled.remove("anvil0")
    filled.remove("anvil1")

    filled.add("fresh", ANVIL1_KEY, "another passphrase")

    assert filled.open_account("fresh", "another passphrase").address == ANVIL1


BAD_NAMES = ["", "has space", "x" * 65, "vault://", "dot.name", ANVIL0_KEY, "é/../x"]
BAD_SECRETS = [
    "",
    "   ",
    "0x1234",
    ANVIL0_KEY[:-1] + "g",
    ANVIL0_KEY + "00",
    "0x" + "0" * 64,
    f"{SECP256K1_ORDER:064x}",
    "test " * 11,
    "test " * 13,
    "test " * 11 + "junky",
    "test " * 12,
    "junk " + "test " * 11,
]


def _error_cases(v: Vault) -> list[tuple[type[VaultError], Callable[[], object]]]:
    cases: list[tuple[type[VaultError], Callable[[], object]]] = [
        (WrongPassphraseError, lambda: v.add("new", ANVIL0_KEY, "wrong")),
        (WrongPassphraseError, lambda: v.open_account("vault://anvil1", "wrong")),
        (WrongPassphraseError, lambda: v.verify_passphrase("wrong")),
        (PassphraseMissingError, lambda: v.add("new", ANVIL0_KEY, None)),
        (PassphraseMissingError, lambda: v.add("new", ANVIL0_KEY, "")),
        (PassphraseMissingError, lambda: v.open_account("anvil1", None)),
        (DuplicateNameError, lambda: v.add("anvil1", ANVIL0_KEY, PASS)),
        (UnknownKeyError, lambda: v.remove("vault://nobody")),
        (UnknownKeyError, lambda: v.open_account("vault://nobody", PASS)),
        (InvalidNameError, lambda: v.open_account("vault:/anvil1", PASS)),
    ]
    cases += [(InvalidNameError, lambda n=n: v.add(n, ANVIL0_KEY, PASS)) for n in BAD_NAMES]
    cases += [(InvalidSecretError, lambda s=s: v.add("new", s, PASS)) for s in BAD_SECRETS]
    return cases


def test_every_error_leaves_the_file_byte_identical(filled: Vault) -> None:
    before = filled.path.read_bytes()
    listing = sorted(p.name for p in filled.path.parent.iterdir())

    for expected, call in _error_cases(filled):
        with pytest.raises(expected):
            call()
        assert filled.path.read_bytes() == before, expected
    assert sorted(p.name for p in filled.path.parent.iterdir()) == listing


@pytest.mark.parametrize("passphrase", [None, ""])
def test_missing_passphrase_creates_nothing(vault: Vault, passphrase: str | None) -> None:
    with pytest.raises(PassphraseMissingError, match="PROJECTK_VAULT_PASSPHRASE"):
        vault.add("hot", ANVIL1_KEY, passphrase)

    assert not vault.path.parent.exists()


def test_every_flipped_ciphertext_byte_is_detected(filled: Vault) -> None:
    length = len(
        b64decode(json.loads(filled.path.read_text())["entries"][1]["sealed"]["ciphertext"])
    )
    pristine = filled.path.read_bytes()

    for index in range(length):  # the 32 key bytes and the 16 tag bytes
        _edit(filled, lambda doc, i=index: _flip(doc["entries"][1]["sealed"], i))  # type: ignore[index]
        with pytest.raises(VaultCorruptError, match="vault://anvil1"):
            filled.open_account("anvil1", PASS)
        filled.path.write_bytes(pristine)
    assert filled.open_account("anvil1", PASS).address == ANVIL1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("address", ANVIL0),
        ("name", "renamed"),
        ("kind", "mnemonic"),
        ("created_at", "2020-01-01T00:00:00+00:00"),
    ],
)
def test_altered_public_fields_do_not_open(filled: Vault, field: str, value: str) -> None:
    def change(doc: dict[str, object]) -> None:
        doc["entries"][1][field] = value  # type: ignore[index]

    _edit(filled, change)
    name = "renamed" if field == "name" else "anvil1"

    with pytest.raises(VaultCorruptError):
        filled.open_account(name, PASS)


def test_swapped_ciphertexts_do_not_open(filled: Vault) -> None:
    def swap(doc: dict[str, object]) -> None:
        entries = doc["entries"]
        entries[0]["sealed"], entries[1]["sealed"] = entries[1]["sealed"], entries[0]["sealed"]  # type: ignore[index]

    _edit(filled, swap)

    with pytest.raises(VaultCorruptError):
        filled.open_account("anvil0", PASS)


def test_altered_check_is_not_taken_for_a_wrong_passphrase(filled: Vault) -> None:
    _edit(filled, lambda doc: _flip(doc["check"], 0))  # type: ignore[arg-type]
    before = filled.path.read_bytes()

    with pytest.raises(VaultCorruptError, match="passphrase check"):
        filled.add("new", ANVIL0_KEY, PASS)
    with pytest.raises(WrongPassphraseError):
        filled.add("new", ANVIL0_KEY, "wrong")
    assert filled.path.read_bytes() == before


def _every_operation(vault: Vault) -> list[Callable[[], object]]:
    return [
        vault.entries,
        lambda: vault.address_of("anvil1"),
        lambda: vault.add("new", ANVIL0_KEY, PASS),
        lambda: vault.remove("anvil1"),
        lambda: vault.open_account("anvil1", PASS),
    ]


@pytest.mark.parametrize(
    "keep", [0, 1, 0.5, -2], ids=["empty", "one-byte", "half", "no-closing-brace"]
)
def test_truncated_file_is_refused_and_kept(filled: Vault, keep: float) -> None:
    raw = filled.path.read_bytes()
    cut = raw[: int(len(raw) * keep)] if isinstance(keep, float) else raw[:keep]
    filled.path.write_bytes(cut)

    for operation in _every_operation(filled):
        with pytest.raises(VaultCorruptError, match="untouched"):
            operation()
    assert filled.path.read_bytes() == cut


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(version=2),
        lambda d: d.update(format="other"),
        lambda d: d.update(extra=1),
        lambda d: d["entries"][0].update(address="0xf39fd6e51aad88f6f4ce6ab8827279cfffb9226"),
        lambda d: d["entries"][0]["sealed"].update(nonce="!!!"),
        lambda d: d["entries"][0]["sealed"]["kdf"].update(n=2**30),
        lambda d: d["entries"].append(d["entries"][0]),
        lambda d: d.update(check=None),
    ],
    ids=["newer", "format", "extra", "address", "base64", "cost", "duplicate", "no-check"],
)
def test_structurally_altered_file_is_refused_and_kept(
    filled: Vault, change: Callable[[dict[str, object]], None]
) -> None:
    _edit(filled, change)
    altered = filled.path.read_bytes()

    for operation in _every_operation(filled):
        with pytest.raises(VaultCorruptError):
            operation()
    assert filled.path.read_bytes() == altered


def test_loose_permissions_are_refused_not_fixed(filled: Vault) -> None:
    filled.path.chmod(0o644)
    before = filled.path.read_bytes()

    for operation in _every_operation(filled):
        with pytest.raises(VaultPermissionError, match="chmod 600"):
            operation()
    assert stat.S_IMODE(filled.path.stat().st_mode) == 0o644
    assert filled.path.read_bytes() == before


def test_secrets_never_reach_messages_reprs_or_logs(
    vault: Vault, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    near_misses = [ANVIL0_KEY[:-1] + "z", "test " * 11 + "junkx", "test " * 12, ANVIL1_KEY + "0"]
    secrets = [ANVIL_MNEMONIC, ANVIL0_KEY, ANVIL1_KEY[2:], PASS, *near_misses]

    entry = vault.add("m", ANVIL_MNEMONIC, PASS)
    vault.add("k", ANVIL1_KEY, PASS)
    vault.open_account("m", PASS)
    texts = [repr(vault), repr(entry), str(entry), repr(vault.entries())]
    for bad in near_misses:
        with pytest.raises(InvalidSecretError) as bad_secret:
            vault.add("bad", bad, PASS)
        texts += [str(bad_secret.value), repr(bad_secret.value)]
    for wrong in [PASS + "!", ANVIL0_KEY]:
        with pytest.raises(WrongPassphraseError) as bad_passphrase:
            vault.open_account("k", wrong)
        texts += [str(bad_passphrase.value), repr(bad_passphrase.value)]

    haystack = ("\n".join(texts) + caplog.text).lower()
    for secret in secrets:
        assert secret.strip().lower() not in haystack
    assert "vault: added m" in caplog.text  # the log is captured, so its silence means something


def test_key_like_names_are_refused_without_echo(vault: Vault) -> None:
    with pytest.raises(InvalidNameError) as info:
        vault.add(ANVIL0_KEY, ANVIL1_KEY, PASS)

    assert ANVIL0_KEY not in str(info.value)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=SECP256K1_ORDER - 1), st.booleans())
def test_random_keys_round_trip(value: int, prefixed: bool) -> None:
    key = f"{value:064x}"
    with tempfile.TemporaryDirectory() as tmp:
        vault = Vault(Path(tmp) / "vault.json", kdf=FAST)
        entry = vault.add("k", "0x" + key if prefixed else key, PASS)

        account = vault.open_account(entry.key_ref, PASS)
    assert account.key.hex().removeprefix("0x") == key
    assert account.address == entry.address == Account.from_key(bytes.fromhex(key)).address


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="0123456789abcdefx \n", min_size=8, max_size=60))
def test_malformed_secrets_are_never_echoed(junk: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        vault = Vault(Path(tmp) / "vault.json", kdf=FAST)
        with pytest.raises(InvalidSecretError) as info:
            vault.add("k", junk, PASS)
        assert os.listdir(tmp) == []

    assert junk.strip() not in str(info.value)


def test_only_the_vault_modules_unseal_a_secret() -> None:
    root = Path(__file__).resolve().parents[3]
    vault = root / "adapters" / "vault"
    allowed = {vault / "vault.py", vault / "file.py"}
    folders = ("projectk", "adapters", "activities", "workflows", "workers", "control", "cli")
    sources = [
        path for folder in (*folders, "bot", "dashboard") for path in (root / folder).rglob("*.py")
    ]
    assert len(sources) > 50
    users = [path for path in sources if "unseal" in path.read_text() and path not in allowed]
    assert users == []
