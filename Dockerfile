# syntax=docker/dockerfile:1
# One image for every process of the system; the argument names the process:
#   docker build -t ticketing .
#   docker run ticketing gateway        (or auth, tickets, orders, payments, expiration, insights)
# Only the runtime lock is installed: no dev tools, no SecantusDB or localstripe (GPL dev tools).

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

# ---- build: the runtime virtualenv, the gRPC stubs generated from proto/, the project ----
FROM python:3.11.14-slim-bookworm AS build

# Generates the stubs and stays in this stage; must equal the pin in requirements-dev.lock
# (tests/deploy checks that it does).
ARG GRPCIO_TOOLS_VERSION=1.85.1

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src

# Dependencies first, so a code change does not reinstall them. The runtime venv has no pip:
# the base image's pip installs into it.
COPY requirements.lock requirements-dev.lock ./
RUN python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install -r requirements.lock \
    && python -m venv /opt/codegen \
    && /opt/codegen/bin/pip install -c requirements-dev.lock "grpcio-tools==${GRPCIO_TOOLS_VERSION}"

# The same generation as `make gen`: gen/ticketing/... from proto/.
COPY proto/ proto/
RUN mkdir gen \
    && find proto -name '*.proto' -print0 | sort -z \
    | xargs -0 /opt/codegen/bin/python -m grpc_tools.protoc -Iproto \
        --python_out=gen --pyi_out=gen --grpc_python_out=gen \
    && find gen/ticketing -type d -exec touch {}/__init__.py \;

# The project itself (common, gateway, svc_*; .dockerignore keeps everything else out).
COPY . .
RUN pip --python /opt/venv/bin/python install --no-deps . \
    && /opt/venv/bin/python -c "import ticketing.auth.v1.auth_pb2, common.cli"

# ---- runtime: the virtualenv on a clean base, a non-root user, nothing else ----
FROM python:3.11.14-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="ticketing" \
      org.opencontainers.image.description="Event-ticket resale marketplace: gateway and gRPC services" \
      org.opencontainers.image.licenses="MIT"

ENV PATH=/opt/venv/bin:$PATH \
    WEB_DIST_DIR=/opt/ticketing/web \
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

USER 10001:10001
WORKDIR /tmp

# gateway (public HTTP; its admin port 9100: probes and GET /metrics) and the gRPC services auth,
# tickets, orders, payments, expiration, insights; then those services' metrics ports.
EXPOSE 8000 9100 50051 50052 50053 50054 50055 50056 9101 9102 9103 9104 9105 9106

ENTRYPOINT ["ticketing", "serve"]
