"""Private files: the data dir (0700) and the SQLite database (0600) are its owner's alone.

Why: the database holds positions, intents and fills, the data dir the control token and
models; with the default umask (022) both would be readable by every user on the machine.
New ones are created private from the first byte (a mode at creation, never a chmod after,
so there is no moment others could open them). Existing ones are never changed behind the
user's back: a looser mode gets one warning line with the `chmod` to run, because the user
may have opened a folder up on purpose (a shared group, a backup job).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def make_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) 0700; an existing folder is left as it is.

    `mkdir` applies `mode` to the last level only: parents above the data dir are ordinary
    folders (a user's home, /var/lib) and keep the usual mode.
    """
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)


def create_private_file(path: Path) -> bool:
    """Create an empty 0600 file at `path` unless one exists; True when it was created.

    SQLite gives the -wal and -shm files it creates later the database file's own mode,
    so creating the database this way before SQLite opens it makes all three private.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def open_to_others(path: Path, private_mode: int) -> str | None:
    """One warning line when `path` exists and group or others have any access to it."""
    try:
        st = os.stat(path)
    except OSError:  # missing, or unreadable: whatever opens it reports that
        return None
    mode = stat.S_IMODE(st.st_mode)
    if not mode & 0o077:
        return None
    kind = "folder" if stat.S_ISDIR(st.st_mode) else "file"
    return (
        f"{path} is open to other users (mode {mode:04o}), and polyb0t keeps private data in "
        f"this {kind}: run `chmod {private_mode:o} {path}`"
    )
