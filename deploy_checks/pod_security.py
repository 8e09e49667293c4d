"""The Pod Security Standards' `restricted` profile, which the salesync namespace enforces
(pod-security.kubernetes.io/enforce: restricted): each rule as Kubernetes documents it, checked on
every pod template before Argo CD syncs, so a pod the API server would refuse never gets that far.
https://kubernetes.io/docs/concepts/security/pod-security-standards/ (baseline and restricted)."""
from __future__ import annotations

POD_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet")
ALLOWED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                   "projected", "secret", "name"}
ALLOWED_SECCOMP = {"RuntimeDefault", "Localhost"}
ALLOWED_ADDED_CAPABILITIES = {"NET_BIND_SERVICE"}
ALLOWED_SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}


def pod_templates(objects):
    """(where, pod spec) of every object that makes pods, a CronJob's through its Job template."""
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] in POD_TEMPLATE_KINDS:
            yield where, obj["spec"]["template"]["spec"]
        elif obj["kind"] == "CronJob":
            yield where, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif obj["kind"] == "Pod":
            yield where, obj["spec"]


def restricted_problems(objects) -> list[str]:
    problems = []
    for where, spec in pod_templates(objects):
        problems += [f"{where}: {problem}" for problem in _pod_problems(spec)]
    return problems


def _pod_problems(spec: dict) -> list[str]:
    problems = []
    pod = spec.get("securityContext") or {}
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            problems.append(f"{field} is set")
    for volume in spec.get("volumes") or []:
        kinds = set(volume) - ALLOWED_VOLUMES
        if kinds:
            problems.append(f"volume {volume['name']} is of type {sorted(kinds)}, not allowed")
    for sysctl in pod.get("sysctls") or []:
        if sysctl["name"] not in SAFE_SYSCTLS:
            problems.append(f"sysctl {sysctl['name']} is not a safe one")
    problems += _selinux_and_apparmor(pod, "the pod")
    if pod.get("runAsUser") == 0:
        problems.append("the pod runs as user 0")
    containers = [*(spec.get("initContainers") or []), *spec["containers"], *(spec.get("ephemeralContainers") or [])]
    for container in containers:
        problems += [f"container {container['name']}: {problem}" for problem in _container_problems(container, pod)]
    return problems


def _container_problems(container: dict, pod: dict) -> list[str]:
    problems = []
    security = container.get("securityContext") or {}
    if security.get("privileged"):
        problems.append("is privileged")
    if security.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    capabilities = security.get("capabilities") or {}
    if "ALL" not in (capabilities.get("drop") or []):
        problems.append("does not drop ALL capabilities")
    added = set(capabilities.get("add") or []) - ALLOWED_ADDED_CAPABILITIES
    if added:
        problems.append(f"adds capabilities {sorted(added)}")
    if security.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
        problems.append("runAsNonRoot is not true (on the container or the pod)")
    if security.get("runAsUser") == 0:
        problems.append("runs as user 0")
    seccomp = (security.get("seccompProfile") or pod.get("seccompProfile") or {}).get("type")
    if seccomp not in ALLOWED_SECCOMP:
        problems.append(f"seccompProfile is {seccomp}, expected RuntimeDefault or Localhost")
    if security.get("procMount") not in (None, "Default"):
        problems.append(f"procMount is {security['procMount']}")
    for port in container.get("ports") or []:
        if port.get("hostPort"):
            problems.append(f"uses host port {port['hostPort']}")
    if (security.get("windowsOptions") or {}).get("hostProcess"):
        problems.append("is a Windows host process")
    return problems + _selinux_and_apparmor(security, "it")


def _selinux_and_apparmor(context: dict, who: str) -> list[str]:
    problems = []
    selinux = context.get("seLinuxOptions") or {}
    if selinux.get("type") not in ALLOWED_SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
        problems.append(f"{who}: SELinux options {selinux} are not allowed")
    apparmor = (context.get("appArmorProfile") or {}).get("type")
    if apparmor not in (None, "RuntimeDefault", "Localhost"):
        problems.append(f"{who}: AppArmor profile {apparmor} is not allowed")
    return problems
