"""Optional login for `nego ui`: one "user:password", or a users file of such lines.

`--auth` (or NEGO_AUTH) is either `user:password` or the path of a file with one
`user:password` per line (blank lines and `# comments` ignored). Passwords are
compared in constant time. Binding to anything but a loopback address without
login is allowed but warned about: everyone who can reach the port could read
the conversations.
"""

from __future__ import annotations

import hmac
import ipaddress
import stat
from collections.abc import Callable
from pathlib import Path


class AuthError(ValueError):
    """The login setting cannot be used; the message says what is wrong (never a password)."""


def _pair(text: str, where: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not sep or not user.strip() or not password:
        raise AuthError(f"{where}: expected user:password")
    return user.strip(), password


def parse_auth(spec: str) -> dict[str, str]:
    """Users and passwords from `user:password` or a users file."""
    spec = spec.strip()
    if not spec:
        raise AuthError("--auth is empty: give user:password or a users file")
    path = Path(spec).expanduser()
    if path.is_file():
        users: dict[str, str] = {}
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise AuthError(f"{path}: not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
        except OSError as exc:
            raise AuthError(f"{path}: cannot be read ({exc.strerror})") from None
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            user, password = _pair(line.rstrip("\r\n"), f"{path}:{number}")
            users[user] = password
        if not users:
            raise AuthError(f"{path}: no user:password lines")
        return users
    if ":" not in spec:
        raise AuthError(f"--auth: {spec!r} is neither user:password nor an existing users file")
    user, password = _pair(spec, "--auth")
    return {user: password}


def users_file_warning(spec: str) -> str | None:
    """A warning when a users file can be read by other local users."""
    path = Path(spec.strip()).expanduser()
    if path.is_file() and path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH):
        return f"warning: {path} is readable by other users; run: chmod 600 {path}"
    return None


def checker(users: dict[str, str]) -> Callable[[str, str], bool]:
    def check(username: str, password: str) -> bool:
        expected = users.get(username)
        # Compare against something even for an unknown user, so timing does not tell which users exist.
        ok = hmac.compare_digest((expected or "\0").encode(), (password or "").encode())
        return expected is not None and ok

    return check


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def binding_warning(host: str, has_login: bool) -> str | None:
    if is_loopback(host) or has_login:
        return None
    return (
        f"warning: serving on {host} without login: anyone who can reach this address can use the copilot and read "
        "its conversations. Set NEGO_AUTH=user:password (or --auth FILE), or bind 127.0.0.1."
    )
