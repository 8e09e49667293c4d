"""Who talks to whom, read from the code: the network each Salesync process needs.

A process's peers are found from its entry points: the web app's route modules and app factory
(`<package>/app/api/*.py`, `<package>/app/__init__.py`), or a worker's module (roster.WORKERS). From
there every function it names (by name, across its package and salesync_common) is followed, and
these are collected on the way:
- a call to another service: `<...client...>.get("order", ...)` (also post, put, delete, call), or a
  helper handed the client and the service's name: `_read(client, "order", ...)`;
- Kafka: new_producer, new_consumer, ensure_topic (salesync_common.kafka_client);
- HTTPS out of the cluster: boto3 (SNS) and OpenAI.
The BFF forwards by its route table (bff.app.routes.ROUTES), which names each route's service.

Following by name over-approximates (two functions with one name are both followed), never misses
a call made through a named function. The NetworkPolicies are compared with this, not with a copy.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import itertools

from bff.app.routes import ROUTES
from salesync_common import roster

from .layout import REPO

CLIENT_METHODS = {"get", "post", "put", "delete", "call"}
KAFKA = "kafka"
HTTPS = "https"
DATABASE = "database"
# Names whose use means the process talks to Kafka or to a service outside the cluster.
SINKS = {"new_producer": KAFKA, "new_consumer": KAFKA, "ensure_topic": KAFKA, "KafkaAdminClient": KAFKA,
         "boto3": HTTPS, "OpenAI": HTTPS}
# The client's own methods are recognised at the call site, not followed.
NOT_FOLLOWED = CLIENT_METHODS


@dataclasses.dataclass(frozen=True)
class Process:
    """One kind of pod: a service's web app, a worker, a migration Job."""
    deployment: str          # its Kubernetes workload name
    service: str             # the roster service whose image runs it
    kind: str                # web, worker, migration


def processes() -> list[Process]:
    found = [Process(service.deploy, service.name, "web") for service in roster.SERVICES]
    found += [Process(worker.deployment, worker.service, "worker") for worker in roster.WORKERS]
    found += [Process(f"migrate-{service.deploy}", service.name, "migration")
              for service in roster.SERVICES if service.schema]
    return found


def _is_client(node: ast.AST) -> bool:
    return ast.unparse(node).rstrip("()").lower().endswith("client")


def _service_name(argument: ast.AST) -> str | None:
    return argument.value if isinstance(argument, ast.Constant) and argument.value in roster.BY_NAME else None


def _service_name_of_call(node: ast.Call) -> str | None:
    """"order" for client.get("order", ...) or service_client().post("order", ...), and for a helper handed
    the client and the service: _read(client, "order", ...); None otherwise."""
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in CLIENT_METHODS and _is_client(func.value):
        position = 1 if func.attr == "call" else 0
        return _service_name(node.args[position]) if len(node.args) > position else None
    return next((name for client, argument in itertools.pairwise(node.args)
                 if _is_client(client) and (name := _service_name(argument))), None)


@dataclasses.dataclass(eq=False)
class _Function:
    reaches: set[str]                  # services, KAFKA, HTTPS reached directly
    names: set[str]                    # names it uses, followed through the index
    members: list[_Function] = dataclasses.field(default_factory=list)  # a class: its methods


def _imported_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
    return names


def _used_names(node: ast.AST, imported: set[str]) -> set[str]:
    """Bare names, and `module.name` where `module` is imported in the file: `jobs.process_job`.
    `instance.method` is not followed by name (every class has a `run` or `__init__`); naming the
    class reaches its methods instead."""
    names = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name):
            names.add(inner.id)
        elif isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name) and inner.value.id in imported:
            names.add(inner.attr)
    return names


def _function(node: ast.FunctionDef | ast.AsyncFunctionDef, imported: set[str]) -> _Function:
    reaches = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Call) and (service := _service_name_of_call(inner)):
            reaches.add(service)
        name = inner.id if isinstance(inner, ast.Name) else inner.attr if isinstance(inner, ast.Attribute) else None
        if name in SINKS:
            reaches.add(SINKS[name])
    return _Function(reaches, _used_names(node, imported))


def _functions_of(tree: ast.Module) -> dict[str, list[_Function]]:
    """Top-level functions by name, and classes by name (naming a class reaches all its methods)."""
    imported = _imported_names(tree)
    found: dict[str, list[_Function]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.setdefault(node.name, []).append(_function(node, imported))
        elif isinstance(node, ast.ClassDef):
            methods = [_function(item, imported) for item in node.body
                       if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
            found.setdefault(node.name, []).append(_Function(set(), set(), methods))
    return found


def _own_modules(package: str):
    for path in sorted((REPO / package).rglob("*.py")):
        parts = path.relative_to(REPO).parts
        if "tests" not in parts and "migrations" not in parts:
            yield path


@functools.cache
def _index(package: str) -> dict[str, list[_Function]]:
    """Every function of a package and of salesync_common, by name."""
    index: dict[str, list[_Function]] = {}
    for current in (package, "salesync_common"):
        for path in _own_modules(current):
            for name, functions in _functions_of(ast.parse(path.read_text())).items():
                index.setdefault(name, []).extend(functions)
    return index


def _entry_modules(process: Process):
    package = roster.BY_NAME[process.service].package
    if process.kind == "web":
        yield from sorted((REPO / package / "app" / "api").glob("*.py"))
        yield REPO / package / "app" / "__init__.py"
    elif process.kind == "worker":
        module = next(worker.module for worker in roster.WORKERS if worker.deployment == process.deployment)
        yield REPO / (module.replace(".", "/") + ".py")


def reaches(process: Process) -> frozenset[str]:
    """The services (roster names) the process calls, plus KAFKA, HTTPS and DATABASE where it uses them."""
    service = roster.BY_NAME[process.service]
    found = {DATABASE} if service.schema else set()
    if process.kind == "migration":
        return frozenset(found)
    index = _index(service.package)
    todo = [function for path in _entry_modules(process)
            for functions in _functions_of(ast.parse(path.read_text())).values() for function in functions]
    seen: set[_Function] = set()
    while todo:
        function = todo.pop()
        if function in seen:
            continue
        seen.add(function)
        found |= function.reaches
        todo += function.members
        todo += [callee for name in function.names - NOT_FOLLOWED for callee in index.get(name, [])]
    if process.service == "bff" and process.kind == "web":
        found |= {route.service for route in ROUTES if route.service}
    found.discard(process.service)
    return frozenset(found)


def callers_of(service: str) -> set[str]:
    """The workloads that call a service's web pods."""
    return {process.deployment for process in processes() if service in reaches(process)}
