"""What every part of the pod check shares: the rendered objects it reads and how it fails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tools.deploy_check.k8s_objects import Manifests, pod_template, selector_matches

# Every container, volume and network the check makes carries this label (value: the run's id)
# and its name starts with this prefix, so a run removes exactly what it made.
PREFIX = "podcheck"
RUN_LABEL = "podcheck.run"


class PodCheckError(Exception):
    """A workload fails the check: the message names the workload, what failed and why."""


class NotEmulated(PodCheckError):
    """The pod spec uses something this check cannot reproduce faithfully with Docker."""


@dataclass(frozen=True)
class Secrets:
    """Secret name -> key -> bytes: what `kubectl create secret` would have put in the cluster."""

    data: Mapping[str, Mapping[str, bytes]]

    def value(self, name: str, key: str, where: str) -> bytes:
        if name not in self.data:
            raise PodCheckError(
                f"{where}: Secret {name} does not exist (docs/deploying.md, 2. The Secrets, "
                "creates: "
                f"{', '.join(sorted(self.data)) or 'none'})"
            )
        if key not in self.data[name]:
            raise PodCheckError(
                f"{where}: Secret {name} has no key {key} "
                f"(it has: {', '.join(sorted(self.data[name]))})"
            )
        return self.data[name][key]


@dataclass(frozen=True)
class Workload:
    """One Deployment or StatefulSet of the rendered overlay, as the check runs it: one pod."""

    kind: str
    name: str
    namespace: str
    pod_name: str  # also the pod's hostname
    template: Mapping  # the pod template: metadata (labels) and spec
    # DNS names the pod answers to: its Services (and their cluster FQDNs), for a StatefulSet
    # also <pod>.<serviceName>.
    aliases: tuple[str, ...] = ()
    # A StatefulSet's volumeClaimTemplates: each a fresh volume of the pod.
    claims: tuple[str, ...] = ()
    # A deliberately broken copy (the check must fail it): the reason expected in the failure.
    expected_failure: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def spec(self) -> Mapping:
        return self.template["spec"]

    @property
    def labels(self) -> Mapping[str, str]:
        return (self.template.get("metadata") or {}).get("labels") or {}

    @property
    def title(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class Overlay:
    """The rendered overlay: its workloads and what their pods read (ConfigMaps, Services)."""

    manifests: Manifests
    namespace: str

    def workloads(self, kind: str) -> list[Workload]:
        out = []
        for doc in self.manifests.of_kind(kind):
            name = doc["metadata"]["name"]
            namespace = doc["metadata"].get("namespace") or self.namespace
            template = pod_template(doc)
            labels = (template.get("metadata") or {}).get("labels") or {}
            claims: tuple[str, ...] = ()
            if kind == "StatefulSet":
                pod_name = f"{name}-0"
                service = doc["spec"].get("serviceName")
                own = (f"{pod_name}.{service}",) if service else ()
                templates = doc["spec"].get("volumeClaimTemplates") or []
                claims = tuple(c["metadata"]["name"] for c in templates)
            else:
                pod_name = f"{name}-podcheck"
                own = ()
            names = own + tuple(self.services_selecting(labels))
            aliases = tuple(a for n in names for a in _cluster_names(n, namespace))
            out.append(Workload(kind, name, namespace, pod_name, template, aliases, claims))
        return out

    def services_selecting(self, labels: Mapping[str, str]) -> list[str]:
        return [
            svc["metadata"]["name"]
            for svc in self.manifests.of_kind("Service")
            if svc["spec"].get("selector")
            and selector_matches({"matchLabels": svc["spec"]["selector"]}, labels)
        ]

    def services(self) -> list[Mapping]:
        return list(self.manifests.of_kind("Service"))

    def config_map(self, name: str) -> Mapping[str, str] | None:
        return self.manifests.config_map_data(name)


def _cluster_names(name: str, namespace: str) -> tuple[str, ...]:
    """How a pod of the namespace may spell a Service's name (the search path of its resolver)."""
    return (
        name,
        f"{name}.{namespace}",
        f"{name}.{namespace}.svc",
        f"{name}.{namespace}.svc.cluster.local",
    )
