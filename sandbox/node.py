"""Locate the pinned npm tools (anvil, solc, the ConditionalTokens artifact); install on demand.

Invariant: every tool comes from ``sandbox/node_modules`` as pinned by ``package-lock.json``;
nothing is taken from the PATH, so every machine runs the same anvil and the same contract bytecode.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path
from typing import Any

SANDBOX_DIR = Path(__file__).resolve().parent
NODE_MODULES = SANDBOX_DIR / "node_modules"
ARTIFACTS_DIR = SANDBOX_DIR / "artifacts"
CTF_ARTIFACT = (
    NODE_MODULES
    / "@gnosis.pm"
    / "conditional-tokens-contracts"
    / "build"
    / "contracts"
    / "ConditionalTokens.json"
)

log = logging.getLogger(__name__)


class NodeToolsError(RuntimeError):
    """The npm tools are missing and could not be installed."""


def _installed(modules: Path = NODE_MODULES) -> bool:
    ctf = modules / CTF_ARTIFACT.relative_to(NODE_MODULES)
    return (
        ctf.exists()
        and (modules / "solc" / "package.json").exists()
        and any(modules.glob("@foundry-rs/anvil-*/bin/anvil*"))
    )


def _npm(npm: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [npm, *args, "--no-audit", "--no-fund"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def ensure_node_modules(sandbox_dir: Path = SANDBOX_DIR) -> Path:
    """Install the pinned npm tools in ``sandbox_dir`` when missing; return its node_modules.

    ``npm ci`` is tried first. It refuses a lock file that lacks the other platforms' anvil
    binaries (registries that serve only this platform's package produce such a lock), so the
    fallback is ``npm install --no-save``, which installs the same locked versions and leaves
    package-lock.json untouched.
    """
    modules = sandbox_dir / "node_modules"
    if _installed(modules):
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise NodeToolsError("npm is not installed; install Node.js 20+ to use the sandbox")
    log.info("installing sandbox npm tools in %s", sandbox_dir)
    proc = _npm(npm, ["ci"], sandbox_dir)
    if proc.returncode != 0:
        proc = _npm(npm, ["install", "--no-save"], sandbox_dir)
    if proc.returncode != 0 or not _installed(modules):
        raise NodeToolsError(f"npm could not install the sandbox tools: {proc.stderr[-2000:]}")
    return modules


def anvil_binary() -> Path:
    """Return the platform anvil binary shipped by @foundry-rs/anvil."""
    ensure_node_modules()
    for candidate in sorted(NODE_MODULES.glob("@foundry-rs/anvil-*/bin/anvil*")):
        if candidate.is_file():
            return candidate
    raise NodeToolsError("no anvil binary for this platform in node_modules/@foundry-rs")


def load_artifact(name: str) -> dict[str, Any]:
    """Load a committed artifact of our contracts (``abi``, ``bytecode``, ``deployedBytecode``)."""
    data: dict[str, Any] = json.loads((ARTIFACTS_DIR / f"{name}.json").read_text())
    return data


def load_ctf_artifact() -> dict[str, Any]:
    """Load the real ConditionalTokens build artifact from npm."""
    ensure_node_modules()
    data: dict[str, Any] = json.loads(CTF_ARTIFACT.read_text())
    return data
