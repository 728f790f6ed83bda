"""The codec server the Temporal UI calls: /encode, /decode, CORS, errors."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload

from adapters.temporal.codec import EncryptionCodec, codec_from_settings, new_key
from adapters.temporal.codec_server import build_app
from sandbox.runtime import free_port
from tests.settings_env import make_settings

UI = "http://127.0.0.1:8080"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """Yield an HTTP client of a codec server open to the UI origin."""
    app = build_app(EncryptionCodec("k1", {"k1": os.urandom(32)}), [UI])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://codec") as http:
        yield http


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_encode_then_decode_gives_back_the_payload(client: httpx.AsyncClient) -> None:
    payload = {"metadata": {"encoding": _b64(b"json/plain")}, "data": _b64(b'"vault://bob"')}
    encoded = await client.post("/encode", json={"payloads": [payload]})
    assert encoded.status_code == 200
    [sealed] = encoded.json()["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
    assert b"bob" not in base64.b64decode(sealed["data"])
    decoded = await client.post(
        "/decode", json={"payloads": [sealed]}, headers={"X-Namespace": "d"}
    )
    assert decoded.status_code == 200
    assert decoded.json() == {"payloads": [payload]}


async def test_cors_preflight_allows_only_the_ui_origin(client: httpx.AsyncClient) -> None:
    headers = {
        "Origin": UI,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }
    allowed = await client.options("/decode", headers=headers)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == UI
    assert "x-namespace" in allowed.headers["access-control-allow-headers"].lower()
    other = await client.options("/decode", headers={**headers, "Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers


async def test_bad_body_is_400_and_foreign_ciphertext_is_422(client: httpx.AsyncClient) -> None:
    assert (await client.post("/decode", content=b"not json")).status_code == 400
    foreign = EncryptionCodec("k1", {"k1": os.urandom(32)})
    sealed = foreign.encrypt(Payload(data=b"x"))
    body = {
        "payloads": [
            {
                "metadata": {k: _b64(v) for k, v in sealed.metadata.items()},
                "data": _b64(sealed.data),
            }
        ]
    }
    answer = await client.post("/decode", json=body)
    assert answer.status_code == 422
    assert "does not decrypt" in answer.text


def _command_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROJECTK_")}
    return {**env, "PROJECTK_DATA_DIR": str(tmp_path), **values}


def test_codec_server_command_serves_the_configured_key(tmp_path: Path) -> None:
    key, port = new_key(), free_port()
    env = _command_env(tmp_path, PROJECTK_PAYLOAD_KEY=key, PROJECTK_CODEC_SERVER_PORT=str(port))
    command = [sys.executable, "-m", "cli", "codec-server"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(trust_env=False, timeout=2) as http:
            deadline = time.monotonic() + 60  # a loaded machine starts Python slowly
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if http.get(f"{base}/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            codec = codec_from_settings(make_settings(tmp_path, payload_key=key))
            assert codec is not None
            sealed = codec.encrypt(Payload(metadata={"encoding": b"json/plain"}, data=b"1"))
            body = {"payloads": [json_format.MessageToDict(sealed)]}
            answer = http.post(f"{base}/decode", json=body)
        assert answer.status_code == 200, answer.text
        assert base64.b64decode(answer.json()["payloads"][0]["data"]) == b"1"
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()
    assert key not in output and f"127.0.0.1:{port}" in output


def test_codec_server_command_refuses_without_a_key(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "cli", "codec-server"]
    done = subprocess.run(command, env=_command_env(tmp_path), capture_output=True, text=True)
    assert done.returncode == 1 and "PROJECTK_PAYLOAD_KEY is not set" in done.stderr
