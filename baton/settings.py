"""Application settings kept in baton's state: their keys, defaults, meanings and parsing.

Booleans accept true/false, 1/0, on/off, enable/disable, yes/no (any case).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from baton._exceptions import SettingError

_TRUE = {"true", "1", "on", "enable", "enabled", "yes"}
_FALSE = {"false", "0", "off", "disable", "disabled", "no"}
BOOLEAN_WORDS = "true/false, 1/0, on/off, enable/disable, yes/no"


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"expected a boolean ({BOOLEAN_WORDS})")


def _parse_limit(text: str) -> int:
    word = text.strip().lower()
    if word in {"0", "none", "unbounded", "unlimited"}:
        return 0
    if not word.isdigit():
        raise ValueError("expected a whole number >= 1, or 0/unbounded for no limit")
    return int(word)


def _parse_floor(text: str) -> int:
    if not text.strip().isdigit():
        raise ValueError("expected a whole number >= 0")
    return int(text.strip())


@dataclass(frozen=True)
class SettingSpec:
    key: str
    default: str
    meaning: str
    parse: Callable[[str], object]

    def normalise(self, text: str) -> str:
        """Parse ``text`` and return the canonical spelling stored in state."""
        try:
            value = self.parse(text)
        except ValueError as exc:
            raise SettingError(f"{self.key}: invalid value {text!r}: {exc}") from None
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)


SPECS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in (
        SettingSpec(
            "deploy.parallel",
            "false",
            "Deploy to all servers at once, never touching the load balancers "
            "(false: one server at a time, out of rotation while it is deployed)",
            parse_bool,
        ),
        SettingSpec(
            "run.deploy.command",
            "true",
            "Run the migration step (on exactly one server) on every deploy",
            parse_bool,
        ),
        SettingSpec(
            "deploy.max_parallel",
            "0",
            "Most servers deployed at the same time in a parallel deploy (0: no limit)",
            _parse_limit,
        ),
        SettingSpec(
            "deploy.min_in_service",
            "1",
            "A serial deploy never leaves fewer servers than this in rotation",
            _parse_floor,
        ),
    )
}


def spec_for(key: str) -> SettingSpec:
    try:
        return SPECS[key]
    except KeyError:
        raise SettingError(f"unknown setting {key!r}; valid settings: {', '.join(SPECS)}") from None


@dataclass(frozen=True)
class Settings:
    """An application's settings, parsed."""

    parallel: bool = False
    run_migrations: bool = True
    max_parallel: int = 0
    min_in_service: int = 1

    @classmethod
    def from_stored(cls, stored: Mapping[str, str]) -> Settings:
        """Build from the key → text pairs in state; defaults fill the gaps."""

        def text(key: str) -> str:
            return stored.get(key, SPECS[key].default)

        return cls(
            parallel=parse_bool(text("deploy.parallel")),
            run_migrations=parse_bool(text("run.deploy.command")),
            max_parallel=_parse_limit(text("deploy.max_parallel")),
            min_in_service=_parse_floor(text("deploy.min_in_service")),
        )


def describe(stored: Mapping[str, str]) -> list[dict[str, object]]:
    """Every setting as ``settings list`` and the dashboard show it: value, default, meaning."""
    return [
        {
            "key": spec.key,
            "value": stored.get(spec.key, spec.default),
            "default": spec.default,
            "set": spec.key in stored,
            "boolean": spec.parse is parse_bool,
            "meaning": spec.meaning,
        }
        for spec in SPECS.values()
    ]
