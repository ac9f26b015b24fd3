"""The project's own modules import one another in one direction only: no import circles.

Imports inside functions count too (a lazy import hides a circle, it does not remove it).
Tasks import services, never the reverse; services enqueue by task name (portal.celery.enqueue).
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
SKIP = {".venv", "tests", "migrations", "bench", "var", "static", "node_modules", ".git"}


def _modules(root: pathlib.Path) -> dict[str, pathlib.Path]:
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if set(parts) & SKIP:
            continue
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    return modules


def import_graph(root: pathlib.Path = ROOT) -> dict[str, set[str]]:
    """Module -> the project modules it imports (anywhere in the file)."""
    modules = _modules(root)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [[alias.name] for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    up = parts[: len(parts) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                # "from x import y": y may be a submodule of x, else the name lives in x
                targets = [[f"{base}.{alias.name}", base] for alias in node.names]
            else:
                continue
            for candidates in targets:
                for candidate in candidates:
                    found = resolve(candidate)
                    if found:
                        if found != module:
                            graph[module].add(found)
                        break
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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
    return found


def test_the_graph_sees_imports_inside_functions(tmp_path: pathlib.Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "services.py").write_text("def buy():\n    from .tasks import send\n    send()\n")
    (tmp_path / "shop" / "tasks.py").write_text("from shop import services\n\ndef send():\n    pass\n")
    (tmp_path / "shop" / "migrations").mkdir()
    (tmp_path / "shop" / "migrations" / "0001.py").write_text("from shop import services\n")
    graph = import_graph(tmp_path)
    assert "shop.migrations.0001" not in graph
    assert circles(graph) == [["shop.services", "shop.tasks"]]


def test_the_project_has_no_import_circles() -> None:
    graph = import_graph()
    assert "payments.settlement" in graph and "accounts.notifications" in graph  # it did look at the project
    found = circles(graph)
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)
