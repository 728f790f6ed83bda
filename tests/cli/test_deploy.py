"""The deployment files: docker-compose.yml, Dockerfile, .env.example and the systemd units.

These are checked as text and data, with no Docker daemon: services, pinned images, health
checks, restart policies, loopback-only ports, volumes, no secret in the compose file, and an
.env.example that lists every setting.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from projectk.settings import Settings, env_name

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "postgresql",
    "temporal",
    "temporal-ui",
    "setup",
    "worker",
    "bot",
    "dashboard",
    "codec-server",
}
APP_SERVICES = {"setup", "worker", "bot", "dashboard", "codec-server"}
SECRET_NAME = re.compile(r"PASSWORD|PASSPHRASE|TOKEN|SECRET|PWD|_KEY$|_KEYS$")
INTERPOLATION = re.compile(r"^\$\{[A-Z0-9_]+(:\?[^}]*)?\}$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """Return docker-compose.yml parsed (anchors and merge keys resolved)."""
    yaml = pytest.importorskip("yaml", reason="PyYAML parses the compose file (dev dependency)")
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def test_the_expected_services_exist(compose: dict[str, Any]) -> None:
    assert set(_services(compose)) == SERVICES


def test_images_are_pinned_and_the_app_is_built_from_the_dockerfile(
    compose: dict[str, Any],
) -> None:
    for name, service in _services(compose).items():
        image = service["image"]
        if name in APP_SERVICES:
            assert image == "projectk:local" and service["build"]["context"] == ".", name
            continue
        _, _, tag = image.partition(":")
        assert "@sha256:" in image or re.fullmatch(r"\d+\.\d+(\.\d+)?(-[a-z0-9]+)?", tag), image
        assert tag != "latest", image


def test_every_long_running_service_has_a_health_check_and_restarts(
    compose: dict[str, Any],
) -> None:
    for name, service in _services(compose).items():
        assert service.get("restart") in ("unless-stopped", "always", "on-failure"), name
        if name == "setup":  # one-shot, exits 0
            continue
        test = service["healthcheck"]["test"]
        assert test and test[0] in ("CMD", "CMD-SHELL"), name


def test_published_ports_are_bound_to_localhost(compose: dict[str, Any]) -> None:
    published = [p for s in _services(compose).values() for p in s.get("ports", [])]
    assert published
    assert all(str(port).startswith("127.0.0.1:") for port in published), published
    ports = {str(p).split(":")[1] for p in published}
    assert {"7233", "8080", "8501", "8888"} <= ports  # Temporal, UI, dashboard, codec server


def test_database_and_vault_live_in_volumes(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert "postgres-data:/var/lib/postgresql/data" in services["postgresql"]["volumes"]
    for name in APP_SERVICES:
        assert "projectk-data:/var/lib/projectk" in services[name]["volumes"], name
        assert services[name]["environment"]["PROJECTK_DATA_DIR"] == "/var/lib/projectk"
    assert set(compose["volumes"]) == {"postgres-data", "projectk-data"}


def test_no_secret_is_written_in_the_compose_file(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) and not key.endswith("_KEY_ID"):
                assert INTERPOLATION.match(str(value)), f"{name}.{key} holds a literal secret"
        db_url = (service.get("environment") or {}).get("PROJECTK_DB_URL")
        if db_url:
            password = db_url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
            assert INTERPOLATION.match(password), f"{name}: the DB URL holds a literal password"
        if name in APP_SERVICES:
            assert service["env_file"] == ".env"
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"0x[0-9a-fA-F]{64}", text)
    assert not re.search(r"[A-Za-z0-9+/]{43}=", text)  # a base64 32-byte key


def test_the_temporal_ui_uses_the_codec_server(compose: dict[str, Any]) -> None:
    services = _services(compose)
    endpoint = services["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"]
    assert endpoint == "http://127.0.0.1:8888"
    codec = services["codec-server"]
    assert codec["command"] == ["codec-server"] and "127.0.0.1:8888:8888" in codec["ports"]
    origins = codec["environment"]["PROJECTK_CODEC_CORS_ORIGINS"]
    assert services["temporal-ui"]["environment"]["TEMPORAL_CORS_ORIGINS"] in origins
    assert services["temporal"]["environment"]["DB"] == "postgres12"


def _env_example_names() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    found = {}
    for line in lines:
        match = re.match(r"^#?\s*(PROJECTK_[A-Z0-9_]+)=(.*)$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_env_example_lists_every_setting_with_a_comment_and_no_secret() -> None:
    found = _env_example_names()
    expected = {env_name(field) for field in Settings.model_fields}
    assert sorted(expected - set(found)) == [], "settings missing from .env.example"
    assert sorted(set(found) - expected) == [], ".env.example names unknown settings"
    lines = (ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^#?\s*PROJECTK_", line):
            assert lines[index - 1].startswith("#"), f"no comment above {line}"
    secrets = [name for name in found if SECRET_NAME.search(name) and "KEY_ID" not in name]
    assert secrets and all(found[name] == "" for name in secrets), secrets


def test_dockerfile_is_pinned_non_root_and_installs_from_the_lock() -> None:
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base[1])
    assert re.search(r"^ARG UV_VERSION=\d+\.\d+\.\d+$", text, re.M)
    assert "COPY pyproject.toml uv.lock" in text
    assert text.count("uv sync --frozen --no-dev") == 2
    users = re.findall(r"^USER (\S+)$", text, re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root")


@pytest.mark.parametrize("service", ["worker", "bot", "dashboard"])
def test_systemd_units_restart_read_the_env_file_and_log_to_the_journal(service: str) -> None:
    text = (ROOT / "deploy" / "systemd" / f"projectk-{service}.service").read_text()
    for line in (
        "Restart=on-failure",
        "EnvironmentFile=/etc/projectk/projectk.env",
        "StandardOutput=journal",
        "StandardError=journal",
        f"ExecStart=/opt/projectk/.venv/bin/projectk {service}",
        "User=projectk",
        "WantedBy=multi-user.target",
    ):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line
