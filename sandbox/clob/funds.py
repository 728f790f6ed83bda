"""Balances and allowances as the CLOB sees them, read from the chain's ``pending`` block.

Invariants: pUSD allowances are per spender; outcome approvals are all or nothing
(setApprovalForAll), reported as 2**256-1 or 0; a v2 position id is read from PositionManager and
a CTF token id from ConditionalTokens; reads include pending transactions, so a settlement just
sent already counts.
"""

from __future__ import annotations

from sandbox.chain import (
    CTF_EXCHANGE_V2,
    EXCHANGE_V3,
    NEG_RISK_EXCHANGE_V2,
    PUSD,
    ROUTER,
    ledger_of,
)
from sandbox.rpc import Rpc

MAX_UINT = 2**256 - 1
# The spenders /balance-allowance reports, per asset type.
COLLATERAL_SPENDERS = (CTF_EXCHANGE_V2, NEG_RISK_EXCHANGE_V2, EXCHANGE_V3)
CONDITIONAL_SPENDERS = (CTF_EXCHANGE_V2, NEG_RISK_EXCHANGE_V2)
CONDITIONAL_V2_SPENDERS = (EXCHANGE_V3, ROUTER)


async def collateral(
    rpc: Rpc, owner: str, spenders: tuple[str, ...], block: str = "pending"
) -> tuple[int, dict[str, int]]:
    """Return the pUSD balance of ``owner`` and its allowance to each spender."""
    answers = await rpc.call_many(
        [(PUSD, "balanceOf(address)", (owner,), ["uint256"])]
        + [(PUSD, "allowance(address,address)", (owner, s), ["uint256"]) for s in spenders],
        block,
    )
    return int(answers[0][0]), {s: int(a[0]) for s, a in zip(spenders, answers[1:], strict=True)}


async def conditional(
    rpc: Rpc,
    owner: str,
    token_id: int,
    operators: tuple[str, ...],
    block: str = "pending",
    ledger: str | None = None,
) -> tuple[int, dict[str, int]]:
    """Return the outcome balance of ``owner`` and whether each operator may move it.

    ``ledger`` is the ERC-1155 contract to read (by default the one the id belongs to).
    """
    ledger = ledger or ledger_of(token_id)
    answers = await rpc.call_many(
        [(ledger, "balanceOf(address,uint256)", (owner, token_id), ["uint256"])]
        + [
            (ledger, "isApprovedForAll(address,address)", (owner, op), ["bool"]) for op in operators
        ],
        block,
    )
    allowances = {op: MAX_UINT if a[0] else 0 for op, a in zip(operators, answers[1:], strict=True)}
    return int(answers[0][0]), allowances


async def spendable(rpc: Rpc, owner: str, token_id: int | None, exchange: str) -> int:
    """min(balance, allowance to ``exchange``) of pUSD (token None) or of an outcome."""
    if token_id is None:
        balance, allowances = await collateral(rpc, owner, (exchange,))
    else:
        balance, allowances = await conditional(rpc, owner, token_id, (exchange,))
    return min(balance, allowances[exchange])
