"""Call data of every redeem route and wallet path, decoded against the contracts' ABIs.

Each call is decoded by web3 from the ABI fragment (not by our encoder), its selector is checked
against the value published for the deployed contracts, and the ConditionalTokens fragments are
compared with the compiled artifact of the contract the sandbox deploys.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from web3 import Web3

from adapters.chain import contracts as chain
from adapters.chain import redeem
from adapters.chain.abis import (
    CONDITIONAL_TOKENS_ABI,
    CTF_COLLATERAL_ADAPTER_ABI,
    NEG_RISK_ADAPTER_ABI,
    PROXY_WALLET_FACTORY_ABI,
    SAFE_ABI,
    Abi,
)
from projectk.models import SignatureType
from sandbox.node import SANDBOX_DIR

CID = "0x" + "ab" * 32
AMOUNTS = (7_000_000, 3_000_000)
OWNER = Account.from_key("0x" + "11" * 32)
SAFE = "0x5afE3855358E112B5647B952709E6165e1c1eEEe"
PROXY_WALLET = "0x1234567890AbcdEF1234567890aBcdef12345678"

# Selectors as the deployed contracts publish them (keccak of the canonical signature).
SELECTORS = {
    "ctf_redeem": "0x01b7037c",  # redeemPositions(address,bytes32,bytes32,uint256[])
    "neg_risk_redeem": "0xdbeccb23",  # redeemPositions(bytes32,uint256[])
    "proxy": "0x34ee9791",  # proxy((uint8,address,uint256,bytes)[])
    "exec": "0x6a761202",  # Safe execTransaction(...)
}


def decode(abi: Abi, data: str) -> tuple[str, dict[str, Any]]:
    fn, args = Web3().eth.contract(abi=abi).decode_function_input(data)
    return fn.fn_name, args


def test_ctf_fragments_match_the_deployed_artifact() -> None:
    path = (
        SANDBOX_DIR
        / "node_modules/@gnosis.pm/conditional-tokens-contracts/build/contracts"
        / "ConditionalTokens.json"
    )
    if not path.exists():
        pytest.skip("sandbox node_modules not installed")
    artifact = {e["name"]: e for e in json.loads(path.read_text())["abi"] if "name" in e}
    for ours in CONDITIONAL_TOKENS_ABI:
        theirs = artifact[ours["name"]]
        assert [i["type"] for i in ours["inputs"]] == [i["type"] for i in theirs["inputs"]]
        assert [o["type"] for o in ours["outputs"]] == [o["type"] for o in theirs["outputs"]]


def test_ctf_route_calls_conditional_tokens_with_pusd_and_both_index_sets() -> None:
    call = redeem.redeem_call(redeem.RedeemRoute.CTF, CID, AMOUNTS)
    assert call.to == chain.CONDITIONAL_TOKENS
    assert call.data.startswith(SELECTORS["ctf_redeem"])
    name, args = decode(CONDITIONAL_TOKENS_ABI, call.data)
    assert name == "redeemPositions"
    assert args["collateralToken"] == chain.PUSD
    assert args["parentCollectionId"] == b"\x00" * 32
    assert args["conditionId"] == bytes.fromhex(CID[2:])
    assert args["indexSets"] == [1, 2]


def test_ctf_adapter_route_calls_the_v2_collateral_adapter() -> None:
    call = redeem.redeem_call(redeem.RedeemRoute.CTF_ADAPTER, CID, AMOUNTS)
    assert call.to == chain.CTF_COLLATERAL_ADAPTER
    assert call.data.startswith(SELECTORS["ctf_redeem"])
    name, args = decode(CTF_COLLATERAL_ADAPTER_ABI, call.data)
    assert (name, args["collateralToken"], args["indexSets"]) == (
        "redeemPositions",
        chain.PUSD,
        [1, 2],
    )
    assert args["conditionId"] == bytes.fromhex(CID[2:])


def test_neg_risk_route_calls_the_neg_risk_adapter_with_the_amounts_held() -> None:
    call = redeem.redeem_call(redeem.RedeemRoute.NEG_RISK_ADAPTER, CID, AMOUNTS)
    assert call.to == chain.NEG_RISK_CTF_COLLATERAL_ADAPTER
    assert call.data.startswith(SELECTORS["neg_risk_redeem"])
    name, args = decode(NEG_RISK_ADAPTER_ABI, call.data)
    assert name == "redeemPositions"
    assert args["_conditionId"] == bytes.fromhex(CID[2:])
    assert args["_amounts"] == list(AMOUNTS)


@pytest.mark.parametrize(
    ("neg_risk", "adapters", "route"),
    [
        (False, False, redeem.RedeemRoute.CTF),
        (True, False, redeem.RedeemRoute.CTF),  # the sandbox backs neg-risk markets by pUSD
        (False, True, redeem.RedeemRoute.CTF_ADAPTER),
        (True, True, redeem.RedeemRoute.NEG_RISK_ADAPTER),
    ],
)
def test_route_choice(neg_risk: bool, adapters: bool, route: redeem.RedeemRoute) -> None:
    assert redeem.choose_route(neg_risk, adapters) is route


def test_eoa_sends_the_redeem_call_itself() -> None:
    inner = redeem.redeem_call(redeem.RedeemRoute.CTF, CID, AMOUNTS)
    assert redeem.wallet_call(inner, SignatureType.EOA, OWNER.address) == inner


def test_proxy_wallet_redeems_through_the_factory_proxy_call() -> None:
    inner = redeem.redeem_call(redeem.RedeemRoute.CTF_ADAPTER, CID, AMOUNTS)
    call = redeem.wallet_call(inner, SignatureType.POLY_PROXY, PROXY_WALLET)
    assert call.to == chain.PROXY_WALLET_FACTORY
    assert call.data.startswith(SELECTORS["proxy"])
    name, args = decode(PROXY_WALLET_FACTORY_ABI, call.data)
    assert name == "proxy"
    [proxied] = args["calls"]
    assert (proxied["typeCode"], proxied["to"], proxied["value"]) == (
        redeem.PROXY_CALL,
        chain.CTF_COLLATERAL_ADAPTER,
        0,
    )
    assert "0x" + proxied["data"].hex() == inner.data


def test_safe_redeems_through_exec_transaction_signed_by_its_owner() -> None:
    inner = redeem.redeem_call(redeem.RedeemRoute.NEG_RISK_ADAPTER, CID, AMOUNTS)
    digest = redeem.safe_tx_hash(SAFE, 137, inner, nonce=5)
    signed = OWNER.unsafe_sign_hash(digest)
    signature = redeem.safe_signature(signed.r, signed.s, signed.v)
    call = redeem.wallet_call(inner, SignatureType.POLY_GNOSIS_SAFE, SAFE, signature)
    assert call.to == SAFE
    assert call.data.startswith(SELECTORS["exec"])
    name, args = decode(SAFE_ABI, call.data)
    assert name == "execTransaction"
    assert (args["to"], args["value"], args["operation"]) == (
        chain.NEG_RISK_CTF_COLLATERAL_ADAPTER,
        0,
        redeem.SAFE_CALL,
    )
    assert "0x" + args["data"].hex() == inner.data
    assert args["signatures"] == signature and len(signature) == 65
    assert Account._recover_hash(digest, signature=signature) == OWNER.address


def test_safe_tx_hash_is_the_eip712_hash_of_the_safe_tx() -> None:
    inner = redeem.redeem_call(redeem.RedeemRoute.CTF_ADAPTER, CID, AMOUNTS)
    message = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "SafeTx": [
                    {"name": "to", "type": "address"},
                    {"name": "value", "type": "uint256"},
                    {"name": "data", "type": "bytes"},
                    {"name": "operation", "type": "uint8"},
                    {"name": "safeTxGas", "type": "uint256"},
                    {"name": "baseGas", "type": "uint256"},
                    {"name": "gasPrice", "type": "uint256"},
                    {"name": "gasToken", "type": "address"},
                    {"name": "refundReceiver", "type": "address"},
                    {"name": "nonce", "type": "uint256"},
                ],
            },
            "primaryType": "SafeTx",
            "domain": {"chainId": 137, "verifyingContract": SAFE},
            "message": {
                "to": inner.to,
                "value": 0,
                "data": bytes.fromhex(inner.data[2:]),
                "operation": 0,
                "safeTxGas": 0,
                "baseGas": 0,
                "gasPrice": 0,
                "gasToken": redeem.ZERO_ADDRESS,
                "refundReceiver": redeem.ZERO_ADDRESS,
                "nonce": 9,
            },
        }
    )
    signed = OWNER.sign_message(message)
    digest = redeem.safe_tx_hash(SAFE, 137, inner, nonce=9)
    assert Account._recover_hash(digest, signature=signed.signature) == OWNER.address


def test_safe_without_signature_and_deposit_wallets_are_refused() -> None:
    inner = redeem.redeem_call(redeem.RedeemRoute.CTF, CID, AMOUNTS)
    with pytest.raises(ValueError, match="signature"):
        redeem.wallet_call(inner, SignatureType.POLY_GNOSIS_SAFE, SAFE)
    with pytest.raises(redeem.UnsupportedRedeemError, match="relayer"):
        redeem.wallet_call(inner, SignatureType.POLY_1271, PROXY_WALLET)
