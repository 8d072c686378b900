"""Checks before a deploy changes anything, and what it tells the operator about the state.

The state has room for the deploy's record; a deploy that never finished (its process gone, or
its end never written) is said to be taken over.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from baton._exceptions import StateWriteError
from baton.state import DeployRecord, LockHolder, Store
from baton.state.database import is_url

LOCAL_LOCKS = Path.home() / ".cache" / "baton"
"""Where per-server locks live when the state is in PostgreSQL: they then keep apart the
deploys of this machine only."""
MIN_STATE_FREE = 16 * 2**20
"""Bytes a deploy needs free on the state's filesystem to start (its record is bounded:
at most ~0.5 MiB of output per step, usually a few KiB)."""


def state_directory(store: Store) -> Path | None:
    """The directory of an SQLite state; None for a PostgreSQL one."""
    return None if is_url(store.location) else Path(store.location)


def check_state_space(directory: Path) -> None:
    """Refuse to start a deploy that could not be recorded: too little room for the state."""
    free = shutil.disk_usage(directory).free
    if free < MIN_STATE_FREE:
        raise StateWriteError(
            f"preflight: the filesystem of baton's state {directory} has {free / 2**20:.1f} MiB "
            f"free, below the {MIN_STATE_FREE // 2**20} MiB a deploy needs to be recorded "
            "(MIN_STATE_FREE); free some space or use --state elsewhere; nothing changed"
        )


def taken_over(unfinished: DeployRecord, holder: LockHolder | None) -> str:
    """What the next deploy says about a deploy that never finished, which it takes over."""
    why = (
        f"its process (pid {holder.pid} on {holder.host}) is gone"
        if holder is not None and holder.deploy_id == unfinished.id
        else "it could not record its end (its state could not be written), or was killed"
    )
    return (
        f"deploy #{unfinished.id} never finished: {why}; it is now recorded as abandoned, and "
        "servers it left out of rotation are recovered first"
    )
