"""Which process holds a lock, precisely enough to tell apart machines that share a hostname.

Containers and CI runners often share a hostname, so a hostname and a pid do not name a
process: the pid may belong to another machine, another container on this one (another pid
namespace), an earlier boot, or a later process that was given the same pid. A lock holder
is therefore also named by the machine id (``/etc/machine-id``), the boot id (a random id the
kernel makes at each boot), the pid namespace (the inode of ``/proc/self/ns/pid``) and the
process's start time (``/proc/PID/stat``, in clock ticks after boot). Each is None where this
system does not tell it (no ``/proc``, no machine id): a holder is only checked locally when
its boot id, pid namespace and start time are known and all of it matches.
"""

from __future__ import annotations

import contextlib
import functools
import os
from typing import NamedTuple

MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")
BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"


class Whereabouts(NamedTuple):
    """Where a process runs: one machine, one boot of it, one pid namespace on it."""

    machine_id: str | None
    boot_id: str | None
    pid_namespace: int | None

    @property
    def known(self) -> bool:
        """Enough to tell one kernel and pid namespace from every other: a random boot id
        differs between machines, so a machine id, which many containers lack, may be None."""
        return self.boot_id is not None and self.pid_namespace is not None


@functools.cache
def here() -> Whereabouts:
    """Where this process runs (none of it changes while a process lives)."""
    return Whereabouts(_first_line(*MACHINE_ID_FILES), _first_line(BOOT_ID_FILE), _pid_namespace())


def process_start(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks after boot; None when /proc does not say
    (no such process, a zombie, or a /proc that hides it)."""
    fields = _stat(pid)
    if fields is None or len(fields) < 20 or fields[0] in ENDED:
        return None
    return int(fields[19])


def process_state(pid: int) -> str | None:
    """Process ``pid``'s state letter as /proc tells it (R running, S sleeping, T stopped,
    Z zombie...); None when /proc does not say."""
    fields = _stat(pid)
    return fields[0] if fields else None


ENDED = frozenset("ZX")
"""A zombie (Z) or dead (X) process has ended: only its parent has not read its exit yet."""
STOPPED = frozenset("Tt")
"""A stopped process (SIGSTOP, a debugger) is frozen, not gone: it may resume at any time."""


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            text = file.read().decode(errors="replace")
    except OSError:
        return None
    # The command name, in parentheses, may hold spaces and parentheses itself.
    return text[text.rfind(")") + 2 :].split() or None


def process_runs(pid: int) -> bool:
    """A process with this pid exists in this pid namespace (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pid_namespace() -> int | None:
    """The inode of this process's pid namespace; None when /proc is not this namespace's
    (a pid namespace entered without mounting its own /proc): pids read there would be
    another namespace's."""
    with contextlib.suppress(OSError, ValueError):
        if int(os.readlink("/proc/self")) == os.getpid():
            return os.stat("/proc/self/ns/pid").st_ino
    return None


def _first_line(*paths: str) -> str | None:
    for path in paths:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            with open(path, encoding="ascii") as file:
                line = file.readline().strip()
            if line:
                return line
    return None
