"""The variables exported to each step, and the masking that keeps secret values out of sight.

Secret values are replaced by ``***`` in every line of step output before it is emitted, so
the CLI, the history store and the dashboard (all consumers of the same events) never see them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from baton.config import Manifest

MASK = "***"


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
        ``complete=False`` allows secrets without a value (``baton check`` reports them)."""
        missing = sorted(set(manifest.deploy.secrets) - set(secrets))
        if missing and complete:
            raise ValueError(f"no value for secret(s) {', '.join(missing)}")
        return cls({**manifest.deploy.environment, **secrets}, _patterns(secrets.values()))

    def mask(self, text: str) -> str:
        """``text`` with every secret value replaced by ``***``."""
        for value in self.secret_values:
            if value in text:
                text = text.replace(value, MASK)
        return text


def _patterns(values: Iterable[str]) -> tuple[str, ...]:
    """Each secret, and each line of a multi-line one (output is masked line by line);
    longest first, so a secret containing another is masked whole."""
    found: set[str] = set()
    for value in values:
        found.add(value)
        found.update(line for line in value.splitlines() if line.strip())
    return tuple(sorted(found, key=len, reverse=True))
