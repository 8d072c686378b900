"""Which version a rollback deploys: the last one that succeeded before the newest deploy."""

from __future__ import annotations

from baton._exceptions import InputError
from baton.state.deploys import Deploys


def rollback_version(store: Deploys, application: str, to: int | None = None) -> str:
    """The version of deploy ``to``, or the last successful one that is not the newest deploy's."""
    if to is not None:
        record = store.deploy(to)
        if record is None or record.application != application:
            raise InputError(f"--to {to}: no deploy #{to} of {application}")
        if record.status != "succeeded":
            raise InputError(f"--to {to}: deploy #{to} {record.status}; pick one that succeeded")
        return record.version
    history = store.deploys(application, limit=200)
    if not history:
        raise InputError(f"{application}: nothing to roll back to, no deploys yet")
    newest = history[0].version
    for record in history:
        if record.status == "succeeded" and record.version != newest:
            return record.version
    raise InputError(f"{application}: no earlier successful version than {newest} to roll back to")
