"""The JSON-RPC proxy (/rpc): a pass-through to anvil, or a node lagging N blocks behind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import BlockNotFound, TransactionNotFound

from sandbox.runtime import Sandbox
from tests.sandbox.onchain import PUSD

pytestmark = pytest.mark.sandbox

LAG = 3
_ERC20 = [
    {
        "name": name,
        "type": "function",
        "stateMutability": mutability,
        "inputs": inputs,
        "outputs": [{"name": "", "type": out}],
    }
    for name, mutability, inputs, out in (
        ("balanceOf", "view", [{"name": "a", "type": "address"}], "uint256"),
        (
            "transfer",
            "nonpayable",
            [{"name": "to", "type": "address"}, {"name": "v", "type": "uint256"}],
            "bool",
        ),
    )
]


@dataclass(frozen=True)
class Recent:
    """A pUSD transfer to a fresh address, followed by two empty blocks."""

    tx: str
    block: int
    block_hash: str
    receiver: str


@pytest.fixture
def recent(w3: Web3, demo: list[dict[str, Any]]) -> Recent:
    receiver = Account.create().address
    pusd = w3.eth.contract(address=PUSD, abi=_ERC20)
    tx = pusd.functions.transfer(receiver, 10**6).transact({"from": demo[3]["address"]})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    w3.provider.make_request("anvil_mine", ["0x2"])  # type: ignore[arg-type]
    assert w3.eth.block_number == receipt["blockNumber"] + 2
    return Recent(
        tx.to_0x_hex(), receipt["blockNumber"], receipt["blockHash"].to_0x_hex(), receiver
    )


def balance(node: Web3, who: str) -> int:
    return int(node.eth.contract(address=PUSD, abi=_ERC20).functions.balanceOf(who).call())


def pusd_logs(node: Web3, **query: Any) -> list[str]:
    return [log["transactionHash"].to_0x_hex() for log in node.eth.get_logs(query)]


def test_proxy_passes_through(faults: Sandbox, w3: Web3, recent: Recent) -> None:
    info = faults.info
    assert info["rpc_proxy_url"] == f"{info['clob_url']}/rpc" != info["rpc_url"]
    proxy = Web3(Web3.HTTPProvider(info["rpc_proxy_url"]))
    faults.set_faults(rpc_lag_blocks=LAG, rpc_lag_rate=0.0)
    assert proxy.eth.chain_id == 137 and proxy.eth.block_number == recent.block + 2
    assert proxy.eth.get_transaction_receipt(recent.tx)["blockNumber"] == recent.block
    assert recent.tx in pusd_logs(proxy, address=PUSD, fromBlock=recent.block, toBlock="latest")
    assert balance(proxy, recent.receiver) == 10**6


def test_lagging_node_answers_singly(faults: Sandbox, w3: Web3, recent: Recent) -> None:
    proxy = Web3(Web3.HTTPProvider(faults.info["rpc_proxy_url"]))
    faults.set_faults(rpc_lag_blocks=LAG, rpc_lag_rate=1.0)
    lagging_head = recent.block - 1
    assert proxy.eth.block_number == lagging_head
    assert proxy.eth.get_block("latest")["number"] == lagging_head
    with pytest.raises(BlockNotFound):
        proxy.eth.get_block(recent.block)
    for lookup in (proxy.eth.get_transaction_receipt, proxy.eth.get_transaction):
        with pytest.raises(TransactionNotFound):
            lookup(recent.tx)  # type: ignore[operator]
    assert pusd_logs(proxy, fromBlock=recent.block, toBlock="latest") == []
    assert pusd_logs(proxy, blockHash=recent.block_hash) == []
    window = {"address": PUSD, "fromBlock": recent.block - 5, "toBlock": "latest"}
    assert recent.tx not in pusd_logs(proxy, **window)
    assert recent.tx in pusd_logs(w3, **window)  # the node itself has it
    assert balance(proxy, recent.receiver) == 0 and balance(w3, recent.receiver) == 10**6


def test_lagging_node_answers_a_batch_as_a_whole(faults: Sandbox, recent: Recent) -> None:
    faults.set_faults(rpc_lag_blocks=LAG, rpc_lag_rate=1.0)
    call_data = "0x70a08231" + "00" * 12 + recent.receiver[2:].lower()
    calls: list[tuple[str, list[Any]]] = [
        ("eth_blockNumber", []),
        ("eth_getTransactionReceipt", [recent.tx]),
        ("eth_getLogs", [{"fromBlock": hex(recent.block - 5), "toBlock": "latest"}]),
        ("eth_getLogs", [{"blockHash": recent.block_hash}]),
        ("eth_getBlockByNumber", [hex(recent.block), False]),
        ("eth_call", [{"to": PUSD, "data": call_data}, "latest"]),
        ("eth_chainId", []),
    ]
    body = [
        {"jsonrpc": "2.0", "id": f"q{i}", "method": m, "params": p}
        for i, (m, p) in enumerate(calls)
    ]
    answers = httpx.post(faults.info["rpc_proxy_url"], json=body, trust_env=False).json()
    result = {a["id"]: a["result"] for a in answers}
    assert result["q0"] == hex(recent.block - 1)
    assert result["q1"] is None
    assert all(int(log["blockNumber"], 16) < recent.block for log in result["q2"])
    assert result["q3"] == [] and result["q4"] is None
    assert int(result["q5"], 16) == 0 and result["q6"] == "0x89"


def test_clob_faults_spare_the_proxy_unless_named(faults: Sandbox, w3: Web3) -> None:
    url = faults.info["rpc_proxy_url"]
    call = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
    faults.set_faults(error_rate=1.0)
    assert httpx.get(f"{faults.info['clob_url']}/ok", trust_env=False).status_code == 500
    assert httpx.post(url, json=call, trust_env=False).json()["result"] == hex(w3.eth.block_number)
    faults.set_faults(paths=["/rpc"])
    assert httpx.post(url, json=call, trust_env=False).status_code == 500
