# syntax=docker/dockerfile:1
# The Stratus server image: what Cloud Run runs and what compose.yaml builds.
#
#   docker build -t stratus .
#   docker run --rm -p 8080:8080 stratus              # embedded SQLite in /var/lib/stratus
#
# Everything is configured through the environment (service/config.py): STRATUS_DATABASE_URL,
# STRATUS_ARTIFACT_ROOT, STRATUS_CLOUD_SQL_INSTANCE, ... and PORT, which Cloud Run sets.
# Dependencies come only from requirements/runtime.txt (every file pinned by sha256);
# regenerate it with requirements/compile.sh. docs/local.md says how this file is tested.

ARG PYTHON_VERSION=3.12
ARG PYTHON_IMAGE=python:${PYTHON_VERSION}-slim-trixie

# ---------------------------------------------------------------------------------------
# builder: a locked pip and hatchling in a throwaway venv build the service's wheel and
# install it, with the locked dependencies, into /opt/stratus, which has no pip of its own.
FROM ${PYTHON_IMAGE} AS builder

# strip (binutils) takes debug symbols out of compiled extensions: about 35 MB less image.
# A build-only tool from Debian, it never reaches the runtime stage, hence no version pin.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1 \
    PIP_ROOT_USER_ACTION=ignore \
    BUILD_VENV=/opt/build \
    APP_VENV=/opt/stratus \
    SRC=/src

COPY requirements/build.txt ${SRC}/requirements/
RUN python -m venv "$BUILD_VENV" \
    && "$BUILD_VENV/bin/python" -m pip install --require-hashes --only-binary=:all: \
        -r "$SRC/requirements/build.txt"

COPY requirements/runtime.txt ${SRC}/requirements/
RUN python -m venv --without-pip "$APP_VENV" \
    && "$BUILD_VENV/bin/pip" --python "$APP_VENV/bin/python" install --no-compile \
        --require-hashes --only-binary=:all: --no-deps -r "$SRC/requirements/runtime.txt"

COPY pyproject.toml README.md ${SRC}/
COPY service ${SRC}/service

# The wheel holds only service/ (no tests, no infra). `pip check` proves the lock is complete.
# Then what no code path of the server imports goes (about 10 MB, docs/local.md "Size"):
# the Cloud SQL Admin v1 client (the connector uses v1beta4), SQLAlchemy's SQL Server and
# Oracle dialects and test kit, Alembic's test kit, packages' own tests, type stubs.
# Extension modules lose their debug symbols (vendored libraries in *.libs/ are left alone),
# and compileall writes bytecode trusted without a source check (the image never changes).
RUN "$BUILD_VENV/bin/pip" wheel --no-deps --no-build-isolation --wheel-dir "$SRC/dist" "$SRC" \
    && "$BUILD_VENV/bin/pip" --python "$APP_VENV/bin/python" install --no-compile --no-deps \
        "$SRC"/dist/stratus-*.whl \
    && "$BUILD_VENV/bin/pip" --python "$APP_VENV/bin/python" check \
    && site="$(echo "$APP_VENV"/lib/python*/site-packages)" \
    && for unused in google/cloud/sqladmin_v1 google/cloud/sqladmin sqlalchemy/dialects/mssql \
        sqlalchemy/dialects/oracle sqlalchemy/testing alembic/testing fsspec/tests certifi/tests; \
        do rm -r "${site:?}/$unused"; done \
    && find "$site" -name '*.pyi' -delete \
    && find "$APP_VENV/lib" -name '*.so' -not -path '*.libs/*' \
        -exec strip --strip-unneeded {} + \
    && "$APP_VENV/bin/python" -m compileall -q -j 0 --invalidation-mode unchecked-hash \
        "$APP_VENV/lib"

# ---------------------------------------------------------------------------------------
# runtime: the base image, the venv, an unprivileged user. No compiler, no pip, no tests.
FROM ${PYTHON_IMAGE} AS runtime

ARG APP_UID=10001

# The base image ships the standard library without bytecode: compile it once here, or
# every cold start would compile it again (the non-root user cannot cache it).
RUN python -m compileall -q -j 0 --invalidation-mode unchecked-hash \
        -x '/(test|tests|idlelib|tkinter|turtledemo|ensurepip|lib2to3|pydoc_data|site-packages)/' \
        "$(python -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')" \
    && groupadd --system --gid "$APP_UID" stratus \
    && useradd --system --uid "$APP_UID" --gid stratus --home-dir /var/lib/stratus \
        --no-create-home --shell /usr/sbin/nologin stratus \
    && install -d -o stratus -g stratus -m 0750 /var/lib/stratus

COPY --from=builder /opt/stratus /opt/stratus

# The Cloud Run contract: listen on $PORT on all interfaces, log JSON to stderr.
ENV PATH=/opt/stratus/bin:$PATH \
    VIRTUAL_ENV=/opt/stratus \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8080 \
    STRATUS_HOST=0.0.0.0 \
    STRATUS_LOG_FORMAT=json \
    STRATUS_DATA_DIR=/var/lib/stratus

WORKDIR /var/lib/stratus
USER ${APP_UID}:${APP_UID}
EXPOSE 8080

# No curl in the image: the venv's Python asks /health on the port the server listens on.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/health' % (os.environ.get('STRATUS_PORT') or os.environ.get('PORT') or '8080'), timeout=4)"]

ENTRYPOINT ["stratus", "serve"]
