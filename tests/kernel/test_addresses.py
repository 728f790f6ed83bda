"""The kernel's own Keccak-256 and EIP-55 checksums agree with the Ethereum libraries."""

from __future__ import annotations

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from projectk.addresses import has_valid_checksum, is_address, keccak256, to_checksum
from projectk.models import PairConfig


@given(st.binary(max_size=600))
def test_keccak256_is_ethereums_keccak(data: bytes) -> None:
    assert keccak256(data) == keccak(data)


def test_known_digest() -> None:
    empty = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"").hex() == empty


@given(st.binary(min_size=20, max_size=20))
def test_checksums_match_eip55(raw: bytes) -> None:
    lower = "0x" + raw.hex()
    assert to_checksum(lower) == to_checksum_address(lower)
    assert is_address(lower) and has_valid_checksum(to_checksum(lower))


def test_a_wrong_checksum_is_told_apart_from_a_wrong_form() -> None:
    good = to_checksum("0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc")
    broken = good[:-1] + (good[-1].lower() if good[-1].isupper() else good[-1].upper())
    assert is_address(broken) and not has_valid_checksum(broken)
    assert not is_address("0x123") and not is_address("3c44cdddb6a900fa2b585dd299e03d12fa4293bc")
    base = {"pair_id": "p", "key_ref": "vault://k", "budget_micro": 1}
    follower = "0x" + "11" * 20
    with pytest.raises(ValidationError, match="checksum does not match"):
        PairConfig(source=broken, follower=follower, **base)
    with pytest.raises(ValidationError, match="not an Ethereum address"):
        PairConfig(source="0x12", follower=follower, **base)
