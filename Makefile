# The two commands a new developer needs: `make run` and `make test`. Everything else is a step
# of those. Everything is installed into .venv from the pinned lock files; nothing global.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROTOS := $(shell find proto -name '*.proto' | sort)
STAMP := $(VENV)/.installed

.PHONY: all help install gen schema schema-check lint lint-deploy reference docs proto-lint test test-unit test-integration test-e2e test-browser test-fuzz test-deploy web browser chaos run demo bench soak clean lock pod-check docker-versions image compose-smoke maildev

all: test ## the default: same as `make test`

# Every target with the description after its `##` (a target without one fails
# tests/unit/test_makefile_help.py).
help: ## list every target with its description
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z0-9_.-]+:[^=#]*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The venv is rebuilt when the lock or the project metadata changes.
$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(MAKE) --no-print-directory gen
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP) ## .venv from the pinned lock files, with the generated stubs (rebuilt when they change)

# Python stubs from proto/ into gen/ (gitignored, never hand-edited): rebuilt only when a proto,
# the grpcio-tools version or the generator changed, beside the tree in use, then swapped in with
# one atomic rename (tools/gen.py), so a command running in this checkout never sees gen/ gone.
GEN_STAMP := gen/.stamp
$(GEN_STAMP): $(PROTOS) requirements-dev.lock tools/gen.py
	$(BIN)/python -m tools.gen
	touch $@

gen: $(GEN_STAMP) ## Python stubs from proto/ into gen/ (never hand-edited)

# schema.graphql, the GraphQL contract: the SDL of the schema as gateway/schema.py builds it.
# Run it after changing a GraphQL type or resolver, and commit the file.
schema: install gen ## rewrite schema.graphql from gateway/schema.py (commit it)
	$(BIN)/python -m gateway.schema_file --write

# schema.graphql is what the code builds, and breaks no client against the previous commit's.
schema-check: install gen ## schema.graphql matches the code and breaks no client (CHANGELOG Unreleased/API)
	$(BIN)/python -m tools.schema_check

# The web app and GraphiQL (web/, served by the gateway): packages from the committed lockfile,
# then Vite's build into web/dist, and last the app's persisted-query manifest
# web/dist/persisted-operations.json (web/scripts/persisted-manifest.mjs: every operation of
# web/src/app/operations/ as the app sends it, docs/api.md PQ-3). Each step runs again only when
# what it reads has changed.
WEB_SOURCES := $(shell find web/src web/public web/graphiql web/scripts -type f ! -name graphql-env.d.ts 2>/dev/null) \
	web/index.html web/vite.config.ts web/tsconfig.json schema.graphql
WEB_PACKAGES := web/node_modules/.installed
WEB_BUILT := web/dist/.built

$(WEB_PACKAGES): web/package-lock.json web/package.json
	cd web && npm ci --no-audit --no-fund
	touch $@

$(WEB_BUILT): $(WEB_PACKAGES) $(WEB_SOURCES)
	cd web && npm run build
	touch $@

web: $(WEB_BUILT) ## the web app and GraphiQL built into web/dist, with its persisted-query manifest

# The development mail server (maildev, tools/maildev/): SMTP and a web view of the mail received,
# for `ticketing run` and the tests that read what notifications sent. From its committed lockfile;
# never part of an image.
MAILDEV_PACKAGES := tools/maildev/node_modules/.installed

$(MAILDEV_PACKAGES): tools/maildev/package-lock.json tools/maildev/package.json
	cd tools/maildev && npm ci --no-audit --no-fund
	touch $@

maildev: $(MAILDEV_PACKAGES) ## the development mail server (tools/maildev) from its lockfile

# The browser tests drive Debian's Chromium (never a browser download of Playwright's own).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" != 0 ]; then echo "the browser tests need $(CHROMIUM): apt-get install chromium (as root)"; exit 1; fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
		|| (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

browser: $(CHROMIUM) ## Debian's Chromium for the browser tests (installs it as root)

proto-lint: install ## buf lint and buf format on proto/
	$(BIN)/buf lint
	$(BIN)/buf format --diff --exit-code

# The registered clients' persisted-query manifests (persisted/clients/, docs/api.md PQ-4): ids
# are their bodies' hashes, and every operation validates, within the limits, against schema.graphql.
lint: install proto-lint schema-check lint-deploy ## every static check: ruff, formats, proto, schema, persisted queries, deployment
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m tools.persisted_check
	$(BIN)/python -m tools.import_cycles
	$(BIN)/python -m tools.reference --check

# Shipping, checked statically (no Docker engine or cluster): the Dockerfiles, docker compose, each
# Kubernetes overlay rendered and validated against the code's processes, ports and settings
# (tools/deploy_check/), and the proto contract against the previous commit.
reference: install gen ## rewrite the generated reference pages in docs/reference/ (commit them)
	$(BIN)/python -m tools.reference

# The documentation site (mkdocs.yml) from docs/ into site/ (git-ignored): strict, so a broken link
# or anchor, a page left out of the nav or a nav entry to a missing file fails it, and so does a
# page that loads anything from another host (tools/docs_site.py). Open site/index.html.
docs: install ## the documentation site into site/, strict: broken links, pages out of the nav, CDNs fail
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

lint-deploy: install ## Dockerfiles, docker compose, k8s overlays and the proto contract, checked statically
	$(BIN)/hadolint Dockerfile deploy/stripe-standin.Dockerfile deploy/maildev.Dockerfile
	$(BIN)/docker-compose -f docker-compose.yml config -q
	$(BIN)/python -m tools.deploy_check
	BUF=$(BIN)/buf tools/buf-breaking.sh

# The pod specs exercised, not just validated (tools/pod_check/): every Deployment of the rendered
# dev overlay runs in Docker as its pod would (securityContext, env from the ConfigMap and the
# Secrets of docs/deploying.md, volumes, limits, command), beside the overlay's datastores, and must pass its
# startup, readiness and liveness probes; three broken copies must fail. Needs a Docker engine on
# Linux (probes go from this host to the pods' IPs); builds the images first (the dev overlay
# runs their `dev` tag). About a minute.
pod-check: image ## every dev-overlay Deployment run in Docker as its pod would, probes passing
	$(BIN)/python -m tools.pod_check

test: install gen lint docs web browser maildev ## lint, the docs site, then every test (unit, integration, e2e, browser); about 15–20 minutes (docs/tests.md)
	$(BIN)/python -m pytest -q --durations=30 tests

# One layer of `make test` each, selected by its marker (tests/conftest.py marks a test by its
# folder under tests/; pyproject.toml lists the markers). `make test` runs every layer once.
test-unit: install gen ## the unit tests (tests/unit), selected by marker
	$(BIN)/python -m pytest -q -m unit tests

test-integration: install gen maildev ## the integration tests (tests/integration): real servers on free ports
	$(BIN)/python -m pytest -q -m integration tests

test-e2e: install gen web maildev ## the end-to-end tests (tests/e2e): the whole system as `ticketing run` starts it
	$(BIN)/python -m pytest -q -m e2e tests

# The web app and GraphiQL in headless Chromium against `ticketing run` (tests/browser/).
test-browser: install gen web browser ## the web app and GraphiQL in headless Chromium (tests/browser)
	$(BIN)/python -m pytest -q -m browser tests

# Generated hostile input against `ticketing run` (tests/fuzz/).
test-fuzz: install gen web ## generated hostile input against `ticketing run` (tests/fuzz)
	$(BIN)/python -m pytest -q -m fuzz tests

# The checkers of the shipping files, on broken copies (tests/deploy/); `make lint-deploy` runs
# them on this repository's own.
test-deploy: install gen ## the checkers of the shipping files, on broken copies (tests/deploy)
	$(BIN)/python -m pytest -q -m deploy tests

# The long chaos run (a short one is part of test-e2e): more users and flows, each process,
# RabbitMQ, Redis and the database killed twice, 8 s down each; prints a table per fault (client
# errors during it, time to recover, invariant violations) and fails if any invariant broke.
chaos: install gen ## the long chaos run: processes and datastores killed, invariants checked
	$(BIN)/python -m tests.chaos

run: install gen web maildev ## the whole system on this machine (`ticketing run`)
	$(BIN)/ticketing run

# A marketplace to look at (docs/demo.md): a few hundred events through the catalogue's import,
# six sellers and their listings through the GraphQL API, into the stack `make run` started
# (in another terminal). Deterministic; running it again creates nothing twice. DEMO_ARGS: say
# `--events 50` or `--seed 2`.
demo: install gen ## fill the stack `make run` started with events, sellers and listings (DEMO_ARGS)
	$(BIN)/ticketing demo $(DEMO_ARGS)

# The system under load, idleness and replicas (bench/README.md): private stacks on free ports,
# every scenario (the gateway's driven by k6, installed into .venv/bin by `install`), one table
# printed and written to bench/results/. About 25 minutes (10 of them idle);
# `$(BIN)/python -m bench --quick --idle-seconds 70` is a smoke run.
bench: install gen ## every benchmark scenario (bench/README.md; BENCH_ARGS), about 25 minutes
	$(BIN)/python -m bench $(BENCH_ARGS)

# The whole suite RUNS times (5) on a fresh clone of this commit under `stress-ng --cpu 2`
# (tools/loaded_runs.sh): one line per run in bench/results/soak-<stamp>.log, a failed run's
# output kept beside it; fails if any run failed. About 25 minutes a run. SOAK_TARGET=test-unit
# checks the script itself in a few minutes.
RUNS ?= 5
soak: ## the whole suite RUNS times (5) on a fresh clone under CPU load (tools/loaded_runs.sh)
	RUNS=$(RUNS) tools/loaded_runs.sh

# Re-pin dependencies after changing pyproject.toml (needs the registry; not part of test or run).
# requirements.lock: the services' runtime (image ticketing); requirements-insights.lock: with the
# `insights` extra (image ticketing-insights); requirements-dev.lock: everything (.venv). Each is
# pinned within the one before, so a package has one version in all three.
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11
lock: ## re-pin the three requirements lock files after changing pyproject.toml
	$(BIN)/python -m pip install --quiet uv
	$(UV_COMPILE) pyproject.toml -o requirements.lock
	$(UV_COMPILE) --extra insights -c requirements.lock pyproject.toml -o requirements-insights.lock
	$(UV_COMPILE) --extra dev -c requirements-insights.lock pyproject.toml -o requirements-dev.lock

# ---- Shipping with Docker (docs/deploying.md): plain `docker` and `docker compose`. More compose
# files after docker-compose.yml go in COMPOSE_FILES (say, one that builds on another network:
# COMPOSE_FILES="-f build-network.yml"); docker build's own flags in DOCKER_BUILD_FLAGS.
DOCKER ?= docker
COMPOSE ?= $(DOCKER) compose
COMPOSE_PROJECT ?= ticketing-smoke
COMPOSE_FILES ?=
IMAGE_TAG ?= dev
DOCKER_BUILD_FLAGS ?=
SERVICES_IMAGE_MAX_MB ?= 350
INSIGHTS_IMAGE_MAX_MB ?= 650

# The Docker Engine and Compose here are at least the oldest ones docs/deploying.md supports.
docker-versions: install ## the Docker Engine and Compose are at least the oldest supported
	$(BIN)/python -m tools.docker_versions --docker "$(DOCKER)" --compose "$(COMPOSE)"

# Both images (ticketing: gateway and services; ticketing-insights), then their sizes against
# the targets: fails if one is over.
image: docker-versions ## build both images and check their sizes
	$(DOCKER) build $(DOCKER_BUILD_FLAGS) --target services -t ticketing:$(IMAGE_TAG) .
	$(DOCKER) build $(DOCKER_BUILD_FLAGS) --target insights -t ticketing-insights:$(IMAGE_TAG) .
	$(BIN)/python -m tools.image_sizes --docker "$(DOCKER)" \
		services=ticketing:$(IMAGE_TAG)=$(SERVICES_IMAGE_MAX_MB) \
		insights=ticketing-insights:$(IMAGE_TAG)=$(INSIGHTS_IMAGE_MAX_MB)

# docker-compose.yml for real, in its own project on free ports: build, `up --wait`, a purchase
# paid by card and a subscription through the gateway, then `down -v`, always (tests/compose_smoke).
compose-smoke: docker-versions ## docker-compose.yml for real: up, a purchase and a subscription, down
	TICKETING_IMAGE_TAG=$(IMAGE_TAG) $(BIN)/python -m tests.compose_smoke --docker "$(DOCKER)" \
		--compose "$(COMPOSE) -p $(COMPOSE_PROJECT) -f docker-compose.yml $(COMPOSE_FILES)"

clean: ## remove .venv, gen/, .run and every build output
	rm -rf $(VENV) gen .run .pytest_cache .ruff_cache *.egg-info web/node_modules web/dist site
