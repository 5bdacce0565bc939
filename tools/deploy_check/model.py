"""The code's truth the deploy checks hold the manifests against: the processes, the settings each
reads, who calls whom and who owns which secret."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic.fields import FieldInfo

from common.config import CommonSettings
from common.processes import SERVICES, ServiceSpec

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes the manifests support (native sidecars and the preStop sleep action are
# on by default from 1.29/1.30 and GA by 1.33) and the newest schema kubernetes-validate ships.
K8S_MIN_VERSION = "1.33.0"

# Which datastores a process connects to, and the setting that says where each one is. Processes
# not listed use all three (so a new service is held to the strictest rule until listed here).
DATASTORE_SETTINGS = {"mongo": "MONGO_URL", "rabbitmq": "AMQP_URL", "redis": "REDIS_URL"}
USES = {
    # Redis: token revocation and its ticket cache; RabbitMQ: tickets' events, which invalidate
    # that cache. It talks to the services over gRPC.
    "gateway": {"redis", "rabbitmq"},
    "expiration": {"rabbitmq", "redis"},  # its schedule lives in Redis; no documents
    # Every event into its own DuckDB file; Redis for token revocations only.
    "insights": {"rabbitmq", "redis"},
}
# Datastore pods (dev) that reach each other: MongoDB's replica set members.
DATASTORE_PEERS = {"mongo": {"mongo"}}
# Where a datastore outside the cluster (prod) listens: the plain and the TLS port of each.
DATASTORE_PORTS = {"mongo": (27017,), "rabbitmq": (5671, 5672), "redis": (6379, 6380)}
# APIs outside the cluster a process calls, by the URL setting that says where, and the URL when
# it is unset.
EXTERNAL_APIS = {"payments": ("stripe_api_base", "https://api.stripe.com")}
# Mail relays outside the cluster a process sends to, by the setting that names the port.
SMTP_RELAYS = {"notifications": "smtp_port"}
# The cluster's DNS, which every pod may ask (kube-dns in kube-system: kubeadm, kind, GKE, EKS).
KUBE_DNS = {
    "namespace": {"kubernetes.io/metadata.name": "kube-system"},
    "pod": {"k8s-app": "kube-dns"},
}
# The gRPC services a process calls (its `<service>_ADDR` settings must reach them): the
# gateway all of them; orders asks tickets (the authority on seats) to hold an order's seats;
# payments reads the order it charges. Tickets calls none.
CALLS = {
    "gateway": "all",
    "orders": ("tickets",),
    "payments": ("orders",),
}


@dataclass(frozen=True)
class SingleWriter:
    """A process that must run as exactly one replica: it alone writes a file."""

    file_setting: str  # the setting naming the file
    reason: str


# Processes that run as one replica, and why. Held to: spec.replicas 1, no
# HorizontalPodAutoscaler (it would add writers), the Recreate strategy (a rolling update would
# start the new pod while the old one holds the file), and the file on a PersistentVolumeClaim
# mounted in the pod (anything else is lost with the pod).
SINGLE_WRITER = {
    "insights": SingleWriter(
        "insights_db_path",
        "DuckDB lets one process write its file (it locks it); a second replica could not open "
        "it, so insights scales up, not out (docs/analytics.md: the path to ClickHouse or "
        "BigQuery)",
    ),
}
# Every process needs the public key to verify tokens; secrets a service's own settings class
# declares (JWT private key: auth; Stripe secret key: payments; webhook secret: gateway) are
# needed by that process and must reach no other.
SHARED_SECRETS = {"jwt_public_key"}
# Secrets a process runs without: a trusted mail relay wants no login (notifications).
OPTIONAL_SECRETS = {"smtp_password"}
# Environment variables a container may set that are not settings fields.
NON_SETTINGS_ENV = re.compile(r"^(PYTHON\w*|HOME|TZ)$")
# Published ports a developer needs from docker compose (on 127.0.0.1): the gateway, the
# RabbitMQ UI, the Stripe stand-in, whose Stripe.js the web app loads in the browser, and the
# development mail server's web view.
STRIPE_STANDIN = "stripe-standin"  # the compose service of the project's Stripe stand-in
STRIPE_STANDIN_PORT = 8420  # deploy/stripe-standin.Dockerfile
MAIL_SERVER, MAIL_WEB_PORT = "mail", 1080  # deploy/maildev.Dockerfile
COMPOSE_PUBLISHED = {
    "gateway": None,
    "rabbitmq": {15672},
    STRIPE_STANDIN: {STRIPE_STANDIN_PORT},
    MAIL_SERVER: {MAIL_WEB_PORT},
}
# Everything on the gateway's public port is public (the API, the web app): the Ingress routes `/`
# by prefix. Its probes and /metrics are on its admin port, which no Ingress may reach.
INGRESS_PATHS = ("/",)
INGRESS_CONTROLLER = {
    "namespace": {"kubernetes.io/metadata.name": "ingress-nginx"},
    "pod": {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"},
}
PRE_STOP_MARGIN_SECONDS = 5
# Prometheus, as the NetworkPolicies admit it to the metrics ports: its pods in the namespace
# `monitoring` (kube-prometheus-stack and the prometheus chart label them so).
PROMETHEUS = {
    "namespace": {"kubernetes.io/metadata.name": "monitoring"},
    "pod": {"app.kubernetes.io/name": "prometheus"},
}
METRICS_PATH = "/metrics"
LOOPBACK = re.compile(r"127\.0\.0\.1|localhost|\[::1\]")


class CheckError(RuntimeError):
    """A check could not run at all (a tool failed, a file is missing)."""


# ---------------------------------------------------------------- the code's truth


@dataclass(frozen=True)
class Process:
    """One process of the system, as the code defines it."""

    name: str
    settings: type[CommonSettings]
    grpc: bool
    package: str  # the Python package that holds its code
    extra: str | None = None  # ServiceSpec.extra: the Dockerfile target and image it runs

    @property
    def image_target(self) -> str:
        """The Dockerfile target its image is built from."""
        return self.extra or "services"

    @property
    def image(self) -> str:
        """The image it runs (CONTRACTS 1): insights alone needs numpy, SciPy and DuckDB (its
        ServiceSpec.extra), so it has an image of its own, `ticketing-insights`; every other
        process runs `ticketing`. An overlay's `images:` gives both their registry and tag."""
        return f"ticketing-{self.extra}" if self.extra else "ticketing"

    @property
    def fields(self) -> dict[str, FieldInfo]:
        return dict(self.settings.model_fields)

    @property
    def env_vars(self) -> set[str]:
        return {name.upper() for name in self.fields}

    @property
    def port_setting(self) -> str:
        return f"{self.name}_port"

    @property
    def port(self) -> int:
        field = self.fields.get(self.port_setting)
        if field is None or not isinstance(field.default, int):
            raise CheckError(
                f"{self.settings.__name__} has no integer default {self.port_setting}: "
                "cannot tell which port the process listens on"
            )
        return field.default

    @property
    def metrics_port_setting(self) -> str:
        """A gRPC service serves /metrics on a port of its own; the gateway on its admin port,
        with its probes (its public port answers neither)."""
        return f"{self.name}_metrics_port" if self.grpc else f"{self.name}_admin_port"

    @property
    def metrics_port(self) -> int:
        field = self.fields.get(self.metrics_port_setting)
        if field is None or not isinstance(field.default, int) or not field.default:
            raise CheckError(
                f"{self.settings.__name__} has no non-zero default {self.metrics_port_setting}: "
                "cannot tell where Prometheus scrapes the process"
            )
        return field.default

    @property
    def probe_port(self) -> int:
        """Where the kubelet (and compose) probe it: a gRPC service's health service on its
        gRPC port; the gateway's /healthz and /readyz on its admin port."""
        return self.port if self.grpc else self.metrics_port

    @property
    def probe_port_setting(self) -> str:
        return self.port_setting if self.grpc else self.metrics_port_setting

    @property
    def uses(self) -> set[str]:
        return USES.get(self.name, set(DATASTORE_SETTINGS))

    @property
    def required(self) -> set[str]:
        """Settings without a default, and those whose default is this machine (fine for
        `ticketing run`, wrong in a container), the datastore URLs of what it uses among them."""
        names = set()
        for name, f in self.fields.items():
            var = name.upper()
            default = default_text(f)
            if f.is_required():
                names.add(var)
            elif default is not None and LOOPBACK.search(default):
                if var not in DATASTORE_SETTINGS.values():
                    names.add(var)
        return names | {DATASTORE_SETTINGS[d] for d in self.uses}

    @property
    def secrets(self) -> set[str]:
        """Secret settings (`x` with an `x_file` twin) this process cannot run without."""
        own = set(self.fields) - set(CommonSettings.model_fields)
        return {
            x
            for x in _secret_pairs(self.fields)
            if (x in own or x in SHARED_SECRETS) and x not in OPTIONAL_SECRETS
        }

    def describe(self, setting: str) -> str:
        return f"{self.settings.__name__}.{setting}"


def default_text(field: FieldInfo) -> str | None:
    """A field's default as the text it holds (a secret URL's too), None if it is no text."""
    default = field.default
    if hasattr(default, "get_secret_value"):
        default = default.get_secret_value()
    return default if isinstance(default, str) else None


def _secret_pairs(fields: Iterable[str]) -> set[str]:
    names = set(fields)
    return {name for name in names if f"{name}_file" in names}


def settings_class(spec: ServiceSpec) -> type[CommonSettings]:
    """The CommonSettings subclass defined in the service package's config module."""
    module_name = spec.module.rsplit(".", 1)[0] + ".config"
    module = importlib.import_module(module_name)
    found = [
        cls
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, CommonSettings)
        and cls is not CommonSettings
        and cls.__module__ == module_name
    ]
    if len(found) != 1:
        raise CheckError(f"{module_name} should define exactly one CommonSettings subclass")
    return found[0]


def load_processes(specs: Sequence[ServiceSpec] = SERVICES) -> list[Process]:
    return [
        Process(
            s.name, settings_class(s), s.grpc_service is not None, s.module.split(".")[0], s.extra
        )
        for s in specs
    ]


def grpc_addr_setting(service: str) -> str:
    return f"{service.upper()}_ADDR"


def callees(process: Process, processes: Sequence[Process]) -> list[Process]:
    calls = CALLS.get(process.name)
    if calls == "all":
        return [p for p in processes if p.grpc]
    return [p for p in processes if p.name in (calls or ())]


def secret_owners(processes: Sequence[Process]) -> dict[str, set[str]]:
    """Secret setting -> the processes allowed to hold it."""
    owners: dict[str, set[str]] = {}
    for p in processes:
        for secret in p.secrets:
            owners.setdefault(secret, set()).add(p.name)
    return owners
