"""One engine per data dir, enforced by a lock the operating system releases on death.

Two engines on one data dir would each publish their control socket's URL and token there
(the second overwrote the first's, and on exit deleted it: consoles then found no daemon),
trade against the same database as if alone, and each record the other's runs as theirs to
repair. So `polyb0t run` takes an exclusive `flock` on `<data_dir>/engine.lock` before it
writes anything and keeps it for the whole run. The kernel drops the lock when the process
ends, however it ends (kill -9 included), so a crash never leaves a stale lock behind; the
file's text (pid, host, start time) is only there to say who holds it.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from engine.file_modes import PRIVATE_FILE, make_private_dir

LOCK_NAME = "engine.lock"


class DataDirBusy(RuntimeError):
    """Another engine holds the data dir; the message says which process."""


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise `DataDirBusy` at once (never waits)."""
        if self._fd is not None:
            return
        make_private_dir(self.data_dir)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise DataDirBusy(
                f"another engine is running on data dir {self.data_dir} ({holder}); stop it "
                "first, attach a console to it (`polyb0t tui --attach`), or give this one "
                "another data_dir (POLYBOT_DATA_DIR)"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        text = f"pid {os.getpid()} on {socket.gethostname()}, started {started}\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.ftruncate(fd, 0)  # nobody holds it now; the file itself stays (no race)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _read(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "a process that has not said which yet"
