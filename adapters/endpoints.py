"""Where the outside systems are: the one reader of the local sandbox's ready file.

Invariants:
- In sandbox mode, the RPC URL (the venue-facing one, `rpc_proxy_url`, when the sandbox
  serves it), the Data API URL and the CLOB URL come from the running sandbox's ready file
  (`<data_dir>/sandbox/ready.json`, written by `projectk sandbox up`) unless the operator set
  them (`PROJECTK_RPC_URLS`, `PROJECTK_DATA_API_URL`,
  `PROJECTK_SANDBOX_CLOB_URL`); paper mode takes only the CLOB URL (for its book).
- The chain is the venue's: when the process trades on the running sandbox's CLOB, it reads
  that sandbox's chain, whatever `PROJECTK_RPC_URLS` says (a URL left over from another setup
  would size SELLs, reconcile and claim against a chain the venue does not settle on).
- Live mode is never changed. A missing or unreadable ready file changes nothing.
- Every process resolves once, at start, and hands the result to the factories, so no two parts
  of a process can disagree about where the chain or the CLOB is.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from projectk.settings import ExecutorMode, Settings

log = logging.getLogger(__name__)
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
        clob = update.get("sandbox_clob_url", settings.sandbox_clob_url)
        rpc = _sandbox_rpc(settings, ready, clob)
        if rpc is not None:
            update["rpc_urls"] = rpc
        if "data_api_url" not in chosen and ready.get("data_api_url"):
            update["data_api_url"] = str(ready["data_api_url"])
    return settings.model_copy(update=update) if update else settings


def _sandbox_rpc(settings: Settings, ready: dict[str, Any], clob: object) -> list[str] | None:
    # The sandbox's RPC URL when the operator named none, or when the CLOB is this sandbox's:
    # its node as the venue serves it (`rpc_proxy_url`, where the sandbox's RPC faults apply:
    # a lagging node, errors), else the node itself.
    url = ready.get("rpc_proxy_url") or ready.get("rpc_url")
    if not url or settings.rpc_urls == [str(url)]:
        return None
    if "rpc_urls" not in settings.model_fields_set:
        return [str(url)]
    if clob is None or clob != ready.get("clob_url"):
        return None
    log.warning(
        "sandbox mode: reading the chain of the running sandbox (%s), not PROJECTK_RPC_URLS",
        url,
    )
    return [str(url)]
