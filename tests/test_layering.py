"""The package's layers (docs/layout.md): the root holds rooms only, every import of a module runs
to its own room or a lower one (imports inside functions included), and no two modules import each
other round a circle. The layer table is read from docs/layout.md, so the docs and the check agree."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.unit

PACKAGE = REPO_ROOT / "exts" / "intermimic"
LAYOUT_DOC = REPO_ROOT / "docs" / "layout.md"


def layer_table(text: str) -> dict[str, int]:
    """``{room: layer}`` from the ``| layer | room | ... |`` table of docs/layout.md."""
    rows = re.findall(r"^\|\s*(\d+)\s*\|\s*`(\w+)`\s*\|", text, flags=re.M)
    return {room: int(layer) for layer, room in rows}


def module_name(path: Path) -> tuple[str, bool]:
    """(dotted module name, is a package) of a file of the package."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def package_modules() -> dict[str, tuple[Path, bool]]:
    return {module_name(p)[0]: (p, module_name(p)[1]) for p in PACKAGE.rglob("*.py")}


def imported_modules(path: Path, name: str, is_package: bool, known: set[str]):
    """Every ``(line, module)`` of the package that ``path`` imports, at any depth of the file."""
    here = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # ``from pkg import sub`` imports the submodule ``pkg.sub``
            targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module for a in node.names]
        else:
            continue
        for target in targets:
            if target == "intermimic" or target.startswith("intermimic."):
                yield node.lineno, target


def room_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_the_layer_table_is_read_and_in_order():
    table = layer_table(LAYOUT_DOC.read_text(encoding="utf-8"))
    assert len(table) >= 5, f"no layer table found in {LAYOUT_DOC}"
    assert table["utils"] == 0, "utils is the base layer"
    assert sorted(table.values()) == list(range(len(table))), "one room per layer, layers 0..N-1"


def test_the_package_root_holds_rooms_only():
    table = layer_table(LAYOUT_DOC.read_text(encoding="utf-8"))
    loose = sorted(p.name for p in PACKAGE.iterdir() if p.is_file() and p.suffix == ".py" and p.name != "__init__.py")
    assert not loose, f"modules beside the rooms in {PACKAGE}: {loose}; put each into a room (docs/layout.md)"
    rooms = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert rooms == set(table), f"rooms on disk {sorted(rooms)} vs the table of docs/layout.md {sorted(table)}"


def test_every_import_runs_to_its_own_room_or_a_lower_one():
    table = layer_table(LAYOUT_DOC.read_text(encoding="utf-8"))
    modules = package_modules()
    upward = []
    for name, (path, is_package) in sorted(modules.items()):
        room = room_of(name)
        for line, target in imported_modules(path, name, is_package, set(modules)):
            target_room = room_of(target)
            if room is None:  # the package's face may only use the base layer
                if target_room != "utils":
                    upward.append(f"{path.relative_to(REPO_ROOT)}:{line} imports {target} (the root imports utils only)")
                continue
            if target_room is not None and table[target_room] > table[room]:
                upward.append(f"{path.relative_to(REPO_ROOT)}:{line} ({room}, layer {table[room]}) imports {target} "
                              f"({target_room}, layer {table[target_room]})")  # fmt: skip
    assert not upward, "imports that run up the layers:\n" + "\n".join(upward)


def test_no_import_circle_even_through_imports_inside_functions():
    modules = package_modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, (path, is_package) in modules.items():
        for _, target in imported_modules(path, name, is_package, set(modules)):
            if target in modules and target != name:
                graph[name].add(target)
    state: dict[str, int] = {}
    path_stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path_stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path_stack[path_stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path_stack.pop()
        state[node] = 2
        return None

    for name in sorted(modules):
        if name not in state:
            circle = visit(name)
            assert circle is None, "import circle: " + " -> ".join(circle)


def test_the_checks_see_an_upward_import(tmp_path):
    """The import reader resolves a relative import inside a function to its module and room."""
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from ...app.configure import resolve_configs\n", encoding="utf-8")
    found = list(imported_modules(source, "intermimic.motion.demo.probe", False, set()))
    assert found == [(2, "intermimic.app.configure")]
    assert room_of(found[0][1]) == "app"
