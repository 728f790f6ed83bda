"""`projectk` command line: the operator's tool on the server.

Each command group lives in its own module; this module only assembles them.
"""

from __future__ import annotations

import logging

import click

from projectk.cli.db import db
from projectk.cli.dev import dev
from projectk.cli.pair import pair, stop
from projectk.cli.run import demo, worker
from projectk.cli.wallet import wallet


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """ProjectK: mirror chosen Polymarket wallets, durably, under budgets and guards."""
    ctx.ensure_object(dict)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


for command in (db, dev, pair, stop, worker, demo, wallet):
    main.add_command(command)
