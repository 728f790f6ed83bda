"""`projectk doctor`: check that everything a server run needs is in place, one line per check.

Invariants:
- Doctor only reads: it changes no setting, table, vault, workflow or chain state.
- Every check ends in a `projectk.health.Check`: ok, failed (with the fix to apply) or not
  checked (a check it depends on failed), printed as `[PASS]`, `[FAIL]` or `[SKIP]` lines. One
  check's exception never stops the others.
- Results name wallets and addresses, never a secret (the vault passphrase opens only the check
  value, never a key).
- Network calls have short timeouts, so doctor answers within seconds even when a service hangs.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from adapters.chain import RpcError, RpcPool, RpcUnavailable, contracts, probe_rpc
from adapters.endpoints import resolve_endpoints
from adapters.ledger import (
    LedgerDatabaseError,
    LedgerError,
    LedgerReader,
    create_ledger_engine,
    current_revision,
    head_revision,
    normalize_url,
    redact,
)
from adapters.polymarket import VenueConfigError, clob_host, probe_clob
from adapters.temporal import (
    TemporalUnavailableError,
    connect,
    missing_search_attributes,
    registered_search_attributes,
)
from adapters.vault import Vault, VaultError
from projectk.health import Check, Health
from projectk.models import PairConfig
from projectk.settings import Settings, SettingsError

POLYGON_CHAIN_ID = 137
WEI_PER_POL = 10**18
MIN_PUSD_MICRO = 1_000_000  # $1: the smallest marketable BUY
NETWORK_TIMEOUT_S = 5.0
_BALANCE_OF = "0x70a08231"  # balanceOf(address)
_ALLOWANCE = "0xdd62ed3e"  # allowance(address,address)
_EXCHANGES = {
    "CTF Exchange V2": contracts.CTF_EXCHANGE_V2,
    "NegRisk Exchange V2": contracts.NEG_RISK_EXCHANGE_V2,
}
PUSD = contracts.PUSD


LABELS = {
    Health.OK: "PASS",
    Health.WARNING: "WARN",
    Health.FAILED: "FAIL",
    Health.NOT_CHECKED: "SKIP",
}


def line(check: Check) -> str:
    """Return a check's report line (and its fix on a second line when it has one)."""
    text = f"[{LABELS[check.health]}] {check.name}: {check.detail}"
    return f"{text}\n       fix: {check.fix}" if check.fix else text


def _pass(name: str, detail: str) -> Check:
    return Check(name, Health.OK, detail)


def _fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, Health.FAILED, detail, fix)


async def check_temporal(settings: Settings) -> Check:
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


def check_ledger(settings: Settings) -> tuple[Check, list[PairConfig] | None]:
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
    except (LedgerError, OSError, LedgerDatabaseError) as exc:
        detail = f"cannot open the ledger: {_first_line(exc)}"
        return _fail(name, detail, "check PROJECTK_DB_URL and the database server"), None
    if revision != head:
        return _fail(name, f"{shown} is at {revision or 'empty'}, head is {head}", fix), None
    return _pass(name, f"{shown} at revision {head}, {len(pairs)} pair(s)"), pairs


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_vault(settings: Settings, pairs: list[PairConfig] | None) -> list[Check]:
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
        return [*results, Check("key refs", Health.NOT_CHECKED, "ledger unavailable")]
    for pair in pairs:
        results.append(_check_key_ref(vault, pair))
    return results


def _check_key_ref(vault: Vault, pair: PairConfig) -> Check:
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


async def check_rpc(settings: Settings) -> list[Check]:
    """Check that every RPC URL answers and is on the configured chain (137 for Polygon)."""
    results = []
    for number, url in enumerate(settings.rpc_urls, start=1):
        name = f"rpc #{number}"
        probe = await asyncio.to_thread(probe_rpc, url, NETWORK_TIMEOUT_S)
        if not probe.ok:
            detail = f"{probe.endpoint}: {probe.error or 'no answer'}"
            results.append(_fail(name, detail, "fix PROJECTK_RPC_URLS or the provider"))
        elif probe.chain_id != settings.polymarket_chain_id:
            detail = f"{probe.endpoint} is on chain {probe.chain_id}, expected "
            detail += str(settings.polymarket_chain_id)
            fix = f"use a Polygon (chain {POLYGON_CHAIN_ID}) RPC in PROJECTK_RPC_URLS"
            results.append(_fail(name, detail, fix))
        else:
            results.append(_pass(name, f"{probe.endpoint} on chain {probe.chain_id}"))
    return results


async def check_clob(settings: Settings) -> Check:
    """Check that the CLOB orders go to (live or the sandbox) answers `GET /ok`."""
    try:
        url = clob_host(settings)
    except VenueConfigError as exc:
        return _fail("clob", str(exc), "start the sandbox: projectk sandbox up")
    problem = await asyncio.to_thread(probe_clob, url, NETWORK_TIMEOUT_S)
    if problem is not None:
        fix = "fix PROJECTK_POLYMARKET_HOST, or retry later"
        return _fail("clob", f"{url}/ok: {problem}", fix)
    return _pass("clob", f"{url} answers")


def _word(address: str) -> str:
    return address.lower().removeprefix("0x").rjust(64, "0")


async def _uint(rpc: RpcPool, data: str) -> int:
    return int(await rpc.call("eth_call", [{"to": PUSD, "data": data}, "latest"]), 16)


async def check_follower(
    pair: PairConfig, rpc: RpcPool, min_pol: Decimal = Decimal("0.5")
) -> list[Check]:
    """Check a pair's pUSD balance and exchange allowances (funder) and POL for gas (follower)."""
    funder, name = pair.funder_address, f"pair {pair.pair_id}"
    try:
        balance = await _uint(rpc, _BALANCE_OF + _word(funder))
        allowances = {
            label: await _uint(rpc, _ALLOWANCE + _word(funder) + _word(exchange))
            for label, exchange in _EXCHANGES.items()
        }
        gas = int(await rpc.call("eth_getBalance", [pair.follower, "latest"]), 16)
    except (RpcError, RpcUnavailable, ValueError, TypeError) as exc:
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


def _balance_result(name: str, funder: str, balance: int) -> Check:
    detail = f"{balance / 1e6:.2f} pUSD at {funder}"
    if balance < MIN_PUSD_MICRO:
        return _fail(f"{name} balance", detail, f"deposit pUSD to {funder}")
    return _pass(f"{name} balance", detail)


def settings_failure(error: SettingsError) -> Check:
    """Return the settings check's failure line for an invalid environment."""
    fix = "correct the variable(s) named above (each is described in .env.example)"
    return _fail("settings", str(error).replace("\n", " "), fix)


async def run_doctor(settings: Settings) -> list[Check]:
    """Run every check against `settings` and return the results in report order."""
    settings = resolve_endpoints(settings)
    results = [_pass("settings", f"valid (executor {settings.executor_mode.value})")]
    results.append(await check_temporal(settings))
    ledger, pairs = check_ledger(settings)
    results.append(ledger)
    results += check_vault(settings, pairs)
    rpc_results = await check_rpc(settings)
    results += rpc_results
    results.append(await check_clob(settings))
    working = [settings.rpc_urls[i] for i, r in enumerate(rpc_results) if r.health is Health.OK]
    if not working:
        for pair in pairs or []:
            results.append(Check(f"pair {pair.pair_id} wallet", Health.NOT_CHECKED, "no RPC"))
        return results
    pool = RpcPool(working, timeout_s=NETWORK_TIMEOUT_S)
    try:
        for pair in pairs or []:
            results += await check_follower(pair, pool, settings.claim_min_pol)
    finally:
        await pool.close()
    return results
