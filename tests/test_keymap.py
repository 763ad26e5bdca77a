"""`[ui.keys]` remaps are checked before any console exists: an unknown id or a key two live
bindings would share is refused in one line, by `config validate` without loading Textual,
and at console start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from polyb0t_tui.cli import main
from polyb0t_tui.keymap import BY_ID, SPECS, keymap_problems, specs_for

pytestmark = pytest.mark.usefixtures("cli_isolated")

KEY = "0x" + "ab" * 32


def _config(tmp_path: Path, keys: str) -> Path:
    path = tmp_path / "keys.toml"
    path.write_text(f"[ui.keys]\n{keys}\n")
    return path


def test_a_remap_onto_quits_key_is_refused() -> None:
    """The issue: approve = "q" made q, pressed to quit, execute an intent."""
    assert keymap_problems({"approve": "q"}) == [
        "[ui.keys] approve = 'q': q is also the key of quit (everywhere), so one key press "
        "would do both; pick another key"
    ]
    assert keymap_problems({"approve": "q", "quit": "ctrl+x"}) == []  # a swap is fine


def test_clashes_are_found_where_both_bindings_are_live() -> None:
    assert keymap_problems({"approve": "y"}) == []  # y is confirm.yes, only in dialogs
    assert keymap_problems({"approve": "y", "quit": "ctrl+q"}) == []  # config.example.toml
    assert keymap_problems({"approve": "down"})  # the queue's own cursor key
    assert keymap_problems({"sort": "?"})[0].startswith(
        "[ui.keys] sort = '?': question_mark is also the key of help (everywhere)"
    )
    two = keymap_problems({"sort": "x", "top": "x"})
    assert len(two) == 1 and "top (market table)" in two[0]  # said once, not twice
    assert keymap_problems({"pause": "x", "resume": "x"}) == []  # one of them at a time


def test_unknown_ids_bad_keys_and_reserved_keys_are_one_line_each() -> None:
    problems = keymap_problems(
        {"aprove": "x", "reject": "ctrl+q", "kill": "two words", "sort": KEY, KEY: "z"}
    )
    assert len(problems) == 5
    assert problems[0].startswith("[ui.keys] aprove: no such binding (did you mean approve?)")
    assert "ctrl+q is Textual's quit" in problems[1]
    assert "kill = 'two words': not a key list" in problems[2]
    assert "sort = <hidden>: not a key list" in problems[3]
    assert problems[4].startswith("[ui.keys] <hidden>: no such binding")
    assert all(KEY not in p for p in problems)


def test_config_validate_refuses_them_without_loading_textual(tmp_path: Path) -> None:
    path = _config(tmp_path, 'approve = "q"\nnonsense = "z"')
    code = (
        "import sys\n"
        "from polyb0t_tui.cli import main\n"
        f"code = main(['config', 'validate', '--config', {str(path)!r}])\n"
        "print('exit', code, 'textual' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=60,
    )
    assert done.stdout.strip() == "exit 2 False"
    lines = done.stderr.splitlines()
    assert lines[0] == f"polyb0t: invalid configuration in {path}:"
    assert len(lines) == 3
    assert "nonsense: no such binding" in lines[1] and "approve = 'q'" in lines[2]


def test_the_console_refuses_them_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, 'approve = "q"')
    assert main(["run", "--config", str(path)]) == 2  # before "needs a terminal"
    assert main(["tui", "--attach", "--config", str(path)]) == 2  # before looking for a daemon
    err = capsys.readouterr().err
    assert err.count("approve = 'q': q is also the key of quit") == 2
    assert "terminal" not in err and "daemon" not in err


def test_the_widgets_bind_exactly_the_table() -> None:
    """One table: every Textual binding the console declares comes from it."""
    from textual.binding import Binding

    from polyb0t_tui.app import PolybotApp
    from polyb0t_tui.keymap import textual_bindings

    groups = PolybotApp.binding_groups(PolybotApp.__new__(PolybotApp))
    declared = {
        b.id: (where, b.key, b.action)
        for where, group in groups
        for b in group
        if isinstance(b, Binding) and b.id is not None
    }
    assert declared == {s.id: (s.scope, s.keys, s.action) for s in SPECS}
    assert len(BY_ID) == len(SPECS)  # ids are unique
    for where, group in groups:
        assert group == textual_bindings(where) and specs_for(where), where
