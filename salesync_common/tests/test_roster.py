"""The service roster is the one table of services: it matches the tree, and no other code repeats its ports."""
import ast
import os
import pathlib
import re

from salesync_common import roster

REPO = pathlib.Path(__file__).resolve().parents[2]
ROSTER = REPO / "salesync_common" / "roster.py"
PORTS = {service.local_port for service in roster.SERVICES}
PORT_IN_TEXT = re.compile(r":(\d+)\b")  # "http://127.0.0.1:8001", "127.0.0.1:8003"
# Test code may write a port or a price of 8000 freely; product and tool code may not.
TEST_FOLDERS = {"tests", "testsupport", "system_tests", "migrations", "__pycache__"}
TEST_FILES = re.compile(r"^(test_.*|conftest|testing)\.py$")


def product_and_tool_files():
    for folder, subfolders, files in os.walk(REPO):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name not in TEST_FOLDERS]
        for name in files:
            path = pathlib.Path(folder) / name
            if name.endswith(".py") and not TEST_FILES.match(name) and path != ROSTER:
                yield path


def port_literals(path: pathlib.Path) -> list[str]:
    """'line: literal' for each number or string constant that is, or holds, a roster port."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value in PORTS:
            found.append(f"{node.lineno}: {node.value}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                any(int(port) in PORTS for port in PORT_IN_TEXT.findall(node.value)):
            found.append(f"{node.lineno}: {node.value!r}")
    return found


def test_the_local_ports_are_written_only_in_the_roster():
    files = list(product_and_tool_files())
    assert REPO / "local_run" / "__main__.py" in files and REPO / "deploy_checks" / "agreement.py" in files
    found = [f"{path.relative_to(REPO)}:{literal}" for path in files for literal in port_literals(path)]
    assert found == [], "read the port from salesync_common.roster instead:\n" + "\n".join(found)


def test_the_port_check_sees_a_port_in_a_number_and_in_a_url(tmp_path):
    source = tmp_path / "tool.py"
    source.write_text('PORT = 8003\nURL = "http://127.0.0.1:8001/readyz"\nPRICE = 18000\nOTHER = ":18001"\n')
    assert sorted(port_literals(source)) == ["1: 8003", "2: 'http://127.0.0.1:8001/readyz'"]


def test_each_service_has_one_package_port_and_deploy_name():
    for column in ("name", "package", "local_port", "deploy"):
        values = [getattr(service, column) for service in roster.SERVICES]
        assert len(set(values)) == len(values), f"{column} repeats: {values}"
    for service in roster.SERVICES:
        assert (REPO / service.package / "wsgi.py").exists(), service.package
        assert (REPO / service.dockerfile).exists(), service.dockerfile
        has_migrations = (REPO / service.package / "migrations" / "env.py").exists()
        assert has_migrations == (service.schema is not None), service.name


def test_each_worker_runs_from_its_service_package():
    for worker in roster.WORKERS:
        service = roster.BY_NAME[worker.service]
        assert worker.module.split(".")[0] == service.package
        assert (REPO / (worker.module.replace(".", "/") + ".py")).exists(), worker.module
