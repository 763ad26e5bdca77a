"""Where a console finds a running daemon: `control.url` and `control.token` in the data dir.

The token is the only thing between the control socket and anyone able to reach the port
(the earlier implementation's approve endpoint had no authentication at all), so its file is
created 0600 from the first byte (`os.open` with the mode, never chmod afterwards) and
replaced atomically, so no other user can read it even for an instant. A daemon reuses a
token file that is still private (consoles reconnect after a restart without re-reading
anything) and replaces one that is not: a token others could read may have leaked.
A console refuses to send a token from a file others can read, for the same reason.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import stat
from pathlib import Path
from urllib.parse import urlsplit

URL_FILE = "control.url"
TOKEN_FILE = "control.token"
MIN_TOKEN_CHARS = 32  # secrets.token_urlsafe(32) gives 43


class ControlFileError(RuntimeError):
    """A control file is missing, unreadable or unsafe; the message says what to do."""


def url_path(data_dir: Path) -> Path:
    return data_dir / URL_FILE


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


# --- the daemon's side ------------------------------------------------------------------------


def prepare_token(path: Path) -> tuple[str, str | None, bool]:
    """(token, warning, fresh): the token in a safe existing file, else a new one that the
    caller writes with `save_token` once it knows the daemon will serve (a start that fails
    must leave no file behind). The warning says why an existing file is not used."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return secrets.token_urlsafe(32), None, True
    problem = _unsafe(st)
    if problem is None:
        try:
            token = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            problem = f"could not be read ({exc})"
        else:
            if len(token) >= MIN_TOKEN_CHARS and token.isascii() and token.isprintable():
                return token, None, False
            problem = "did not hold a usable token"
    return (
        secrets.token_urlsafe(32),
        f"{path} {problem}: replaced it with a new token in a 0600 file "
        "(consoles attached with the old token must re-read it)",
        True,
    )


def save_token(path: Path, token: str) -> None:
    _write_atomically(path, token + "\n", 0o600)


def write_url(path: Path, url: str) -> None:
    """Publish the daemon's URL (not secret: the token guards the socket)."""
    _write_atomically(path, url + "\n", 0o644)


def remove_url(path: Path, url: str) -> None:
    """On shutdown, so `tui --attach` can say no daemon runs; only if it is still ours
    (a second daemon on the same data dir may have replaced it)."""
    try:
        if path.read_text(encoding="utf-8").strip() == url:
            path.unlink()
    except OSError:
        pass


def _write_atomically(path: Path, text: str, mode: int) -> None:
    """Create a fresh file with `mode` from the start, then rename it over `path`.

    Writing into an existing file would keep that file's (maybe wider) permissions, and a
    symlink planted at `path` would be followed; a rename replaces either.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, mode)
    try:
        try:
            os.fchmod(fd, mode)  # the umask may have narrowed it; never widened
            os.write(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _unsafe(st: os.stat_result) -> str | None:
    if stat.S_ISLNK(st.st_mode):
        return "is a symlink"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return "belongs to another user"
    if st.st_mode & 0o077:
        return f"was readable or writable by other users (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


# --- the console's side -----------------------------------------------------------------------


def read_url(path: Path) -> str:
    try:
        url = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise ControlFileError(
            f"no daemon is running for this data dir ({path} does not exist); start one with "
            "`polyb0t run --daemon`, or pass the URL: `polyb0t tui --attach ws://HOST:PORT`"
        ) from None
    except OSError as exc:
        raise ControlFileError(f"cannot read {path}: {exc.strerror}") from None
    if not url:
        raise ControlFileError(f"{path} is empty; restart the daemon")
    return url


def read_token(path: Path) -> str:
    """The token a console sends; refuses a file other users can read (it may have leaked)."""
    try:
        st = os.stat(path)
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise ControlFileError(
                f"{path} is readable by other users (mode {mode:04o}), so the token may have "
                "leaked; not using it. Delete the file and restart the daemon: it writes a new "
                "token, readable only by you"
            )
        token = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise ControlFileError(
            f"no control token at {path}: the daemon writes it when it starts; start "
            "`polyb0t run --daemon` with the same data_dir, or pass --token-file"
        ) from None
    except PermissionError:
        raise ControlFileError(
            f"cannot read {path}: permission denied (run the console as the daemon's user)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ControlFileError(f"cannot read the control token at {path}: {exc}") from None
    if not token:
        raise ControlFileError(f"{path} is empty; restart the daemon to write a new token")
    return token


# --- loopback ---------------------------------------------------------------------------------


def is_loopback_host(host: str) -> bool:
    """Only addresses that cannot be reached from another machine count; a host name other
    than `localhost` might resolve anywhere, so it does not."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def bind_problem(host: str, allow_remote: bool) -> str | None:
    """Why the control socket must not listen on `host`, or None when it may.

    The one statement of the rule: the daemon (`control_server.check_bind`) refuses to start
    with it and `load_settings` (so `config validate`) refuses the settings, in these words.
    """
    if allow_remote or is_loopback_host(host):
        return None
    return (
        f"control.host = {host!r} is not a loopback address: other machines could reach the "
        "control socket. Use 127.0.0.1, or set control.allow_remote = true to allow it (the "
        "token still guards it, but ws:// is not encrypted)"
    )


def url_host(url: str) -> str:
    """The host a ws:// URL names; raises ControlFileError for anything but ws/wss URLs."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ControlFileError(f"not a usable URL {url!r}: {exc}") from None
    if parts.scheme not in ("ws", "wss") or not parts.hostname or port is None:
        raise ControlFileError(
            f"not a control socket URL {url!r}: expected ws://HOST:PORT (as in control.url)"
        )
    return parts.hostname


def client_url(host: str, port: int) -> str:
    """The URL a local console uses: an any-address bind is reached through loopback."""
    name = host.strip().strip("[]")
    if name in ("0.0.0.0", ""):
        name = "127.0.0.1"
    elif name == "::":
        name = "::1"
    if ":" in name:
        name = f"[{name}]"
    return f"ws://{name}:{port}"
