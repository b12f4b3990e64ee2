"""The packages of delphos import each other in one direction only.

A cycle between two parts of the code (db importing soap while soap imports db) means
neither can be read, tested or changed alone; the shared records live in the leaf
`delphos.records` instead. Each subpackage and each top-level module is one node; every
import counts, also those inside functions or under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

import delphos

ROOT = Path(delphos.__file__).parent


def _node(module: str) -> str | None:
    """`delphos.db.repository.notes` -> `db`; `delphos` itself -> None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "delphos" else None


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        source = _node(module)
        if source is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from delphos import x` imports the node `x`.
                targets = (
                    [f"{base}.{alias.name}" for alias in node.names]
                    if base == "delphos"
                    else [base]
                )
            for target in targets:
                dest = _node(target)
                if dest is not None and dest != source:
                    graph.setdefault(source, set()).add(dest)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_two_parts_of_delphos_import_each_other() -> None:
    graph = import_graph()
    assert "soap" in graph.get("state", set()), "the graph sees the package imports"
    found = cycles(graph)
    detail = {" <-> ".join(c): {n: sorted(graph[n] & set(c)) for n in c} for c in found}
    assert found == [], f"import cycles between delphos parts: {detail}"


def test_the_shared_records_import_nothing_from_delphos() -> None:
    assert import_graph().get("records", set()) == set()
