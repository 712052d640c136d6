"""The packages of tweetbert import each other in one direction only, and the demo stays outside the core.

Every module is parsed (not imported), so imports inside functions count as much as those at the top.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import tweetbert

SOURCE = Path(tweetbert.__file__).parent
PACKAGE = "tweetbert"
MAY_IMPORT_DEMO = {"cli", "demo"}


def _module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(SOURCE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    """The graph node of a module: its subpackage, a top-level module's own name, or the package itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else PACKAGE


def _imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    """Each import statement of ``path`` as (absolute module, names imported from it; none for ``import x``),
    relative imports resolved."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            yield base, [alias.name for alias in node.names]


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of the tweetbert modules (or names in them) that ``path`` imports, relative imports resolved."""
    found = set()
    for base, names in _imports(path):
        found.add(base)
        if base == PACKAGE:  # from tweetbert import config: the named module is the target
            found.update(f"{base}.{name}" for name in names)
    return {name for name in found if name == PACKAGE or name.startswith(PACKAGE + ".")}


def import_graph() -> dict[str, dict[str, list[str]]]:
    """unit -> imported unit -> the modules of the first unit that import the second (for the failure message)."""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        source = _unit(_module_name(path))
        edges = graph.setdefault(source, {})
        for target in sorted({_unit(name) for name in _imported_modules(path)}):
            if target not in (source, PACKAGE):
                edges.setdefault(target, []).append(_module_name(path))
    return graph


def find_cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """One cycle of units (first unit repeated at the end), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(unit: str) -> list[str] | None:
        state[unit] = "open"
        stack.append(unit)
        for target in sorted(graph.get(unit, {})):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[unit] = "done"
        stack.pop()
        return None

    for unit in sorted(graph):
        if unit not in state and (cycle := visit(unit)):
            return cycle
    return None


def _describe(graph: dict[str, dict[str, list[str]]], cycle: list[str]) -> str:
    return "\n".join(f"{a} -> {b} (in {', '.join(graph[a][b])})" for a, b in itertools.pairwise(cycle))


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "tweetbert.analysis.topk" in graph["analysis"]["plots"]  # imported inside write_topk only
    assert {"corpus", "tokenization", "analysis", "plots", "demo", "cli"} <= set(graph)


def test_a_cycle_is_found_and_named():
    graph = {"a": {"b": ["tweetbert.a.x"]}, "b": {"c": ["tweetbert.b.y"]}, "c": {"a": ["tweetbert.c.z"]}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b": []}, "b": {}}) is None


def test_no_import_cycle_between_packages():
    graph = import_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle between packages:\n" + _describe(graph, cycle)


def test_no_core_package_imports_the_demo():
    graph = import_graph()
    offenders = {unit: edges["demo"] for unit, edges in graph.items() if "demo" in edges and unit not in MAY_IMPORT_DEMO}
    assert not offenders, f"only {sorted(MAY_IMPORT_DEMO)} may import tweetbert.demo: {offenders}"


def module_graph() -> dict[str, dict[str, list[str]]]:
    """module -> module of the same package it imports -> [itself] (the shape find_cycle and _describe take).

    ``from package import name`` points at the module ``package.name`` where there is one, else at the package;
    the package ``__init__`` that importing any module runs is not an edge (a package may import its modules).
    """
    modules = {_module_name(path) for path in SOURCE.rglob("*.py")}
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        source = _module_name(path)
        edges = graph.setdefault(source, {})
        for target in _imported_module_files(path, modules):
            if target != source and _unit(target) == _unit(source) != PACKAGE:
                edges.setdefault(target, []).append(source)
    return graph


def _imported_module_files(path: Path, modules: set[str]) -> set[str]:
    """The tweetbert modules ``path`` imports, ``from x import y`` resolved to module ``x.y`` where there is one."""
    found = set()
    for base, names in _imports(path):
        found.update(f"{base}.{name}" if f"{base}.{name}" in modules else base for name in names or [""])
    return found & modules


def test_the_module_graph_resolves_names_to_modules():
    graph = module_graph()
    assert "tweetbert.modeling.settings" in graph["tweetbert.modeling.pretrain_model"]  # inside a function
    assert "tweetbert.demo.task_specs" in graph["tweetbert.demo"]  # from tweetbert.demo import task_specs


def test_no_import_cycle_between_the_modules_of_a_package():
    graph = module_graph()
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle between modules:\n" + _describe(graph, cycle)
