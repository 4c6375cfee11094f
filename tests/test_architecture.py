"""The layout shows the architecture: layers import downward only, small modules and functions,
no private names across modules, no import loops, and nothing points outside the repository."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tokencalc"

# Lowest first. A module may import its own layer and the layers below, never a higher one.
LAYERS = {"base": 0, "core": 1, "resolve": 2, "analysis": 3, "calibration": 3, "render": 4, "cli": 5, "api": 5}
BASE = {"errors", "units", "unit_table", "fileio", "version"}
GENERATED = {"unit_table.py"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(mod: str) -> int:
    parts = mod.split(".")
    if len(parts) == 1 or parts[1] in ("__main__",):
        return LAYERS["cli"]  # the package's front door and `python -m`
    head = parts[1]
    if head in BASE:
        return LAYERS["base"]
    return LAYERS[head]


def imports(path: Path, mod: str, top_level_only: bool = False) -> list[tuple[str, list[str], int]]:
    """(imported module, names, line) for every tokencalc import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    nodes = tree.body if top_level_only else ast.walk(tree)
    out = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("tokencalc"):
                continue
            names = [a.name for a in node.names]
            # `from . import humanize` imports a module
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            if subs:
                out += [(s, [], node.lineno) for s in subs]
                rest = [n for n in names if f"{target}.{n}" not in MODULES]
                if rest:
                    out.append((target, rest, node.lineno))
            else:
                out.append((target, names, node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("tokencalc")]
    return out


def test_layers_import_downward_only():
    bad = []
    for mod, path in MODULES.items():
        for target, _, line in imports(path, mod):
            if target in MODULES and layer(target) > layer(mod):
                bad.append(f"{path.relative_to(ROOT)}:{line} ({mod}) imports {target}")
    assert not bad, "a lower layer imports a higher one:\n" + "\n".join(bad)


def test_core_is_pure_no_io_and_no_heavy_imports():
    for mod, path in MODULES.items():
        if layer(mod) != LAYERS["core"]:
            continue
        text = path.read_text(encoding="utf-8")
        for banned in ("open(", "print(", "sys.stdout", "import matplotlib", "import weasyprint", "import rich"):
            assert banned not in text, f"{mod} uses {banned}"


def test_no_private_name_is_imported_across_modules():
    bad = []
    for mod, path in MODULES.items():
        for target, names, line in imports(path, mod):
            bad += [f"{path.relative_to(ROOT)}:{line} imports {target}.{n}" for n in names
                    if n.startswith("_") and n != "__version__"]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   for a in node.names if (node.level or (node.module or "").startswith("tokencalc"))}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert not bad, "\n".join(bad)


def test_no_import_loops():
    graph = {mod: {t for t, _, _ in imports(path, mod, top_level_only=True) if t in MODULES and t != mod}
             for mod, path in MODULES.items()}
    # A package's __init__ importing its own submodules is not a loop unless a submodule imports the package back.
    seen: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        seen[m] = 1
        stack.append(m)
        for t in graph[m]:
            if seen.get(t) == 1:
                cycle = stack[stack.index(t):] + [t]
                if not all(c == cycle[0] or c.startswith(cycle[0] + ".") or cycle[0].startswith(c + ".")
                           for c in cycle):
                    pytest.fail("import loop: " + " -> ".join(cycle))
            elif t not in seen:
                visit(t)
        stack.pop()
        seen[m] = 2

    for m in graph:
        if m not in seen:
            visit(m)


@pytest.mark.parametrize("path", [p for p in MODULES.values() if p.name not in GENERATED],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_are_small(path):
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= 500, f"{path.relative_to(ROOT)} has {lines} lines (limit 500)"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            assert n <= 80, f"{path.relative_to(ROOT)}:{node.lineno} {node.name} has {n} lines (limit 80)"


def test_nothing_points_outside_the_repository():
    places = [PACKAGE, ROOT / "templates", ROOT / "docs", ROOT / "profiles", ROOT / "README.md", ROOT / "bench"]
    files = [p for d in places for p in ([d] if d.is_file() else d.rglob("*")) if p.is_file()]
    bad = []
    for p in files:
        if p.suffix not in (".py", ".md", ".toml", ".j2", ".css", ".txt", ""):
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        for needle in ("../shared", "shared/spec", "MODEL.md", "INTERFACE.md", "STYLE.md", "REFERENCES.md"):
            if needle in text:
                bad.append(f"{p.relative_to(ROOT)}: {needle}")
    assert not bad, "\n".join(bad)


def test_no_hand_written_unit_conversions():
    # 3.6e6 J/kWh, 86400 s/day, 3600 s/h: unit conversions go through the unit registry (units.factor).
    bad = []
    for mod, path in MODULES.items():
        if path.name in GENERATED:
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if any(c in code for c in ("3.6e6", "86400", "3600.0", "365.25")) and '"""' not in code:
                bad.append(f"{path.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not bad, "\n".join(bad)


def test_every_cited_section_of_the_method_exists():
    import re

    doc = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    sections = {int(n) for n in re.findall(r"^## (\d+)\. ", doc, re.M)}
    places = [PACKAGE, ROOT / "templates", ROOT / "profiles", ROOT / "README.md"]
    files = [p for d in places for p in ([d] if d.is_file() else d.rglob("*")) if p.is_file()]
    cited = {(p.relative_to(ROOT), int(n)) for p in files if p.suffix in (".py", ".md", ".toml", ".j2")
             for n in re.findall(r"docs/model\.md §(\d+)", p.read_text(encoding="utf-8", errors="replace"))}
    assert cited, "nothing cites docs/model.md"
    assert not [c for c in cited if c[1] not in sections], "cited sections missing from docs/model.md"
