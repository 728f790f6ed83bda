"""The Protocol V2 contracts on the sandbox chain, called directly: ids, domain, access, fee cap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_abi.abi import encode
from polymarket import SecureClient
from web3 import Web3
from web3.exceptions import ContractLogicError

from sandbox import protocol_v2
from tests.sandbox.onchain import EXCHANGE_V3
from tests.sandbox_env import Market

pytestmark = pytest.mark.sandbox

BINARY_MODULE = "0x1000008dD9001B968442c1000017eaE6E0dA00Ba"
ORDER = (
    "(uint256,address,address,uint256,uint256,uint256,uint8,uint8,uint256,bytes32,bytes32,bytes)"
)
ORDER_COMPONENTS = [
    {"name": n, "type": t}
    for n, t in (
        ("salt", "uint256"),
        ("maker", "address"),
        ("signer", "address"),
        ("tokenId", "uint256"),
        ("makerAmount", "uint256"),
        ("takerAmount", "uint256"),
        ("side", "uint8"),
        ("signatureType", "uint8"),
        ("timestamp", "uint256"),
        ("metadata", "bytes32"),
        ("builder", "bytes32"),
        ("signature", "bytes"),
    )
]


def _fn(name: str, inputs: list[dict[str, Any]], outputs: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "type": "function",
        "stateMutability": "view",
        "inputs": inputs,
        "outputs": [{"name": "", "type": t} for t in outputs],
    }


EXCHANGE_ABI = [
    _fn("domainSeparator", [], ["bytes32"]),
    _fn("hashOrder", [{"name": "o", "type": "tuple", "components": ORDER_COMPONENTS}], ["bytes32"]),
]
MODULE_ABI = [_fn("getConditionId", [{"name": "d", "type": "bytes"}], ["bytes31"])]


def _order(signed: Any) -> tuple[Any, ...]:
    return (
        signed.salt,
        signed.maker,
        signed.signer,
        int(signed.token_id),
        signed.maker_amount,
        signed.taker_amount,
        0 if signed.side == "BUY" else 1,
        signed.signature_type,
        signed.timestamp,
        bytes.fromhex(signed.metadata[2:]),
        bytes.fromhex(signed.builder[2:]),
        bytes.fromhex(signed.signature[2:]),
    )


def test_condition_ids_are_the_modules_own(w3: Web3) -> None:
    module = w3.eth.contract(address=BINARY_MODULE, abi=MODULE_ABI)
    for data in (b"", b"question", Web3.keccak(text="projectk")):
        assert module.functions.getConditionId(data).call() == protocol_v2.condition_id(data)


def test_order_id_is_exchange_v3s_eip712_hash(
    sdk_for: Callable[[int], SecureClient], make_market: Callable[..., Market], w3: Web3
) -> None:
    exchange = w3.eth.contract(address=EXCHANGE_V3, abi=EXCHANGE_ABI)
    domain = Web3.keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                Web3.keccak(
                    text="EIP712Domain(string name,string version,uint256 chainId,"
                    "address verifyingContract)"
                ),
                Web3.keccak(text="Polymarket CTF Exchange"),
                Web3.keccak(text="3"),
                137,
                EXCHANGE_V3,
            ],
        )
    )
    assert exchange.functions.domainSeparator().call() == domain
    m = make_market("v2")
    signed = sdk_for(1).create_limit_order(asset_id=m.yes, price="0.2", size="5", side="BUY")
    resp = sdk_for(1).post_order(signed)
    assert exchange.functions.hashOrder(_order(signed)).call().hex() == resp.order_id[2:]


def test_only_the_operator_settles_and_the_fee_cap_holds_on_chain(
    sandbox: Any,
    sdk_for: Callable[[int], SecureClient],
    make_market: Callable[..., Market],
    give_shares: Callable[[Market, int, int], None],
    w3: Web3,
) -> None:
    m = make_market("v2")
    give_shares(m, 0, 10)
    maker = sdk_for(0).create_limit_order(asset_id=m.yes, price="0.5", size="10", side="SELL")
    taker = sdk_for(1).create_limit_order(asset_id=m.yes, price="0.5", size="10", side="BUY")
    selector = Web3.keccak(
        text=f"matchOrders({ORDER},{ORDER}[],uint256[],uint256[],(uint256,uint256,uint256))"
    )[:4]

    def match(sender: str, fee: int) -> None:
        data = selector + encode(
            [ORDER, f"{ORDER}[]", "uint256[]", "uint256[]", "(uint256,uint256,uint256)"],
            [_order(taker), [_order(maker)], [10_000_000], [0], (5_000_000, 10_000_000, fee)],
        )
        w3.eth.call({"from": sender, "to": EXCHANGE_V3, "data": "0x" + data.hex()})

    operator = sandbox.info["accounts"]["operator"]["address"]
    match(operator, 250_000)  # 5 % of the $5 paid
    with pytest.raises(ContractLogicError, match="fee exceeds max rate"):
        match(operator, 250_001)
    with pytest.raises(ContractLogicError, match="only operator"):
        match(sandbox.info["accounts"]["demo"][2]["address"], 0)
