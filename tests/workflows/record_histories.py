"""Record PairWorkflow and MirrorOrderWorkflow histories for the replay test.

Run it when a workflow changes on purpose: `uv run python -m tests.workflows.record_histories
[SUFFIX]`. Before 1.0 the recordings are simply replaced; once workflows run in a deployment, a
change is made replay-safe with a patch (`workflows/patches.py`) and the older recording is kept
beside the new one (a new SUFFIX), so every shipped history shape keeps replaying. It drives
one pair
through fills, a pause, a resume, a failure, a budget update and an emergency stop on a local
dev server, and writes each workflow's history as JSON under tests/resources/histories/.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid

from adapters.ledger import Ledger, create_ledger_engine, upgrade
from projectk.contract import mirror_workflow_id
from projectk.messages import ConfigPatch, StopRequest
from projectk.models import PairStatus, Side
from tests import RESOURCES
from tests.fakes import GatedVenue, MemoryFeed, make_fill
from tests.temporal_env import dev_server_env
from tests.workflows.harness import pair_config, start_pair, wait_state, worker
from workflows.pair import PairWorkflow

OUT = RESOURCES / "histories"


async def record(version: str) -> None:
    """Run the scenario and write the histories."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_ledger_engine(f"sqlite:///{tmp}/ledger.db")
        upgrade(engine)
        ledger = Ledger(engine)
        feed, venue = MemoryFeed(), GatedVenue()
        queue = f"record-{uuid.uuid4().hex[:8]}"
        async with dev_server_env() as env, worker(env.client, queue, ledger, feed, venue):
            handle = await start_pair(env.client, queue, pair_config("replay"), poll_timeout_s=2)
            first, second = make_fill(1), make_fill(2)
            feed.push(first)
            await wait_state(handle, lambda s: s.mirrors_started == 1 and not s.in_flight)
            await handle.signal(PairWorkflow.pause)
            feed.push(second)
            await wait_state(handle, lambda s: s.fills_seen == 2)
            await handle.signal(PairWorkflow.resume)
            await handle.execute_update(
                PairWorkflow.update_config, ConfigPatch(budget_micro=90_000_000)
            )
            venue.reject_with = "not_enough_balance"
            feed.push(make_fill(3))
            await wait_state(handle, lambda s: s.consecutive_failures == 1 and not s.in_flight)
            venue.reject_with = ""
            feed.push(make_fill(4, side=Side.SELL, price="0.55", shares=50_000_000))
            await wait_state(handle, lambda s: s.mirrors_started == 3 and not s.in_flight)
            await handle.signal(PairWorkflow.emergency_stop, StopRequest(reason="recorded stop"))
            await wait_state(handle, lambda s: s.status is PairStatus.STOPPED)
            await handle.signal(PairWorkflow.remove)
            await handle.result()
            OUT.mkdir(parents=True, exist_ok=True)
            pair_history = await handle.fetch_history()
            (OUT / f"pair_workflow{version}.json").write_text(pair_history.to_json())
            child = env.client.get_workflow_handle(mirror_workflow_id("replay", first.order_hash))
            mirror_history = await child.fetch_history()
            (OUT / f"mirror_order_workflow{version}.json").write_text(mirror_history.to_json())


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1] if len(sys.argv) > 1 else ""))
