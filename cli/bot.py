"""`projectk bot`: the Telegram bot process."""

from __future__ import annotations

import click

from cli.common import UserError, get_settings, run


@click.command("bot")
@click.pass_context
def bot(ctx: click.Context) -> None:
    """Run the Telegram bot (the one poller of the configured token) until SIGTERM."""
    from bot.main import BotStartError, run_bot  # the bot's composition root, loaded on use

    try:
        run(run_bot(get_settings(ctx)))
    except BotStartError as exc:
        raise UserError(str(exc)) from None
