"""The house plan: stages import only the stages below them, and no module cycle exists.

Read from the source with `ast` (every `import`, at module level or inside a function),
so a deferred import counts like any other: deferring hides a cycle, it does not remove it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Bottom to top, in the order data flows. `schemas` (the pandera and pydantic contracts)
# sits just above `core`, whose canonical layout it reads.
LAYERS = (
    "pipeline.core",
    "schemas",
    "pipeline.extract",
    "pipeline.warehouse",
    "pipeline.load",
    "pipeline.report",
    "pipeline.render",
    "pipeline.orchestrate",
    "pipeline.cli",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    files = [*(ROOT / "pipeline").rglob("*.py"), *(ROOT / "schemas").rglob("*.py")]
    return {_module_name(path): path for path in files}


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """The project modules `name` imports; `from a import b` counts `a.b` alone if a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(submodules)
            if len(submodules) < len(node.names):  # names defined in the module itself
                found.add(node.module)
    return {target for target in found if target in MODULES and target != name}


def _layer(name: str) -> int | None:
    for index, layer in enumerate(LAYERS):
        if name == layer or name.startswith(layer + "."):
            return index
    return None


def test_every_module_belongs_to_a_stage():
    loose = [name for name in MODULES if _layer(name) is None and name not in ("pipeline",)]
    assert loose == [], f"modules outside every stage: {loose}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_a_higher_stage(name):
    own = _layer(name)
    if own is None:
        return
    higher = sorted(t for t in _imports(name) if (_layer(t) or 0) > own)
    assert higher == [], f"{name} (stage {LAYERS[own]}) imports a higher stage: {higher}"


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    path: list[str] = []
    on_path: set[str] = set()
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        path.append(node)
        on_path.add(node)
        for target in sorted(graph[node]):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done and (cycle := visit(target)):
                return cycle
        on_path.discard(path.pop())
        done.add(node)
        return None

    return visit(start)


def test_no_import_cycle():
    graph = {name: _imports(name) for name in MODULES}
    for name in sorted(graph):
        cycle = _cycle_from(name, graph)
        assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_cycle_detector_sees_a_cycle():
    """The detector itself: a two-module loop is reported, a chain is not."""
    assert _cycle_from("a", {"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle_from("a", {"a": {"b"}, "b": set()}) is None
