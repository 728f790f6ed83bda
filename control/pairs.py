"""Registering and steering pairs: the one implementation behind the CLI and the Telegram bot.

Invariants:
- Every input is validated before anything is written or started: a bad value raises
  `PairError` with a message for the operator, and the registry and Temporal are unchanged.
- The vault is only asked whether a key_ref exists and which address it holds; no secret is
  read here.
- A funder (or follower, when there is no funder) holds the funds of one live pair, unless that
  pair and every other live pair at it are marked `shared_funder`; a removed pair holds none.
- Workflows are addressed by name and id from `projectk.contract`; no workflow code is imported.
- An emergency stop signals every running pair whatever one of them answers, and says which
  pairs it could not reach, with the error each gave; those are not booked as stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import (
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from adapters.endpoints import resolve_endpoints
from adapters.ledger import Ledger, PairRecord
from adapters.temporal import pair_search_attributes
from adapters.vault import Vault
from projectk.contract import (
    PAIR_WORKFLOW,
    QUERY_STATE,
    SIGNAL_EMERGENCY_STOP,
    SIGNAL_PAUSE,
    SIGNAL_REMOVE,
    SIGNAL_RESUME,
    UPDATE_CONFIG,
    pair_workflow_id,
)
from projectk.messages import ConfigPatch, PairWorkflowInput, StopRequest
from projectk.models import MICRO, FillCursor, Guards, PairConfig, PairState, PairStatus
from projectk.settings import ExecutorMode, Settings

log = logging.getLogger(__name__)

RUNNING_PAIRS_QUERY = f'WorkflowType="{PAIR_WORKFLOW}" AND ExecutionStatus="Running"'
REMOVAL_WAIT_S = 30.0  # how long `add` waits for a just-removed pair of the same name to end
# Each emergency-stop signal is given this long, well inside the bot's bound on a whole command,
# so one pair Temporal is slow to reach cannot keep the others from being reported.
STOP_SIGNAL_TIMEOUT = timedelta(seconds=8)


@dataclass(frozen=True)
class StopAllResult:
    """What an emergency stop of every pair did."""

    stopped: list[str]  # the pairs whose workflow took the stop signal
    failed: dict[str, str]  # pair -> why its signal failed: that pair may still be trading
    listing_error: str | None = None  # the listing broke off: pairs after it were not reached

    @property
    def complete(self) -> bool:
        """Return whether every running pair was stopped."""
        return not self.failed and self.listing_error is None


class PairError(ValueError):
    """A pair request that cannot be carried out; the message is for the operator."""


class FunderTaken(PairError):
    """The pair's funder already holds other live pairs' funds, and not all of them share it."""

    def __init__(self, message: str, others: list[str], unshared: list[str]) -> None:
        super().__init__(message)
        self.others = others  # the live pairs at that funder
        self.unshared = unshared  # those of them not marked shared: nothing can join them


@dataclass(frozen=True)
class PairRules:
    """Limits the operator configured for new pairs."""

    budget_ceiling_micro: int
    task_queue: str
    poll_timeout_s: float = 300.0


class PairService:
    """Validate, register, start and steer PairWorkflows."""

    def __init__(
        self,
        client: Client,
        ledger: Ledger,
        vault: Vault,
        rules: PairRules,
        chain_head: Callable[[], int] | None = None,
    ) -> None:
        self._client = client
        self._ledger = ledger
        self._vault = vault
        self._rules = rules
        self._chain_head = chain_head  # newest block number, when a chain is configured

    def validate_new(self, config: PairConfig) -> None:
        """Raise PairError if the pair cannot be registered as given."""
        if config.budget_micro > self._rules.budget_ceiling_micro:
            ceiling = self._rules.budget_ceiling_micro // MICRO
            raise PairError(f"budget is above the configured ceiling of {ceiling} pUSD")
        self.check_key_ref(config.key_ref, config.follower, config.funder)
        existing = self._ledger.get_pair(config.pair_id)
        if existing is not None and existing.status is not PairStatus.REMOVED:
            raise PairError(f"a pair named {config.pair_id!r} already exists")
        self.check_funder(config)

    def check_key_ref(self, key_ref: str, follower: str, funder: str | None = None) -> str:
        """Return the key's address if `key_ref` is in the vault and signs for the follower."""
        address = self._vault.address_of(key_ref)
        if address is None:
            raise PairError(
                f"{key_ref} is not in the vault; add it on the server with "
                f"`projectk wallet add {key_ref.removeprefix('vault://')}`"
            )
        if address not in {follower, funder}:
            raise PairError(
                f"{key_ref} holds {address}, which is neither the follower {follower} "
                "nor the configured funder"
            )
        return address

    def check_funder(self, config: PairConfig) -> None:
        """Raise PairError if the pair's funder holds another live pair's funds, unless this
        pair and every other pair at that funder are marked shared."""
        funder = config.funder_address
        others = [
            record.config
            for record in self._ledger.list_pairs()  # removed pairs are not listed
            if record.config.funder_address == funder and record.pair_id != config.pair_id
        ]
        names = [other.pair_id for other in others]
        unshared = [other.pair_id for other in others if not other.shared_funder]
        if others and (unshared or not config.shared_funder):
            raise FunderTaken(_funder_taken(config, names, unshared), names, unshared)

    async def add(
        self,
        config: PairConfig,
        start_cursor: FillCursor | None = None,
        removal_wait_s: float = REMOVAL_WAIT_S,
    ) -> PairRecord:
        """Register a pair and start its workflow, reading fills after `start_cursor`.

        A pair of the same name removed a moment ago may still be ending (its workflow ends when
        a worker handles the removal): that is waited for, up to `removal_wait_s`.
        """
        self.validate_new(config)
        await self._wait_ended(config.pair_id, removal_wait_s)
        try:
            await self._client.start_workflow(
                PAIR_WORKFLOW,
                PairWorkflowInput(
                    config=config,
                    poll_timeout_s=self._rules.poll_timeout_s,
                    start_cursor=start_cursor,
                ),
                id=pair_workflow_id(config.pair_id),
                task_queue=self._rules.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                search_attributes=pair_search_attributes(config, PairStatus.ACTIVE),
            )
        except WorkflowAlreadyStartedError:
            raise PairError(_STILL_RUNNING.format(pair_id=config.pair_id)) from None
        self._ledger.upsert_pair(config, PairStatus.ACTIVE)
        log.info("pair %s registered: %s -> %s", config.pair_id, config.source, config.follower)
        record = self._ledger.get_pair(config.pair_id)
        assert record is not None  # just written
        return record

    def latest_cursor(self, source: str) -> FillCursor | None:
        """Return where a new pair starts: after the chain head (when a chain is configured)
        or after the source's newest known fill, whichever is later."""
        known = self._ledger.latest_fill_cursor(source)
        if self._chain_head is None:
            return known
        at_head = FillCursor(block=self._chain_head() + 1)
        return known if known is not None and known.key() > at_head.key() else at_head

    def list_pairs(self, include_removed: bool = False) -> list[PairRecord]:
        """Return the registered pairs."""
        return self._ledger.list_pairs(include_removed=include_removed)

    async def state(self, pair_id: str) -> PairState:
        """Return a pair's live state from its workflow."""
        handle = await self._running(pair_id)
        state: PairState = await handle.query(QUERY_STATE, result_type=PairState)
        return state

    async def pause(self, pair_id: str) -> None:
        """Pause a pair: it starts no new mirror orders."""
        await (await self._running(pair_id)).signal(SIGNAL_PAUSE)
        self._ledger.set_pair_status(pair_id, PairStatus.PAUSED)

    async def resume(self, pair_id: str) -> None:
        """Resume a paused, blocked or stopped pair."""
        await (await self._running(pair_id)).signal(SIGNAL_RESUME)
        self._ledger.set_pair_status(pair_id, PairStatus.ACTIVE)

    async def stop(self, pair_id: str, reason: str) -> None:
        """Emergency-stop one pair."""
        await (await self._running(pair_id)).signal(
            SIGNAL_EMERGENCY_STOP, StopRequest(reason=reason)
        )
        self._ledger.set_pair_status(pair_id, PairStatus.STOPPED)

    async def stop_all(self, reason: str) -> StopAllResult:
        """Emergency-stop every running pair: signal each one, whatever happens to the others,
        and return which pairs were stopped and why each of the rest was not."""
        names: list[str] = []
        listing_error = None
        try:
            async for execution in self._client.list_workflows(RUNNING_PAIRS_QUERY):
                names.append(execution.id.removeprefix(pair_workflow_id("")))
        except RPCError as exc:
            if not names:
                raise PairError(f"could not list the running pairs: {exc.message}") from None
            listing_error = exc.message  # the pairs listed so far are still stopped
        errors = await asyncio.gather(*(self._signal_stop(name, reason) for name in names))
        failed = {name: error for name, error in zip(names, errors, strict=True) if error}
        result = StopAllResult([n for n in names if n not in failed], failed, listing_error)
        # A pair the stop may not have reached may still be trading: its status is left as is.
        unreached = (
            set(failed)
            if listing_error is None
            else {record.pair_id for record in self._ledger.list_pairs()} - set(result.stopped)
        )
        for record in self._ledger.list_pairs():
            if record.pair_id not in unreached:
                self._ledger.set_pair_status(record.pair_id, PairStatus.STOPPED)
        for name, error in failed.items():
            log.error("emergency stop did not reach pair %s: %s", name, error)
        if listing_error:
            log.error("emergency stop: the list of running pairs broke off: %s", listing_error)
        return result

    async def _signal_stop(self, pair_id: str, reason: str) -> str | None:
        # Returns the failure as text: one pair's failure must not keep the others running,
        # whatever it is, so every exception is caught here and reported.
        handle = self._client.get_workflow_handle(pair_workflow_id(pair_id))
        try:
            await handle.signal(
                SIGNAL_EMERGENCY_STOP, StopRequest(reason=reason), rpc_timeout=STOP_SIGNAL_TIMEOUT
            )
        except Exception as exc:
            text = exc.message if isinstance(exc, RPCError) else str(exc)
            return text or type(exc).__name__
        return None

    async def set_budget(self, pair_id: str, budget_micro: int) -> PairConfig:
        """Change a pair's budget (validated by the workflow before it is applied)."""
        if budget_micro > self._rules.budget_ceiling_micro:
            raise PairError("budget is above the configured ceiling")
        return await self._patch(pair_id, ConfigPatch(budget_micro=budget_micro), "budget")

    async def set_guards(self, pair_id: str, guards: Guards) -> PairConfig:
        """Replace a pair's guards (validated by the workflow before they are applied)."""
        config = await self._patch(pair_id, ConfigPatch(guards=guards), "guards")
        # The workflow answers with what it applied: a guard it did not take as asked must not
        # pass for changed.
        differ = [
            f"{name} is {_shown(getattr(config.guards, name))}, not {_shown(getattr(guards, name))}"
            for name in Guards.model_fields
            if getattr(config.guards, name) != getattr(guards, name)
        ]
        if differ:
            raise PairError(
                f"the pair applied other guards than asked: {'; '.join(differ)} "
                f"(`projectk pair show {pair_id}` shows what it runs with)"
            )
        return config

    async def _patch(self, pair_id: str, patch: ConfigPatch, what: str) -> PairConfig:
        handle = await self._running(pair_id)
        try:
            config: PairConfig = await handle.execute_update(
                UPDATE_CONFIG, patch, result_type=PairConfig
            )
        except Exception as exc:  # the validator's rejection arrives as an update failure
            raise PairError(f"{what} not changed: {_cause(exc)}") from None
        record = self._ledger.get_pair(pair_id)
        status = record.status if record else PairStatus.ACTIVE
        self._ledger.upsert_pair(config, status)
        return config

    async def remove(self, pair_id: str) -> None:
        """Deregister a pair: its workflow cancels in-flight orders and ends."""
        if self._ledger.get_pair(pair_id) is None:
            raise PairError(f"no pair named {pair_id!r}")
        handle = self._client.get_workflow_handle(pair_workflow_id(pair_id))
        if await _is_running(handle):
            await handle.signal(SIGNAL_REMOVE)
        self._ledger.set_pair_status(pair_id, PairStatus.REMOVED)

    async def _wait_ended(self, pair_id: str, timeout_s: float) -> None:
        handle: WorkflowHandle[None, None] = self._client.get_workflow_handle(
            pair_workflow_id(pair_id)
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while await _is_running(handle):
            if loop.time() >= deadline:
                raise PairError(_STILL_RUNNING.format(pair_id=pair_id))
            await asyncio.sleep(0.2)

    async def _running(self, pair_id: str) -> WorkflowHandle[None, None]:
        record = self._ledger.get_pair(pair_id)
        if record is None or record.status is PairStatus.REMOVED:
            raise PairError(f"no pair named {pair_id!r}")
        handle: WorkflowHandle[None, None] = self._client.get_workflow_handle(
            pair_workflow_id(pair_id)
        )
        if not await _is_running(handle):
            raise PairError(f"pair {pair_id!r} has no running workflow (is the worker up?)")
        return handle


_STILL_RUNNING = (
    "pair {pair_id!r} was removed but its workflow has not ended yet (it ends when a worker "
    "handles the removal: is the worker up?); nothing was registered, try again once it has"
)


def _shown(value: object) -> str:
    return "off" if value is None else str(value)


def _funder_taken(config: PairConfig, others: list[str], unshared: list[str]) -> str:
    # Names the pairs in the way and says what would let them share, or that nothing here can.
    text = (
        f"funder {config.funder_address} already holds the funds of pair(s) {', '.join(others)}; "
        "pairs may share a funder only when every one of them is marked shared (registered "
        "with --shared-funder): "
    )
    if unshared:
        verb = "was" if len(unshared) == 1 else "were"
        return text + f"{', '.join(unshared)} {verb} not, so use another funder for this pair"
    return text + "register this pair with --shared-funder to share it"


async def _is_running(handle: WorkflowHandle[None, None]) -> bool:
    # Only "no such workflow" means not running: any other failure must not pass for it (a
    # removal would mark the ledger while the workflow went on trading).
    try:
        description = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise PairError(
            f"could not read workflow {handle.id} from Temporal ({exc.message}); "
            "nothing was changed"
        ) from None
    return description.status == WorkflowExecutionStatus.RUNNING


def _cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc)


def build_pair_service(settings: Settings, client: Client, ledger: Ledger) -> PairService:
    """Return the PairService the CLI, the bot and the demo use, wired from settings.

    With a chain (sandbox or live mode) a new pair starts reading fills at the chain head, so
    a wallet's history before the registration is never mirrored.
    """

    rules = PairRules(
        budget_ceiling_micro=settings.budget_ceiling_pusd * MICRO,
        task_queue=settings.temporal_task_queue,
        poll_timeout_s=settings.fill_poll_timeout_s,
    )
    paper = settings.executor_mode is ExecutorMode.PAPER
    head = None if paper else _chain_head(resolve_endpoints(settings))
    return PairService(client, ledger, Vault(settings.resolved_vault_path), rules, chain_head=head)


def _chain_head(settings: Settings) -> Callable[[], int]:
    # A new pair starts reading fills after the chain head; no head, no registration.
    def head() -> int:
        from adapters.chain import ChainUnavailable, head_block  # loaded on use: it is heavy

        try:
            return head_block(settings.rpc_urls)
        except ChainUnavailable as exc:
            raise PairError(f"cannot read the chain head, nothing was registered: {exc}") from None

    return head
