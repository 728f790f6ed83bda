"""The scripted trader: places orders through py-clob-client-v2 on a schedule (the demo's source);
its single orders (`post_limit`, `best_ask`) also serve the benchmarks' sources.

Scenario file (JSON)::

    {"market": "projectk-demo-yes", "repeat": true,
     "steps": [{"wait_s": 3, "outcome": "Yes", "side": "BUY", "amount": "5", "type": "FOK"},
               {"wait_s": 5, "outcome": "Yes", "side": "SELL", "size": "5", "price": "0.49"}]}

Invariants: every order goes through the unmodified client over HTTP, exactly like a real wallet;
``amount`` (pUSD for BUY, shares for SELL) makes a market order, ``size`` + ``price`` a limit order;
a rejected order is reported and the script goes on.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import MarketOrderArgsV2, OrderArgsV2
from py_clob_client_v2.exceptions import PolyException

log = logging.getLogger(__name__)


TraderClient = ClobClient  # the client the trader places its orders with


@dataclass(frozen=True)
class Step:
    """One scheduled order."""

    wait_s: Decimal
    market: str
    outcome: str
    side: str
    order_type: str
    amount: Decimal | None = None
    size: Decimal | None = None
    price: Decimal | None = None


@dataclass(frozen=True)
class Scenario:
    """A list of steps, optionally repeated forever."""

    steps: tuple[Step, ...]
    repeat: bool = False


def _dec(raw: dict[str, Any], key: str) -> Decimal | None:
    return Decimal(str(raw[key])) if raw.get(key) is not None else None


def load_scenario(path: Path) -> Scenario:
    """Parse a scenario file."""
    data = json.loads(path.read_text())
    default_market = data.get("market", "")
    steps = []
    for raw in data["steps"]:
        is_market = raw.get("amount") is not None
        steps.append(
            Step(
                wait_s=Decimal(str(raw.get("wait_s", 0))),
                market=str(raw.get("market", default_market)),
                outcome=str(raw.get("outcome", "Yes")).capitalize(),
                side=str(raw.get("side", "BUY")).upper(),
                order_type=str(raw.get("type", "FOK" if is_market else "GTC")).upper(),
                amount=_dec(raw, "amount"),
                size=_dec(raw, "size"),
                price=_dec(raw, "price"),
            )
        )
    return Scenario(tuple(steps), bool(data.get("repeat", False)))


def token_for(state: dict[str, Any], market: str, outcome: str) -> str:
    """Find the token id of ``outcome`` in a market given by slug or condition id."""
    for m in state["markets"]:
        if market in (m["slug"], m["condition_id"]):
            for t in m["tokens"]:
                if t["outcome"] == outcome:
                    return str(t["token_id"])
    raise KeyError(f"no market {market!r} with outcome {outcome!r} in the sandbox")


def make_client(state: dict[str, Any], private_key: str) -> ClobClient:
    """Build an authenticated client for the sandbox CLOB."""
    client = ClobClient(state["clob_url"], int(state["chain_id"]), key=private_key)
    client.set_api_creds(client.create_or_derive_api_key())
    return client


def place(client: ClobClient, token: str, step: Step) -> dict[str, Any]:
    """Place one step's order and return the CLOB response."""
    # The client library takes floats for price and size; the values come from Decimals.
    if step.amount is not None:
        args = MarketOrderArgsV2(
            token_id=token,
            amount=float(step.amount),
            side=step.side,
            price=float(step.price or 0),
            order_type=step.order_type,
        )
        result: dict[str, Any] = client.create_and_post_market_order(
            args, order_type=step.order_type
        )
        return result
    assert step.size is not None and step.price is not None, "limit steps need size and price"
    return post_limit(client, token, step.side, step.price, step.size, step.order_type)


def post_limit(
    client: ClobClient,
    token: str,
    side: str,
    price: Decimal,
    size: Decimal,
    order_type: str = "GTC",
) -> dict[str, Any]:
    """Sign and post one limit order (GTC unless told, or FAK/FOK); return the CLOB response."""
    # The client library takes floats for price and size; the values come from Decimals.
    limit = OrderArgsV2(token_id=token, price=float(price), size=float(size), side=side)
    result: dict[str, Any] = client.create_and_post_order(limit, order_type=order_type)
    return result


def best_ask(client: ClobClient, token: str) -> Decimal:
    """Return the lowest ask in ``token``'s book on the CLOB."""
    book = client.get_order_book(token)
    return min(Decimal(str(ask["price"])) for ask in book["asks"])


def run(
    state: dict[str, Any],
    private_key: str,
    scenario: Scenario,
    report: Callable[[Step, dict[str, Any] | str], None],
    max_orders: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    client: ClobClient | None = None,
) -> int:
    """Run the scenario; return the number of orders attempted.

    `client` is the private key's authenticated client if the caller has one (one API key, one
    client, for the run and whatever the caller does afterwards); otherwise one is made.
    """
    client = client or make_client(state, private_key)
    done = 0
    while True:
        for step in scenario.steps:
            if max_orders is not None and done >= max_orders:
                return done
            sleep(float(step.wait_s))
            try:
                report(step, place(client, token_for(state, step.market, step.outcome), step))
            except PolyException as exc:
                report(step, str(getattr(exc, "error_msg", None) or exc.msg))
            done += 1
        if not scenario.repeat:
            return done
