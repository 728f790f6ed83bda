"""`projectk wallet`: put keys into the vault, list them, remove them.

Invariants:
- A secret is read only from a hidden prompt or from stdin (`--stdin`), never from an argument or
  an option, and is never printed; output shows names, key_refs and addresses only.
- Every check that needs no secret (name, passphrase present, name free) runs before the prompt.
- Vault errors become `UserError`s: one message on stderr, exit code 1, the vault file unchanged.
"""

from __future__ import annotations

import sys

import click

from adapters.vault import Vault, VaultError
from cli.common import UserError, get_settings

_MAX_SECRET_CHARS = 4096  # a 24-word mnemonic is under 250 characters


def _vault(ctx: click.Context) -> Vault:
    # Tests put a cheaper-to-open Vault into the context object; otherwise the settings' path.
    root = ctx.find_root()
    injected = root.obj.get("vault") if isinstance(root.obj, dict) else None
    if isinstance(injected, Vault):
        return injected
    return Vault(get_settings(ctx).resolved_vault_path)


def _read_secret(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.read(_MAX_SECRET_CHARS)
    secret: str = click.prompt(
        "Private key or mnemonic (input hidden)", hide_input=True, err=True, show_default=False
    )
    return secret


@click.group()
def wallet() -> None:
    """Keys in the encrypted vault; everything else names them vault://NAME."""


@wallet.command("add")
@click.argument("name")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the secret from stdin.")
@click.pass_context
def add(ctx: click.Context, name: str, from_stdin: bool) -> None:
    """Store a private key or BIP-39 mnemonic as NAME.

    The secret is read from a hidden prompt (or stdin with --stdin) and sealed with
    PROJECTK_VAULT_PASSPHRASE. Prints vault://NAME and the address.
    """
    vault = _vault(ctx)
    passphrase = get_settings(ctx).passphrase()
    try:
        if vault.address_of(name) is not None:  # fail before the operator types a secret
            raise UserError(f"the vault already has an entry named {name!r}")
        if not passphrase:
            raise UserError("no vault passphrase: set PROJECTK_VAULT_PASSPHRASE")
        entry = vault.add(name, _read_secret(from_stdin), passphrase)
    except VaultError as exc:
        raise UserError(str(exc)) from None
    click.echo(f"{entry.key_ref} {entry.address}")


@wallet.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List vault://NAME, address, kind and creation time (no passphrase)."""
    try:
        entries = _vault(ctx).entries()
    except VaultError as exc:
        raise UserError(str(exc)) from None
    if not entries:
        click.echo("the vault is empty; add a key with `projectk wallet add NAME`", err=True)
    for entry in entries:
        created = entry.created_at.isoformat(timespec="seconds")
        click.echo(f"{entry.key_ref}\t{entry.address}\t{entry.kind.value}\t{created}")


@wallet.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove(ctx: click.Context, name: str, yes: bool) -> None:
    """Delete NAME's key; pairs that use it can no longer sign."""
    vault = _vault(ctx)
    try:
        known = vault.entry(name)
        prompt = f"Remove {known.key_ref} ({known.address})? Pairs using it can no longer sign"
        if not yes:
            click.confirm(prompt, abort=True, err=True)
        entry = vault.remove(name)
    except VaultError as exc:
        raise UserError(str(exc)) from None
    click.echo(f"removed {entry.key_ref} {entry.address}")
