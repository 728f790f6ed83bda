"""The house rules of DESIGN.md's Layout, checked on every run.

- Imports point one way (import-linter contracts in pyproject.toml, run here).
- The kernel imports nothing but the standard library, pydantic and pydantic-settings.
- Outside `adapters/`, only the front-ends' own libraries (python-telegram-bot in `bot/`,
  Streamlit in `dashboard/`) talk to the network or a database; the sandbox is its own world.
- An adapter package's `__init__` is its API: code outside the package imports from there (an
  inner module only when the package lists it in `__all__`).
- The checks above are themselves checked on made-up modules, so a check that stopped flagging
  anything would fail here rather than pass quietly.
- Patch ids live in `workflows/patches.py` only; comments carry no issue numbers.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
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


def _sources(*rooms: str) -> Iterator[Path]:
    for room in rooms:
        yield from (p for p in (ROOT / room).rglob("*.py") if "migrations" not in p.parts)


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _imports(tree: ast.AST) -> Iterator[tuple[str, int]]:
    # Every absolute import anywhere in the module, lazy ones inside functions included.
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno


def _relative(path: Path) -> Path:
    # Real sources come as absolute paths, made-up ones as paths inside the repository.
    return path.relative_to(ROOT) if path.is_absolute() else path


def _where(path: Path, line: int) -> str:
    return f"{_relative(path)}:{line}"


def _io_imports(path: Path, tree: ast.AST) -> list[str]:
    """Return the imports of network or database client libraries in one module."""
    return [
        f"{_where(path, line)} {module}"
        for module, line in _imports(tree)
        if module.split(".")[0] in IO_LIBRARIES
    ]


def _api_names(package: str) -> set[str]:
    """Return the names a package's `__init__` lists in `__all__` (its API)."""
    init = ROOT.joinpath(*package.split("."), "__init__.py")
    for node in _parse(init).body if init.is_file() else []:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return set()


def _is_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _inner_imports(path: Path, tree: ast.AST) -> list[str]:
    """Return the imports of one module that reach inside another adapter package: a dotted
    path below `adapters.<system>`, or one of its inner modules by name (`from adapters.x import
    inner`) unless the package's `__all__` offers that module as part of its API."""
    inside = _relative(path).parts[:2]
    wrong = []
    for module, line in _imports(tree):
        parts = tuple(module.split("."))
        if parts[0] == "adapters" and len(parts) >= 3 and parts[:2] != inside:
            wrong.append(f"{_where(path, line)} {module}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        parts = tuple(node.module.split("."))
        if parts[0] != "adapters" or len(parts) != 2 or parts == inside:
            continue
        for alias in node.names:
            inner = f"{node.module}.{alias.name}"
            if _is_module(inner) and alias.name not in _api_names(node.module):
                wrong.append(f"{_where(path, node.lineno)} {inner}")
    return wrong


def test_imports_point_one_way() -> None:
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert linter is not None, "import-linter is a dev dependency (uv sync)"
    run = subprocess.run([linter], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-4000:]


def test_the_kernel_imports_only_the_standard_library_and_pydantic() -> None:
    wrong = [
        f"{_where(path, line)} {module}"
        for path in _sources("projectk")
        for module, line in _imports(_parse(path))
        if (top := module.split(".")[0]) not in sys.stdlib_module_names
        and top not in KERNEL_ALLOWED
    ]
    assert wrong == []


@pytest.mark.parametrize("room", [r for r in (*ROOMS, *FRONT_ENDS) if r != "adapters"])
def test_only_adapters_talk_to_the_network_or_a_database(room: str) -> None:
    assert [wrong for path in _sources(room) for wrong in _io_imports(path, _parse(path))] == []


def test_adapter_packages_are_used_through_their_api() -> None:
    wrong = [
        found
        for path in _sources(*ROOMS, *FRONT_ENDS)
        for found in _inner_imports(path, _parse(path))
    ]
    assert wrong == []


# The checkers themselves, on made-up modules: each must flag a real violation, in any form an
# import can take, and must let the allowed forms through.
BREAKING = [
    ("cli/x.py", "import sqlalchemy.exc", _io_imports),
    ("dashboard/x.py", "from web3 import Web3", _io_imports),
    ("cli/x.py", "def lazy() -> None:\n    import sqlite3", _io_imports),
    ("bot/x.py", "from adapters.ledger.records import OrderRecord", _inner_imports),
    ("cli/x.py", "import adapters.chain.detection.stats", _inner_imports),
    ("cli/x.py", "from adapters.ledger import dump", _inner_imports),
    ("dashboard/x.py", "if True:\n    from adapters.temporal import search", _inner_imports),
    ("adapters/vault/x.py", "from adapters.ledger.engine import redact", _inner_imports),
]
ALLOWED = [
    ("cli/x.py", "from sandbox.rpc import block_number", _io_imports),
    ("cli/x.py", "from adapters.chain import contracts, parse_log", _inner_imports),
    ("cli/x.py", "from adapters.endpoints import resolve_endpoints", _inner_imports),
    ("adapters/ledger/x.py", "from adapters.ledger.records import OrderRecord", _inner_imports),
]
Checker = Callable[[Path, ast.AST], list[str]]


@pytest.mark.parametrize(("path", "code", "check"), BREAKING)
def test_the_checks_flag_a_breaking_import(path: str, code: str, check: Checker) -> None:
    assert len(check(Path(path), ast.parse(code))) == 1


@pytest.mark.parametrize(("path", "code", "check"), ALLOWED)
def test_the_checks_let_an_allowed_import_through(path: str, code: str, check: Checker) -> None:
    assert check(Path(path), ast.parse(code)) == []


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
