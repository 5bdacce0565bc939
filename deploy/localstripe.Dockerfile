# DEVELOPMENT ONLY. localstripe (GPL-3.0) fakes the Stripe API for docker-compose.yml. It is a
# separate container, never part of the service image and never deployed to Kubernetes.
#   docker build -f deploy/localstripe.Dockerfile -t ticketing-localstripe:dev .
FROM python:3.11.14-slim-bookworm

# Must equal the pin in requirements-dev.lock (tests/deploy checks that it does); its
# dependencies are constrained to the same lock.
ARG LOCALSTRIPE_VERSION=1.15.10

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PYTHONUNBUFFERED=1

COPY requirements-dev.lock /tmp/
RUN pip install -c /tmp/requirements-dev.lock "localstripe==${LOCALSTRIPE_VERSION}" \
    && rm /tmp/requirements-dev.lock

USER 65534:65534
EXPOSE 8420
ENTRYPOINT ["localstripe", "--port", "8420"]
