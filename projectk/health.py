"""One health vocabulary for every front-end: `projectk doctor`, the dashboard (System page and
overview banners) and the bot's /status.

Invariants:
- A check's outcome is exactly one `Health`; each front-end only renders it (doctor's `[PASS]`,
  the dashboard's marks and boxes, the bot's icons), so one finding reads alike everywhere.
- `Check` is frozen and pickles (the dashboard's cache holds checks); `fix` says what to do and
  is empty when nothing is to be done or nothing is known to help.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, unique


@unique
class Health(StrEnum):
    """How a check went."""

    OK = "ok"  # checked and fine
    WARNING = "warning"  # works, but something looks wrong: a person should look
    FAILED = "failed"  # does not work: someone must act (the fix says how, when known)
    NOT_CHECKED = "not_checked"  # could not be checked: something it needs is missing or failed


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, how it went, the detail, and the fix when one is known."""

    name: str
    health: Health
    detail: str
    fix: str = ""
