"""A pod spec as `docker` command lines: one sandbox container per pod, one container per container.

Like the kubelet's pause container, the sandbox holds the pod's network namespace (its IP, its
hostname, the DNS names of its Services as network aliases) and keeps its volumes mounted; every
container of the pod joins it with `--network container:<sandbox>`. Translation:

- runAsUser / runAsGroup (container over pod): `--user UID[:GID]`; fsGroup and
  supplementalGroups: `--group-add GID` (and the volumes' group, below); runAsNonRoot: refused,
  as the kubelet refuses, when the user would be 0 or a name;
- readOnlyRootFilesystem: `--read-only`; capabilities.drop / add: `--cap-drop` / `--cap-add`;
  privileged: `--privileged`; allowPrivilegeEscalation false: `--security-opt
  no-new-privileges`; seccompProfile RuntimeDefault: Docker's default profile, Unconfined or
  none: `--security-opt seccomp=unconfined`;
- limits.memory: `--memory` and the same `--memory-swap` (no swap, as under the kubelet);
  limits.cpu: `--cpus`; requests.cpu (else limits.cpu): `--cpu-shares`;
- env and envFrom (env.py): `--env NAME=VALUE`; command: `--entrypoint` and the first
  arguments (it replaces ENTRYPOINT and CMD), args: the arguments (they replace CMD);
- emptyDir: a tmpfs volume of its sizeLimit, mode 0777 (group fsGroup, setgid);
- secret and configMap volumes: a volume holding the selected items with their mode or
  defaultMode, owner root, group fsGroup and mode | 0440 when there is one (the kubelet's
  SetVolumeOwnership), always mounted read-only;
- persistentVolumeClaim and volumeClaimTemplates: a fresh volume, group fsGroup, mode 2775;
- volumeMounts: `--mount type=volume,...,volume-nocopy[,readonly]` (Kubernetes never copies the
  image's files into a volume).

What the kubelet does and Docker cannot (subPath on this engine, hostNetwork, projected volumes,
...) is refused with NotEmulated rather than approximated.
"""

from __future__ import annotations

import io
import math
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from tools import k8s_quantity
from tools.pod_check.model import NotEmulated, Overlay, PodCheckError, Secrets, Workload

# Where the sandbox mounts the pod's volumes (to fill them, and to keep tmpfs ones alive).
SANDBOX_VOLUMES = "/podcheck/volumes"

# ---------------------------------------------------------------- quantities


def quantity(value: str | int | float) -> Decimal:
    """A Kubernetes resource quantity ("512Mi", "500m", "2", "1e3") as a number."""
    try:
        return k8s_quantity.parse(value)
    except k8s_quantity.NotAQuantity as exc:
        raise PodCheckError(str(exc)) from None


def memory_bytes(value: str | int) -> int:
    return math.ceil(quantity(value))


def cpu_shares(value: str | int) -> int:
    """The kubelet's cgroup v1 shares for a CPU request (MilliCPUToShares)."""
    return max(2, int(quantity(value) * 1000) * 1024 // 1000)


# ---------------------------------------------------------------- volumes


@dataclass(frozen=True)
class VolumeFile:
    path: str  # relative to the volume's root
    content: bytes
    mode: int


@dataclass(frozen=True)
class VolumePlan:
    """One of the pod's volumes as a Docker volume: how to create it and what to put in it."""

    name: str  # the pod's name for it
    docker_name: str
    tmpfs: bool
    size_bytes: int | None
    root_mode: int
    group: int  # of the root directory and every file (fsGroup, else root's)
    files: tuple[VolumeFile, ...] = ()
    read_only: bool = False  # Secret and ConfigMap volumes are always mounted read-only

    def create_args(self, labels: Mapping[str, str]) -> list[str]:
        args = ["volume", "create", *label_args(labels)]
        if self.tmpfs:
            options = "" if self.size_bytes is None else f",size={self.size_bytes}"
            args += ["--driver", "local", "--opt", "type=tmpfs", "--opt", "device=tmpfs"]
            args += ["--opt", f"o=nodev,nosuid{options}"]
        return [*args, self.docker_name]


def _files(
    where: str,
    source: Mapping[str, bytes] | None,
    volume: Mapping,
    fs_group: int | None,
) -> tuple[VolumeFile, ...]:
    items = volume.get("items")
    default_mode = volume.get("defaultMode", 0o644)
    data = source or {}
    wanted = items if items is not None else [{"key": k, "path": k} for k in sorted(data)]
    out = []
    for item in wanted:
        if item["key"] not in data:
            if volume.get("optional"):
                continue
            raise PodCheckError(f"{where}: has no key {item['key']}")
        mode = item.get("mode", default_mode)
        if fs_group is not None:
            mode |= 0o440  # the kubelet's SetVolumeOwnership on a read-only volume
        out.append(VolumeFile(item["path"], data[item["key"]], mode))
    return tuple(out)


def volume_plans(
    workload: Workload,
    overlay: Overlay,
    secrets: Secrets,
    docker_prefix: str,
) -> dict[str, VolumePlan]:
    spec = workload.spec
    fs_group = (spec.get("securityContext") or {}).get("fsGroup")
    group = fs_group if fs_group is not None else 0
    setgid = 0o2000 if fs_group is not None else 0
    volumes = list(spec.get("volumes") or [])
    volumes += [{"name": claim, "persistentVolumeClaim": {}} for claim in workload.claims]
    plans = {}
    for volume in volumes:
        name = volume["name"]
        docker_name = f"{docker_prefix}-{name}"
        where = f"{workload.title} volume {name}"
        if "emptyDir" in volume:
            limit = (volume["emptyDir"] or {}).get("sizeLimit")
            size = None if limit is None else memory_bytes(limit)
            plans[name] = VolumePlan(name, docker_name, True, size, 0o777 | setgid, group)
        elif "secret" in volume:
            ref = volume["secret"]
            secret = ref["secretName"]
            if secret not in secrets.data and not ref.get("optional"):
                secrets.value(secret, "", where)  # raises, naming the Secret
            files = _files(f"{where}: Secret {secret}", secrets.data.get(secret), ref, fs_group)
            root = 0o755 | (0o2550 if fs_group is not None else 0)
            plans[name] = VolumePlan(name, docker_name, True, None, root, group, files, True)
        elif "configMap" in volume:
            ref = volume["configMap"]
            data = overlay.config_map(ref["name"])
            if data is None and not ref.get("optional"):
                raise PodCheckError(f"{where}: ConfigMap {ref['name']} does not exist")
            as_bytes = {k: v.encode() for k, v in (data or {}).items()}
            files = _files(f"{where}: ConfigMap {ref['name']}", as_bytes, ref, fs_group)
            root = 0o755 | (0o2550 if fs_group is not None else 0)
            plans[name] = VolumePlan(name, docker_name, False, None, root, group, files, True)
        elif "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"].get("claimName")
            if claim is not None and overlay.manifests.get("PersistentVolumeClaim", claim) is None:
                raise PodCheckError(f"{where}: PersistentVolumeClaim {claim} is not in the overlay")
            root = 0o755 | (0o2070 if fs_group is not None else 0)
            plans[name] = VolumePlan(name, docker_name, False, None, root, group)
        else:
            kinds = sorted(set(volume) - {"name"})
            raise NotEmulated(f"{where}: {kinds} volumes are not emulated by pod-check")
    return plans


def volume_tar(plans: Sequence[VolumePlan]) -> bytes:
    """The volumes' roots and files, owned by root and their group, for `tar -x --same-owner`
    in the sandbox (each volume is mounted there at SANDBOX_VOLUMES/<name>)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:

        def add_dir(path: str, mode: int, group: int) -> None:
            entry = tarfile.TarInfo(path)
            entry.type, entry.mode, entry.uid, entry.gid = tarfile.DIRTYPE, mode, 0, group
            tar.addfile(entry)

        for plan in plans:
            add_dir(plan.name, plan.root_mode, plan.group)
            made = set()
            for file in plan.files:
                parts = file.path.split("/")
                for depth in range(1, len(parts)):
                    sub = "/".join(parts[:depth])
                    if sub not in made:
                        made.add(sub)
                        add_dir(f"{plan.name}/{sub}", plan.root_mode, plan.group)
                entry = tarfile.TarInfo(f"{plan.name}/{file.path}")
                entry.size, entry.mode, entry.uid, entry.gid = (
                    len(file.content),
                    file.mode,
                    0,
                    plan.group,
                )
                tar.addfile(entry, io.BytesIO(file.content))
    return buffer.getvalue()


# ---------------------------------------------------------------- containers


def label_args(labels: Mapping[str, str]) -> list[str]:
    return [arg for key, value in sorted(labels.items()) for arg in ("--label", f"{key}={value}")]


def sandbox_args(
    workload: Workload,
    *,
    docker_name: str,
    network: str,
    image: str,
    volumes: Sequence[VolumePlan],
    labels: Mapping[str, str],
) -> list[str]:
    """The pod's sandbox: its IP, hostname and DNS names; it only sleeps, and fills the volumes
    as root with just the capabilities to set their owners and modes."""
    spec = workload.spec
    for field in ("hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace"):
        if spec.get(field):
            raise NotEmulated(f"{workload.title}: {field} is not emulated by pod-check")
    if (spec.get("securityContext") or {}).get("sysctls"):
        raise NotEmulated(f"{workload.title}: securityContext.sysctls is not emulated by pod-check")
    args = ["run", "--detach", "--name", docker_name, "--pull", "never", *label_args(labels)]
    args += ["--hostname", workload.pod_name, "--network", network]
    args += [arg for alias in workload.aliases for arg in ("--network-alias", alias)]
    args += ["--user", "0:0", "--cap-drop", "ALL"]
    args += [arg for cap in ("CHOWN", "FOWNER", "FSETID") for arg in ("--cap-add", cap)]
    args += ["--security-opt", "no-new-privileges", "--memory", "64m"]
    for plan in volumes:
        mount = (
            f"type=volume,src={plan.docker_name},dst={SANDBOX_VOLUMES}/{plan.name},volume-nocopy"
        )
        args += ["--mount", mount]
    return [*args, "--entrypoint", "sleep", image, "infinity"]


def _effective(container: Mapping, pod: Mapping, name: str):
    own = (container.get("securityContext") or {}).get(name)
    return own if own is not None else (pod.get("securityContext") or {}).get(name)


def user_args(workload: Workload, container: Mapping, image_user: str) -> list[str]:
    """--user and --group-add; refuses what the kubelet refuses under runAsNonRoot."""
    pod = workload.spec
    uid = _effective(container, pod, "runAsUser")
    gid = _effective(container, pod, "runAsGroup")
    image_uid, _, image_gid = (image_user or "0").partition(":")
    if _effective(container, pod, "runAsNonRoot"):
        who = str(uid) if uid is not None else image_uid
        where = f"{workload.title} container {container['name']}"
        if not who.isdigit():
            raise PodCheckError(
                f"{where}: runAsNonRoot, and the image's user {who!r} is not numeric "
                "(the kubelet cannot verify it and refuses to start the container)"
            )
        if int(who) == 0:
            raise PodCheckError(
                f"{where}: runAsNonRoot, but the container would run as root (uid 0)"
            )
    args = []
    if uid is not None or gid is not None:
        user = str(uid) if uid is not None else image_uid
        group = str(gid) if gid is not None else image_gid
        args += ["--user", f"{user}:{group}" if group else user]
    groups = [(pod.get("securityContext") or {}).get("fsGroup")]
    groups += list((pod.get("securityContext") or {}).get("supplementalGroups") or [])
    return args + [arg for g in groups if g is not None for arg in ("--group-add", str(g))]


def security_args(workload: Workload, container: Mapping) -> list[str]:
    sc = container.get("securityContext") or {}
    args = []
    if sc.get("privileged"):
        args.append("--privileged")
    if sc.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    caps = sc.get("capabilities") or {}
    args += [arg for cap in caps.get("drop") or [] for arg in ("--cap-drop", cap)]
    args += [arg for cap in caps.get("add") or [] for arg in ("--cap-add", cap)]
    if sc.get("allowPrivilegeEscalation") is False:
        args += ["--security-opt", "no-new-privileges"]
    seccomp = _effective(container, workload.spec, "seccompProfile") or {}
    kind = seccomp.get("type", "Unconfined")
    if kind == "Unconfined":
        args += ["--security-opt", "seccomp=unconfined"]
    elif kind != "RuntimeDefault":  # Docker applies its default profile unless told otherwise
        raise NotEmulated(
            f"{workload.title} container {container['name']}: seccompProfile {kind} is not emulated"
        )
    return args


def resource_args(container: Mapping) -> list[str]:
    resources = container.get("resources") or {}
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    args = []
    if "memory" in limits:
        size = str(memory_bytes(limits["memory"]))
        args += ["--memory", size, "--memory-swap", size]
    if "cpu" in limits:
        args += ["--cpus", format(quantity(limits["cpu"]).normalize(), "f")]
    request = requests.get("cpu", limits.get("cpu"))  # a limit alone is also the request
    if request is not None:
        args += ["--cpu-shares", str(cpu_shares(request))]
    return args


def mount_args(
    workload: Workload, container: Mapping, volumes: Mapping[str, VolumePlan]
) -> list[str]:
    args = []
    for mount in container.get("volumeMounts") or []:
        where = f"{workload.title} container {container['name']} volumeMount {mount['name']}"
        if mount.get("subPath") or mount.get("subPathExpr"):
            raise NotEmulated(f"{where}: subPath is not emulated by pod-check")
        plan = volumes.get(mount["name"])
        if plan is None:
            raise PodCheckError(f"{where}: the pod has no volume {mount['name']}")
        spec = f"type=volume,src={plan.docker_name},dst={mount['mountPath']},volume-nocopy"
        if mount.get("readOnly") or plan.read_only:
            spec += ",readonly"
        args += ["--mount", spec]
    return args


def container_args(
    workload: Workload,
    container: Mapping,
    *,
    docker_name: str,
    sandbox: str,
    image_user: str,
    env: Mapping[str, str],
    command: list[str] | None,
    args: list[str] | None,
    volumes: Mapping[str, VolumePlan],
    labels: Mapping[str, str],
    hardened: bool = True,
) -> list[str]:
    """`docker run` arguments for one container of the pod. `hardened=False` leaves out the
    user and securityContext (for stand-in images whose entrypoints need root, see check.py)."""
    out = ["run", "--detach", "--name", docker_name, "--pull", "never", *label_args(labels)]
    out += ["--network", f"container:{sandbox}"]
    if hardened:
        out += user_args(workload, container, image_user) + security_args(workload, container)
    out += resource_args(container)
    out += [arg for name, value in sorted(env.items()) for arg in ("--env", f"{name}={value}")]
    out += mount_args(workload, container, volumes)
    if container.get("workingDir"):
        out += ["--workdir", container["workingDir"]]
    positional: list[str] = []
    if command:
        out += ["--entrypoint", command[0]]
        positional += command[1:]
    positional += args or []
    return [*out, container["image"], *positional]
