"""Fault injection: 5xx, 429 with Retry-After, 425, cancel-only and accepted-then-lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2
from py_clob_client_v2.exceptions import PolyApiException

pytestmark = pytest.mark.sandbox

Clients = Callable[[int], ClobClient]


@pytest.mark.parametrize(
    ("setting", "status"), [("error_rate", 500), ("rate_429", 429), ("rate_425", 425)]
)
def test_status_faults(faults: Any, client_for: Clients, setting: str, status: int) -> None:
    faults.set_faults(**{setting: 1.0, "retry_after_s": 3, "paths": ["/data/orders"]})
    with pytest.raises(PolyApiException) as exc:
        client_for(0).get_open_orders()
    assert exc.value.status_code == status
    if status == 429:
        resp = httpx.get(f"{faults.info['clob_url']}/data/orders")
        assert resp.headers["retry-after"] == "3"
    assert client_for(0).get_ok() == "OK"  # other paths are unaffected


def test_cancel_only(faults: Any, client_for: Clients, market: Any) -> None:
    faults.set_faults(cancel_only=True)
    with pytest.raises(PolyApiException) as exc:
        client_for(0).create_and_post_order(
            OrderArgsV2(token_id=market.yes, price=0.3, size=10, side="BUY")
        )
    assert exc.value.status_code == 503
    assert "cancel-only" in exc.value.error_msg["error"]


def test_latency(faults: Any, client_for: Clients) -> None:
    import time

    faults.set_faults(latency_ms=300)
    start = time.monotonic()
    client_for(0).get_ok()
    assert time.monotonic() - start >= 0.3


@pytest.mark.slow
def test_accepted_then_response_lost(faults: Any, client_for: Clients, market: Any) -> None:
    c = client_for(0)
    order = c.create_order(OrderArgsV2(token_id=market.yes, price=0.3, size=10, side="BUY"))
    faults.set_faults(lost_rate=1.0, lost_delay_s=6.0, paths=["/order"])
    with pytest.raises(PolyApiException) as exc:
        c.post_order(order)
    assert exc.value.status_code is None  # the client saw a timeout, not an answer
    faults.set_faults(reset=True)
    live = c.get_open_orders()
    assert [o["price"] for o in live if o["asset_id"] == market.yes] == ["0.3"]
    with pytest.raises(PolyApiException) as dup:
        c.post_order(order)
    assert dup.value.error_msg["error"].endswith("Duplicated.")
