"""Egress NetworkPolicies, evaluated: each pod reaches only DNS and what it calls, derived from the
code's truth: the services in its `<SERVICE>_ADDR` settings that it calls (model.CALLS), the
datastores it uses (model.USES: the in-namespace pods in dev, addresses outside the cluster on
their ports in prod), the external APIs of its URL settings (model.EXTERNAL_APIS), the SMTP relay
of its port setting (model.SMTP_RELAYS). Every other
pod, port and outside address is a destination it must not reach."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

from tools.deploy_check.k8s_network import OWN_NAMESPACE, Peer, peer_matches, policies_for
from tools.deploy_check.k8s_objects import (
    EnvValue,
    Manifests,
    container_env,
    pod_template,
)
from tools.deploy_check.k8s_processes import split_target
from tools.deploy_check.model import (
    DATASTORE_PEERS,
    DATASTORE_PORTS,
    DATASTORE_SETTINGS,
    EXTERNAL_APIS,
    KUBE_DNS,
    SMTP_RELAYS,
    Process,
    callees,
    grpc_addr_setting,
)

# Addresses outside the cluster: one on the internet (TEST-NET-3), one in a private range (a
# managed database in the VPC). Pods are never matched by ipBlock here: which ipBlocks cover pod
# addresses is up to the CNI, so no rule of ours may rely on one.
INTERNET, PRIVATE = "the internet", "a private address"
OUTSIDE = {INTERNET: "203.0.113.10", PRIVATE: "10.20.30.40"}
DNS = ("kube-dns:53/UDP", "kube-dns:53/TCP")


@dataclass(frozen=True)
class Destination:
    name: str  # as a problem names it: "tickets:50052", "kube-dns:53/UDP", "the internet:443"
    port: int
    protocol: str = "TCP"
    peer: Peer | None = None  # a pod
    address: str | None = None  # or an address outside the cluster
    port_names: Mapping[str, int] | None = None


def destinations(m: Manifests, outside_ports: Sequence[int]) -> list[Destination]:
    found = [
        Destination(DNS[0], 53, "UDP", Peer("kube-dns", KUBE_DNS["pod"], KUBE_DNS["namespace"])),
        Destination(DNS[1], 53, "TCP", Peer("kube-dns", KUBE_DNS["pod"], KUBE_DNS["namespace"])),
    ]
    for w in m.workloads():
        pod = pod_template(w)
        peer = Peer(w["metadata"]["name"], pod["metadata"].get("labels") or {}, None)
        for c in pod["spec"]["containers"]:
            names = {p["name"]: p["containerPort"] for p in c.get("ports") or [] if "name" in p}
            for port in c.get("ports") or []:
                if port.get("protocol", "TCP") == "TCP":
                    number = port["containerPort"]
                    name = f"{peer.name}:{number}"
                    found.append(Destination(name, number, peer=peer, port_names=names))
    for where, address in OUTSIDE.items():
        for port in outside_ports:
            found.append(Destination(f"{where}:{port}", port, address=address))
    return found


def _port_matches(rule_port: Mapping, d: Destination) -> bool:
    if rule_port.get("protocol", "TCP") != d.protocol:
        return False
    port = rule_port.get("port")
    if port is None:
        return True
    if isinstance(port, str) and not port.isdigit():
        return (d.port_names or {}).get(port) == d.port
    return int(port) <= d.port <= int(rule_port.get("endPort", port))


def _to_matches(to: Mapping, d: Destination) -> bool:
    if "ipBlock" in to:
        if d.address is None:
            return False
        address = ipaddress.ip_address(d.address)
        block = to["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except") or []
        )
    return d.peer is not None and peer_matches(to, d.peer, OWN_NAMESPACE)


def allowed_destinations(
    m: Manifests, labels: Mapping[str, str], dests: Sequence[Destination]
) -> set[str]:
    """What the namespace's NetworkPolicies let a pod with `labels` reach."""
    policies = policies_for(m, labels, "Egress")
    if not policies:
        return {d.name for d in dests}
    allowed = set()
    for d in dests:
        for np in policies:
            for rule in np["spec"].get("egress") or []:
                ports = rule.get("ports")
                if ports and not any(_port_matches(rp, d) for rp in ports):
                    continue
                to = rule.get("to")
                if not to or any(_to_matches(t, d) for t in to):
                    allowed.add(d.name)
    return allowed


def _env_of(p: Process, m: Manifests) -> Mapping[str, EnvValue]:
    d = m.get("Deployment", p.name)
    spec = pod_template(d)["spec"] if d is not None else {"containers": []}
    c = next((c for c in spec["containers"] if c["name"] == p.name), None)
    return container_env(c, m, "")[0] if c is not None else {}


def _store_port(m: Manifests, store: str) -> int | None:
    s = m.get("StatefulSet", store) or m.get("Deployment", store)
    if s is None:
        return None
    return pod_template(s)["spec"]["containers"][0]["ports"][0]["containerPort"]


def expected_egress(p: Process, processes: Sequence[Process], m: Manifests) -> set[str]:
    """What `p` must reach, and nothing more: DNS, the services it calls (where its `*_ADDR`
    settings point), the datastores it uses, the external APIs its URL settings name."""
    env = _env_of(p, m)
    expected = set(DNS)
    for callee in callees(p, processes):
        value = env.get(grpc_addr_setting(callee.name))
        _, host, port = split_target(value.value if value and value.value else "")
        service = host.split(".")[0] or callee.name
        expected.add(f"{service}:{port or callee.port}")
    for store in p.uses:
        port = _store_port(m, store)
        if port is not None:
            expected.add(f"{store}:{port}")
        else:  # outside the cluster (prod): on its ports, wherever it is
            expected |= {f"{w}:{n}" for w in OUTSIDE for n in DATASTORE_PORTS[store]}
    if p.name in EXTERNAL_APIS:
        setting, default = EXTERNAL_APIS[p.name]
        value = env.get(setting.upper())
        url = urlparse(value.value if value and value.value else default)
        expected.add(f"{INTERNET}:{url.port or (443 if url.scheme == 'https' else 80)}")
    if p.name in SMTP_RELAYS:
        value = env.get(SMTP_RELAYS[p.name].upper())
        expected.add(f"{INTERNET}:{value.value if value and value.value else 25}")
    return expected


def check_egress(processes: Sequence[Process], m: Manifests, where: str) -> list[str]:
    outside = sorted(
        {443, 80, 4317, 25, 465, 587, *(n for ports in DATASTORE_PORTS.values() for n in ports)}
    )
    dests = destinations(m, outside)
    sources: list[tuple[str, Mapping[str, str], set[str]]] = []
    for p in processes:
        d = m.get("Deployment", p.name)
        if d is not None:
            labels = pod_template(d)["metadata"].get("labels") or {}
            sources.append((p.name, labels, expected_egress(p, processes, m)))
    for store in DATASTORE_SETTINGS:
        s = m.get("StatefulSet", store) or m.get("Deployment", store)
        if s is not None:
            peers = {f"{peer}:{_store_port(m, peer)}" for peer in DATASTORE_PEERS.get(store, ())}
            sources.append((store, pod_template(s)["metadata"].get("labels") or {}, {*DNS, *peers}))
    problems = []
    for name, labels, expected in sources:
        allowed = allowed_destinations(m, labels, dests)
        if allowed - expected:
            extra = ", ".join(sorted(allowed - expected))
            problems.append(
                f"{where}: NetworkPolicy lets {name} reach {extra}; "
                f"it should reach only {', '.join(sorted(expected))}"
            )
        if expected - allowed:
            problems.append(
                f"{where}: NetworkPolicy keeps {name} from reaching "
                f"{', '.join(sorted(expected - allowed))}"
            )
    return problems
