"""The gateway's probes, and the report on what it depends on.

- `GET /healthz`: the process answers (liveness).
- `GET /readyz`: this pod can serve (readiness): its channels are open and Redis, which every
  authenticated request needs for revocations, answers. A dead service is not in it: Kubernetes
  would take every gateway pod out of its Service for one service down, failing the calls that
  need no such service as well. Calls that do need it fail with UNAVAILABLE on their own.
- `GET /healthz/deps`: each service's health check and Redis, by name; 200 when all are up, 503
  when anything is down, so `curl -f`, a wait loop or an alerting check can use the status alone.
  No probe may point at it (tools/deploy_check/ holds the manifests to that).

The ticket cache adds nothing to either: its Redis is the one already checked, and a read that
finds it down goes to tickets. Its event consumer's RabbitMQ is not in them either: without it
the gateway's own writes still show at once and others' changes show when events flow again (or
after TICKET_CACHE_TTL_SECONDS); taking the pod out would fail reads that are being served.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.clients import ServiceClients

# Under the readiness probe's own timeout (4 s in k8s/base/gateway.yaml).
CHECK_TIMEOUT_SECONDS = 2.0


class Probes:
    def __init__(
        self,
        clients: ServiceClients,
        redis: aioredis.Redis,
        timeout_seconds: float = CHECK_TIMEOUT_SECONDS,
    ) -> None:
        self.clients = clients
        self.redis = redis
        self.timeout = timeout_seconds

    async def redis_state(self) -> tuple[bool, str]:
        try:
            await asyncio.wait_for(self.redis.ping(), self.timeout)
        except TimeoutError:
            return False, f"no answer in {self.timeout:g}s"
        except Exception as exc:  # any failure means the same here: not answering
            return False, type(exc).__name__
        return True, "PONG"

    async def service_state(self, name: str) -> tuple[bool, str]:
        stub = health_pb2_grpc.HealthStub(self.clients.channel(name))
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=self.timeout)
        except grpc.aio.AioRpcError as exc:
            return False, exc.code().name
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return reply.status == health_pb2.HealthCheckResponse.SERVING, status

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        redis_up, _ = await self.redis_state()
        checks = {"channels": self.clients.is_open, "redis": redis_up}
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    async def deps(self, request: Request) -> Response:
        names = list(self.clients.addresses)
        states = await asyncio.gather(
            *(self.service_state(name) for name in names), self.redis_state()
        )
        report: dict[str, Any] = {
            name: {"up": up, "state": state}
            for name, (up, state) in zip([*names, "redis"], states, strict=True)
        }
        healthy = all(entry["up"] for entry in report.values())
        return JSONResponse(
            {"status": "ok" if healthy else "degraded", "dependencies": report},
            status_code=200 if healthy else 503,
        )

    def routes(self) -> list[Route]:
        return [
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/healthz/deps", self.deps, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
        ]
