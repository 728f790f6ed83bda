"""The /addpair conversation: name → source → follower → budget → key_ref → sizing → guards →
confirmation.

Invariants:
- Each answer is validated on the spot; a bad answer gets its reason and the same question
  again, and the conversation stays where it was.
- Answers become a `PairConfig` through `config_from_options`, the CLI's one path, so the bot
  accepts exactly what `projectk pair add` accepts.
- The guard step is left only with a funder `PairService.check_funder` accepts; the bot's
  global funder (PROJECTK_POLYMARKET_FUNDER) is checked like any other and named when refused.
- Nothing is written and no workflow is started before the operator confirms; then
  `PairService.add` registers the pair and starts its workflow (validating everything again).
- The key is only looked up by reference (existence and address); no secret is asked for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum, unique
from typing import Any

from pydantic import TypeAdapter, ValidationError
from temporalio.service import RPCError

from adapters.vault import VaultError
from bot.conversation import Reply
from bot.texts import describe_error, guards_text, pair_summary
from bot.timeouts import TEMPORAL_TIMEOUT_S, TemporalTimeoutError, bounded
from control.pair_input import GUARD_OPTION_KEYS, config_from_options, parse_yes_no
from control.pairs import FunderTaken, PairError, PairService
from projectk.models import (
    KEY_REF_PREFIX,
    MICRO,
    Address,
    KeyRef,
    PairConfig,
    PairId,
)
from projectk.money import AmountError, format_micro, parse_micro
from projectk.settings import env_name

log = logging.getLogger(__name__)

_ADDRESS: TypeAdapter[str] = TypeAdapter(Address)
_KEY_REF: TypeAdapter[str] = TypeAdapter(KeyRef)
_PAIR_ID: TypeAdapter[str] = TypeAdapter(PairId)
SIZING_MODES = {
    "fixed": "fixed",
    "proportional": "proportional",
    "percent": "percent_shares",
    "percent_shares": "percent_shares",
}
GUARD_OPTIONS = (*GUARD_OPTION_KEYS, "order_type", "shared_funder")
ORDER_TYPES = ("FAK", "FOK", "GTC")  # the CLI's choices; GTD needs an expiry the bot does not ask
YES, NO = frozenset({"yes", "y", "confirm", "ok"}), frozenset({"no", "n", "cancel"})


@unique
class Step(StrEnum):
    """The question the conversation is waiting on."""

    NAME = "name"
    SOURCE = "source"
    FOLLOWER = "follower"
    BUDGET = "budget"
    KEY_REF = "key_ref"
    SIZING = "sizing"
    GUARDS = "guards"
    CONFIRM = "confirm"


@dataclass(frozen=True)
class PairDefaults:
    """Operator settings that shape a new pair."""

    budget_ceiling_micro: int
    funder: str | None = None
    signature_type: int = 0


def default_options(defaults: PairDefaults) -> dict[str, Any]:
    """Return `config_from_options` values before any answer (the CLI's defaults; guard
    options left out take the domain's defaults)."""
    return {
        "funder": defaults.funder,
        "signature_type": defaults.signature_type,
        "sizing": "fixed",
        "amount": "5",
        "order_type": "FAK",
        "shared_funder": False,
    }


class AddPairFlow:
    """One operator's /addpair answers, validated one at a time."""

    command = "/addpair"

    def __init__(self, service: PairService, defaults: PairDefaults) -> None:
        self._service = service
        self._defaults = defaults
        self._opts = default_options(defaults)
        self._name = ""
        self._step = Step.NAME

    @property
    def step(self) -> Step:
        """Return the question being asked."""
        return self._step

    def start(self, name: str | None) -> Reply:
        """Return the first question (skipping the name when the command gave a valid one)."""
        intro = "New pair. Nothing is saved until you confirm; /cancel stops.\n"
        if name:
            problem = self._take_name(name)
            if problem is None:
                return Reply(intro + self.question())
            return Reply(f"{intro}{problem}\n{self.question()}")
        return Reply(intro + self.question())

    def question(self) -> str:
        """Return the current question."""
        ceiling = format_micro(self._defaults.budget_ceiling_micro)
        questions = {
            Step.NAME: "Name of the pair? (letters, digits, '-' or '_')",
            Step.SOURCE: "Source wallet to follow? (checksummed 0x address)",
            Step.FOLLOWER: "Follower wallet that mirrors it? (checksummed 0x address)",
            Step.BUDGET: f"Budget in pUSD? (a positive amount up to {ceiling})",
            Step.KEY_REF: "Follower key in the vault? (vault://NAME — never the key itself)",
            Step.SIZING: "Sizing? `fixed 5` (pUSD per buy), `proportional 0.1` (ratio of the "
            "source's notional) or `percent 10` (of the source's shares)",
            Step.CONFIRM: "",
        }
        if self._step is Step.GUARDS:
            return (
                f"Guards:\n{guards_text(self._config())}\nSend `ok` to keep them, or changes "
                "such as `slippage_bps=200 max_order=20 max_sell_age=600 max_book_distance=off "
                "buys_only=yes` (`off` turns a limit off)"
            )
        if self._step is Step.CONFIRM:
            return f"{pair_summary(self._config())}\nRegister and start it? (yes / no)"
        return questions[self._step]

    async def answer(self, text: str) -> Reply:
        """Validate one answer; return the next question, the same one again, or the end."""
        text = text.strip()
        if self._step is Step.CONFIRM:
            return await self._confirm(text.lower())
        problem = self._take(text)
        if problem is not None:
            return Reply(f"❌ {problem}\n{self.question()}")
        return Reply(self.question())

    def _take(self, text: str) -> str | None:
        # Returns the reason the answer is refused, or None after moving to the next step.
        handlers = {
            Step.NAME: self._take_name,
            Step.SOURCE: self._take_source,
            Step.FOLLOWER: self._take_follower,
            Step.BUDGET: self._take_budget,
            Step.KEY_REF: self._take_key_ref,
            Step.SIZING: self._take_sizing,
            Step.GUARDS: self._take_guards,
        }
        return handlers[self._step](text)

    def _take_name(self, text: str) -> str | None:
        try:
            name = _PAIR_ID.validate_python(text)
        except ValidationError as exc:
            return describe_error(exc)
        if any(record.pair_id == name for record in self._service.list_pairs()):
            return f"a pair named {name!r} already exists"
        self._name, self._step = name, Step.SOURCE
        return None

    def _take_source(self, text: str) -> str | None:
        try:
            self._opts["source"] = _ADDRESS.validate_python(text)
        except ValidationError as exc:
            return describe_error(exc)
        self._step = Step.FOLLOWER
        return None

    def _take_follower(self, text: str) -> str | None:
        try:
            follower = _ADDRESS.validate_python(text)
        except ValidationError as exc:
            return describe_error(exc)
        if follower == self._opts["source"]:
            return "the follower must be another wallet than the source"
        self._opts["follower"], self._step = follower, Step.BUDGET
        return None

    def _take_budget(self, text: str) -> str | None:
        try:
            micro = parse_micro(text, what="budget")
        except AmountError as exc:
            return str(exc)
        if micro > self._defaults.budget_ceiling_micro:
            ceiling = self._defaults.budget_ceiling_micro // MICRO
            return f"budget is above the configured ceiling of {ceiling} pUSD"
        self._opts["budget"], self._step = text.strip(), Step.KEY_REF
        return None

    def _take_key_ref(self, text: str) -> str | None:
        key_ref = text if text.startswith(KEY_REF_PREFIX) else f"{KEY_REF_PREFIX}{text}"
        try:
            key_ref = _KEY_REF.validate_python(key_ref)
            self._service.check_key_ref(key_ref, self._opts["follower"], self._defaults.funder)
        except ValidationError:
            return "key_ref must look like vault://NAME (letters, digits, '-' or '_')"
        except (PairError, VaultError) as exc:
            return str(exc)
        self._opts["key_ref"], self._step = key_ref, Step.SIZING
        return None

    def _take_sizing(self, text: str) -> str | None:
        parts = text.lower().split()
        if len(parts) != 2 or parts[0] not in SIZING_MODES:
            return "answer a mode and an amount, e.g. `fixed 5`, `proportional 0.1`, `percent 10`"
        return self._try({"sizing": SIZING_MODES[parts[0]], "amount": parts[1]}, Step.GUARDS)

    def _take_guards(self, text: str) -> str | None:
        changes: dict[str, Any] = {}
        if text.lower() not in {"ok", "defaults", "keep"}:
            for item in text.replace(",", " ").split():
                key, sep, value = item.partition("=")
                if not sep or key not in GUARD_OPTIONS:
                    return f"unknown guard {key!r}; use {', '.join(GUARD_OPTIONS)}"
                try:
                    changes[key] = _guard_value(key, value)
                except ValueError as exc:
                    return str(exc)
        return self._try(changes, Step.CONFIRM, check_funder=True)

    def _try(
        self, changes: dict[str, Any], next_step: Step, check_funder: bool = False
    ) -> str | None:
        # Validate the whole configuration with the changes before keeping them.
        try:
            config = config_from_options(self._name, {**self._opts, **changes})
        except ValueError as exc:
            return describe_error(exc)
        if check_funder:
            try:
                self._service.check_funder(config)
            except FunderTaken as exc:
                return self._funder_refusal(config, exc)
        self._opts.update(changes)
        self._step = next_step
        return None

    def _funder_refusal(self, config: PairConfig, exc: FunderTaken) -> str:
        # The service speaks the CLI's words; say how to act from here, and that the funder
        # came from the bot's settings when it did (the bot cannot set another one).
        text = str(exc)
        if not exc.unshared:
            text += ".\nHere, answer `shared_funder=yes` to mark this pair shared."
        if self._defaults.funder is not None and config.funder == self._defaults.funder:
            text += (
                f"\nThis bot gives every pair the funder set in "
                f"{env_name('polymarket_funder')} ({config.funder}); to use another funder, "
                "register the pair on the server with `projectk pair add --funder …`."
            )
        return text

    def _config(self) -> PairConfig:
        return config_from_options(self._name, self._opts)

    async def _confirm(self, text: str) -> Reply:
        if text in NO:
            return Reply("Cancelled; nothing was saved.", done=True)
        if text not in YES:
            return Reply("Please answer yes or no.\n" + self.question())
        config = self._config()
        try:
            cursor = self._service.latest_cursor(config.source)
            # A just-removed pair of that name gets a little time to end, inside the bound.
            adding = self._service.add(
                config, start_cursor=cursor, removal_wait_s=TEMPORAL_TIMEOUT_S / 2
            )
            await bounded(adding)
        except (PairError, VaultError, TemporalTimeoutError) as exc:
            return Reply(f"❌ Not registered: {exc}", done=True)
        except RPCError as exc:
            log.warning("addpair %s: Temporal refused the start: %s", config.pair_id, exc)
            return Reply(
                f"❌ Not registered: Temporal refused the start ({exc.message})", done=True
            )
        log.info("addpair: pair %s registered from Telegram", config.pair_id)
        return Reply(
            f"✅ Pair {config.pair_id} registered and running. /pair {config.pair_id}", done=True
        )


def _guard_value(key: str, value: str) -> object:
    # Values as the CLI options carry them; config_from_options checks the rest.
    if key in {"buys_only", "shared_funder"}:
        return parse_yes_no(value, key)
    if key == "order_type":
        if value.upper() not in ORDER_TYPES:
            raise ValueError(f"order_type must be one of {', '.join(ORDER_TYPES)}")
        return value.upper()
    return value
