"""No import circle between any two modules: an import-linter contract type, and `python -m import_circles`.

import-linter's own `acyclic_siblings` contract compares sibling packages only, so it misses a package
that imports one of its submodules which imports the package back; this one looks at every module.
`python -m import_circles` lists the circles in the packages pyproject.toml names, and how many.
"""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import grimp
from importlinter.application import output
from importlinter.domain.contract import Contract, ContractCheck

REPO = Path(__file__).resolve().parent


def import_circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every set of two or more modules that reach each other through imports, each sorted."""
    imports = {module: sorted(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    return sorted(sorted(group) for group in _strongly_connected(imports) if len(group) > 1)


def _strongly_connected(edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, with an explicit stack so that a long import chain cannot hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    path: list = []  # the depth-first walk: (module, its imports not yet looked at)
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        path.append((node, iter(edges[node])))

    for root in sorted(edges):
        if root in index:
            continue
        visit(root)
        while path:
            node, pending = path[-1]
            child = next((target for target in pending if target not in index or target in on_stack), None)
            if child is None:
                path.pop()
                if path:
                    low[path[-1][0]] = min(low[path[-1][0]], low[node])
                if low[node] == index[node]:
                    groups.append(_pop_group(stack, on_stack, node))
            elif child in index:
                low[node] = min(low[node], index[child])
            else:
                visit(child)
    return groups


def _pop_group(stack: list[str], on_stack: set[str], head: str) -> list[str]:
    group = []
    while True:
        node = stack.pop()
        on_stack.discard(node)
        group.append(node)
        if node == head:
            return group


def _circle_imports(graph: grimp.ImportGraph, circle: list[str]) -> list[str]:
    """The imports inside one circle, as `importer -> imported (l.N)` lines."""
    members = set(circle)
    lines = []
    for importer in circle:
        for imported in sorted(graph.find_modules_directly_imported_by(importer) & members):
            numbers = sorted({detail["line_number"] for detail in graph.get_import_details(
                importer=importer, imported=imported)})
            lines.append(f"{importer} -> {imported} ({', '.join(f'l.{n}' for n in numbers)})")
    return lines


class NoImportCirclesContract(Contract):
    """`type = "no_import_circles"`: kept when no module of the root packages imports itself round a circle."""

    type_name = "no_import_circles"

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        circles = import_circles(graph)
        return ContractCheck(kept=not circles,
                             metadata={"circles": [_circle_imports(graph, circle) for circle in circles]})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for number, imports in enumerate(check.metadata["circles"], start=1):
            output.print_error(f"Import circle {number}:")
            output.new_line()
            for line in imports:
                output.print_error(f"- {line}", bold=False)
            output.new_line()


def main() -> int:
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
    sys.path.insert(0, str(REPO))
    graph = grimp.build_graph(*packages, cache_dir=None)
    circles = import_circles(graph)
    for circle in circles:
        print(f"{len(circle)} modules: {', '.join(circle)}")
    print(f"import circles: {len(circles)}")
    return 1 if circles else 0


if __name__ == "__main__":
    sys.exit(main())
