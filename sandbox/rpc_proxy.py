"""The sandbox's JSON-RPC endpoint (POST /rpc): anvil behind a load balancer whose nodes may lag.

Invariants: a request the lag fault does not pick is forwarded byte for byte over one shared HTTP
client and its answer returned unchanged; the fault is drawn once per HTTP request (a batch is
answered by one node, as a whole); a lagging node answers as if its head were ``rpc_lag_blocks``
behind the real one: it never reports, reads state at, or returns blocks, transactions, receipts
or logs above that head (state asked for at a block above it is the error "header not found",
as a geth-based node answers); methods without a block context pass through unchanged.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from sandbox.clob.faults import FaultConfig

Json = Any
AT_HEAD = ("latest", "pending")
# methods whose state is read at a block given as this parameter ("latest" when absent)
_STATE_AT = {
    "eth_call": 1,
    "eth_getBalance": 1,
    "eth_getCode": 1,
    "eth_getTransactionCount": 1,
    "eth_getStorageAt": 2,
}
_BY_HASH = ("eth_getTransactionReceipt", "eth_getTransactionByHash")
_JSON = "application/json"


# What a geth-based node answers for state at a block it has not reached.
UNKNOWN_BLOCK = {"code": -32000, "message": "header not found"}


@dataclass(frozen=True)
class Lagged:
    """How a lagging node handles one call: forward ``call``, or answer ``result`` (or
    ``error``) itself."""

    call: dict[str, Json] | None
    result: Json = None
    error: dict[str, Json] | None = None


def _number(tag: Json, head: int) -> int:
    # A block parameter of eth_getLogs as a number, seen from a node whose head is ``head``.
    if not isinstance(tag, str) or tag in (*AT_HEAD, "safe", "finalized"):
        return head
    if tag == "earliest":
        return 0
    return int(tag, 16)


def _with_param(call: dict[str, Json], index: int, value: Json) -> dict[str, Json]:
    params = list(call.get("params") or [])
    params += [None] * (index + 1 - len(params))
    params[index] = value
    return {**call, "params": params}


def _logs(call: dict[str, Json], head: int) -> Lagged:
    params = call.get("params") or [{}]
    query = dict(params[0])
    if "blockHash" in query:
        return Lagged(call)  # its logs are checked against the head once answered
    start = _number(query.get("fromBlock"), head)
    if start > head:
        return Lagged(None, [])
    end = min(_number(query.get("toBlock"), head), head)
    return Lagged({**call, "params": [{**query, "fromBlock": hex(start), "toBlock": hex(end)}]})


def _block(call: dict[str, Json], head: int) -> Lagged:
    params = call.get("params") or []
    tag = params[0] if params else "latest"
    if tag in AT_HEAD:
        return Lagged(_with_param(call, 0, hex(head)))
    if isinstance(tag, str) and tag.startswith("0x") and int(tag, 16) > head:
        return Lagged(None, None)
    return Lagged(call)


def lag_call(call: dict[str, Json], head: int) -> Lagged:
    """Rewrite one call as a node whose head is ``head`` would serve it."""
    method = call.get("method")
    if method == "eth_blockNumber":
        return Lagged(None, hex(head))
    if method == "eth_getLogs":
        return _logs(call, head)
    if method == "eth_getBlockByNumber":
        return _block(call, head)
    index = _STATE_AT.get(str(method))
    if index is not None:
        params = call.get("params") or []
        tag = params[index] if len(params) > index else "latest"
        if tag in AT_HEAD:
            return Lagged(_with_param(call, index, hex(head)))
        if isinstance(tag, str) and tag.startswith("0x") and int(tag, 16) > head:
            return Lagged(None, error=UNKNOWN_BLOCK)
        return Lagged(call)
    return Lagged(call)


def _above(item: Json, head: int) -> bool:
    number = item.get("blockNumber") if isinstance(item, dict) else None
    return isinstance(number, str) and int(number, 16) > head


def lag_result(method: Json, result: Json, head: int) -> Json:
    """Hide what a forwarded call returned from above the lagging head."""
    if method in _BY_HASH and _above(result, head):
        return None
    if (
        method == "eth_getLogs"
        and isinstance(result, list)
        and any(_above(r, head) for r in result)
    ):
        return []  # only a blockHash filter can reach here: that block is unknown to the node
    return result


class RpcProxy:
    """POST /rpc handler forwarding to one node, lagging as the FaultConfig says."""

    def __init__(self, node_url: str, faults: FaultConfig) -> None:
        self.node_url = node_url
        self.faults = faults
        self.rng = random.Random(faults.seed)  # noqa: S311 - test faults, not crypto
        self._http = httpx.AsyncClient(timeout=30, trust_env=False)

    async def aclose(self) -> None:
        """Close the shared HTTP client."""
        await self._http.aclose()

    async def _post(self, content: bytes) -> httpx.Response:
        return await self._http.post(
            self.node_url, content=content, headers={"content-type": _JSON}
        )

    def _lags(self) -> bool:
        cfg = self.faults
        return (
            cfg.rpc_lag_blocks > 0 and cfg.rpc_lag_rate > 0 and self.rng.random() < cfg.rpc_lag_rate
        )

    async def handle(self, request: Request) -> Response:
        """Forward one JSON-RPC request or batch; a lagging node rewrites it first."""
        body = await request.body()
        if self._lags():
            lagged = await self._lagged(body)
            if lagged is not None:
                return lagged
        resp = await self._post(body)
        return Response(resp.content, resp.status_code, media_type=_JSON)

    async def _head(self) -> int:
        call = {"jsonrpc": "2.0", "id": 0, "method": "eth_blockNumber", "params": []}
        resp = await self._http.post(self.node_url, json=call)
        return max(0, int(resp.json()["result"], 16) - self.faults.rpc_lag_blocks)

    async def _lagged(self, body: bytes) -> Response | None:
        try:
            parsed = json.loads(body)
        except ValueError:
            return None  # the node itself answers what is not JSON
        calls = parsed if isinstance(parsed, list) else [parsed]
        if not calls or not all(isinstance(c, dict) for c in calls):
            return None
        head = await self._head()
        answers = await self._answer(calls, head)
        out = answers if isinstance(parsed, list) else answers[0]
        return Response(json.dumps(out), media_type=_JSON)

    async def _answer(self, calls: list[dict[str, Json]], head: int) -> list[Json]:
        plans = [lag_call(c, head) for c in calls]
        # forwarded calls get their position as id, so answers map back whatever the node's order
        batch = [{**p.call, "id": i} for i, p in enumerate(plans) if p.call is not None]
        by_index: dict[int, Json] = {}
        if batch:
            resp = await self._http.post(self.node_url, json=batch)
            by_index = {item["id"]: item for item in resp.json()}
        answers = []
        for i, (call, plan) in enumerate(zip(calls, plans, strict=True)):
            if plan.call is None:
                key, value = ("error", plan.error) if plan.error else ("result", plan.result)
                answers.append({"jsonrpc": "2.0", "id": call.get("id"), key: value})
                continue
            item = {**by_index[i], "id": call.get("id")}
            if "result" in item:
                item["result"] = lag_result(call.get("method"), item["result"], head)
            answers.append(item)
        return answers
