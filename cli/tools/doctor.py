"""`projectk doctor`: check that everything a server run needs is in place, one line per check.

Invariants:
- Doctor only reads: it changes no setting, table, vault, workflow or chain state.
- Every check ends in a `CheckResult`: PASS, FAIL (with the fix to apply) or SKIP (a check it
  depends on failed). One check's exception never stops the others.
- Results name wallets and addresses, never a secret (the vault passphrase opens only the check
  value, never a key).
- Network calls have short timeouts, so doctor answers within seconds even when a service hangs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum, unique
from pathlib import Path

import httpx
from sqlalchemy.exc import SQLAlchemyError

from adapters.chain.contracts import CTF_EXCHANGE_V2, NEG_RISK_EXCHANGE_V2, PUSD
from adapters.ledger import (
    LedgerError,
    LedgerReader,
    create_ledger_engine,
    current_revision,
    head_revision,
    normalize_url,
    redact,
)
from adapters.temporal import (
    TemporalUnavailableError,
    connect,
    missing_search_attributes,
    registered_search_attributes,
)
from adapters.vault import Vault, VaultError
from projectk.models import PairConfig
from projectk.settings import Settings, SettingsError

POLYGON_CHAIN_ID = 137
WEI_PER_POL = 10**18
MIN_PUSD_MICRO = 1_000_000  # $1: the smallest marketable BUY
NETWORK_TIMEOUT_S = 5.0
_BALANCE_OF = "0x70a08231"  # balanceOf(address)
_ALLOWANCE = "0xdd62ed3e"  # allowance(address,address)
_EXCHANGES = {"CTF Exchange V2": CTF_EXCHANGE_V2, "NegRisk Exchange V2": NEG_RISK_EXCHANGE_V2}


@unique
class Status(StrEnum):
    """Outcome of one check."""

    PASS = "PASS"  # the thing works
    FAIL = "FAIL"  # it does not; `fix` says what to do
    SKIP = "SKIP"  # not checked because something it needs failed


@dataclass(frozen=True)
class CheckResult:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        """Return the report line (and the fix on a second line when it failed)."""
        text = f"[{self.status.value}] {self.name}: {self.detail}"
        return f"{text}\n       fix: {self.fix}" if self.fix else text


def _pass(name: str, detail: str) -> CheckResult:
    return CheckResult(name, Status.PASS, detail)


def _fail(name: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(name, Status.FAIL, detail, fix)


class RpcError(RuntimeError):
    """A JSON-RPC call failed or answered an error."""


async def rpc_call(http: httpx.AsyncClient, url: str, method: str, params: list[object]) -> str:
    """Call one JSON-RPC method and return its (hex string) result."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    try:
        response = await http.post(url, json=body)
        response.raise_for_status()
        answer = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise RpcError(f"{method} failed: {type(exc).__name__}: {exc}") from None
    if "error" in answer or not isinstance(answer.get("result"), str):
        raise RpcError(f"{method} answered {answer.get('error', answer)}")
    result: str = answer["result"]
    return result


async def check_temporal(settings: Settings) -> CheckResult:
    """Check that Temporal answers and has ProjectK's search attributes."""
    name = "temporal"
    where = f"{settings.temporal_address} namespace {settings.temporal_namespace!r}"
    try:
        client = await connect(settings, timeout_s=NETWORK_TIMEOUT_S)
        registered = await registered_search_attributes(client, settings.temporal_namespace)
    except (TemporalUnavailableError, RuntimeError) as exc:
        return _fail(name, f"{where}: {exc}", "start Temporal or fix PROJECTK_TEMPORAL_ADDRESS")
    missing = missing_search_attributes(registered)
    if missing:
        return _fail(
            name,
            f"{where} lacks search attribute(s) {', '.join(missing)}",
            "run `projectk setup` (registers them as Keyword; safe to repeat)",
        )
    return _pass(name, f"{where} reachable, search attributes registered")


def _sqlite_missing(url: str) -> Path | None:
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database or "")
    return None if path.exists() else path


def check_ledger(settings: Settings) -> tuple[CheckResult, list[PairConfig] | None]:
    """Check that the ledger opens and is at the newest revision; return its active pairs."""
    name, url, fix = "ledger", settings.resolved_db_url, "run `projectk setup`"
    try:
        shown = redact(normalize_url(url))
        missing = _sqlite_missing(url)
        if missing is not None:
            return _fail(name, f"no ledger file at {missing}", fix), None
        engine = create_ledger_engine(url)
        try:
            revision, head = current_revision(engine), head_revision()
            pairs = (
                [r.config for r in LedgerReader(engine).list_pairs()] if revision == head else []
            )
        finally:
            engine.dispose()
    except (LedgerError, OSError, SQLAlchemyError) as exc:
        detail = f"cannot open the ledger: {_first_line(exc)}"
        return _fail(name, detail, "check PROJECTK_DB_URL and the database server"), None
    if revision != head:
        return _fail(name, f"{shown} is at {revision or 'empty'}, head is {head}", fix), None
    return _pass(name, f"{shown} at revision {head}, {len(pairs)} pair(s)"), pairs


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_vault(settings: Settings, pairs: list[PairConfig] | None) -> list[CheckResult]:
    """Check that the vault opens with the passphrase and holds each pair's key_ref."""
    vault = Vault(settings.resolved_vault_path)
    try:
        vault.verify_passphrase(settings.passphrase())
        entries = vault.entries()
    except VaultError as exc:
        fix = "set PROJECTK_VAULT_PASSPHRASE to the vault's passphrase (or fix the file as told)"
        return [_fail("vault", str(exc), fix)]
    results = [_pass("vault", f"{vault.path} opens, {len(entries)} key(s)")]
    if pairs is None:
        return [*results, CheckResult("key refs", Status.SKIP, "ledger unavailable")]
    for pair in pairs:
        results.append(_check_key_ref(vault, pair))
    return results


def _check_key_ref(vault: Vault, pair: PairConfig) -> CheckResult:
    name = f"pair {pair.pair_id} key"
    try:
        entry = vault.entry(pair.key_ref)
    except VaultError as exc:
        return _fail(name, str(exc), f"add it: projectk wallet add {pair.key_ref.split('//')[-1]}")
    if entry.address.lower() != pair.follower.lower():
        return _fail(
            name,
            f"{pair.key_ref} is {entry.address}, the pair's follower is {pair.follower}",
            "point the pair at the follower's key (pair remove + add)",
        )
    return _pass(name, f"{pair.key_ref} resolves to {entry.address}")


async def check_rpc(settings: Settings, http: httpx.AsyncClient) -> list[CheckResult]:
    """Check that every RPC URL answers and is on the configured chain (137 for Polygon)."""
    results = []
    for number, url in enumerate(settings.rpc_urls, start=1):
        name = f"rpc #{number}"
        shown = url.split("?")[0]  # provider keys often sit in the query
        try:
            chain = int(await rpc_call(http, url, "eth_chainId", []), 16)
        except (RpcError, ValueError) as exc:
            results.append(_fail(name, f"{shown}: {exc}", "fix PROJECTK_RPC_URLS or the provider"))
            continue
        if chain != settings.polymarket_chain_id:
            detail = f"{shown} is on chain {chain}, expected {settings.polymarket_chain_id}"
            fix = f"use a Polygon (chain {POLYGON_CHAIN_ID}) RPC in PROJECTK_RPC_URLS"
            results.append(_fail(name, detail, fix))
        else:
            results.append(_pass(name, f"{shown} on chain {chain}"))
    return results


async def check_clob(settings: Settings, http: httpx.AsyncClient) -> CheckResult:
    """Check that the CLOB answers `GET /ok`."""
    url = settings.polymarket_host.rstrip("/") + "/ok"
    try:
        response = await http.get(url)
    except httpx.HTTPError as exc:
        return _fail("clob", f"{url}: {type(exc).__name__}", "fix PROJECTK_POLYMARKET_HOST")
    if response.status_code != 200:
        return _fail("clob", f"{url} answered HTTP {response.status_code}", "retry later")
    return _pass("clob", f"{url} answers")


def _word(address: str) -> str:
    return address.lower().removeprefix("0x").rjust(64, "0")


async def _uint(http: httpx.AsyncClient, url: str, data: str) -> int:
    return int(await rpc_call(http, url, "eth_call", [{"to": PUSD, "data": data}, "latest"]), 16)


async def check_follower(
    pair: PairConfig, rpc_url: str, http: httpx.AsyncClient, min_pol: Decimal = Decimal("0.5")
) -> list[CheckResult]:
    """Check a pair's pUSD balance and exchange allowances (funder) and POL for gas (follower)."""
    funder, name = pair.funder_address, f"pair {pair.pair_id}"
    try:
        balance = await _uint(http, rpc_url, _BALANCE_OF + _word(funder))
        allowances = {
            label: await _uint(http, rpc_url, _ALLOWANCE + _word(funder) + _word(exchange))
            for label, exchange in _EXCHANGES.items()
        }
        gas = int(await rpc_call(http, rpc_url, "eth_getBalance", [pair.follower, "latest"]), 16)
    except (RpcError, ValueError) as exc:
        return [_fail(f"{name} wallet", str(exc), "fix the RPC first")]
    results = [_balance_result(name, funder, balance)]
    for label, allowance in allowances.items():
        if allowance < min(pair.budget_micro, max(balance, MIN_PUSD_MICRO)):
            fix = f"approve pUSD for the {label} from {funder} (Polymarket: enable trading)"
            detail = f"allowance {allowance / 1e6:.2f} pUSD to {label}"
            results.append(_fail(f"{name} allowance", detail, fix))
        else:
            results.append(_pass(f"{name} allowance", f"{label} may spend the budget"))
    pol = f"{gas / 1e18:.3f} POL at {pair.follower}"
    if gas < min_pol * WEI_PER_POL:
        fix = f"send at least {min_pol} POL to {pair.follower}"
        results.append(_fail(f"{name} gas", pol, fix))
    else:
        results.append(_pass(f"{name} gas", pol))
    return results


def _balance_result(name: str, funder: str, balance: int) -> CheckResult:
    detail = f"{balance / 1e6:.2f} pUSD at {funder}"
    if balance < MIN_PUSD_MICRO:
        return _fail(f"{name} balance", detail, f"deposit pUSD to {funder}")
    return _pass(f"{name} balance", detail)


def settings_failure(error: SettingsError) -> CheckResult:
    """Return the settings check's failure line for an invalid environment."""
    fix = "correct the variable(s) named above (each is described in .env.example)"
    return _fail("settings", str(error).replace("\n", " "), fix)


async def run_doctor(settings: Settings) -> list[CheckResult]:
    """Run every check against `settings` and return the results in report order."""
    results = [_pass("settings", f"valid (executor {settings.executor_mode.value})")]
    results.append(await check_temporal(settings))
    ledger, pairs = check_ledger(settings)
    results.append(ledger)
    results += check_vault(settings, pairs)
    async with httpx.AsyncClient(timeout=NETWORK_TIMEOUT_S, trust_env=False) as http:
        rpc = await check_rpc(settings, http)
        results += rpc
        results.append(await check_clob(settings, http))
        working = [settings.rpc_urls[i] for i, r in enumerate(rpc) if r.status is Status.PASS]
        for pair in pairs or []:
            if working:
                results += await check_follower(pair, working[0], http, settings.claim_min_pol)
            else:
                results.append(CheckResult(f"pair {pair.pair_id} wallet", Status.SKIP, "no RPC"))
    return results
