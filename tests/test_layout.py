"""The house rules of DESIGN.md's Layout, checked on every run.

- Imports point one way (import-linter contracts in pyproject.toml, run here).
- The kernel imports nothing but the standard library, pydantic and pydantic-settings.
- Outside `adapters/`, only the front-ends' own libraries (python-telegram-bot in `bot/`,
  Streamlit in `dashboard/`) talk to the network or a database; the sandbox is its own world.
- An adapter package's `__init__` is its API: code outside the package imports from there.
- Patch ids live in `workflows/patches.py` only; comments carry no issue numbers.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("projectk", "adapters", "activities", "workflows", "workers", "control", "cli")
FRONT_ENDS = ("bot", "dashboard")
KERNEL_ALLOWED = {"pydantic", "pydantic_settings", "projectk"}
# Clients of the network or a database; only adapters (and the sandbox) may import them.
IO_LIBRARIES = {
    "aiohttp",
    "alembic",
    "httpx",
    "polymarket",
    "psycopg",
    "py_clob_client_v2",
    "requests",
    "sqlalchemy",
    "sqlite3",
    "sqlmodel",
    "starlette",
    "uvicorn",
    "web3",
    "websockets",
}
ADAPTER_PACKAGES = sorted(p.name for p in (ROOT / "adapters").iterdir() if p.is_dir())


def _sources(*rooms: str) -> Iterator[Path]:
    for room in rooms:
        yield from (p for p in (ROOT / room).rglob("*.py") if "migrations" not in p.parts)


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_imports_point_one_way() -> None:
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert linter is not None, "import-linter is a dev dependency (uv sync)"
    run = subprocess.run([linter], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-4000:]


def test_the_kernel_imports_only_the_standard_library_and_pydantic() -> None:
    wrong = [
        f"{_where(path, line)} {module}"
        for path in _sources("projectk")
        for module, line in _imports(path)
        if (top := module.split(".")[0]) not in sys.stdlib_module_names
        and top not in KERNEL_ALLOWED
    ]
    assert wrong == []


@pytest.mark.parametrize("room", [*ROOMS[:1], *ROOMS[2:], *FRONT_ENDS])
def test_only_adapters_talk_to_the_network_or_a_database(room: str) -> None:
    wrong = [
        f"{_where(path, line)} {module}"
        for path in _sources(room)
        for module, line in _imports(path)
        if module.split(".")[0] in IO_LIBRARIES
    ]
    assert wrong == []


def test_adapter_packages_are_used_through_their_api() -> None:
    wrong = []
    for room in (*ROOMS, *FRONT_ENDS):
        for path in _sources(room):
            inside = path.relative_to(ROOT).parts[:2]
            for module, line in _imports(path):
                parts = module.split(".")
                if parts[0] != "adapters" or len(parts) < 3:
                    continue
                if tuple(parts[:2]) != inside:
                    wrong.append(f"{_where(path, line)} {module}")
    assert wrong == []


def test_patch_ids_live_in_one_module_and_comments_name_no_issue() -> None:
    patched = [
        str(path.relative_to(ROOT))
        for path in _sources("workflows")
        if "workflow.patched" in path.read_text() and path.name != "patches.py"
    ]
    assert patched == []
    issue = re.compile(r"\(issue \d+\)")
    tagged = [
        str(path.relative_to(ROOT))
        for path in [*_sources(*ROOMS, *FRONT_ENDS, "sandbox"), *(ROOT / "tests").rglob("*.py")]
        if issue.search(path.read_text())
    ]
    assert tagged == []
