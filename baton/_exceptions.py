"""Every error baton raises on purpose.

BatonError                      -- anything baton reports without a traceback
├── InputError                  -- bad input; exit status 2; nothing has changed
│   ├── ManifestError           -- the manifest: names file, line and key path
│   ├── SettingError            -- an unknown setting or an invalid value
│   └── StateError              -- the state cannot be opened or used (names where it is)
│       └── StateWriteError     -- it could not take a write (disk full, I/O): exit status 1
│           └── LockLost        -- another deploy took over this deploy's lock meanwhile
├── UnreachableError            -- a server could not be reached (SSH connect, auth)
├── StepError                   -- a step exited non-zero or timed out
├── HealthCheckError            -- a server did not become healthy in time
├── VerificationError           -- a canary failed its verification
├── LoadBalancerError           -- a load balancer refused, or disagrees with what was set
└── LockError                   -- another deploy of the application holds the lock
"""

from __future__ import annotations

from dataclasses import dataclass


class BatonError(Exception):
    """Base of every error baton reports as a one-line message."""

    exit_code = 1


class InputError(BatonError):
    """Bad input from the operator. Raised before anything changes."""

    exit_code = 2


@dataclass(frozen=True)
class Location:
    """Where in a manifest a problem is: file, 1-based line, key path."""

    file: str
    line: int | None
    path: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}" if self.path else where


class ManifestError(InputError):
    """A manifest that cannot be loaded; the message names file, line and key."""

    def __init__(self, location: Location, message: str) -> None:
        self.location = location
        self.message = message
        super().__init__(f"{location}: {message}")


class SettingError(InputError):
    """An unknown setting key or a value the setting does not accept."""


class StateError(InputError):
    """baton's state cannot be opened or used: the message names it and what to do."""


class UnreachableError(BatonError):
    """A server could not be reached."""


class StepError(BatonError):
    """A deploy step failed on a server."""


class HealthCheckError(BatonError):
    """A server's health check did not pass before its deadline."""


class VerificationError(BatonError):
    """A canary's probe or its error rate on the load balancers was above the limit."""


class LoadBalancerError(BatonError):
    """A load balancer refused a change or reports a state baton did not set."""


class LockError(BatonError):
    """Another deploy of the same application is running."""


class StateWriteError(StateError):
    """baton's state could not be written (disk full, I/O error) while it ran: the deploy
    stops as on Ctrl-C. The message names the state and the reason."""

    exit_code = 1


class LockLost(StateWriteError):
    """Another deploy took over the lock of this one (which was frozen, or could not beat its
    heartbeat): this deploy must write and touch nothing more. The message names the deploy
    that holds the lock now."""
