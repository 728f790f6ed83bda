"""`projectk dashboard`: run the read-only Streamlit dashboard.

Invariants:
- It binds to the host and port of PROJECTK_DASHBOARD_URL (127.0.0.1:8501 by default); binding to
  any other than a loopback address is refused unless PROJECTK_DASHBOARD_PASSWORD is set.
- Streamlit runs headless, without usage statistics, file watching or developer menu, and shows
  exception types only (details go to the log), so a browser never sees a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from cli.common import UserError, get_settings

LOOPBACK_NAMES = ("localhost",)


def app_path() -> Path:
    """Return the dashboard's entry script."""
    import dashboard  # the dashboard package ships beside projectk

    return Path(dashboard.__file__).parent / "app.py"


def is_loopback(host: str) -> bool:
    """Tell whether a bind address only accepts connections from this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def streamlit_command(host: str, port: int) -> list[str]:
    """Return the `streamlit run` command line serving the dashboard on host:port."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path()),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--client.showErrorDetails",
        "type",
    ]


@click.command("dashboard")
@click.option("--host", default=None, help="Bind address [default: host of PROJECTK_DASHBOARD_URL]")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port to serve on.")
@click.pass_context
def dashboard(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the read-only dashboard (localhost only unless a password is set)."""
    settings = get_settings(ctx)
    url = urlsplit(settings.dashboard_url)
    host = host or url.hostname or "127.0.0.1"
    port = port or url.port or 8501
    secret = settings.dashboard_password
    if not is_loopback(host) and not (secret and secret.get_secret_value()):
        raise UserError(
            f"binding the dashboard to {host} exposes it to the network; set "
            "PROJECTK_DASHBOARD_PASSWORD first (or keep the default 127.0.0.1)"
        )
    click.echo(f"dashboard on http://{host}:{port} (read-only)")
    sys.stdout.flush()
    # Become Streamlit rather than wait on it: SIGTERM from systemd, compose or the demo then
    # reaches the server itself, and no orphan is left behind.
    command = streamlit_command(host, port)
    os.execv(command[0], command)
