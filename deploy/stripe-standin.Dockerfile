# DEVELOPMENT ONLY. The project's Stripe stand-in (stripe_standin/) answers the Stripe API and
# serves its Stripe.js for docker-compose.yml. A separate container, never part of the service
# image (pyproject.toml does not package stripe_standin) and never deployed to Kubernetes. It
# holds the stand-in and what it imports, nothing else (no SecantusDB, no dev tools).
#   docker build -f deploy/stripe-standin.Dockerfile -t ticketing-stripe-standin:dev .
FROM python:3.11.14-slim-bookworm

# Must equal the pins in requirements-dev.lock (tests/deploy checks that they do); their own
# dependencies are constrained to the same lock.
ARG STARLETTE_VERSION=1.10.0
ARG UVICORN_VERSION=0.54.0
ARG HTTPX_VERSION=0.28.1

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1

COPY requirements-dev.lock /tmp/
RUN pip install -c /tmp/requirements-dev.lock "starlette==${STARLETTE_VERSION}" \
        "uvicorn==${UVICORN_VERSION}" "httpx==${HTTPX_VERSION}" \
    && rm /tmp/requirements-dev.lock

WORKDIR /opt/stripe-standin
COPY stripe_standin/ stripe_standin/

USER 65534:65534
EXPOSE 8420
# docker-compose.yml adds where to deliver webhooks (--webhook URL --webhook-secret S).
ENTRYPOINT ["python", "-m", "stripe_standin", "--host", "0.0.0.0", "--port", "8420"]
