"""Recognise chat text that looks like a private key or a mnemonic, so the bot can refuse it.

Invariants:
- Pure functions of the text; no secret is stored, logged or echoed by this module.
- Erring on the side of refusal: any 64-hex-digit token (with or without 0x), an extended
  private key, or a run of 12 or more BIP-39 English words counts as a secret. No ProjectK
  conversation asks for such a value (addresses have 40 hex digits).
"""

from __future__ import annotations

import re
from functools import cache

from eth_account.hdaccount.mnemonic import Mnemonic
from eth_account.types import Language

MNEMONIC_MIN_WORDS = 12
_HEX_KEY = re.compile(r"(?<![0-9a-fA-F])(?:0[xX])?[0-9a-fA-F]{64}(?![0-9a-fA-F])")
_EXTENDED_KEY = re.compile(r"\b[xtyz]prv[1-9A-HJ-NP-Za-km-z]{100,}\b")
_WORD = re.compile(r"[A-Za-z]+")
_NUMBERING = re.compile(r"\d{1,2}[.):]?")  # "1." or "2)" in a numbered list of words

SECRET_WARNING = (
    "⛔ That looks like a private key or a recovery phrase. Never send one to this chat: "
    "ProjectK does not accept keys here. The message was deleted if Telegram allowed it; "
    "consider that key exposed and move its funds. Keys go into the vault on the server "
    "(`projectk wallet add NAME`); see /howto."
)


@cache
def _wordlist() -> frozenset[str]:
    return frozenset(Mnemonic(Language.ENGLISH).wordlist)


def looks_secret(text: str) -> bool:
    """Tell whether a chat message looks like a private key or a mnemonic."""
    if _HEX_KEY.search(text) or _EXTENDED_KEY.search(text):
        return True
    words = _wordlist()
    run = 0
    for token in re.split(r"[\s,;]+", text.strip()):
        word = token.lower()
        if _WORD.fullmatch(word) and word in words:
            run += 1
            if run >= MNEMONIC_MIN_WORDS:
                return True
        elif not _NUMBERING.fullmatch(word):
            run = 0
    return False
