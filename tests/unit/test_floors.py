"""Every floor looks down: imports (function-level ones included) point from a higher floor to its own or a lower
one, never up and never in a circle. The floors, bottom first, as the README's layout table shows them."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "pipeline", "engine", "ops")
# Bottom first. A module's floor is that of its longest matching prefix.
FLOORS = {"ops.config": 0, "engine": 1, "pipeline": 2, "api": 3, "ops": 4}
# What each floor may import of ours, beyond itself: engine is pure (spec in, bytes out).
ONLY = {"engine": ("engine",), "ops.config": ("ops.config",)}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def floor_of(module: str) -> str:
    return max((f for f in FLOORS if module == f or module.startswith(f + ".")), key=len)


def imports_of(path: Path) -> set[str]:
    """The modules of ours this file imports, anywhere in it (a function-level import is still an import)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                     for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.split(".")[0] in PACKAGES and name in MODULES}
    return found


GRAPH = {name: imports_of(path) - {name} for name, path in MODULES.items()}


def test_every_import_points_down() -> None:
    wrong = []
    for source, targets in sorted(GRAPH.items()):
        here = floor_of(source)
        for target in sorted(targets):
            there = floor_of(target)
            allowed = ONLY.get(here)
            if FLOORS[there] > FLOORS[here] or (allowed is not None and there not in allowed):
                wrong.append(f"{source} ({here}) imports {target} ({there})")
    assert not wrong, "imports that point up or out of a pure floor:\n" + "\n".join(wrong)


def test_no_import_cycle() -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_floors_cover_every_module() -> None:
    assert len(MODULES) > 50 and all(floor_of(name) in FLOORS for name in MODULES)
