"""Import every module that the Triton models and the bridge load, so an image that cannot serve
fails at build time instead of at the first request.

The list is not written by hand: it is the closure of the imports (module level and inside
functions, e.g. ``vllm.v1.engine.async_llm`` that the chat engine imports when it starts) of
every ``model_repository/*/1/model.py``, of ``bridge.__main__`` and of ``ops.stack``,
followed through the project's own modules. ``python -m ops.importcheck`` imports each one
and exits 1 naming every module that fails; the Dockerfile runs it as a build step.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from collections.abc import Iterable
from pathlib import Path

from common import paths

PROJECT = ("common", "bridge", "serving", "ops", "quantize")
ENTRY_POINTS = ("bridge.__main__", "ops.stack", "serving.chat.reaper")
# Provided by Triton's Python stub at run time, not importable in a plain interpreter.
STUB_ONLY = {"triton_python_backend_utils"}
# Imported only for optional tools (exports, benchmarks), checked with --quantize.
QUANTIZE_ONLY = {"llmcompressor", "datasets"}


def _imports(path: Path) -> tuple[set[str], set[tuple[str, str]]]:
    """Every absolute module a file imports, wherever the import statement is, and the
    ``(module, name)`` pairs of its ``from module import name`` statements."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules: set[str] = set()
    names: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            names.update((node.module, alias.name) for alias in node.names if alias.name != "*")
    return modules, names


def _module_file(module: str, root: Path) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def model_files(repository: Path = paths.MODEL_REPOSITORY) -> list[Path]:
    return sorted(repository.glob("*/1/model.py"))


def required_modules(
    entry_files: Iterable[Path] | None = None, root: Path = paths.REPO_ROOT
) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """(project modules, third-party modules, third-party ``from m import n`` pairs) reachable
    from the models and the entry points."""
    pending = list(entry_files if entry_files is not None else model_files())
    for entry in ENTRY_POINTS:
        found = _module_file(entry, root)
        if found is not None:
            pending.append(found)
    seen_files: set[Path] = set()
    project: set[str] = set()
    external: set[str] = set()
    external_names: set[tuple[str, str]] = set()
    while pending:
        path = pending.pop()
        if path in seen_files:
            continue
        seen_files.add(path)
        modules, names = _imports(path)
        # ``from quantize import detect``: a name may be a submodule of the project
        modules |= {f"{m}.{n}" for m, n in names if m.split(".")[0] in PROJECT}
        for module in modules:
            top = module.split(".")[0]
            if top in PROJECT:
                found = _module_file(module, root)
                if found is not None:
                    project.add(module)
                    pending.append(found)
            elif top not in sys.stdlib_module_names and top != "__future__":
                external.add(module)
        external_names |= {
            (m, n)
            for m, n in names
            if m.split(".")[0] not in PROJECT
            and m.split(".")[0] not in sys.stdlib_module_names
            and m != "__future__"
        }
    return sorted(project), sorted(external), sorted(external_names)


def _skipped(module: str, quantize: bool) -> bool:
    top = module.split(".")[0]
    return top in STUB_ONLY or (top in QUANTIZE_ONLY and not quantize)


def check(*, quantize: bool) -> list[str]:
    project, external, names = required_modules()
    problems = []
    for module in [*external, *project]:
        if _skipped(module, quantize):
            continue
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - any failure means the image cannot serve
            problems.append(f"{module}: {type(exc).__name__}: {exc}")
    for module, name in names:  # a renamed class fails here, not at the first request
        if _skipped(module, quantize) or any(p.startswith(f"{module}:") for p in problems):
            continue
        loaded = sys.modules.get(module)
        if loaded is not None and hasattr(loaded, name):
            continue
        try:
            importlib.import_module(f"{module}.{name}")
        except Exception:  # noqa: BLE001
            problems.append(f"{module}: has no {name}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quantize", action="store_true", help="also llmcompressor (QUANTIZATION=4bit|8bit)"
    )
    parser.add_argument("--list", action="store_true", help="print the modules and exit")
    args = parser.parse_args(argv)
    project, external, _ = required_modules()
    if args.list:
        print("\n".join([*external, *project]))
        return 0
    problems = check(quantize=args.quantize)
    if problems:
        print("import check failed:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"import check: {len(external)} third-party and {len(project)} project modules import")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
