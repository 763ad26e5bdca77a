"""Harlequin's rule: the engine and the ML never load the UI; the daemon never imports Textual.

The layers point down only (DESIGN.md): `polyb0t_tui/` over `ml/` over `engine/`, and the fake
exchange (`fake_polymarket/`, its aiohttp an optional extra) beside them, never under the
engine. Each probe imports every module of the packages it names, in a fresh interpreter, and
reports everything that got loaded; a static pass over the engine's source also catches the
imports a probe cannot see (inside functions, under TYPE_CHECKING).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UI = {"textual", "polyb0t_tui"}

# Imports each named package and every module under it (pkgutil's walk, failing on any
# import error), then prints the modules it imported and everything loaded.
PROBE = """
import importlib, json, pkgutil, sys

def fail(name):
    raise ImportError(f"cannot import {name}")

names = []
for top in sys.argv[1:]:
    pkg = importlib.import_module(top)
    names.append(top)
    if hasattr(pkg, "__path__"):
        names += [m.name for m in pkgutil.walk_packages(pkg.__path__, top + ".", onerror=fail)]
for name in names:
    importlib.import_module(name)
print(json.dumps({"imported": names, "loaded": sorted(sys.modules)}))
"""


@cache
def _probe(*packages: str) -> tuple[frozenset[str], frozenset[str]]:
    """(modules imported by name, top-level packages loaded) in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *packages],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    ).stdout
    found = json.loads(out)
    return frozenset(found["imported"]), frozenset(m.split(".")[0] for m in found["loaded"])


def _modules_on_disk(package: str) -> set[str]:
    """Every module a package's files define, by dotted name (a package by its __init__)."""
    out = set()
    for path in (ROOT / package).rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.add(".".join(parts))
    return out


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


def test_the_probe_imports_every_module_of_engine_and_ml() -> None:
    """A folder without __init__.py, or a module the walk skips, would escape the checks."""
    imported, _ = _probe("engine", "ml")
    expected = _modules_on_disk("engine") | _modules_on_disk("ml")
    assert len(expected) > 100
    assert imported == expected


def test_engine_and_ml_load_neither_textual_nor_the_console() -> None:
    _, loaded = _probe("engine", "ml")
    assert {"engine", "ml"} <= loaded
    assert not loaded & UI
    assert "torch" not in loaded


def test_the_engine_alone_loads_neither_ml_nor_the_fake_exchange() -> None:
    imported, loaded = _probe("engine")
    assert imported == _modules_on_disk("engine")
    assert not loaded & {"ml", "fake_polymarket", *UI}


def test_the_probe_sees_what_a_module_loads() -> None:
    """The checks above can fail: the console's app does load Textual."""
    _, loaded = _probe("polyb0t_tui.app")
    assert {"textual", "polyb0t_tui"} <= loaded


def _absolute_imports(source: str) -> set[str]:
    """Top-level package of every absolute import in `source`, wherever it is written."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def test_the_import_scan_finds_imports_inside_functions_and_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import polyb0t_tui.app\n"
        "def f():\n    from ml.experts import x\n    import fake_polymarket.server as s\n"
    )
    assert _absolute_imports(source) == {"typing", "polyb0t_tui", "ml", "fake_polymarket"}


def test_no_engine_source_imports_ml_the_console_or_the_fake_exchange() -> None:
    banned = {"ml", "fake_polymarket", *UI}
    found = {
        str(path.relative_to(ROOT)): sorted(_absolute_imports(path.read_text()) & banned)
        for path in sorted((ROOT / "engine").rglob("*.py"))
    }
    assert len(found) > 100
    assert {path: names for path, names in found.items() if names} == {}


def test_no_ml_source_imports_the_console() -> None:
    found = {
        str(path.relative_to(ROOT)): sorted(_absolute_imports(path.read_text()) & UI)
        for path in sorted((ROOT / "ml").rglob("*.py"))
    }
    assert found and {path: names for path, names in found.items() if names} == {}


def test_cli_and_runtime_do_not_import_textual() -> None:
    mods = _modules_after("import polyb0t_tui.cli, polyb0t_tui.runtime")
    assert "textual" not in mods


def test_the_cli_loads_the_clob_client_only_for_real_orders() -> None:
    mods = _modules_after("import polyb0t_tui.cli, polyb0t_tui.runtime")
    assert "py_clob_client_v2" not in mods


def _module_imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules `name` imports when it loads: module-level statements only (an
    import inside a function or under TYPE_CHECKING runs later or never); its own packages
    excluded (`from engine.sources.sim import books` in a module of that package is how
    Python packages are written, not a circle between modules)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for n in ast.walk(node):
            if isinstance(n, ast.Import):
                found |= {a.name for a in n.names}
            elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
                found |= {n.module, *(f"{n.module}.{a.name}" for a in n.names)}
    ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    return {m for m in found if m in known and m != name and m not in ancestors}


def _import_circles(root: Path, packages: tuple[str, ...]) -> list[list[str]]:
    """Every set of modules that import one another around a circle, as they load."""
    paths: dict[str, Path] = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            paths[".".join(parts)] = path
    graph = {m: _module_imports(p, m, set(paths)) for m, p in paths.items()}
    circles: list[list[str]] = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                circles.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return circles


def test_no_module_imports_itself_around_a_circle() -> None:
    """Issue 14 broke recorder <-> runner and app <-> approval; none may come back."""
    assert _import_circles(ROOT, ("engine", "ml", "polyb0t_tui", "fake_polymarket")) == []


def test_the_circle_finder_sees_a_circle(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("from pkg.b import x\n")
    (root / "b.py").write_text("import pkg.a\nx = 1\n")
    (root / "c.py").write_text("def f():\n    import pkg.a\n")  # at call time: no circle
    (root / "d.py").write_text("from pkg import a\n")  # a module, not the package itself
    assert _import_circles(tmp_path, ("pkg",)) == [["pkg.a", "pkg.b"]]
