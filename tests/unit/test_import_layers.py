"""The packages say what they are: no import circle between packages or between modules, and
the Triton side never imports the bridge or the operations code (``ops``); imports are read
with ``ast``, wherever they are."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("common", "bridge", "serving", "ops", "quantize", "bench")
# Which package may import which (the layering; anything else is a test failure).
ALLOWED: dict[str, set[str]] = {
    "common": set(),
    "quantize": {"common"},
    "serving": {"common", "quantize"},
    "bridge": {"common"},
    "ops": {"common", "bridge", "serving", "quantize"},
    "bench": {"common", "bridge", "serving", "ops", "quantize"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "data" in path.relative_to(ROOT).parts:
                continue
            found[module_name(path)] = path
    return found


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """Project modules that ``path`` imports (``from a import b`` counts ``a.b`` if a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    edges = {name: imports_of(path, modules) - {name} for name, path in modules.items()}
    # A package's __init__ is imported with any of its modules, but imports none of them here.
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_import_circle_between_modules() -> None:
    assert find_cycle(graph()) is None


def test_no_import_circle_between_packages_and_the_layers_hold() -> None:
    edges = graph()
    wrong = sorted(
        f"{source} imports {target}"
        for source, targets in edges.items()
        for target in targets
        if target.split(".")[0] != source.split(".")[0]
        and target.split(".")[0] not in ALLOWED[source.split(".")[0]]
    )
    assert wrong == []
    between = {(s.split(".")[0], t.split(".")[0]) for s, ts in edges.items() for t in ts}
    packages = {p: {t for s, t in between if s == p and t != p} for p in PACKAGES}
    assert find_cycle(packages) is None


def test_the_triton_models_never_import_the_bridge() -> None:
    modules = project_modules()
    seen: set[str] = set()
    todo = [
        m
        for path in sorted((ROOT / "model_repository").glob("*/1/model.py"))
        for m in imports_of(path, modules)
    ]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(imports_of(modules[name], modules))
    assert seen and not {m for m in seen if m.split(".")[0] in {"bridge", "ops"}}


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
