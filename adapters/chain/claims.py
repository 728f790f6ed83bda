"""The chain side of claims: resolution, gas, balances, and the one redeem transaction.

Invariants:
- Clients are injected (an AsyncWeb3, the vault); nothing is built at
  import. A key leaves the vault only inside `sign_redeem`, is cached per process by key_ref, and
  never appears in a result, a log line or an error.
- Never twice: `sign_redeem` signs the transaction once, so its hash is in workflow history
  before anything is sent; `send_redeem` first looks for that transaction (mined or pending)
  and only broadcasts those same bytes when the chain has never seen them and the tokens are
  still held. A retried `send_redeem` therefore waits for the transaction it already sent.
- Reads are of the latest block; the workflow decides what they mean.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import Hash32, HexStr
from eth_utils.crypto import keccak
from temporalio.exceptions import ApplicationError
from web3 import AsyncWeb3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError

from adapters.chain import contracts as chain
from adapters.chain import redeem
from adapters.chain.abis import CONDITIONAL_TOKENS_ABI, SAFE_ABI
from adapters.chain.ctf import to_bytes32
from adapters.vault import Vault, VaultError
from projectk import contract
from projectk.messages import (
    ClaimBalances,
    ClaimBalancesInput,
    GasCheck,
    GasCheckInput,
    RedeemOutcome,
    RedeemReceipt,
    Resolution,
    ResolutionInput,
    SendRedeemInput,
    SignedRedeem,
    SignRedeemInput,
)

log = logging.getLogger(__name__)
RECEIPT_POLL_S = 1.0
GAS_HEADROOM = 1.3  # estimate x this: redeem gas varies a little with storage state
_TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")
_SEEN_ERRORS = ("already known", "nonce too low", "known transaction")


class ClaimChain:
    """Read what a claim needs from the chain, and send its redeem transaction."""

    def __init__(
        self,
        w3: AsyncWeb3[Any],
        vault: Vault | None,
        passphrase: str | None,
        gas_threshold_wei: int,
        use_adapters: bool,
    ) -> None:
        self._w3 = w3
        self._vault = vault
        self._passphrase = passphrase
        self._threshold = gas_threshold_wei
        self._use_adapters = use_adapters
        self._ctf = w3.eth.contract(
            address=w3.to_checksum_address(chain.CONDITIONAL_TOKENS), abi=CONDITIONAL_TOKENS_ABI
        )
        self._accounts: dict[str, LocalAccount] = {}
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"ClaimChain(accounts={len(self._accounts)})"

    # -- reads ----------------------------------------------------------------------------

    async def read_resolution(self, data: ResolutionInput) -> Resolution:
        """Return payoutDenominator and payoutNumerators of a condition (0 and [] if open)."""
        cond = to_bytes32(data.condition_id)
        denominator = int(await self._ctf.functions.payoutDenominator(cond).call())
        if denominator == 0:
            return Resolution()
        slots = int(await self._ctf.functions.getOutcomeSlotCount(cond).call())
        numerators = [
            int(await self._ctf.functions.payoutNumerators(cond, i).call()) for i in range(slots)
        ]
        return Resolution(denominator=denominator, numerators=numerators)

    async def check_gas(self, data: GasCheckInput) -> GasCheck:
        """Return the POL balance of the key that pays the claim's gas, against the threshold."""
        signer = self._address_of(data.key_ref)
        balance = int(await self._w3.eth.get_balance(self._w3.to_checksum_address(signer)))
        return GasCheck(signer=signer, balance_wei=balance, threshold_wei=self._threshold)

    async def read_claim_balances(self, data: ClaimBalancesInput) -> ClaimBalances:
        """Return the holder's balance of each token, in input order."""
        return ClaimBalances(shares_micro=await self._balances(data.holder, data.token_ids))

    # -- the redeem transaction -------------------------------------------------------------

    async def sign_redeem(self, data: SignRedeemInput) -> SignedRedeem:
        """Build and sign the redeem transaction; nothing is sent here."""
        target = data.target
        account = await self._account(target.key_ref)
        try:
            route = redeem.choose_route(target.neg_risk, self._use_adapters)
            amounts = (data.shares_micro[0], data.shares_micro[1])
            inner = redeem.redeem_call(route, target.condition_id, amounts)
            safe_sig = await self._safe_signature(account, target, inner)
            call = redeem.wallet_call(inner, target.signature_type, target.holder, safe_sig)
        except redeem.UnsupportedRedeemError as exc:
            raise ApplicationError(
                str(exc), type=contract.ERROR_REDEEM_UNSUPPORTED, non_retryable=True
            ) from None
        tx = await self._transaction(account.address, call)
        signed = account.sign_transaction(tx)
        return SignedRedeem(
            tx_hash="0x" + bytes(signed.hash).hex(),
            raw_tx="0x" + bytes(signed.raw_transaction).hex(),
            signer=account.address,
            nonce=int(tx["nonce"]),
            route=route.value,
            to=call.to,
        )

    async def send_redeem(
        self, data: SendRedeemInput, beat: Callable[[str], None] = lambda _: None
    ) -> RedeemReceipt:
        """Send the signed transaction unless the chain already has it, and wait for it."""
        signed = data.signed
        while True:
            receipt = await self._receipt(signed.tx_hash)
            if receipt is not None:
                return self._result(signed.tx_hash, receipt, data.holder)
            if not await self._known(signed.tx_hash):
                stale = await self._nonce_used(signed)
                if stale is not None:
                    return stale
                if not any(await self._balances(data.holder, data.token_ids)):
                    return RedeemReceipt(outcome=RedeemOutcome.GONE, tx_hash=signed.tx_hash)
                await self._broadcast(signed)
            beat(signed.tx_hash)
            await asyncio.sleep(RECEIPT_POLL_S)

    # -- helpers ----------------------------------------------------------------------------

    async def _balances(self, holder: str, token_ids: list[str]) -> list[int]:
        owner = self._w3.to_checksum_address(holder)
        return [int(await self._ctf.functions.balanceOf(owner, int(t)).call()) for t in token_ids]

    def _address_of(self, key_ref: str) -> str:
        address = self._vault.address_of(key_ref) if self._vault else None
        if address is None:
            raise ApplicationError(
                f"no vault entry {key_ref}", type=contract.ERROR_VAULT, non_retryable=True
            )
        return address

    async def _account(self, key_ref: str) -> LocalAccount:
        async with self._lock:
            if key_ref not in self._accounts:
                self._accounts[key_ref] = await asyncio.to_thread(self._open, key_ref)
            return self._accounts[key_ref]

    def _open(self, key_ref: str) -> LocalAccount:
        if self._vault is None:
            raise ApplicationError(
                "this worker has no vault", type=contract.ERROR_VAULT, non_retryable=True
            )
        try:
            return self._vault.open_account(key_ref, self._passphrase)
        except VaultError as exc:  # its message never holds a secret
            raise ApplicationError(
                str(exc), type=contract.ERROR_VAULT, non_retryable=True
            ) from None

    async def _safe_signature(
        self, account: LocalAccount, target: Any, inner: redeem.Call
    ) -> bytes | None:
        if not redeem.wallet_path_needs_safe_nonce(target.signature_type):
            return None
        safe = self._w3.eth.contract(
            address=self._w3.to_checksum_address(target.holder), abi=SAFE_ABI
        )
        nonce = int(await safe.functions.nonce().call())
        digest = redeem.safe_tx_hash(target.holder, await self._w3.eth.chain_id, inner, nonce)
        signed = account.unsafe_sign_hash(Hash32(digest))
        return redeem.safe_signature(signed.r, signed.s, signed.v)

    async def _transaction(self, sender: str, call: redeem.Call) -> dict[str, Any]:
        base: dict[str, Any] = {
            "from": sender,
            "to": self._w3.to_checksum_address(call.to),
            "data": call.data,
            "value": call.value,
        }
        try:
            gas = await self._w3.eth.estimate_gas(base)  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise ApplicationError(
                f"redeem would revert: {exc}",
                type=contract.ERROR_REDEEM_WOULD_REVERT,
                non_retryable=True,
            ) from None
        block = await self._w3.eth.get_block("latest")
        tip = int(await self._w3.eth.max_priority_fee)
        return {
            **base,
            "gas": int(gas * GAS_HEADROOM),
            "nonce": int(
                await self._w3.eth.get_transaction_count(
                    self._w3.to_checksum_address(sender), "pending"
                )
            ),
            "chainId": int(await self._w3.eth.chain_id),
            "maxPriorityFeePerGas": tip,
            "maxFeePerGas": 2 * int(block.get("baseFeePerGas", 0)) + tip,
        }

    async def _receipt(self, tx_hash: str) -> Any:
        try:
            return await self._w3.eth.get_transaction_receipt(HexStr(tx_hash))
        except TransactionNotFound:
            return None

    async def _known(self, tx_hash: str) -> bool:
        try:
            await self._w3.eth.get_transaction(HexStr(tx_hash))
        except TransactionNotFound:
            return False
        return True

    async def _nonce_used(self, signed: SignedRedeem) -> RedeemReceipt | None:
        # The nonce was used and our transaction is not the one mined (no receipt was found).
        mined = await self._w3.eth.get_transaction_count(
            self._w3.to_checksum_address(signed.signer), "latest"
        )
        if int(mined) <= signed.nonce or await self._receipt(signed.tx_hash) is not None:
            return None
        return RedeemReceipt(outcome=RedeemOutcome.REPLACED, tx_hash=signed.tx_hash)

    async def _broadcast(self, signed: SignedRedeem) -> None:
        try:
            await self._w3.eth.send_raw_transaction(HexStr(signed.raw_tx))
        except Web3RPCError as exc:
            if not any(text in str(exc).lower() for text in _SEEN_ERRORS):
                raise
            log.info("redeem %s was already sent", signed.tx_hash)
        else:
            log.info("redeem %s sent (nonce %d)", signed.tx_hash, signed.nonce)

    def _result(self, tx_hash: str, receipt: Any, holder: str) -> RedeemReceipt:
        ok = int(receipt["status"]) == 1
        return RedeemReceipt(
            outcome=RedeemOutcome.MINED if ok else RedeemOutcome.REVERTED,
            tx_hash=tx_hash,
            gas_used=int(receipt["gasUsed"]),
            payout_micro=pusd_received(receipt["logs"], holder) if ok else 0,
            block_number=int(receipt["blockNumber"]),
        )


def pusd_received(logs: list[Any], holder: str) -> int:
    """Return the pUSD a receipt's Transfer logs paid to the holder (micro-units)."""
    to_topic = bytes(12) + bytes.fromhex(holder.removeprefix("0x").lower())
    total = 0
    for log in logs:
        topics = [bytes(t) for t in log["topics"]]
        if str(log["address"]).lower() != chain.PUSD.lower() or len(topics) != 3:
            continue
        if topics[0] == _TRANSFER_TOPIC and topics[2] == to_topic:
            total += int.from_bytes(bytes(log["data"]), "big")
    return total
