# DEVELOPMENT ONLY. The development mail server (maildev, pinned by tools/maildev/package-lock.json)
# for docker-compose.yml: the SMTP server notifications sends to, and a web view of what it got.
# A separate container, never part of a service image and never deployed to Kubernetes.
#   docker build -f deploy/maildev.Dockerfile -t ticketing-maildev:dev .
FROM node:20.20.2-bookworm-slim

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false

WORKDIR /opt/maildev
COPY tools/maildev/package.json tools/maildev/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

USER 1000:1000
# SMTP, and the web view with its REST API (GET /email).
EXPOSE 1025 1080
ENTRYPOINT ["node", "node_modules/maildev/bin/maildev", "--ip", "0.0.0.0", "--smtp", "1025", "--web", "1080"]
