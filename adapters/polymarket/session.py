"""Authenticated py-clob-client-v2 clients per follower wallet, and safe calls into them.

Invariants:
- A follower's key leaves the vault only here, into the client's signer, in worker memory. It is
  never logged, returned, or put in an activity result; the API credentials derived from it stay
  in this cache too. One vault open (~0.1 s scrypt) and one key derivation per wallet per process.
- The client is synchronous: every call runs in a thread, heartbeating the activity meanwhile.
- Client failures come back as `ClobCallError` (status None = no answer), with the Retry-After of
  a 429 captured from the client's own HTTP session (its exception does not keep headers).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.exceptions import PolyApiException, PolyException
from py_clob_client_v2.http_helpers import helpers as clob_http
from temporalio import activity

from adapters.polymarket.schemas import error_text
from adapters.vault import Vault
from projectk.messages import Wallet

T = TypeVar("T")
HEARTBEAT_EVERY_S = 2.0


class ClobCallError(Exception):
    """A CLOB call failed; status None means no answer arrived (timeout, network)."""

    def __init__(self, status: int | None, text: str, retry_after: str | None = None) -> None:
        super().__init__(f"CLOB call failed ({status}): {text}")
        self.status = status
        self.text = text
        self.retry_after = retry_after


_seen = threading.local()
_hook_lock = threading.Lock()


def _remember_retry_after(response: httpx.Response) -> None:
    if response.status_code == 429:
        _seen.retry_after = response.headers.get("retry-after")


def install_retry_after_hook() -> None:
    """Let calls see the Retry-After of a 429 (the client's exception drops the headers)."""
    with _hook_lock:
        session: httpx.Client = clob_http._http_client
        hooks = session.event_hooks
        if _remember_retry_after not in hooks.get("response", []):
            hooks.setdefault("response", []).append(_remember_retry_after)
            session.event_hooks = hooks


def _guarded(fn: Callable[[], T]) -> T:
    # Runs in a worker thread: converts the client's exceptions while the thread-local
    # Retry-After of this very request is still at hand.
    _seen.retry_after = None
    try:
        return fn()
    except PolyApiException as exc:
        raise ClobCallError(exc.status_code, error_text(exc.error_msg), _seen.retry_after) from None
    except PolyException as exc:
        raise ClobCallError(None, str(exc.msg)) from None
    except httpx.HTTPError as exc:
        raise ClobCallError(None, type(exc).__name__) from None


def beat() -> None:
    """Heartbeat when running as an activity (venues are also driven directly by tests)."""
    if activity.in_activity():
        activity.heartbeat()


async def call(fn: Callable[[], T]) -> T:
    """Run a blocking client call in a thread, heartbeating the activity while it runs."""
    task = asyncio.ensure_future(asyncio.to_thread(_guarded, fn))
    while True:
        done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY_S)
        if done:
            return task.result()
        beat()


@dataclass(frozen=True)
class ClobEndpoint:
    """Where the CLOB is and which chain its orders are signed for."""

    host: str
    chain_id: int = 137


class ClobSessions:
    """One authenticated client per follower wallet, built on first use and kept."""

    def __init__(self, endpoint: ClobEndpoint, vault: Vault | None, passphrase: str | None) -> None:
        self.endpoint = endpoint
        self._vault = vault
        self._passphrase = passphrase
        self._clients: dict[Wallet, ClobClient] = {}
        self._locks: dict[Wallet, asyncio.Lock] = {}
        self._public: ClobClient | None = None
        install_retry_after_hook()

    def __repr__(self) -> str:
        return f"ClobSessions(host={self.endpoint.host!r}, wallets={len(self._clients)})"

    def public(self) -> ClobClient:
        """Return an unauthenticated client for public reads."""
        if self._public is None:
            self._public = ClobClient(self.endpoint.host, self.endpoint.chain_id)
        return self._public

    async def client(self, wallet: Wallet) -> ClobClient:
        """Return the wallet's authenticated client, opening its key on first use."""
        if wallet in self._clients:
            return self._clients[wallet]
        lock = self._locks.setdefault(wallet, asyncio.Lock())
        async with lock:
            if wallet not in self._clients:
                self._clients[wallet] = await call(lambda: self._open(wallet))
        return self._clients[wallet]

    def _open(self, wallet: Wallet) -> ClobClient:
        if self._vault is None:
            raise PolyException("this worker has no vault; it cannot sign orders")
        account = self._vault.open_account(wallet.key_ref, self._passphrase)
        client = ClobClient(
            self.endpoint.host,
            self.endpoint.chain_id,
            key=account.key.hex(),
            signature_type=int(wallet.signature_type),
            funder=wallet.funder,
        )
        client.set_api_creds(client.create_or_derive_api_key())
        return client

    def forget(self, wallet: Wallet) -> None:
        """Drop a wallet's cached client (after its credentials stopped working)."""
        self._clients.pop(wallet, None)


def signer_address(client: ClobClient) -> str:
    """Return the address of a client's signing key."""
    address: Any = client.get_address()
    return str(address)
