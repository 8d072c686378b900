"""The variables exported to each step, and the masking that keeps secret values out of sight.

Secret values are replaced by ``***`` in every line of step output before it is emitted, and
in every text of every event and of the deploy's result (:meth:`StepEnvironment.masked`, applied
where the runner hands events to their consumers), so the CLI, the history store, the dashboard
and the notifications never see them, whether a step printed them or a balancer's error quoted
them.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from baton.config import Manifest
from baton.withheld import withheld

MASK = "***"

Masked = TypeVar("Masked")


@dataclass(frozen=True)
class StepEnvironment:
    """What every step gets in its environment, and which values to mask in its output."""

    variables: Mapping[str, str] = field(default_factory=dict)
    secret_values: tuple[str, ...] = ()

    @classmethod
    def build(
        cls, manifest: Manifest, secrets: Mapping[str, str], *, complete: bool = True
    ) -> StepEnvironment:
        """The manifest's plain variables plus the resolved secrets (see config.checks);
        ``complete=False`` allows secrets without a value (``baton check`` reports them).
        Masked: those secrets and baton's own (:mod:`baton.withheld`)."""
        missing = sorted(set(manifest.deploy.secrets) - set(secrets))
        if missing and complete:
            raise ValueError(f"no value for secret(s) {', '.join(missing)}")
        masked = [*secrets.values(), *withheld()]
        return cls({**manifest.deploy.environment, **secrets}, _patterns(masked))

    def mask(self, text: str) -> str:
        """``text`` with every secret value replaced by ``***``."""
        for value in self.secret_values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def masked(self, record: Masked) -> Masked:
        """``record`` (an event, a server's outcome, a deploy's result, an error) with every
        text it holds masked, in nested records and tuples too; itself when nothing changed."""
        if not self.secret_values:
            return record
        return _masked(record, self.mask)  # type: ignore[no-any-return]


def _masked(value: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(value, enum.Enum):
        return value
    if isinstance(value, str):
        text = mask(value)
        return value if text == value else text
    if isinstance(value, tuple):
        items = tuple(_masked(item, mask) for item in value)
        return value if items == value else items
    if isinstance(value, BaseException):
        text = mask(str(value))
        if text != str(value):
            value.args = (text,)
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changed = {}
        for item in dataclasses.fields(value):
            old = getattr(value, item.name)
            if item.init and (new := _masked(old, mask)) is not old:
                changed[item.name] = new
        return dataclasses.replace(value, **changed) if changed else value
    return value


def _patterns(values: Iterable[str]) -> tuple[str, ...]:
    """Each secret, and each line of a multi-line one (output is masked line by line);
    longest first, so a secret containing another is masked whole."""
    found: set[str] = set()
    for value in values:
        found.add(value)
        found.update(line for line in value.splitlines() if line.strip())
    return tuple(sorted(found, key=len, reverse=True))
