"""`polyb0t --help` and a bad flag answer without loading what the commands use (issue 14).

Parsing is what a person waits for on every typo: it must not pay for the database layer,
the settings models, numpy or the network clients. Each command imports those when it runs
(`LazyCommand`); these tests hold that line, and check that every command still resolves to
its function. The commands' behaviour is covered by their own tests (test_cli*.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from polyb0t_tui.cli import build_parser
from polyb0t_tui.cli.common import LazyCommand

HEAVY = {
    "sqlalchemy",
    "sqlmodel",
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "numpy",
    "httpx",
    "websockets",
    "aiohttp",
    "msgspec",
    "rich",
    "textual",
    "py_clob_client_v2",
}
# The only engine modules parsing may load: they import nothing of the above.
LIGHT_ENGINE = {"engine", "engine.limits"}

ERRORS = [
    ["run", "--seed", "-1"],
    ["report", "--bogus"],
    ["run", "--speed", "fast"],
    ["fake-exchange", "--port", "70000"],
    ["backfill", "--fidelity", "0"],
    ["intents", "approve"],
    ["bogus"],
]

# Runs each argv through `main` in one fresh interpreter, noting what each one loaded.
PROBE = """
import contextlib, io, json, sys
before = set(sys.modules)
from polyb0t_tui.cli import main
out = []
for argv in json.loads(sys.stdin.read()):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    out.append({"argv": argv, "code": code, "stdout": stdout.getvalue(),
                "stderr": stderr.getvalue(), "loaded": sorted(set(sys.modules) - before)})
print(json.dumps(out))
"""


def _commands(parser: argparse.ArgumentParser, prefix: list[str]) -> list[list[str]]:
    """Every command and action, as the argv that names it (`["db", "prune"]`)."""
    out: list[list[str]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append([*prefix, name])
                out.extend(_commands(sub, [*prefix, name]))
    return out


def _leaf_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [parser]
    return [leaf for a in subs for sub in a.choices.values() for leaf in _leaf_parsers(sub)]


def _probe(argvs: list[list[str]]) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    results: list[dict[str, object]] = json.loads(done.stdout)
    return results


def _heavy(loaded: object) -> list[str]:
    assert isinstance(loaded, list)
    return [
        m
        for m in loaded
        if m.split(".")[0] in HEAVY or (m.split(".")[0] == "engine" and m not in LIGHT_ENGINE)
    ]


@pytest.fixture(scope="module")
def probed() -> list[dict[str, object]]:
    helps = [["--help"]] + [[*c, "--help"] for c in _commands(build_parser(), [])]
    return _probe(helps + ERRORS)


def test_help_of_every_command_loads_nothing_heavy(probed: list[dict[str, object]]) -> None:
    helps = [r for r in probed if r["argv"] not in ERRORS]
    assert len(helps) > 15  # the top level, every command and every action
    for r in helps:
        assert r["code"] == 0, r
        assert str(r["stdout"]).startswith("usage: polyb0t"), r
        assert _heavy(r["loaded"]) == [], f"{r['argv']} loaded {_heavy(r['loaded'])}"


def test_an_argument_error_loads_nothing_heavy(probed: list[dict[str, object]]) -> None:
    errors = [r for r in probed if r["argv"] in ERRORS]
    assert [r["argv"] for r in errors] == ERRORS
    for r in errors:
        assert r["code"] == 2, r
        assert str(r["stderr"]).startswith("polyb0t"), r
        assert str(r["stderr"]).count("\n") == 1, r  # the one-line message, not the usage
        assert _heavy(r["loaded"]) == [], f"{r['argv']} loaded {_heavy(r['loaded'])}"


def test_the_probe_sees_what_a_command_loads() -> None:
    """The check above can fail: a command that runs loads the settings (pydantic)."""
    (r,) = _probe([["config", "validate", "--config", "/nonexistent/polybot.toml"]])
    assert r["code"] == 2
    assert "pydantic" in _heavy(r["loaded"]) and "engine.config" in _heavy(r["loaded"])


def test_every_command_resolves_to_its_function() -> None:
    leaves = _leaf_parsers(build_parser())
    assert len(leaves) > 12
    for leaf in leaves:
        func = leaf.get_default("func")
        assert isinstance(func, LazyCommand), leaf.prog
        target = func.load()
        assert callable(target) and target.__name__ == func.name, leaf.prog
        assert target.__module__ == func.module, leaf.prog


BENCH = Path(__file__).resolve().parents[1] / "bench" / "startup.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_startup", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


def test_the_startup_bench_runs_its_cases_and_reads_importtime(bench: ModuleType) -> None:
    figures, floor = bench.measure(1)  # also checks each case's exit status
    assert [f.label for f in figures] == [label for label, _, _ in bench.CASES]
    assert floor.median_ms > 0
    assert all(f.max_ms >= f.median_ms > 0 for f in figures)
    names = {i.name for i in bench.import_costs(("--help",))}
    assert "polyb0t_tui.cli" in names and "argparse" in names
