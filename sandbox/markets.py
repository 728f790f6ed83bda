"""Binary markets on the real ConditionalTokens: create (prepare + split), resolve (report payouts).

Invariants: every market is a two-outcome condition whose oracle is the sandbox oracle account;
index set 1 is "Yes" and 2 is "No"; token ids are the ConditionalTokens position ids computed by
the contract itself; resolution reports payouts [1, 0] (Yes) or [0, 1] (No) exactly once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from eth_abi.packed import encode_packed
from eth_utils.crypto import keccak

from sandbox import accounts
from sandbox.chain import CONDITIONAL_TOKENS, PUSD
from sandbox.rpc import Rpc

ZERO32 = b"\x00" * 32
OUTCOMES = ("Yes", "No")


@dataclass(frozen=True)
class MarketSpec:
    """What to create: question text, tick size, minimum order size, neg-risk flag."""

    question: str
    slug: str
    tick_size: Decimal = Decimal("0.01")
    min_order_size: Decimal = Decimal("5")
    neg_risk: bool = False
    end_date_iso: str = "2030-01-01T00:00:00Z"


@dataclass
class Market:
    """A created market and its on-chain identifiers (ids as 0x hex / decimal strings)."""

    spec: MarketSpec
    question_id: str
    condition_id: str
    token_ids: tuple[int, int]
    closed: bool = False
    winner: int | None = None  # index into OUTCOMES once resolved
    extra: dict[str, Any] = field(default_factory=dict)

    def outcome_of(self, token_id: int) -> int:
        """Return 0 (Yes) or 1 (No) for one of this market's tokens."""
        return self.token_ids.index(token_id)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready description (token ids as decimal strings)."""
        spec = asdict(self.spec)
        spec["tick_size"] = str(self.spec.tick_size)
        spec["min_order_size"] = str(self.spec.min_order_size)
        return {
            **spec,
            "question_id": self.question_id,
            "condition_id": self.condition_id,
            "tokens": [
                {"outcome": o, "token_id": str(t)}
                for o, t in zip(OUTCOMES, self.token_ids, strict=True)
            ],
            "closed": self.closed,
            "winner": None if self.winner is None else OUTCOMES[self.winner],
        }


def condition_id(oracle: str, question_id: bytes, outcomes: int = 2) -> bytes:
    """Compute ConditionalTokens' getConditionId off-chain."""
    return keccak(encode_packed(["address", "bytes32", "uint256"], [oracle, question_id, outcomes]))


async def position_id(rpc: Rpc, cond: bytes, index_set: int) -> int:
    """Ask ConditionalTokens for the position (token) id of one outcome."""
    (collection,) = await rpc.call(
        CONDITIONAL_TOKENS,
        "getCollectionId(bytes32,bytes32,uint256)",
        (ZERO32, cond, index_set),
        ["bytes32"],
    )
    (pos,) = await rpc.call(
        CONDITIONAL_TOKENS, "getPositionId(address,bytes32)", (PUSD, collection), ["uint256"]
    )
    return int(pos)


async def create_market(rpc: Rpc, spec: MarketSpec, liquidity_micro: int) -> Market:
    """Prepare the condition and split ``liquidity_micro`` pUSD into Yes/No for the market maker."""
    qid = keccak(text=f"projectk-sandbox:{spec.slug}")
    oracle = accounts.oracle().address
    await rpc.transact(
        oracle, CONDITIONAL_TOKENS, "prepareCondition(address,bytes32,uint256)", oracle, qid, 2
    )
    cond = condition_id(oracle, qid)
    tokens = (await position_id(rpc, cond, 1), await position_id(rpc, cond, 2))
    if liquidity_micro > 0:
        await split(rpc, accounts.market_maker().address, cond, liquidity_micro)
    return Market(spec, "0x" + qid.hex(), "0x" + cond.hex(), tokens)


async def split(rpc: Rpc, owner: str, cond: bytes, amount_micro: int) -> None:
    """Mint ``amount_micro`` pUSD to ``owner`` and split it into full Yes/No sets."""
    op = accounts.operator().address
    await rpc.transact(op, PUSD, "faucet(address,uint256)", owner, amount_micro)
    await rpc.transact(
        owner,
        CONDITIONAL_TOKENS,
        "splitPosition(address,bytes32,bytes32,uint256[],uint256)",
        PUSD,
        ZERO32,
        cond,
        [1, 2],
        amount_micro,
    )


async def resolve(rpc: Rpc, market: Market, winner: int) -> str:
    """Report payouts for ``winner`` (0 Yes, 1 No) from the oracle; return the tx hash."""
    payouts = [1, 0] if winner == 0 else [0, 1]
    rec = await rpc.transact(
        accounts.oracle().address,
        CONDITIONAL_TOKENS,
        "reportPayouts(bytes32,uint256[])",
        bytes.fromhex(market.question_id[2:]),
        payouts,
    )
    market.closed = True
    market.winner = winner
    tx: str = rec["transactionHash"]
    return tx


async def payout_denominator(rpc: Rpc, market: Market) -> int:
    """Return payoutDenominator(conditionId); > 0 once resolved."""
    (den,) = await rpc.call(
        CONDITIONAL_TOKENS,
        "payoutDenominator(bytes32)",
        (bytes.fromhex(market.condition_id[2:]),),
        ["uint256"],
    )
    return int(den)
