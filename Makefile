# The two commands a newcomer needs (see README): `make demo` and `make test`.
# Both install what they need first; nothing here needs anything installed by hand but Python
# 3.11+, make and (for the sandbox) Node.js with npm. Only `make test` installs a browser.

UV_VERSION := 0.13.8
# Evaluated when used, i.e. after `install` has put uv in place.
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)
DEMO_ARGS ?=
PYTEST_ARGS ?=

.PHONY: demo test install system-deps lint typecheck unit

install:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen
	$(UV) run python -c "from sandbox.node import ensure_node_modules; ensure_node_modules()"

# Headless Chromium (Debian package) for the dashboard's browser test, so only `test` wants it;
# installed when missing and we may (root with apt-get), otherwise that one test is skipped with a
# notice.
system-deps:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "NOTICE: chromium is not installed; the dashboard browser test will be skipped"; }

demo: install
	$(UV) run projectk demo $(DEMO_ARGS)

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .

typecheck: install
	$(UV) run mypy

test: install system-deps lint typecheck
	$(UV) run pytest $(PYTEST_ARGS)

unit: install
	$(UV) run pytest -m "not slow and not devserver and not sandbox" $(PYTEST_ARGS)
