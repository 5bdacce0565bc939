# Two images, one per target; the argument names the process:
#   docker build --target services -t ticketing:dev .           gateway, auth, tickets, orders,
#   docker run ticketing:dev gateway                             payments, expiration
#   docker build --target insights -t ticketing-insights:dev .  insights: the same, plus numpy,
#   docker run ticketing-insights:dev insights                   SciPy and DuckDB (its own layer)
# `make image` builds both and checks their sizes. Only the runtime locks are installed: no dev
# tools, no SecantusDB (a GPL dev tool) or Stripe stand-in (stripe_standin/, not packaged), no
# dev stack (common/devstack), no tests.
# No `# syntax=` line: BuildKit would look that frontend up on a registry; the built-in one
# reads this file, and so does the legacy builder.

# ---- web: the web app and GraphiQL (web/), built by Vite from the committed lockfile ----
FROM node:20.20.2-bookworm-slim AS web

ENV NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /src/web

# Packages first, so a change of the app's code does not reinstall them.
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund

# The types of its GraphQL operations come from the committed schema (../schema.graphql).
COPY schema.graphql /src/schema.graphql
COPY web/ ./
RUN npm run build

# ---- python-build: the base with its installer, and binutils to strip compiled extensions ----
FROM python:3.11.14-slim-bookworm AS python-build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONDONTWRITEBYTECODE=1

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src

# Debian's current binutils (bookworm's security updates move its version).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*

# Packages are installed without bytecode (pip --no-compile) and trimmed (the script says what
# goes). The root filesystem is read-only, so a process compiles what it imports in memory as it
# starts: about 1 s more for the gateway, 36 MB less in the services image.
COPY deploy/trim-site-packages.sh /usr/local/bin/trim-site-packages

# ---- build: the runtime virtualenv, the gRPC stubs generated from proto/, the project ----
FROM python-build AS build

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Generates the stubs and stays in this stage; must equal the pin in requirements-dev.lock
# (tests/deploy checks that it does).
ARG GRPCIO_TOOLS_VERSION=1.85.1

# Dependencies first, so a code change does not reinstall them. The runtime venv has no pip:
# the base image's pip installs into it.
COPY requirements.lock requirements-dev.lock ./
RUN python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install --no-compile -r requirements.lock \
    && trim-site-packages /opt/venv/lib \
    && python -m venv /opt/codegen \
    && /opt/codegen/bin/pip install -c requirements-dev.lock "grpcio-tools==${GRPCIO_TOOLS_VERSION}"

# The same generation as `make gen`: gen/ticketing/... from proto/.
COPY proto/ proto/
RUN mkdir gen \
    && find proto -name '*.proto' -print0 | sort -z \
    | xargs -0 /opt/codegen/bin/python -m grpc_tools.protoc -Iproto \
        --python_out=gen --pyi_out=gen --grpc_python_out=gen \
    && find gen/ticketing -type d -exec touch {}/__init__.py \;

# The project itself (common, gateway, svc_*; .dockerignore keeps everything else out, the dev
# stack and the tests among it).
COPY . .
RUN pip --python /opt/venv/bin/python install --no-compile --no-deps . \
    && trim-site-packages /opt/venv/lib \
    && /opt/venv/bin/python -c "import ticketing.auth.v1.auth_pb2, common.cli, gateway.app, uvloop"

# ---- services: the virtualenv on a clean base, a non-root user, nothing else ----
FROM python:3.11.14-slim-bookworm AS services

LABEL org.opencontainers.image.title="ticketing" \
      org.opencontainers.image.description="Event-ticket resale marketplace: gateway and gRPC services" \
      org.opencontainers.image.licenses="MIT"

ENV PATH=/opt/venv/bin:$PATH \
    WEB_DIST_DIR=/opt/ticketing/web \
    PERSISTED_CLIENTS_DIR=/opt/ticketing/persisted/clients \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONFAULTHANDLER=1

# No installer or build tool in the final image: pip, setuptools and wheel of the base go.
RUN groupadd --system --gid 10001 ticketing \
    && useradd --system --uid 10001 --gid ticketing --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin ticketing \
    && python -m pip uninstall --yes --quiet pip setuptools wheel \
    && install -d -o 10001 -g 10001 /var/lib/ticketing/insights \
    && rm -rf /root/.cache

COPY --from=build /opt/venv /opt/venv
# The gateway serves these (the app at /, GraphiQL when GRAPHQL_IDE is on); plain files, no Node.
COPY --from=web /src/web/dist /opt/ticketing/web
# The registered clients' persisted-query manifests (docs/api.md PQ-4): in allow-list mode their
# operations run, with the web app's (persisted-operations.json of the build above).
COPY persisted/clients /opt/ticketing/persisted/clients

USER 10001:10001
WORKDIR /tmp

# gateway (public HTTP; its admin port 9100: probes and GET /metrics) and the gRPC services auth,
# tickets, orders, payments, expiration, insights, catalogue, delivery, notifications; then those
# services' metrics ports.
EXPOSE 8000 9100 50051 50052 50053 50054 50055 50056 50057 50058 50059 9101 9102 9103 9104 9105 9106 9107 9108 9109

ENTRYPOINT ["ticketing", "serve"]

# ---- insights-packages: what requirements-insights.lock pins beyond requirements.lock ----
FROM python-build AS insights-packages

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# `make lock` pins the insights lock with requirements.lock as constraints, so the lines it adds
# are exactly numpy, SciPy and DuckDB (and what they alone need). They go to a folder of their
# own, which the insights image lays over the services' site-packages as one layer.
COPY requirements.lock requirements-insights.lock ./
RUN comm -13 <(grep -E '^[A-Za-z0-9]' requirements.lock | sort) \
        <(grep -E '^[A-Za-z0-9]' requirements-insights.lock | sort) >insights-only.txt \
    && grep -q . insights-only.txt \
    && pip install --no-compile --no-deps --target /opt/insights-packages -r insights-only.txt \
    && rm -rf /opt/insights-packages/bin \
    && trim-site-packages /opt/insights-packages

# ---- insights: the services image plus numpy, SciPy and DuckDB, in one layer ----
FROM services AS insights

LABEL org.opencontainers.image.title="ticketing-insights" \
      org.opencontainers.image.description="Event-ticket resale marketplace: the insights service (analytics and recommendations)"

# The venv's Python is the base's 3.11, so this is its site-packages.
COPY --from=insights-packages /opt/insights-packages /opt/venv/lib/python3.11/site-packages
RUN python -c "import duckdb, numpy, scipy.sparse, svc_insights.__main__; \
    assert duckdb.sql('select 42').fetchall() == [(42,)]; \
    assert scipy.sparse.csr_matrix(numpy.eye(3)).dot(numpy.ones(3)).sum() == 3"
