# ProjectK application image: worker, bot, dashboard, codec server and the operator CLI.
# Pinned base (exact Python and Debian release); dependencies installed by uv from uv.lock
# (--frozen: the lock is the truth, never re-resolved); runs as an unprivileged user.
# Build: docker build -t projectk:local .   (docker compose builds it for you)

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm
ARG UV_VERSION=0.13.8

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /app
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY projectk ./projectk
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY bot ./bot
COPY dashboard ./dashboard
COPY sandbox ./sandbox
RUN uv sync --frozen --no-dev --no-editable

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 projectk \
    && useradd --system --uid 10001 --gid projectk --home-dir /var/lib/projectk \
       --shell /usr/sbin/nologin projectk \
    && install -d -m 0700 -o projectk -g projectk /var/lib/projectk
COPY --from=build --chown=root:root /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PROJECTK_DATA_DIR=/var/lib/projectk
USER 10001:10001
WORKDIR /var/lib/projectk
VOLUME ["/var/lib/projectk"]
ENTRYPOINT ["projectk"]
CMD ["worker"]
