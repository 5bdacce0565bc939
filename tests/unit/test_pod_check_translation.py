"""pod-check's translation of a pod spec into `docker` arguments, volumes and environment
(tools/pod_check/docker_args.py, env.py), on small hand-written specs. No Docker."""

from __future__ import annotations

import io
import tarfile
from decimal import Decimal

import pytest

from tools.deploy_check.k8s_objects import Manifests
from tools.pod_check import docker_args, env
from tools.pod_check.model import NotEmulated, Overlay, PodCheckError, Secrets, Workload

SECRETS = Secrets(
    {
        "db": {"url": b"mongodb://u:p@mongo-0.mongo:27017/", "password": b"p"},
        "keys": {"public.pem": b"PUBLIC", "private.pem": b"PRIVATE"},
    }
)
SERVICES = [
    {
        "kind": "Service",
        "metadata": {"name": "tickets"},
        "spec": {"selector": {"app": "tickets"}, "ports": [{"name": "grpc", "port": 50052}]},
    },
    {
        "kind": "Service",
        "metadata": {"name": "mongo"},
        "spec": {"clusterIP": "None", "selector": {"app": "mongo"}, "ports": [{"port": 27017}]},
    },
]
CONFIG = {"kind": "ConfigMap", "metadata": {"name": "cfg-abc"}, "data": {"A": "1", "B": "2"}}


def overlay(*extra: dict) -> Overlay:
    return Overlay(Manifests([*SERVICES, CONFIG, *extra]), "ns")


def workload(spec: dict, kind: str = "Deployment", claims: tuple[str, ...] = ()) -> Workload:
    template = {"metadata": {"labels": {"app": "tickets"}}, "spec": spec}
    return Workload(kind, "tickets", "ns", "tickets-podcheck", template, claims=claims)


def container(**fields) -> dict:
    return {"name": "c", "image": "ticketing:dev", **fields}


def run_args(spec: dict, image_user: str = "10001:10001", **kw) -> list[str]:
    w = workload(spec)
    c = spec["containers"][0]
    volumes = docker_args.volume_plans(w, overlay(), SECRETS, "podcheck-t-tickets")
    return docker_args.container_args(
        w,
        c,
        docker_name="podcheck-t-tickets-c",
        sandbox="podcheck-t-tickets",
        image_user=image_user,
        env=kw.pop("env", {}),
        command=c.get("command"),
        args=c.get("args"),
        volumes=volumes,
        labels={"podcheck.run": "t"},
        **kw,
    )


def pairs(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


# ---------------------------------------------------------------- quantities


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("512Mi", Decimal(512 * 2**20)),
        ("1Gi", Decimal(2**30)),
        ("500m", Decimal("0.5")),
        ("2", Decimal(2)),
        ("128M", Decimal(128 * 10**6)),
        ("1e3", Decimal(1000)),
        ("1.5Gi", Decimal(3 * 2**29)),
    ],
)
def test_quantities(text: str, value: Decimal) -> None:
    assert docker_args.quantity(text) == value


def test_a_malformed_quantity_is_refused() -> None:
    with pytest.raises(PodCheckError, match="not a Kubernetes quantity"):
        docker_args.quantity("12 MB")


def test_cpu_shares_follow_the_kubelet() -> None:
    assert docker_args.cpu_shares("100m") == 102
    assert docker_args.cpu_shares("2") == 2048
    assert docker_args.cpu_shares("1m") == 2  # the kernel's minimum


# ---------------------------------------------------------------- securityContext


HARDENED = {
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 2000,
        "supplementalGroups": [3000],
        "seccompProfile": {"type": "RuntimeDefault"},
    },
    "containers": [
        container(
            securityContext={
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
            }
        )
    ],
}


def test_a_hardened_pod_spec_becomes_hardened_docker_flags() -> None:
    args = run_args(HARDENED)
    assert pairs(args, "--user") == ["10001:10001"]
    assert pairs(args, "--group-add") == ["2000", "3000"]
    assert "--read-only" in args
    assert pairs(args, "--cap-drop") == ["ALL"] and pairs(args, "--cap-add") == ["NET_BIND_SERVICE"]
    assert pairs(args, "--security-opt") == ["no-new-privileges"]  # RuntimeDefault: Docker's own
    assert pairs(args, "--network") == ["container:podcheck-t-tickets"]
    assert pairs(args, "--pull") == ["never"]


def test_the_container_security_context_wins_over_the_pod_one() -> None:
    spec = {**HARDENED, "containers": [container(securityContext={"runAsUser": 4242})]}
    assert pairs(run_args(spec), "--user") == ["4242:10001"]


def test_no_seccomp_profile_is_unconfined_as_in_kubernetes() -> None:
    args = run_args({"containers": [container()]})
    assert pairs(args, "--security-opt") == ["seccomp=unconfined"]
    assert "--read-only" not in args and "--user" not in args


def test_a_localhost_seccomp_profile_is_not_approximated() -> None:
    spec = {"containers": [container(securityContext={"seccompProfile": {"type": "Localhost"}})]}
    with pytest.raises(NotEmulated, match="seccompProfile Localhost"):
        run_args(spec)


def test_run_as_non_root_refuses_root_and_names() -> None:
    spec = {"securityContext": {"runAsNonRoot": True}, "containers": [container()]}
    assert "--user" not in run_args(spec, image_user="10001")  # the image's numeric user
    with pytest.raises(PodCheckError, match="would run as root"):
        run_args(spec, image_user="")
    with pytest.raises(PodCheckError, match="'app' is not numeric"):
        run_args(spec, image_user="app")
    root = {"securityContext": {"runAsNonRoot": True, "runAsUser": 0}, "containers": [container()]}
    with pytest.raises(PodCheckError, match="would run as root"):
        run_args(root)


def test_a_stand_in_runs_without_the_security_context() -> None:
    args = run_args(HARDENED, hardened=False)
    assert not {"--user", "--read-only", "--cap-drop", "--security-opt"} & set(args)


def test_host_namespaces_are_not_emulated() -> None:
    w = workload({"hostNetwork": True, "containers": [container()]})
    with pytest.raises(NotEmulated, match="hostNetwork"):
        docker_args.sandbox_args(w, docker_name="s", network="n", image="i", volumes=[], labels={})


# ---------------------------------------------------------------- resources, command


def test_limits_become_memory_without_swap_and_cpus() -> None:
    spec = {
        "containers": [
            container(
                resources={
                    "requests": {"cpu": "100m", "memory": "160Mi"},
                    "limits": {"cpu": "500m", "memory": "384Mi"},
                }
            )
        ]
    }
    args = run_args(spec)
    assert pairs(args, "--memory") == [str(384 * 2**20)]
    assert pairs(args, "--memory-swap") == [str(384 * 2**20)]
    assert pairs(args, "--cpus") == ["0.5"]
    assert pairs(args, "--cpu-shares") == ["102"]


def test_a_cpu_limit_alone_is_also_the_request() -> None:
    args = run_args({"containers": [container(resources={"limits": {"cpu": "2"}})]})
    assert pairs(args, "--cpus") == ["2"] and pairs(args, "--cpu-shares") == ["2048"]


def test_command_replaces_the_entrypoint_and_args_the_cmd() -> None:
    both = run_args({"containers": [container(command=["sh", "-c"], args=["exec x"])]})
    assert pairs(both, "--entrypoint") == ["sh"] and both[-3:] == ["ticketing:dev", "-c", "exec x"]
    only_args = run_args({"containers": [container(args=["gateway"])]})
    assert "--entrypoint" not in only_args and only_args[-2:] == ["ticketing:dev", "gateway"]
    only_command = run_args({"containers": [container(command=["sleep", "1"])]})
    assert pairs(only_command, "--entrypoint") == ["sleep"] and only_command[-1] == "1"


# ---------------------------------------------------------------- volumes


VOLUMES = {
    "securityContext": {"fsGroup": 10001},
    "containers": [
        container(
            volumeMounts=[
                {"name": "tmp", "mountPath": "/tmp"},
                {"name": "key", "mountPath": "/var/run/secrets/key"},
                {"name": "data", "mountPath": "/data", "readOnly": True},
            ]
        )
    ],
    "volumes": [
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        {
            "name": "key",
            "secret": {
                "secretName": "keys",
                "defaultMode": 0o400,
                "items": [{"key": "public.pem", "path": "pub/public.pem"}],
            },
        },
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
    ],
}
CLAIM = {"kind": "PersistentVolumeClaim", "metadata": {"name": "data"}, "spec": {}}


def test_volumes_become_docker_volumes_with_kubernetes_ownership() -> None:
    w = workload(VOLUMES)
    plans = docker_args.volume_plans(w, overlay(CLAIM), SECRETS, "podcheck-t-tickets")
    tmp, key, data = plans["tmp"], plans["key"], plans["data"]
    assert (tmp.tmpfs, tmp.size_bytes, tmp.root_mode, tmp.group) == (
        True,
        64 * 2**20,
        0o2777,
        10001,
    )
    create = tmp.create_args({"podcheck.run": "t"})
    assert create[-5:] == [
        "--opt",
        "device=tmpfs",
        "--opt",
        f"o=nodev,nosuid,size={64 * 2**20}",
        tmp.docker_name,
    ]
    # Only the items asked for; defaultMode 0400 | 0440 for the fsGroup, as the kubelet does.
    assert [(f.path, f.content, f.mode) for f in key.files] == [
        ("pub/public.pem", b"PUBLIC", 0o440)
    ]
    assert key.read_only and key.group == 10001
    assert (data.tmpfs, data.root_mode, data.files) == (False, 0o2775, ())

    mounts = pairs(docker_args.mount_args(w, VOLUMES["containers"][0], plans), "--mount")
    assert mounts == [
        "type=volume,src=podcheck-t-tickets-tmp,dst=/tmp,volume-nocopy",
        "type=volume,src=podcheck-t-tickets-key,dst=/var/run/secrets/key,volume-nocopy,readonly",
        "type=volume,src=podcheck-t-tickets-data,dst=/data,volume-nocopy,readonly",
    ]


def test_the_volume_tar_carries_owners_and_modes() -> None:
    w = workload(VOLUMES)
    plans = docker_args.volume_plans(w, overlay(CLAIM), SECRETS, "p")
    with tarfile.open(fileobj=io.BytesIO(docker_args.volume_tar(list(plans.values())))) as tar:
        entries = {m.name: (m.mode, m.uid, m.gid, m.isdir()) for m in tar.getmembers()}
        content = tar.extractfile("key/pub/public.pem").read()
    assert entries["tmp"] == (0o2777, 0, 10001, True)
    assert entries["key"] == (0o2755, 0, 10001, True)
    assert entries["key/pub"][3] and entries["key/pub/public.pem"] == (0o440, 0, 10001, False)
    assert entries["data"] == (0o2775, 0, 10001, True)
    assert content == b"PUBLIC"


def test_without_fs_group_secret_files_keep_their_mode_and_root_group() -> None:
    spec = {**VOLUMES, "securityContext": {}}
    plans = docker_args.volume_plans(workload(spec), overlay(CLAIM), SECRETS, "p")
    assert plans["key"].files[0].mode == 0o400 and plans["key"].group == 0


def test_a_missing_secret_key_or_claim_fails_the_pod() -> None:
    spec = {
        "containers": [container()],
        "volumes": [
            {"name": "k", "secret": {"secretName": "keys", "items": [{"key": "x", "path": "x"}]}}
        ],
    }
    with pytest.raises(PodCheckError, match="volume k: Secret keys: has no key x"):
        docker_args.volume_plans(workload(spec), overlay(), SECRETS, "p")
    with pytest.raises(PodCheckError, match="PersistentVolumeClaim data is not in the overlay"):
        docker_args.volume_plans(workload(VOLUMES), overlay(), SECRETS, "p")
    spec = {
        "containers": [container()],
        "volumes": [{"name": "k", "secret": {"secretName": "nope"}}],
    }
    with pytest.raises(PodCheckError, match="Secret nope does not exist"):
        docker_args.volume_plans(workload(spec), overlay(), SECRETS, "p")


def test_a_stateful_set_claim_template_is_a_fresh_volume() -> None:
    w = workload(
        {"securityContext": {"fsGroup": 999}, "containers": [container()]}, "StatefulSet", ("data",)
    )
    plans = docker_args.volume_plans(w, overlay(), SECRETS, "p")
    assert plans["data"].root_mode == 0o2775 and plans["data"].group == 999


def test_sub_path_is_not_emulated() -> None:
    mount = {"name": "tmp", "mountPath": "/x", "subPath": "a"}
    spec = {
        "containers": [container(volumeMounts=[mount])],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    with pytest.raises(NotEmulated, match="subPath"):
        run_args(spec)


# ---------------------------------------------------------------- environment


def test_expansion_follows_kubernetes() -> None:
    values = {"A": "x", "EMPTY": ""}
    assert env.expand("$(A)-$(B)", values) == "x-$(B)"
    assert env.expand("$$(A)", values) == "$(A)"
    assert env.expand("$(A", values) == "$(A"
    assert env.expand("a$b$", values) == "a$b$"
    assert env.expand("[$(EMPTY)]", values) == "[]"


def test_env_comes_from_env_from_then_env_in_order() -> None:
    c = container(
        envFrom=[
            {"configMapRef": {"name": "cfg-abc"}},
            {"prefix": "S_", "secretRef": {"name": "db"}},
        ],
        env=[
            {"name": "B", "value": "own"},
            {"name": "C", "value": "$(A)/$(B)/$(D)/$(TICKETS_SERVICE_HOST)"},
            {"name": "D", "value": "later"},
            {"name": "URL", "valueFrom": {"secretKeyRef": {"name": "db", "key": "url"}}},
            {"name": "ONE", "valueFrom": {"configMapKeyRef": {"name": "cfg-abc", "key": "A"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
        ],
    )
    o = overlay()
    result = env.container_env(workload({"containers": [c]}), c, o, SECRETS, "10.1.2.3")
    ip = env.cluster_ips(o)["tickets"]
    assert result["A"] == "1" and result["B"] == "own" and result["S_password"] == "p"
    assert result["C"] == f"1/own/$(D)/{ip}"  # D is declared after C: not expanded
    assert result["URL"] == "mongodb://u:p@mongo-0.mongo:27017/"
    assert (result["ONE"], result["IP"], result["POD"], result["APP"]) == (
        "1",
        "10.1.2.3",
        "tickets-podcheck",
        "tickets",
    )


def test_the_kubelet_injects_service_links_unless_the_pod_opts_out() -> None:
    o = overlay()
    c = container()
    linked = env.container_env(workload({"containers": [c]}), c, o, SECRETS, "10.1.2.3")
    ip = env.cluster_ips(o)["tickets"]
    assert linked["TICKETS_PORT"] == f"tcp://{ip}:50052"
    assert linked["TICKETS_SERVICE_PORT_GRPC"] == "50052"
    assert linked["TICKETS_PORT_50052_TCP_ADDR"] == ip
    assert not any(k.startswith("MONGO_") for k in linked)  # headless: no cluster IP, no links
    spec = {"enableServiceLinks": False, "containers": [c]}
    unlinked = env.container_env(workload(spec), c, o, SECRETS, "10.1.2.3")
    assert not any(k.startswith("TICKETS_") for k in unlinked)
    assert unlinked["KUBERNETES_SERVICE_HOST"] == env.KUBERNETES_SERVICE_IP  # always there


def test_a_declared_variable_wins_over_a_service_link() -> None:
    c = container(env=[{"name": "TICKETS_PORT", "value": "50052"}])
    result = env.container_env(workload({"containers": [c]}), c, overlay(), SECRETS, "10.1.2.3")
    assert result["TICKETS_PORT"] == "50052"


def test_missing_references_fail_and_optional_ones_do_not() -> None:
    o = overlay()
    missing_key = container(
        env=[{"name": "X", "valueFrom": {"secretKeyRef": {"name": "db", "key": "nope"}}}]
    )
    with pytest.raises(PodCheckError, match="env X: Secret db has no key nope"):
        env.container_env(workload({"containers": [missing_key]}), missing_key, o, SECRETS, "")
    missing_map = container(envFrom=[{"configMapRef": {"name": "cfg-other"}}])
    with pytest.raises(PodCheckError, match="ConfigMap cfg-other does not exist"):
        env.container_env(workload({"containers": [missing_map]}), missing_map, o, SECRETS, "")
    optional = container(
        env=[
            {
                "name": "X",
                "valueFrom": {"secretKeyRef": {"name": "db", "key": "nope", "optional": True}},
            }
        ],
        envFrom=[{"secretRef": {"name": "absent", "optional": True}}],
    )
    result = env.container_env(workload({"containers": [optional]}), optional, o, SECRETS, "")
    assert "X" not in result


def test_command_and_args_are_expanded_against_the_environment() -> None:
    c = container(command=["run", "$(A)"], args=["--to=$(B)", "$$(A)"])
    assert env.command_line(c, {"A": "1", "B": "2"}) == (["run", "1"], ["--to=2", "$(A)"])
    assert env.command_line(container(), {}) == (None, None)
