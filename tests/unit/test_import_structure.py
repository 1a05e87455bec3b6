"""The layers' import rules, read from the source: no import cycles among Invex's modules,
and `api/`, `common/` and `web/` import nothing from `workers/` (the API must not load the
extraction or OCR stack, and shared code belongs in `common/`). Imports inside functions
count: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "common", "workers", "web")

# ALLOWANCES: each is a known debt, to remove when its fix lands, never to add to lightly.
ALLOWED_CYCLE_EDGES: frozenset[tuple[str, str]] = frozenset()
ALLOWED_WORKERS_IMPORTS = frozenset(
    {
        # By design: `invex extract` is the extraction engine's command line, no servers.
        ("common.cli", "workers.extraction.batch"),
    }
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The Invex modules `name` imports: `from p import m` counts the module p.m when m is
    one (not the package p), else p."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        found.update(target for target in targets if target in known)
    found.discard(name)
    return found


@cache
def _parsed_graph() -> dict[str, frozenset[str]]:
    known = modules()
    return {name: frozenset(imported(name, path, set(known))) for name, path in known.items()}


def import_graph() -> dict[str, set[str]]:
    """Module -> the Invex modules it imports (read once; each caller gets its own copy)."""
    return {name: set(targets) for name, targets in _parsed_graph().items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others():
    graph = import_graph()
    for source, target in ALLOWED_CYCLE_EDGES:
        graph[source].discard(target)
    assert cycles(graph) == []


def test_api_common_and_web_import_nothing_from_workers():
    graph = import_graph()
    offending = sorted(
        (source, target)
        for source, targets in graph.items()
        if source.split(".")[0] in ("api", "common", "web")
        for target in targets
        if target.split(".")[0] == "workers" and (source, target) not in ALLOWED_WORKERS_IMPORTS
    )
    assert offending == []


def test_the_walk_sees_a_cycle_when_there_is_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
