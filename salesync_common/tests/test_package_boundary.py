"""The shared package ships in every image: it imports no test support and no dev tool."""
import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1]
DEV_ONLY = {"testsupport", "local_run", "bench", "drills", "sweeps", "system_tests", "deploy_checks", "pytest"}


def imported_roots(path: pathlib.Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_shared_package_imports_no_test_support_and_no_dev_tool():
    found = {str(path.relative_to(PACKAGE)): sorted(imported_roots(path) & DEV_ONLY)
             for path in sorted(PACKAGE.rglob("*.py")) if "tests" not in path.relative_to(PACKAGE).parts}
    assert {name: roots for name, roots in found.items() if roots} == {}
