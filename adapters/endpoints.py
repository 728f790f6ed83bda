"""Where the outside systems are: the one reader of the local sandbox's ready file.

Invariants:
- In sandbox mode, the RPC URL, the Data API URL and the CLOB URL come from the running
  sandbox's ready file (`<data_dir>/sandbox/ready.json`, written by `projectk sandbox up`)
  unless the operator set them (`PROJECTK_RPC_URLS`, `PROJECTK_DATA_API_URL`,
  `PROJECTK_SANDBOX_CLOB_URL`); paper mode takes only the CLOB URL (for its book).
- Live mode is never changed. A missing or unreadable ready file changes nothing.
- Every process resolves once, at start, and hands the result to the factories, so no two parts
  of a process can disagree about where the chain or the CLOB is.
"""

from __future__ import annotations

import json
from typing import Any

from projectk.settings import ExecutorMode, Settings

READY_FILE = "ready.json"


def sandbox_ready(settings: Settings) -> dict[str, Any] | None:
    """Return what the running sandbox under the data directory wrote about itself, if any."""
    try:
        ready = json.loads((settings.data_dir / "sandbox" / READY_FILE).read_text())
    except (OSError, ValueError):
        return None
    return ready if isinstance(ready, dict) else None


def resolve_endpoints(settings: Settings) -> Settings:
    """Return settings whose sandbox endpoints point at the running sandbox (sandbox/paper)."""
    if settings.executor_mode is ExecutorMode.LIVE:
        return settings
    ready = sandbox_ready(settings)
    if ready is None:
        return settings
    chosen = settings.model_fields_set
    update: dict[str, object] = {}
    if settings.sandbox_clob_url is None and ready.get("clob_url"):
        update["sandbox_clob_url"] = str(ready["clob_url"])
    if settings.executor_mode is ExecutorMode.SANDBOX:
        if "rpc_urls" not in chosen and ready.get("rpc_url"):
            update["rpc_urls"] = [str(ready["rpc_url"])]
        if "data_api_url" not in chosen and ready.get("data_api_url"):
            update["data_api_url"] = str(ready["data_api_url"])
    return settings.model_copy(update=update) if update else settings
