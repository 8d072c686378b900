"""Deployment profiles: saved sets of one-off deploy options ("hotfix: parallel, no migrations").

A profile holds only the choices that differ from "use the setting"; applying one fills the
options a deploy left open, so an explicit flag always wins over the profile.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import Any

from baton._exceptions import InputError
from baton.planning.plan import DeployOptions, Strategy
from baton.settings import format_ramp, parse_ramp

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CONVERTERS: dict[str, Any] = {"strategy": Strategy, "batch": parse_ramp}
"""Option fields stored as text: their enum's value, a ramp's spelling."""


def profile_name(text: str) -> str:
    """``text`` if it is a good profile name, else InputError saying what is."""
    if not NAME_PATTERN.match(text):
        raise InputError(
            f"profile name {text!r}: use letters, digits and . _ - (at most 64 characters)"
        )
    return text


def profile_of(options: DeployOptions) -> dict[str, Any]:
    """The one-off choices in ``options`` (the version is never part of a profile)."""
    chosen = {}
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        if f.name == "batch" and value is not None:
            chosen[f.name] = format_ramp(value)
        elif f.name != "version" and value is not None:
            chosen[f.name] = value.value if isinstance(value, enum.Enum) else value
    return chosen


def with_profile(options: DeployOptions, name: str, profile: dict[str, Any]) -> DeployOptions:
    """``options`` with every choice it left open taken from ``profile``."""
    fields = {f.name for f in dataclasses.fields(options)} - {"version"}
    filled: dict[str, Any] = {}
    for key, value in profile.items():
        if key not in fields:
            raise InputError(f"profile {name}: {key!r} is not a deploy option this baton knows")
        if getattr(options, key) is None:
            filled[key] = CONVERTERS[key](value) if key in CONVERTERS else value
    return dataclasses.replace(options, **filled)


def describe_profile(profile: dict[str, Any]) -> str:
    """A profile in words: "parallel, skip migrations"."""
    words = []
    if "strategy" in profile:
        words.append(str(profile["strategy"]))
    if "run_migrations" in profile:
        words.append("run migrations" if profile["run_migrations"] else "skip migrations")
    words += [f"{k} {v}" for k, v in profile.items() if k not in {"strategy", "run_migrations"}]
    return ", ".join(words) or "no choices (uses the settings)"
