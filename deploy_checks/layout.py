"""What gets deployed, under which names, where its files live, and the pinned tools that check them."""
from __future__ import annotations

import dataclasses
import pathlib
import subprocess
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERIGNORE = REPO / ".dockerignore"
HADOLINT_CONFIG = REPO / ".hadolint.yaml"
WORKFLOWS = REPO / ".github" / "workflows"
K8S = REPO / "k8s"
PROD = K8S / "overlays" / "prod"
DEV = K8S / "overlays" / "dev"
ARGOCD = K8S / "argocd"
GRAFANA_DASHBOARD = K8S / "monitoring" / "salesync-dashboard.json"

# The Kubernetes version whose schemas kubernetes-validate checks the rendered objects against.
KUBERNETES_VERSION = "1.37.0"
ECR_REGISTRY_PATTERN = r"[0-9]{12}\.dkr\.ecr\.ap-northeast-2\.amazonaws\.com"
CONTAINER_PORT = 5000
SERVICE_PORT = 80


@dataclasses.dataclass(frozen=True)
class Deployable:
    """One image: Dockerfile-<name>, k8s Service service-<name>, ECR repository salesync-<name>."""
    name: str      # the deploy name (Dockerfile suffix, k8s/base/<name>, workflow service-<name>.yml)
    package: str   # the Python package the image carries
    service: str   # the code's name for it: LOCAL_PORTS, SCHEMAS, migrate, <SERVICE>_... variables

    @property
    def dockerfile(self) -> pathlib.Path:
        return REPO / f"Dockerfile-{self.name}"

    @property
    def k8s_service(self) -> str:
        return f"service-{self.name}"

    @property
    def image(self) -> str:
        return f"salesync-{self.name}"

    @property
    def wsgi(self) -> str:
        return f"{self.package}.wsgi:app"


DEPLOYABLES = (
    Deployable("store", "store_service", "store"),
    Deployable("item", "item_service", "item"),
    Deployable("order", "order_service", "order"),
    Deployable("sale", "sale_service", "sale"),
    Deployable("dash", "dashboard_service", "dashboard"),
    Deployable("consulting", "consulting_service", "consulting"),
    Deployable("bff", "bff", "bff"),
)
BY_NAME = {d.name: d for d in DEPLOYABLES}
BY_SERVICE = {d.service: d for d in DEPLOYABLES}

# Background processes beside the web services: k8s Deployment name -> (image's deploy name, module).
WORKER_DEPLOYMENTS = {
    "consulting-worker": ("consulting", "consulting_service.worker"),
    "dash-consumer": ("dash", "dashboard_service.consumer"),
}
# The services whose Deployment the issue asks to autoscale and protect from disruptions.
AUTOSCALED = {"bff", "order", "sale"}
PUBLIC = "bff"


def tool(name: str) -> pathlib.Path:
    """A checking tool installed from requirements-dev.txt into this interpreter's environment."""
    path = pathlib.Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not installed beside {sys.executable}: run `make test` "
                                f"(it installs requirements-dev.txt)")
    return path


def run_tool(name: str, *args: str | pathlib.Path, cwd: pathlib.Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([str(tool(name)), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def load_yaml(path: pathlib.Path):
    return yaml.safe_load(path.read_text())


def workflow_trigger(workflow: dict):
    """PyYAML reads the bare key `on` as True."""
    return workflow.get("on", workflow.get(True))
