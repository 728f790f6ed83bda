"""Compile sandbox/contracts/*.sol with the pinned npm solc into sandbox/artifacts/*.json.

Run: ``python -m sandbox.build`` (or ``npm run build`` in sandbox/). The output is deterministic:
same sources and same solc give byte-identical artifacts, which are committed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sandbox.node import ARTIFACTS_DIR, SANDBOX_DIR, ensure_node_modules

CONTRACTS_DIR = SANDBOX_DIR / "contracts"

# The solc npm package is driven through its standard-JSON interface from a tiny node script.
_NODE_COMPILE = (
    "const solc=require('solc');let s='';process.stdin.on('data',d=>s+=d);"
    "process.stdin.on('end',()=>{process.stdout.write(solc.compile(s));});"
)


def _standard_input(sources: dict[str, str]) -> dict[str, Any]:
    return {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": 200},
            "evmVersion": "cancun",
            "outputSelection": {
                "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
            },
        },
    }


def compile_contracts() -> dict[str, dict[str, Any]]:
    """Compile every contract source and return artifacts keyed by contract name."""
    ensure_node_modules()
    sources = {p.name: p.read_text() for p in sorted(CONTRACTS_DIR.glob("*.sol"))}
    proc = subprocess.run(
        ["node", "-e", _NODE_COMPILE],
        input=json.dumps(_standard_input(sources)),
        cwd=SANDBOX_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    output = json.loads(proc.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise RuntimeError("\n".join(e["formattedMessage"] for e in errors))
    version = json.loads((SANDBOX_DIR / "node_modules" / "solc" / "package.json").read_text())
    artifacts: dict[str, dict[str, Any]] = {}
    for file_name, contracts in output["contracts"].items():
        for name, out in contracts.items():
            if not out["evm"]["deployedBytecode"]["object"]:
                continue  # interfaces
            artifacts[name] = {
                "contractName": name,
                "sourceName": f"contracts/{file_name}",
                "compiler": f"solc-js {version['version']}",
                "abi": out["abi"],
                "bytecode": "0x" + out["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
            }
    return artifacts


def write_artifacts(out_dir: Path = ARTIFACTS_DIR) -> list[Path]:
    """Compile and write one JSON file per contract; return the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, artifact in sorted(compile_contracts().items()):
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(artifact, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_artifacts():
        sys.stdout.write(f"wrote {written_path}\n")
