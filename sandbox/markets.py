"""Binary markets of both kinds: create (condition + liquidity), resolve, and their descriptions.

A "v1" market is a ConditionalTokens condition whose outcome ids are CTF token ids (orders settle
on CTF Exchange V2, or the NegRisk exchange when ``neg_risk``); a "v2" market is a Protocol V2
binary condition whose outcome ids are PositionManager position ids (orders settle on ExchangeV3).

Invariants: every market has two outcomes, index 0 "Yes" and 1 "No"; the oracle account resolves
it exactly once ([1, 0] or [0, 1]); outcome ids are computed by the contracts' own rules; a market
belongs to one event (its own, or a shared neg-risk event whose markets are the event's outcomes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from enum import StrEnum, unique
from typing import Any

from eth_abi.packed import encode_packed
from eth_utils.crypto import keccak

from sandbox import accounts, protocol_v2
from sandbox.chain import CONDITIONAL_TOKENS, PUSD
from sandbox.rpc import Rpc

ZERO32 = b"\x00" * 32
OUTCOMES = ("Yes", "No")


@unique
class MarketVersion(StrEnum):
    """Which protocol a market's outcome ids and settlement belong to (Gamma's ``version``)."""

    V1 = "v1"  # ConditionalTokens token ids, CTF Exchange V2 / NegRisk Exchange V2
    V2 = "v2"  # PositionManager position ids, ExchangeV3


@dataclass(frozen=True)
class FeeSchedule:
    """The operator's taker fee: shares x rate x (p(1-p))^exponent; zero rate means no fee."""

    rate: Decimal = Decimal(0)
    exponent: int = 1

    @property
    def enabled(self) -> bool:
        """True when takers pay a fee on this market."""
        return self.rate > 0


@dataclass(frozen=True)
class MarketSpec:
    """What to create: question, rules, protocol version, fees, and (neg-risk) its event."""

    question: str
    slug: str
    tick_size: Decimal = Decimal("0.01")
    min_order_size: Decimal = Decimal("5")
    neg_risk: bool = False
    end_date_iso: str = "2030-01-01T00:00:00Z"
    version: MarketVersion = MarketVersion.V1
    fee: FeeSchedule = field(default_factory=FeeSchedule)
    event_slug: str = ""  # the neg-risk event this market is an outcome of ("" = its own event)
    event_title: str = ""  # that event's title
    group_item_title: str = ""  # the outcome's name within a neg-risk event


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

    @property
    def v2(self) -> bool:
        """True for a Protocol V2 market (position ids, ExchangeV3)."""
        return self.spec.version == MarketVersion.V2

    @property
    def event_slug(self) -> str:
        """The slug of the event the market belongs to."""
        return self.spec.event_slug or self.spec.slug

    def outcome_of(self, token_id: int) -> int:
        """Return 0 (Yes) or 1 (No) for one of this market's tokens."""
        return self.token_ids.index(token_id)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready description (token ids as decimal strings)."""
        spec = asdict(self.spec)
        spec["tick_size"] = str(self.spec.tick_size)
        spec["min_order_size"] = str(self.spec.min_order_size)
        spec["version"] = self.spec.version.value
        spec["fee"] = {"rate": str(self.spec.fee.rate), "exponent": self.spec.fee.exponent}
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
    """Create the condition and split ``liquidity_micro`` pUSD into Yes/No for the market maker."""
    qid = keccak(text=f"projectk-sandbox:{spec.slug}")
    if spec.version == MarketVersion.V2:
        cond = protocol_v2.condition_id(qid)
        tokens = (protocol_v2.position_id(cond, 0), protocol_v2.position_id(cond, 1))
        market = Market(spec, "0x" + qid.hex(), protocol_v2.market_condition_id(cond), tokens)
    else:
        oracle = accounts.oracle().address
        await rpc.transact(
            oracle, CONDITIONAL_TOKENS, "prepareCondition(address,bytes32,uint256)", oracle, qid, 2
        )
        ctf_cond = condition_id(oracle, qid)
        tokens = (await position_id(rpc, ctf_cond, 1), await position_id(rpc, ctf_cond, 2))
        market = Market(spec, "0x" + qid.hex(), "0x" + ctf_cond.hex(), tokens)
    if liquidity_micro > 0:
        await split(rpc, accounts.market_maker().address, market, liquidity_micro)
    return market


async def split(rpc: Rpc, owner: str, market: Market, amount_micro: int) -> None:
    """Mint ``amount_micro`` pUSD to ``owner`` and split it into full Yes/No sets."""
    if market.v2:
        await protocol_v2.split(
            rpc, owner, protocol_v2.condition_bytes(market.condition_id), amount_micro
        )
        return
    op = accounts.operator().address
    await rpc.transact(op, PUSD, "faucet(address,uint256)", owner, amount_micro)
    await rpc.transact(
        owner,
        CONDITIONAL_TOKENS,
        "splitPosition(address,bytes32,bytes32,uint256[],uint256)",
        PUSD,
        ZERO32,
        bytes.fromhex(market.condition_id[2:]),
        [1, 2],
        amount_micro,
    )


async def resolve(rpc: Rpc, market: Market, winner: int) -> str:
    """Report payouts for ``winner`` (0 Yes, 1 No) from the oracle; return the tx hash."""
    if market.v2:
        tx = await protocol_v2.resolve(
            rpc, protocol_v2.condition_bytes(market.condition_id), winner
        )
    else:
        payouts = [1, 0] if winner == 0 else [0, 1]
        rec = await rpc.transact(
            accounts.oracle().address,
            CONDITIONAL_TOKENS,
            "reportPayouts(bytes32,uint256[])",
            bytes.fromhex(market.question_id[2:]),
            payouts,
        )
        tx = rec["transactionHash"]
    market.closed = True
    market.winner = winner
    return tx


async def payout_denominator(rpc: Rpc, market: Market) -> int:
    """Return payoutDenominator(conditionId) of a v1 market; > 0 once resolved."""
    (den,) = await rpc.call(
        CONDITIONAL_TOKENS,
        "payoutDenominator(bytes32)",
        (bytes.fromhex(market.condition_id[2:]),),
        ["uint256"],
    )
    return int(den)
