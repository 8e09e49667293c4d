"""The BFF's modules import one another without a circle: the route table names its handlers, and no
handler (nor the forwarding or URL-building they use) imports the table back."""
import ast
import graphlib
import pathlib

APP = pathlib.Path(__file__).resolve().parents[1] / "app"


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(APP.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: pathlib.Path, known: set[str]) -> set[str]:
    """The modules of the BFF that `path` imports (relative imports resolved; `from . import x` names x)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            source = ".".join(part for part in (base, node.module or "") if part)
            found |= {f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
                      for alias in node.names}
    return found & known - {module_name(path)}


def test_the_bff_modules_import_one_another_without_a_circle():
    paths = sorted(APP.rglob("*.py"))
    known = {module_name(path) for path in paths}
    graph = {module_name(path): imported_modules(path, known) for path in paths}
    assert graph["bff.app.routes"] >= {"bff.app.api.consulting", "bff.app.api.costs", "bff.app.api.docs"}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError, naming the circle
