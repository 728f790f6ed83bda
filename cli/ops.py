"""Server operations: `setup`, `doctor`, `ping`, `backup`, `restore`, `codec-server`, `codec-key`.

Invariants:
- `doctor` only reads and exits 1 when any check fails, so it can gate a deploy.
- `ping` (a container health check) only reads: Temporal answers and the ledger opens.
- `setup` only does what is safe to repeat: migrate the ledger, add missing search attributes.
- `restore` never overwrites an existing ledger or vault without `--force`.
- No command prints a secret; `codec-key` prints a new key once, for the operator to store.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import UserError, get_settings, run
from projectk.settings import Settings, SettingsError, load_settings

PING_TIMEOUT_S = 5.0


@click.command("doctor")
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check settings, Temporal, ledger, vault, RPC, CLOB and every follower wallet."""
    from cli.tools.doctor import line, run_doctor, settings_failure
    from projectk.health import Health

    root = ctx.find_root()
    try:
        settings = (root.obj or {}).get("settings") or load_settings()
    except SettingsError as exc:
        click.echo(line(settings_failure(exc)))
        ctx.exit(1)
    results = run(run_doctor(settings))
    for result in results:
        click.echo(line(result))
    failed = [r for r in results if r.health is Health.FAILED]
    click.echo(f"{len(results) - len(failed)} passed or skipped, {len(failed)} failed")
    if failed:
        ctx.exit(1)


async def _ping(settings: Settings) -> None:
    from adapters.temporal import connect

    await connect(settings, timeout_s=PING_TIMEOUT_S)


@click.command("ping")
@click.pass_context
def ping(ctx: click.Context) -> None:
    """Exit 0 when Temporal answers and the ledger is readable (for health checks)."""
    from adapters.ledger import (
        LedgerDatabaseError,
        LedgerError,
        create_ledger_engine,
        current_revision,
    )
    from adapters.temporal import TemporalUnavailableError

    settings = get_settings(ctx)
    try:
        run(_ping(settings))
        engine = create_ledger_engine(settings.resolved_db_url)
        try:
            current_revision(engine)
        finally:
            engine.dispose()
    except (LedgerError, LedgerDatabaseError, TemporalUnavailableError) as exc:
        raise UserError(str(exc).strip().splitlines()[0]) from None
    click.echo("ok")


async def _setup(settings: Settings) -> list[str]:
    from adapters.temporal import connect, ensure_search_attributes

    client = await connect(settings)
    return await ensure_search_attributes(client, settings.temporal_namespace)


@click.command("setup")
@click.pass_context
def setup(ctx: click.Context) -> None:
    """Migrate the ledger and register Temporal search attributes (safe to repeat)."""
    from adapters.ledger import LedgerDatabaseError, LedgerError, current_revision, open_ledger
    from adapters.temporal import TemporalUnavailableError

    settings = get_settings(ctx)
    try:
        ledger = open_ledger(settings)
        revision = current_revision(ledger.engine)
        ledger.engine.dispose()
        added = run(_setup(settings))
    except (LedgerError, LedgerDatabaseError, TemporalUnavailableError) as exc:
        raise UserError(str(exc).strip().splitlines()[0]) from None
    click.echo(f"ledger at revision {revision}")
    click.echo(f"search attributes added: {', '.join(added) or 'none (all present)'}")


@click.command("backup")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Archive path.")
@click.option("--force", is_flag=True, help="Overwrite an existing archive at that path.")
@click.pass_context
def backup(ctx: click.Context, output: Path | None, force: bool) -> None:
    """Write the ledger and the (still encrypted) vault into one archive."""
    from adapters.ledger import LedgerDatabaseError, LedgerError
    from adapters.vault import VaultError
    from cli.tools.backup import BackupError, create_backup, default_archive_path, describe

    settings = get_settings(ctx)
    archive = output or default_archive_path(settings)
    try:
        manifest = create_backup(settings, archive, force=force)
    except (BackupError, LedgerError, VaultError, LedgerDatabaseError, OSError) as exc:
        raise UserError(str(exc).strip().splitlines()[0]) from None
    click.echo(f"backup written to {archive}: {describe(manifest)}")


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing ledger and vault.")
@click.pass_context
def restore(ctx: click.Context, archive: Path, force: bool) -> None:
    """Restore the ledger and vault from an archive (stop the services first)."""
    from adapters.ledger import LedgerDatabaseError, LedgerError
    from adapters.vault import VaultError
    from cli.tools.backup import BackupError, describe, restore_backup

    try:
        manifest = restore_backup(get_settings(ctx), archive, force=force)
    except (BackupError, LedgerError, VaultError, LedgerDatabaseError, OSError) as exc:
        raise UserError(str(exc).strip().splitlines()[0]) from None
    click.echo(f"restored {describe(manifest)}")


@click.command("codec-server")
@click.pass_context
def codec_server(ctx: click.Context) -> None:
    """Serve /encode and /decode for the Temporal UI (needs PROJECTK_PAYLOAD_KEY)."""
    from adapters.temporal import codec_from_settings, run_codec_server

    settings = get_settings(ctx)
    codec = codec_from_settings(settings)
    if codec is None:
        raise UserError("PROJECTK_PAYLOAD_KEY is not set: there is nothing to decode")
    click.echo(
        f"codec server on http://{settings.codec_server_host}:{settings.codec_server_port} "
        f"(key id {codec.active_key_id}; CORS for {', '.join(settings.codec_cors_origins)})"
    )
    run_codec_server(settings, codec)


@click.command("codec-key")
def codec_key() -> None:
    """Print a new random payload key for PROJECTK_PAYLOAD_KEY (store it like a password)."""
    from adapters.temporal import new_key

    click.echo(new_key())
