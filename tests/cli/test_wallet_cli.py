"""`projectk wallet` as an operator uses it: hidden prompt or --stdin, never a secret in output."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from adapters.vault import ScryptParams, Vault
from cli.wallet import wallet
from projectk.settings import load_settings

FAST = ScryptParams(n=16, r=1, p=1)
PASS = "operator passphrase"
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
ANVIL0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ANVIL1_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ANVIL1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
SECRETS = [ANVIL_MNEMONIC, ANVIL1_KEY[2:], PASS]


class Wallet:
    """Runs `wallet` commands against one vault in a temporary data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.vault = Vault(data_dir / "vault.json", kdf=FAST)
        self.outputs: list[str] = []

    def run(self, *args: str, input: str | None = None, passphrase: str | None = PASS) -> Result:
        settings = load_settings(data_dir=self.data_dir, vault_passphrase=passphrase)
        obj = {"settings": settings, "vault": self.vault}
        result = CliRunner().invoke(wallet, list(args), input=input, obj=obj)
        self.outputs += [result.stdout, result.stderr]
        return result

    def file_bytes(self) -> bytes | None:
        return self.vault.path.read_bytes() if self.vault.path.exists() else None


@pytest.fixture
def cli(tmp_path: Path) -> Wallet:
    return Wallet(tmp_path / "data")


@pytest.fixture
def stocked(cli: Wallet) -> Wallet:
    assert cli.run("add", "hot", "--stdin", input=ANVIL1_KEY + "\n").exit_code == 0
    return cli


def _assert_no_secret(texts: list[str], extra: tuple[str, ...] = ()) -> None:
    haystack = "\n".join(texts).lower()
    for secret in [*SECRETS, *extra]:
        assert secret.lower() not in haystack


def test_add_reads_a_hidden_prompt_and_prints_the_key_ref(cli: Wallet) -> None:
    result = cli.run("add", "hot", input=ANVIL_MNEMONIC + "\n")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"vault://hot {ANVIL0}\n"
    assert "Private key or mnemonic" in result.stderr
    _assert_no_secret(cli.outputs)
    assert cli.vault.open_account("vault://hot", PASS).address == ANVIL0
    assert stat.S_IMODE(cli.vault.path.stat().st_mode) == 0o600


def test_add_from_stdin_for_automation(cli: Wallet) -> None:
    result = cli.run("add", "bot-1", "--stdin", input=ANVIL1_KEY)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"vault://bot-1 {ANVIL1}\n"
    assert "Private key" not in result.output
    _assert_no_secret(cli.outputs)


def test_list_shows_names_and_addresses_only(stocked: Wallet) -> None:
    stocked.run("add", "seed", "--stdin", input=ANVIL_MNEMONIC)

    result = stocked.run("list", passphrase=None)

    assert result.exit_code == 0, result.output
    lines = [line.split("\t")[:3] for line in result.stdout.splitlines()]
    assert lines == [["vault://hot", ANVIL1, "private_key"], ["vault://seed", ANVIL0, "mnemonic"]]
    _assert_no_secret(stocked.outputs)


def test_list_of_a_missing_vault_says_it_is_empty(cli: Wallet) -> None:
    result = cli.run("list")

    assert (result.exit_code, result.stdout) == (0, "")
    assert "empty" in result.stderr
    assert cli.file_bytes() is None


def test_remove_asks_and_keeps_the_key_when_refused(stocked: Wallet) -> None:
    before = stocked.file_bytes()

    refused = stocked.run("remove", "hot", input="n\n")

    assert refused.exit_code != 0
    assert f"Remove vault://hot ({ANVIL1})?" in refused.stderr
    assert stocked.file_bytes() == before

    accepted = stocked.run("remove", "vault://hot", input="y\n")

    assert accepted.exit_code == 0, accepted.output
    assert accepted.stdout == f"removed vault://hot {ANVIL1}\n"
    assert stocked.vault.entries() == []


def test_remove_yes_needs_no_prompt(stocked: Wallet) -> None:
    result = stocked.run("remove", "hot", "--yes", passphrase=None)

    assert result.exit_code == 0, result.output
    assert "Remove" not in result.output
    assert stocked.vault.address_of("hot") is None


@pytest.mark.parametrize(
    ("args", "stdin", "passphrase", "message"),
    [
        (("add", "new", "--stdin"), ANVIL_MNEMONIC, "wrong passphrase", "wrong vault passphrase"),
        (("add", "new", "--stdin"), ANVIL_MNEMONIC, None, "PROJECTK_VAULT_PASSPHRASE"),
        (("add", "new", "--stdin"), ANVIL_MNEMONIC, "", "PROJECTK_VAULT_PASSPHRASE"),
        (("add", "hot", "--stdin"), ANVIL_MNEMONIC, PASS, "already has an entry named 'hot'"),
        (("add", "bad name", "--stdin"), ANVIL_MNEMONIC, PASS, "invalid vault name"),
        (("add", "new", "--stdin"), ANVIL1_KEY[:-1], PASS, "not a private key"),
        (("add", "new", "--stdin"), ANVIL_MNEMONIC[:-1], PASS, "not BIP-39 English words"),
        (("add", "new"), "test " * 12 + "\n", PASS, "checksum does not match"),
        (("remove", "nobody", "--yes"), None, PASS, "no vault entry vault://nobody"),
    ],
    ids=[
        "wrong-passphrase",
        "no-passphrase",
        "empty-passphrase",
        "duplicate",
        "bad-name",
        "bad-key",
        "bad-word",
        "bad-checksum",
        "unknown",
    ],
)
def test_errors_exit_non_zero_write_nothing_and_echo_no_secret(
    stocked: Wallet, args: tuple[str, ...], stdin: str | None, passphrase: str | None, message: str
) -> None:
    before = stocked.file_bytes()

    result = stocked.run(*args, input=stdin, passphrase=passphrase)

    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""
    assert stocked.file_bytes() == before
    _assert_no_secret(stocked.outputs, (ANVIL1_KEY[2:-1], ANVIL_MNEMONIC[:-1]))


def test_checks_needing_no_secret_run_before_the_prompt(stocked: Wallet) -> None:
    for args, passphrase in [
        (("add", "hot"), PASS),
        (("add", "new"), None),
        (("add", "a b"), PASS),
    ]:
        result = stocked.run(*args, input=ANVIL_MNEMONIC + "\n", passphrase=passphrase)

        assert result.exit_code == 1
        assert "Private key or mnemonic" not in result.output


@pytest.mark.parametrize(
    "command", [("list",), ("add", "new", "--stdin"), ("remove", "hot", "--yes")]
)
def test_a_damaged_vault_is_reported_and_left_alone(
    stocked: Wallet, command: tuple[str, ...]
) -> None:
    truncated = stocked.vault.path.read_bytes()[:-40]
    stocked.vault.path.write_bytes(truncated)

    result = stocked.run(*command, input=ANVIL_MNEMONIC)

    assert result.exit_code == 1
    assert "untouched" in result.stderr
    assert stocked.file_bytes() == truncated


def test_nothing_secret_is_logged(cli: Wallet, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    cli.run("add", "seed", input=ANVIL_MNEMONIC + "\n")
    cli.run("add", "hot", "--stdin", input=ANVIL1_KEY)
    cli.run("add", "bad", "--stdin", input=ANVIL1_KEY[:-1])
    cli.run("list")
    cli.run("remove", "seed", "--yes")

    assert "vault: added seed" in caplog.text
    _assert_no_secret([caplog.text, *cli.outputs], (ANVIL1_KEY[2:-1],))


def test_environment_settings_and_default_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env file
    env = {"PROJECTK_DATA_DIR": str(tmp_path / "home"), "PROJECTK_VAULT_PASSPHRASE": PASS}
    runner = CliRunner(env=env)

    added = runner.invoke(wallet, ["add", "hot", "--stdin"], input=ANVIL1_KEY)
    listed = runner.invoke(wallet, ["list"])

    assert added.exit_code == 0, added.output
    assert added.stdout == f"vault://hot {ANVIL1}\n"
    assert listed.stdout.startswith(f"vault://hot\t{ANVIL1}\t")
    vault = Vault(tmp_path / "home" / "vault.json")
    assert vault.open_account("hot", PASS).address == ANVIL1
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700
