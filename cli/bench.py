"""`projectk bench`: benchmarks on the local sandbox (detection, and order mirroring end to end).

Invariant: a benchmark starts its own sandbox and talks to nothing else.
"""

from __future__ import annotations

import json
import logging

import click

from cli.common import UserError
from cli.common import run as run_coroutine
from cli.tools.bench.mirror_plan import DEFAULT_FILLS, DEFAULT_IDLE_MINUTES, SOURCES


@click.group()
def bench() -> None:
    """Benchmarks on the local sandbox."""


def _counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"--pairs must be numbers separated by commas, got {text!r}") from None
    if not counts or any(count < 1 for count in counts):
        raise UserError("--pairs needs at least one positive number")
    return counts


@bench.command("detect")
@click.option("--pairs", "pairs_text", default="1,100,1000", show_default=True)
@click.option("--trades", default=15, show_default=True, help="Trades per pair count.")
@click.option("--block-time", default=1, show_default=True, help="Sandbox block time (s).")
@click.option("--ws", "use_ws", is_flag=True, help="New heads by eth_subscribe, not polling.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def detect(pairs_text: str, trades: int, block_time: int, use_ws: bool, as_json: bool) -> None:
    """Measure RPC requests per block and detection lag for each pair count."""
    from cli.tools.bench.detect import run_detect

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the table
    results = run_coroutine(run_detect(_counts(pairs_text), trades, block_time, use_ws))
    if as_json:
        click.echo(json.dumps([r.as_json() for r in results]))
        return
    click.echo(f"{'pairs':>6} {'rpc req/block':>14} {'lag p50 ms':>11} {'lag p95 ms':>11} fills")
    for r in results:
        click.echo(
            f"{r.pairs:>6} {r.rpc_requests_per_block:>14} {r.lag_ms_p50:>11} "
            f"{r.lag_ms_p95:>11} {r.fills:>5}"
        )


@bench.command("mirror")
@click.option("--pairs", "pairs_text", default="1,1000", show_default=True)
@click.option(
    "--fills",
    type=click.IntRange(min=1),
    default=DEFAULT_FILLS,
    show_default=True,
    help="Source fills per pair count.",
)
@click.option(
    "--idle-minutes",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_IDLE_MINUTES,
    show_default=True,
    help="How long idle pairs' actions are counted; under the hour-long poll it reads low.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def mirror(pairs_text: str, fills: int, idle_minutes: float, as_json: bool) -> None:
    """Measure fill -> follower order latency, history events per fill, idle-pair actions.

    Progress goes to stderr. The idle windows of all pair counts run together, so the whole run
    takes about --idle-minutes plus a minute or two per pair count.
    """
    counts = _counts(pairs_text)
    if len(counts) > len(SOURCES):
        raise UserError(f"--pairs takes at most {len(SOURCES)} pair counts, got {len(counts)}")
    from cli.tools.bench.mirror import run_mirror  # after the checks: it loads the whole system

    for noisy in ("httpx", "py_clob_client_v2", "temporalio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    results = run_coroutine(run_mirror(counts, fills, idle_minutes))
    if as_json:
        click.echo(json.dumps([r.as_json() for r in results]))
        return
    click.echo(
        f"{'pairs':>6} {'p50 ms':>8} {'p95 ms':>8} {'events/fill':>12} {'actions/idle h':>15}"
    )
    for r in results:
        click.echo(
            f"{r.pairs:>6} {r.latency_ms_p50:>8} {r.latency_ms_p95:>8} "
            f"{r.history_events_per_fill:>12} {r.actions_per_idle_pair_hour:>15}"
        )
