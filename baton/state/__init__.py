"""State: settings, applied values, deploy history, lock, journal, notifications and profiles
(SQLite or PostgreSQL), one repository module per kind of record; :class:`Store` opens them all."""

from baton.state.records import (
    AppliedValue,
    DeployRecord,
    JournalEntry,
    LockHolder,
    NotificationAttempt,
    ServerResult,
    StepResult,
    StoredEvent,
)
from baton.state.server_locks import ServerLocks
from baton.state.store import Store, default_state

__all__ = [
    "AppliedValue",
    "DeployRecord",
    "JournalEntry",
    "LockHolder",
    "NotificationAttempt",
    "ServerLocks",
    "ServerResult",
    "StepResult",
    "Store",
    "StoredEvent",
    "default_state",
]
