"""Start anvil and place the sandbox contracts at Polygon's production addresses.

Invariants: anvil binds to 127.0.0.1 only and runs chain id 137; pUSD, ConditionalTokens, the
settlement contract (at both CTF Exchange V2 addresses) and the Protocol V2 contracts
(PositionManager, BinaryModule, Router, ExchangeV3) live at the same addresses as on Polygon (as
the SDK's production environment config lists them), so application configuration is identical;
only the operator account can settle; every fee goes to ``FEE_RECEIVER``, capped on chain at
``MAX_FEE_RATE_BPS`` of a fill's cash value.
"""

from __future__ import annotations

import logging
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from sandbox import accounts
from sandbox.node import anvil_binary, load_artifact, load_ctf_artifact
from sandbox.rpc import Rpc

CHAIN_ID = 137
PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"
CONDITIONAL_TOKENS = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
CTF_EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
EXCHANGES = (CTF_EXCHANGE_V2, NEG_RISK_EXCHANGE_V2)
POSITION_MANAGER = "0x006F54F7f9A22e0000CC2AB60031000000ae9fEF"
BINARY_MODULE = "0x1000008dD9001B968442c1000017eaE6E0dA00Ba"
ROUTER = "0x12121212006e4CD160D18e3f00711DA5c3372600"
EXCHANGE_V3 = "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa"
# Polymarket's fee receiver is not public; the sandbox's is a fixed address nobody holds a key to.
FEE_RECEIVER = to_checksum_address(keccak(text="projectk-sandbox:fee-receiver")[-20:])
MAX_FEE_RATE_BPS = 500  # the on-chain cap: 5 % of the cash value of a fill
MAX_UINT = 2**256 - 1
POL_WEI = 10**18
PUSD_UNIT = 10**6

# ERC165 interface ids that ConditionalTokens' constructor registers in its slot-0 mapping; the code
# is placed without running the constructor, so the sandbox writes those storage slots itself.
_CTF_INTERFACES = (bytes.fromhex("01ffc9a7"), bytes.fromhex("d9b67a26"))

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Contracts:
    """Addresses of the sandbox contracts (the production ones)."""

    pusd: str = PUSD
    conditional_tokens: str = CONDITIONAL_TOKENS
    ctf_exchange_v2: str = CTF_EXCHANGE_V2
    neg_risk_exchange_v2: str = NEG_RISK_EXCHANGE_V2
    position_manager: str = POSITION_MANAGER
    binary_module: str = BINARY_MODULE
    protocol_v2_router: str = ROUTER
    exchange_v3: str = EXCHANGE_V3
    fee_receiver: str = FEE_RECEIVER

    def as_dict(self) -> dict[str, str]:
        """Return the addresses keyed by name."""
        return asdict(self)


class AnvilProcess:
    """One anvil child process on a loopback port."""

    def __init__(
        self,
        port: int,
        block_time_s: float = 0.0,
        log_path: Path | None = None,
        detached: bool = False,
    ) -> None:
        self.port = port
        self.block_time_s = block_time_s
        self.log_path = log_path
        self.detached = detached
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the RPC URL."""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """Return the anvil command line."""
        cmd = [
            str(anvil_binary()),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(CHAIN_ID),
            "--mnemonic",
            accounts.TEST_MNEMONIC,
            "--accounts",
            str(accounts.ACCOUNT_COUNT),
            "--balance",
            "10000",
            "--base-fee",
            "0",
            "--no-request-size-limit",
        ]
        if self.block_time_s > 0:
            cmd += ["--block-time", str(self.block_time_s)]
        return cmd

    def start(self, timeout_s: float = 15.0) -> None:
        """Start anvil and wait until it answers eth_chainId."""
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.command(),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=self.detached,
        )
        wait_for_rpc(self.url, timeout_s, self.proc)

    def stop(self) -> None:
        """Terminate anvil and wait for it."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def wait_for_rpc(url: str, timeout_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Poll ``eth_chainId`` until the node answers or the timeout passes."""
    deadline = time.monotonic() + timeout_s
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"anvil exited with code {proc.returncode}")
        try:
            if httpx.post(url, json=body, timeout=1.0, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"no RPC at {url} after {timeout_s}s")


async def deploy(rpc: Rpc) -> Contracts:
    """Place and initialise every contract at its production address."""
    contracts = Contracts()
    await rpc.set_code(PUSD, load_artifact("SandboxPUSD")["deployedBytecode"])
    await rpc.set_code(CONDITIONAL_TOKENS, load_ctf_artifact()["deployedBytecode"])
    for iface in _CTF_INTERFACES:
        slot = keccak(encode(["bytes4", "uint256"], [iface, 0]))
        await rpc.set_storage(CONDITIONAL_TOKENS, slot, 1)
    exchange_code = load_artifact("SandboxExchange")["deployedBytecode"]
    op = accounts.operator().address
    for exchange in EXCHANGES:
        await rpc.set_code(exchange, exchange_code)
        await rpc.transact(
            op,
            exchange,
            "initialize(address,address,address,address,uint256)",
            op,
            PUSD,
            CONDITIONAL_TOKENS,
            FEE_RECEIVER,
            MAX_FEE_RATE_BPS,
        )
    await deploy_protocol_v2(rpc, op)
    return contracts


async def deploy_protocol_v2(rpc: Rpc, op: str) -> None:
    """Place PositionManager, the binary module, the Router and ExchangeV3 and wire them."""
    for address, name in (
        (POSITION_MANAGER, "SandboxPositionManager"),
        (BINARY_MODULE, "SandboxBinaryModule"),
        (ROUTER, "SandboxRouter"),
        (EXCHANGE_V3, "SandboxExchangeV3"),
    ):
        await rpc.set_code(address, load_artifact(name)["deployedBytecode"])
    oracle = accounts.oracle().address
    await rpc.transact(op, POSITION_MANAGER, "initialize(address,address)", PUSD, op)
    await rpc.transact(
        op, BINARY_MODULE, "initialize(address,address,address)", POSITION_MANAGER, PUSD, oracle
    )
    await rpc.transact(op, POSITION_MANAGER, "addModule(address)", BINARY_MODULE)
    await rpc.transact(op, ROUTER, "initialize(address,address)", POSITION_MANAGER, PUSD)
    await rpc.transact(
        op,
        EXCHANGE_V3,
        "initialize(address,address,address,uint256,address)",
        POSITION_MANAGER,
        PUSD,
        FEE_RECEIVER,
        MAX_FEE_RATE_BPS,
        op,
    )


async def fund(rpc: Rpc, address: str, pusd_micro: int = 0, pol_wei: int | None = None) -> None:
    """Mint pUSD from the faucet and/or set the POL balance of ``address``."""
    if pusd_micro > 0:
        await rpc.transact(
            accounts.operator().address, PUSD, "faucet(address,uint256)", address, pusd_micro
        )
    if pol_wei is not None:
        await rpc.set_balance(address, pol_wei)


async def approve_exchanges(rpc: Rpc, owner: str) -> None:
    """Approve the exchanges and the Router for pUSD and positions, as Polymarket onboarding does.

    Uses eth_sendTransaction, so ``owner`` must be an account anvil unlocked (the test accounts)
    or one impersonated with anvil_impersonateAccount.
    """
    for exchange in EXCHANGES:
        await rpc.transact(owner, PUSD, "approve(address,uint256)", exchange, MAX_UINT)
        await rpc.transact(
            owner, CONDITIONAL_TOKENS, "setApprovalForAll(address,bool)", exchange, True
        )
    await rpc.transact(owner, PUSD, "approve(address,uint256)", CONDITIONAL_TOKENS, MAX_UINT)
    for spender in (EXCHANGE_V3, ROUTER):
        await rpc.transact(owner, PUSD, "approve(address,uint256)", spender, MAX_UINT)
        await rpc.transact(
            owner, POSITION_MANAGER, "setApprovalForAll(address,bool)", spender, True
        )


async def approve_as(rpc: Rpc, owner: str) -> None:
    """Approve the exchanges on behalf of any address (anvil impersonation); gives it gas first."""
    if await rpc.get_balance(owner) < POL_WEI:
        await rpc.set_balance(owner, POL_WEI)
    await rpc.request("anvil_impersonateAccount", [owner])
    try:
        await approve_exchanges(rpc, owner)
    finally:
        await rpc.request("anvil_stopImpersonatingAccount", [owner])


async def pusd_balance(rpc: Rpc, owner: str, block: str = "latest") -> int:
    """Return the pUSD balance in micro-units."""
    (bal,) = await rpc.call(PUSD, "balanceOf(address)", (owner,), ["uint256"], block)
    return int(bal)


def ledger_of(token_id: int) -> str:
    """Return the ERC-1155 contract holding an outcome id: PositionManager for v2 position ids."""
    return POSITION_MANAGER if is_position_id(token_id) else CONDITIONAL_TOKENS


def is_position_id(token_id: int) -> bool:
    """Tell a Protocol V2 position id (bits 40-103 reserved zero) from a CTF token id."""
    return token_id >> 40 & (2**64 - 1) == 0


async def token_balance(rpc: Rpc, owner: str, token_id: int, block: str = "latest") -> int:
    """Return the outcome-token (CTF) or position (PositionManager) balance in micro-shares."""
    (bal,) = await rpc.call(
        ledger_of(token_id), "balanceOf(address,uint256)", (owner, token_id), ["uint256"], block
    )
    return int(bal)
