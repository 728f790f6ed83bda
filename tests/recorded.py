"""The recorded venue answers under tests/resources/polymarket/ (written by `python -m
sandbox.record`), by file and case: what the adapter's parser, the fakes and the sandbox are all
checked against.

A sample is `{"status": http_status, "body": decoded_json}`; `orders.json` holds the order routes
(posts, errors, lookups, trades of an order, cancels), `reads.json` the market and Data API reads.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from tests import RESOURCES

POLYMARKET = RESOURCES / "polymarket"
ORDERS = "orders.json"
READS = "reads.json"
FILES = (ORDERS, READS)
Sample = dict[str, Any]


@cache
def _load(file: str) -> dict[str, Sample]:
    samples: dict[str, Sample] = json.loads((POLYMARKET / file).read_text())
    return samples


def samples(file: str) -> dict[str, Sample]:
    """Return every recorded sample of a file, by case (a copy: tests may change it)."""
    return copy.deepcopy(_load(file))


def sample(file: str, case: str) -> Sample:
    """Return one recorded sample (a copy)."""
    return copy.deepcopy(_load(file)[case])


def body(file: str, case: str) -> Any:
    """Return the body of one recorded sample (a copy)."""
    return sample(file, case)["body"]


def with_body(sample_: Sample, **changes: Any) -> Sample:
    """Return a sample whose (object) body has some fields changed."""
    return {"status": sample_["status"], "body": {**sample_["body"], **changes}}
