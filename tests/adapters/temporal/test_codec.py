"""The AES-GCM payload codec: round trip, rotation, tampering, and key settings."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from adapters.temporal import data_converter
from adapters.temporal.codec import (
    ENCRYPTED_ENCODING,
    KEY_ID_KEY,
    EncryptionCodec,
    PayloadDecryptError,
    codec_from_settings,
    new_key,
)
from projectk.settings import SettingsError
from tests.settings_env import make_settings

KEY_1, KEY_2 = os.urandom(32), os.urandom(32)


def _payload(text: bytes = b'{"key_ref":"vault://alice"}') -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=text)


async def test_encrypted_payload_hides_data_and_metadata_and_decrypts_back() -> None:
    codec = EncryptionCodec("k1", {"k1": KEY_1})
    original = _payload()
    [sealed] = await codec.encode([original])
    assert sealed.metadata["encoding"] == ENCRYPTED_ENCODING
    assert sealed.metadata[KEY_ID_KEY] == b"k1"
    assert b"alice" not in sealed.SerializeToString()
    assert b"json/plain" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [original]


async def test_same_payload_encrypts_differently_each_time() -> None:
    codec = EncryptionCodec("k1", {"k1": KEY_1})
    first, second = await codec.encode([_payload(), _payload()])
    assert first.data != second.data


async def test_rotation_keeps_old_payloads_readable() -> None:
    old = EncryptionCodec("k1", {"k1": KEY_1})
    [sealed_old] = await old.encode([_payload(b"1")])
    rotated = EncryptionCodec("k2", {"k1": KEY_1, "k2": KEY_2})
    [sealed_new] = await rotated.encode([_payload(b"2")])
    assert sealed_new.metadata[KEY_ID_KEY] == b"k2"
    assert [p.data for p in await rotated.decode([sealed_old, sealed_new])] == [b"1", b"2"]
    with pytest.raises(PayloadDecryptError, match="unknown key id 'k2'"):
        await old.decode([sealed_new])


async def test_tampered_or_relabelled_payload_is_refused() -> None:
    codec = EncryptionCodec("k1", {"k1": KEY_1, "k2": KEY_1})
    [sealed] = await codec.encode([_payload()])
    flipped = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + b"\x00")
    with pytest.raises(PayloadDecryptError, match="does not decrypt"):
        await codec.decode([flipped])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID_KEY: b"k2"}, data=sealed.data)
    with pytest.raises(PayloadDecryptError):
        await codec.decode([relabelled])


async def test_plain_payloads_pass_through_decode() -> None:
    codec = EncryptionCodec("k1", {"k1": KEY_1})
    plain = _payload()
    assert await codec.decode([plain]) == [plain]


async def test_data_converter_round_trips_values_through_the_codec() -> None:
    converter = data_converter(EncryptionCodec("k1", {"k1": KEY_1}))
    payloads = await converter.encode(["vault://alice", 42])
    assert all(p.metadata["encoding"] == ENCRYPTED_ENCODING for p in payloads)
    assert await converter.decode(payloads, [str, int]) == ["vault://alice", 42]


def test_codec_comes_from_settings_with_retired_keys(tmp_path: Path) -> None:
    assert codec_from_settings(make_settings(tmp_path)) is None
    active, retired = new_key(), new_key()
    settings = make_settings(
        tmp_path, payload_key=active, payload_key_id="k2", payload_old_keys=f"k1:{retired}"
    )
    codec = codec_from_settings(settings)
    assert codec is not None and codec.active_key_id == "k2"
    assert active not in repr(codec) and active not in repr(settings)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("payload_key", "not base64!"),
        ("payload_key", base64.b64encode(b"short").decode()),
        ("payload_old_keys", "k1-without-colon"),
        ("payload_key_id", "bad id with spaces"),
    ],
)
def test_bad_key_settings_fail_naming_the_variable(tmp_path: Path, field: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        make_settings(tmp_path, **{field: value})
    assert f"PROJECTK_{field.upper()}" in str(caught.value)
    assert value not in str(caught.value) or field == "payload_key_id"
