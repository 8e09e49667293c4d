"""The service roster: every Salesync process, named once.

Settings, migrations, `make run`, the bench, the drills and the deploy checks read this table;
compose, the Kubernetes manifests and the Dockerfiles are checked against it (deploy_checks).
Standard library only: the liveness probe and gunicorn's config import this package bare.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Service:
    """One web service: Flask app, gunicorn process, image."""
    name: str            # the code's name: Settings.from_env(name), <NAME>_SERVICE_URL, <NAME>_PORT
    package: str         # holds app/, wsgi.py and migrations/
    local_port: int      # `make run` serves it on 127.0.0.1:<local_port>
    schema: str | None   # the PostgreSQL schema it owns; None: it keeps no data
    deploy: str          # Dockerfile-<deploy>, k8s/base/<deploy>, Deployment <deploy>, service-<deploy>.yml

    @property
    def k8s_service(self) -> str:
        return f"service-{self.deploy}"

    @property
    def image(self) -> str:
        return f"salesync-{self.deploy}"

    @property
    def dockerfile(self) -> str:
        return f"Dockerfile-{self.deploy}"

    @property
    def wsgi(self) -> str:
        return f"{self.package}.wsgi:app"


@dataclasses.dataclass(frozen=True)
class Worker:
    """A process beside the web services, run from its service's package and image."""
    name: str        # `make run`'s and compose's name for it (and its log file)
    service: str     # the Service whose package and image hold it
    module: str      # run as `python -m <module>`
    deployment: str  # its Kubernetes Deployment


# In start order: the BFF last, since it only forwards to the others.
SERVICES = (
    Service("store", "store_service", 8001, "store", "store"),
    Service("item", "item_service", 8002, "item", "item"),
    Service("order", "order_service", 8003, "order", "order"),
    Service("sale", "sale_service", 8004, "sale", "sale"),
    Service("dashboard", "dashboard_service", 8005, "dashboard", "dash"),
    Service("consulting", "consulting_service", 8006, "consulting", "consulting"),
    Service("bff", "bff", 8000, None, "bff"),
)
WORKERS = (
    Worker("consulting-worker", "consulting", "consulting_service.worker", "consulting-worker"),
    Worker("dashboard-consumer", "dashboard", "dashboard_service.consumer", "dash-consumer"),
)

BY_NAME = {service.name: service for service in SERVICES}
WORKERS_BY_NAME = {worker.name: worker for worker in WORKERS}
