"""NetworkPolicies, evaluated: who may reach each process and datastore (ingress), held against
who calls whom (model.CALLS, model.USES), Prometheus and the ingress controller. What each pod may
reach (egress) is k8s_egress's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tools.deploy_check.k8s_objects import (
    Manifests,
    named_ports,
    pod_template,
    resolve_port,
    selector_matches,
)
from tools.deploy_check.model import (
    DATASTORE_PEERS,
    DATASTORE_SETTINGS,
    INGRESS_CONTROLLER,
    PROMETHEUS,
    Process,
    callees,
)

# The application's namespace as policies see it (its name does not matter to them).
OWN_NAMESPACE = {"kubernetes.io/metadata.name": "ticketing"}


@dataclass(frozen=True)
class Peer:
    """A possible source of traffic for the NetworkPolicy evaluation."""

    name: str
    pod_labels: Mapping[str, str]
    namespace_labels: Mapping[str, str] | None  # None: the application's own namespace


def peer_matches(rule_peer: Mapping, source: Peer, own_ns: Mapping[str, str]) -> bool:
    if "ipBlock" in rule_peer:
        return source.namespace_labels is not None  # treat as "outside": never our own pods
    ns_labels = own_ns if source.namespace_labels is None else source.namespace_labels
    if "namespaceSelector" in rule_peer:
        if not selector_matches(rule_peer["namespaceSelector"], ns_labels):
            return False
    elif source.namespace_labels is not None:
        return False  # a bare podSelector means this namespace only
    return selector_matches(rule_peer.get("podSelector", {}), source.pod_labels)


def policies_for(m: Manifests, labels: Mapping[str, str], direction: str) -> list[dict]:
    """The NetworkPolicies that select a pod with `labels` for `direction` ("Ingress" or
    "Egress"; a policy without policyTypes is an ingress one, plus egress if it has rules)."""
    found = []
    for np in m.of_kind("NetworkPolicy"):
        spec = np["spec"]
        types = spec.get("policyTypes") or ["Ingress", *(["Egress"] if "egress" in spec else [])]
        if direction in types and selector_matches(spec.get("podSelector", {}), labels):
            found.append(np)
    return found


def allowed_sources(
    m: Manifests, labels: Mapping[str, str], port: int, ports: Mapping[str, int], peers: list[Peer]
) -> set[str]:
    """The peers the NetworkPolicies of the namespace let reach a pod with `labels` on `port`."""
    own_ns = OWN_NAMESPACE
    policies = policies_for(m, labels, "Ingress")
    if not policies:
        return {peer.name for peer in peers}
    allowed = set()
    for peer in peers:
        for np in policies:
            for rule in np["spec"].get("ingress") or []:
                rule_ports = rule.get("ports")
                if rule_ports and not any(
                    resolve_port(rp.get("port"), ports) in (port, None)
                    and rp.get("protocol", "TCP") == "TCP"
                    for rp in rule_ports
                ):
                    continue
                sources = rule.get("from")
                if not sources or any(peer_matches(s, peer, own_ns) for s in sources):
                    allowed.add(peer.name)
    return allowed


def check_network_policies(processes: Sequence[Process], m: Manifests, where: str) -> list[str]:
    peers = [
        Peer(w["metadata"]["name"], pod_template(w)["metadata"].get("labels") or {}, None)
        for w in m.workloads()
    ]
    peers += [
        Peer("the ingress controller", INGRESS_CONTROLLER["pod"], INGRESS_CONTROLLER["namespace"]),
        Peer("prometheus", PROMETHEUS["pod"], PROMETHEUS["namespace"]),
        Peer("any pod of another namespace", {}, {"kubernetes.io/metadata.name": "elsewhere"}),
        Peer("an unlabelled pod of the namespace", {}, None),
    ]
    problems = []
    targets: list[tuple[str, dict, int, dict, set[str]]] = []
    for p in processes:
        d = m.get("Deployment", p.name)
        if d is None:
            continue
        pod = pod_template(d)
        c = next((c for c in pod["spec"]["containers"] if c["name"] == p.name), None)
        labels, ports = pod["metadata"].get("labels") or {}, named_ports(c or {})
        expected = (
            {"the ingress controller"}  # the public port; Prometheus scrapes the admin one
            if not p.grpc
            else {q.name for q in processes if p in callees(q, processes)}
        )
        targets.append((p.name, labels, p.port, ports, expected))
        if p.metrics_port != p.port:
            targets.append((p.name, labels, p.metrics_port, ports, {"prometheus"}))
    for store in DATASTORE_SETTINGS:
        s = m.get("StatefulSet", store) or m.get("Deployment", store)
        if s is None:
            continue
        pod = pod_template(s)
        c = pod["spec"]["containers"][0]
        port = (c.get("ports") or [{}])[0].get("containerPort")
        users = {p.name for p in processes if store in p.uses} | DATASTORE_PEERS.get(store, set())
        targets.append((store, pod["metadata"].get("labels") or {}, port, named_ports(c), users))
    for name, labels, port, ports, expected in targets:
        allowed = allowed_sources(m, labels, port, ports, peers)
        if allowed - expected:
            problems.append(
                f"{where}: NetworkPolicy lets {', '.join(sorted(allowed - expected))} reach "
                f"{name}:{port}; only {', '.join(sorted(expected))} should"
            )
        if expected - allowed:
            problems.append(
                f"{where}: NetworkPolicy keeps {', '.join(sorted(expected - allowed))} from "
                f"reaching {name}:{port}"
            )
    return problems
