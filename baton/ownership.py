"""Whether a file or directory baton is about to trust is this user's own.

A state directory, database, cache or lock file that another user made, or can write to,
would let that user decide what baton does (settings, history, the lock) and read what it
records, and a symbolic link planted there would turn baton's writes (as root, say) onto a
file of the attacker's choosing. baton refuses them, saying what to do.
"""

from __future__ import annotations

import os
import pwd
import stat


def not_private(status: os.stat_result) -> str | None:
    """Why a file or directory with this status is not safely this user's (``owned by
    alice, not root``, ``writable by others (mode 0777)``); None when it is."""
    if status.st_uid != os.geteuid():
        return f"owned by {user_name(status.st_uid)}, not {user_name(os.geteuid())}"
    if status.st_mode & 0o022:
        return f"writable by others (mode {stat.S_IMODE(status.st_mode):04o})"
    return None


def what_to_do(path: os.PathLike[str] | str, status: os.stat_result) -> str:
    """The command that makes ``path`` private, if it is meant to be this user's."""
    if status.st_uid != os.geteuid():
        return f"if it is meant to be yours, chown {user_name(os.geteuid())} {path}"
    return f"chmod go-w {path}"


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
