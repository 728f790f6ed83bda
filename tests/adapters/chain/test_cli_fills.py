"""`projectk fills decode` on recorded logs: one JSON fill per line, other logs reported."""

from __future__ import annotations

import json

from click.testing import CliRunner

from adapters.chain.contracts import ORDER_FILLED_TOPIC
from cli import main
from tests import RESOURCES

SAMPLES = json.loads((RESOURCES / "logs" / "sandbox_trades.json").read_text())


def decode(stdin: str, *args: str) -> tuple[list[dict[str, object]], str, int]:
    result = CliRunner().invoke(main, ["fills", "decode", *args], input=stdin)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return lines, result.stderr, result.exit_code


def test_json_array_in_fills_out_other_logs_skipped() -> None:
    sample = SAMPLES[1]
    fills, errors, code = decode(json.dumps(sample["logs"]))
    assert code == 0
    assert [(f["wallet"], f["side"], f["shares"], f["price"]) for f in fills] == [
        (e["wallet"], e["side"], e["shares"], e["price"]) for e in sample["expected"]
    ]
    first = fills[0]
    assert set(first) >= {"fill_id", "wallet", "side", "token_id", "shares", "price", "fee"}
    assert (first["exchange"], first["token_id"], first["fee"]) == (
        "neg_risk",
        sample["token_id"],
        "0",
    )
    others = sum(lg["topics"][0] != ORDER_FILLED_TOPIC for lg in sample["logs"])
    assert errors.count("skipped") == others and f"{others} log(s) were not" in errors


def test_one_log_per_line_and_a_wallet_filter() -> None:
    sample = SAMPLES[0]
    text = "\n".join(json.dumps(lg) for lg in sample["logs"])
    wallet = sample["expected"][1]["wallet"]
    fills, _, code = decode(text, "--wallet", wallet.lower())
    assert code == 0 and [f["wallet"] for f in fills] == [wallet]
    assert fills[0]["block"] == int(sample["logs"][0]["blockNumber"], 16)


def test_an_rpc_answer_is_accepted_and_bad_json_is_an_error() -> None:
    answer = {"jsonrpc": "2.0", "id": 1, "result": SAMPLES[0]["logs"]}
    fills, _, code = decode(json.dumps(answer))
    assert code == 0 and len(fills) == 3
    _, errors, code = decode("{not json\n")
    assert code == 1 and "line 1 is not JSON" in errors
