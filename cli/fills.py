"""`projectk fills`: what ProjectK makes of chain logs.

Invariants: `fills decode` reads only stdin and writes only stdout/stderr (no RPC, no ledger);
it prints exactly what the chain tail would detect, using the same pure decoder; every log that
is not a V2 `OrderFilled` is reported on stderr and skipped, never guessed at.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import click

from adapters.chain import NotOrderFilled, OrderFilled, decode_order_filled, parse_log
from cli.common import UserError
from projectk.models import MICRO


@click.group()
def fills() -> None:
    """Inspect source fills."""


@fills.command("decode")
@click.option(
    "--wallet", "wallets", multiple=True, help="Only fills of this maker wallet (repeatable)."
)
def decode_command(wallets: tuple[str, ...]) -> None:
    """Decode raw logs (eth_getLogs JSON objects, one per line or a JSON array) from stdin into
    the fills the watcher would see, one JSON object per line."""
    watched = {w.lower() for w in wallets}
    skipped = 0
    for number, raw in enumerate(read_logs(sys.stdin.read()), start=1):
        try:
            event = decode_order_filled(parse_log(raw))
        except NotOrderFilled as exc:
            skipped += 1
            click.echo(f"log {number} ({_where(raw)}) skipped: {exc}", err=True)
            continue
        if watched and event.maker.lower() not in watched:
            continue
        click.echo(json.dumps(fill_json(event)))
    if skipped:
        click.echo(f"{skipped} log(s) were not V2 OrderFilled events", err=True)


def read_logs(text: str) -> list[Any]:
    """Return the log objects of a JSON array, one JSON object per line, or an RPC answer."""
    text = text.strip()
    if not text:
        return []
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict) and isinstance(whole.get("result"), list):
        return list(whole["result"])  # a whole eth_getLogs response
    if isinstance(whole, list):
        return whole
    if isinstance(whole, dict):
        return [whole]
    logs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                logs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise UserError(f"line {number} is not JSON: {exc.msg}") from None
    return logs


def fill_json(event: OrderFilled) -> dict[str, Any]:
    """Return the operator's view of one decoded fill (amounts as decimal strings)."""
    log = event.log
    return {
        "fill_id": event.fill_id,
        "order_hash": event.order_hash,
        "wallet": event.maker,
        "side": event.side.value,
        "token_id": str(event.token_id),
        "shares": str(Decimal(event.shares_micro) / MICRO),
        "price": str(event.price) if event.shares_micro else None,
        "notional": str(Decimal(event.notional_micro) / MICRO),
        "fee": str(Decimal(event.fee) / MICRO),
        "exchange": event.exchange.value,
        "block": log.block_number,
        "log_index": log.log_index,
        "tx_hash": log.tx_hash,
        "taker": event.taker,
        "removed": log.removed,
    }


def _where(raw: Any) -> str:
    if isinstance(raw, dict):
        return f"tx {raw.get('transactionHash', '?')} log {raw.get('logIndex', '?')}"
    return "not an object"
