"""Application settings kept in baton's state: their keys, defaults, meanings and parsing.

Booleans accept true/false, 1/0, on/off, enable/disable, yes/no (any case).
"""

from __future__ import annotations

import itertools
import math
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
class BatchSize:
    """A batch as a count of servers or a percentage of the application's servers."""

    value: int
    percent: bool = False

    def of(self, servers: int) -> int:
        """How many servers this batch holds out of ``servers`` (a percentage rounds up)."""
        return math.ceil(servers * self.value / 100) if self.percent else self.value

    def __str__(self) -> str:
        return f"{self.value}%" if self.percent else str(self.value)


Ramp = tuple[BatchSize, ...]
"""Batch sizes in order; the last one repeats until every server is deployed."""

RAMP_HELP = "a count (2), a percentage (25%) or an increasing ramp (1,25%,50%)"


def parse_ramp(text: str) -> Ramp:
    """``"2"``, ``"25%"`` or ``"1,25%,50%"``; sizes of one kind must increase."""
    words = [w.strip() for w in text.split(",")]
    if not text.strip() or any(not w for w in words):
        raise ValueError(f"expected {RAMP_HELP}")
    ramp = tuple(_batch_size(w) for w in words)
    for kind in (False, True):
        values = [b.value for b in ramp if b.percent is kind]
        if any(later <= earlier for earlier, later in itertools.pairwise(values)):
            raise ValueError("a ramp's sizes must increase (1,25%,50%)")
    return ramp


def _batch_size(word: str) -> BatchSize:
    percent = word.endswith("%")
    digits = word[:-1].strip() if percent else word
    if not digits.isdigit() or int(digits) == 0:
        raise ValueError(f"{word!r} is not a batch size; expected {RAMP_HELP}")
    if percent and int(digits) > 100:
        raise ValueError(f"{word!r}: a percentage is at most 100%")
    return BatchSize(int(digits), percent)


def format_ramp(ramp: Ramp) -> str:
    return ",".join(str(b) for b in ramp)


def parse_canary(text: str) -> BatchSize | None:
    """A count or percentage of servers deployed and verified first; 0/none for no canary."""
    word = text.strip().lower()
    if word in {"0", "none", "off"}:
        return None
    if "," in word:
        raise ValueError("expected a count (1) or a percentage (10%), or 0/none")
    return _batch_size(word)


def parse_auto(text: str) -> bool | None:
    """true/false, or auto (None): on when the deploy has a canary."""
    return None if text.strip().lower() == "auto" else parse_bool(text)


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
        if isinstance(value, tuple):
            return format_ramp(value)
        if value is None:
            return "auto" if self.parse is parse_auto else "0"
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
            "A serial deploy never leaves fewer servers than this in rotation; a batch that "
            "would break it is shrunk",
            _parse_floor,
        ),
        SettingSpec(
            "deploy.batch_size",
            "1",
            "Servers taken out of rotation together in a serial deploy: a count, a percentage "
            "or a ramp (1,25%,50%: the last size repeats)",
            parse_ramp,
        ),
        SettingSpec(
            "deploy.migrations_first",
            "true",
            "Run the migration step alone, before any other server runs its remaining steps "
            "(false: it runs among the other steps, as in the order the strategy gives)",
            parse_bool,
        ),
        SettingSpec(
            "deploy.canary",
            "0",
            "Servers deployed first and verified (the manifest's deploy.verify) before the "
            "rest: a count or a percentage (0: no canary)",
            parse_canary,
        ),
        SettingSpec(
            "deploy.auto_rollback",
            "auto",
            "When verification or a later batch fails, redeploy the previous successful "
            "version on the servers changed (auto: on when a canary is set)",
            parse_auto,
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
    batch: Ramp = (BatchSize(1),)
    migrations_first: bool = True
    canary: BatchSize | None = None
    auto_rollback: bool | None = None
    """None: on when there is a canary."""

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
            batch=parse_ramp(text("deploy.batch_size")),
            migrations_first=parse_bool(text("deploy.migrations_first")),
            canary=parse_canary(text("deploy.canary")),
            auto_rollback=parse_auto(text("deploy.auto_rollback")),
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
