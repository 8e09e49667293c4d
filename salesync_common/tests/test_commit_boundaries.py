"""Who commits, read from the code: routes never do (their unit of work does), service logic never
does, and the loops that commit (each pass its own transaction) say why on every commit."""
import ast
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SERVICE_CODE = sorted(path for path in REPO.glob("*/app/**/*.py") if "tests" not in path.parts)
ROUTE_MODULES = [path for path in SERVICE_CODE if path.parent.name == "api"]
LOGIC_MODULES = [path for path in SERVICE_CODE if path.parent.name == "app"]
# The loops: the consulting worker's claim and finish steps, its outbox relay, the dashboard's
# consumer of the consulting topic, and the sale service's reconciler of pending payments.
SERVICE_LOOP_MODULES = {"consulting_service/app/jobs.py", "consulting_service/app/outbox.py",
                        "dashboard_service/app/consulting_feed.py", "sale_service/app/reconciler.py"}
# And the purge command, which deletes in batches, and the recount, store by store: each its own transaction.
LOOP_MODULES = SERVICE_LOOP_MODULES | {"salesync_common/purge.py", "salesync_common/recount.py"}
BOUNDARIES = {"commit", "rollback"}
WRITE_ROUTES = {"post", "put", "patch", "delete"}
UNITS = {"unit_of_work", "idempotent"}


def _name(path: pathlib.Path) -> str:
    return path.relative_to(REPO).as_posix()


def boundary_calls(path: pathlib.Path) -> list[ast.Call]:
    """Calls of x.commit() or x.rollback(): a unit's own checkpoint() is not one of them."""
    return [node for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in BOUNDARIES]


def test_the_scan_sees_the_services():
    assert len(ROUTE_MODULES) >= 15 and len(LOGIC_MODULES) >= 25
    assert {_name(path) for path in LOGIC_MODULES} >= SERVICE_LOOP_MODULES
    assert all((REPO / name).exists() for name in LOOP_MODULES)


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=_name)
def test_no_route_commits_or_rolls_back(path):
    assert [call.lineno for call in boundary_calls(path)] == []


@pytest.mark.parametrize("path", [path for path in LOGIC_MODULES if _name(path) not in LOOP_MODULES], ids=_name)
def test_service_logic_never_commits_or_rolls_back(path):
    assert [call.lineno for call in boundary_calls(path)] == []


@pytest.mark.parametrize("path", sorted(REPO / name for name in LOOP_MODULES), ids=_name)
def test_every_commit_of_a_loop_says_why(path):
    lines = path.read_text().splitlines()
    unexplained = [call.lineno for call in boundary_calls(path) if call.func.attr == "commit"
                   and "#" not in lines[call.lineno - 1] and not lines[call.lineno - 2].strip().startswith("#")]
    assert unexplained == []


def _decorator_names(function: ast.FunctionDef) -> list[tuple[str, str]]:
    """("bp", "post") for @bp.post(...), ("", "unit_of_work") for @unit_of_work(db)."""
    names = []
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            names.append((target.value.id, target.attr))
        elif isinstance(target, ast.Name):
            names.append(("", target.id))
    return names


def write_routes_outside_a_unit(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text())
    if not any(isinstance(node, ast.ImportFrom) and any(alias.name == "db" for alias in node.names)
               for node in tree.body):
        return []  # no database: the route passes another service's answer on
    missing = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            decorators = _decorator_names(node)
            writes = any(owner == "bp" and method in WRITE_ROUTES for owner, method in decorators)
            if writes and not any(name in UNITS for _, name in decorators):
                missing.append(node.name)
    return missing


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=_name)
def test_every_write_route_runs_in_a_unit_of_work(path):
    assert write_routes_outside_a_unit(path) == []


def test_a_write_route_without_a_unit_of_work_is_noticed(tmp_path):
    module = tmp_path / "routes.py"
    module.write_text("from ..models import db\n\n\n@bp.post('/')\n@login_required\ndef create():\n    pass\n")
    assert write_routes_outside_a_unit(module) == ["create"]
