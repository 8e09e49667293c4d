"""What the code says that the deployment must agree with: ports, schemas, the environment
variables it reads, its HTTP health and metrics routes, its worker processes and its metrics."""
from __future__ import annotations

import dataclasses
import functools
import re

from salesync_common import roster
from salesync_common.migrate import services_with_migrations

from .layout import REPO

# env.get("X"), os.environ.get("X"), os.environ["X"], os.getenv("X"), and helpers called as
# _int(env, "X", ...): the literal (or f-string) name of a variable the code reads.
ENV_READ_PATTERNS = (
    re.compile(r'\b(?:env|environ)\.get\(\s*(f?)"([^"]+)"'),
    re.compile(r'\benviron\[\s*(f?)"([^"]+)"\s*\]'),
    re.compile(r'\bgetenv\(\s*(f?)"([^"]+)"'),
    re.compile(r'\(\s*env\s*,\s*(f?)"([A-Z][A-Z0-9_]*)"'),
)
ROUTE = re.compile(r'\.(?:get|route)\(\s*"(/[^"]*)"')
METRIC = re.compile(r'\b(?:Counter|Gauge|Histogram|Summary)\(\s*"([a-z_:][a-z0-9_:]*)"')
SCRAPE_GAUGE = re.compile(r'\.add\(\s*"([a-z_:][a-z0-9_:]*)"')


@dataclasses.dataclass(frozen=True)
class CodeFacts:
    local_ports: dict[str, int]
    schemas: dict[str, str]
    migrated_services: list[str]
    env_read: frozenset[str]
    health_routes: frozenset[str]
    metrics_route: str
    metric_names: frozenset[str]
    worker_modules: dict[str, str]


def code_files():
    """The services' and the shared package's own code: not their tests, not the test harness."""
    for service in roster.SERVICES:
        yield from _own_files(service.package)
    yield from _own_files("salesync_common")


def _own_files(package: str):
    for path in sorted((REPO / package).rglob("*.py")):
        relative = path.relative_to(REPO)
        if "tests" in relative.parts or "migrations" in relative.parts:
            continue
        yield path


def env_names_in(text: str, services) -> set[str]:
    """The variable names read in one source text; an f-string name is expanded for every service."""
    names = set()
    for pattern in ENV_READ_PATTERNS:
        for is_fstring, name in pattern.findall(text):
            if is_fstring and "{" in name:
                names.update(re.sub(r"\{[^}]*\}", service.upper(), name) for service in services)
            else:
                names.add(name)
    return names


@functools.cache
def code_facts() -> CodeFacts:
    env_read, routes, metrics = set(), set(), set()
    for path in code_files():
        text = path.read_text()
        env_read |= env_names_in(text, roster.BY_NAME)
        metrics |= set(METRIC.findall(text)) | set(SCRAPE_GAUGE.findall(text))
    health = (REPO / "salesync_common" / "health.py").read_text()
    routes = set(ROUTE.findall(health))
    metrics_routes = ROUTE.findall((REPO / "salesync_common" / "metrics.py").read_text())
    return CodeFacts(
        local_ports={service.name: service.local_port for service in roster.SERVICES},
        schemas={service.name: service.schema for service in roster.SERVICES if service.schema},
        migrated_services=services_with_migrations(),
        env_read=frozenset(env_read),
        health_routes=frozenset(routes),
        metrics_route=metrics_routes[0] if metrics_routes else "",
        metric_names=frozenset(metrics),
        worker_modules={worker.name: worker.module for worker in roster.WORKERS},
    )


def exposed_series(metric_names) -> set[str]:
    """The series names Prometheus sees for the code's metrics (a histogram's _bucket, _sum, _count...)."""
    series = set()
    for name in metric_names:
        base = name[:-len("_total")] if name.endswith("_total") else name
        series |= {name, base, f"{base}_total", f"{base}_created", f"{base}_bucket", f"{base}_sum", f"{base}_count"}
    return series


PROMQL_WORDS = {"sum", "by", "rate", "max", "min", "avg", "histogram_quantile", "le", "without", "on", "ignoring",
                "increase", "irate", "count", "and", "or", "unless", "offset", "vector", "delta", "abs", "time",
                "clamp_min", "clamp_max", "bool", "group_left", "group_right"}


def series_in(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers not inside {...} or [...] and not functions."""
    stripped = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"", " ", expr)
    stripped = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", " ", stripped)
    stripped = re.sub(r"\b\d+(?:\.\d+)?(?:ms|[smhdwy])?\b", " ", stripped)  # numbers, durations (offset 1h)
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", stripped))
    return {name for name in names if name not in PROMQL_WORDS and not re.fullmatch(r"\d.*", name)}
