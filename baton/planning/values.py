"""Which load balancer values are in force for a deploy, and where each came from.

A value named in the manifest is applied by the deploy. A value the manifest no longer names
keeps whatever an earlier deploy applied: deleting the key does not clear it, setting it to 0
and deploying does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from baton.config import LoadBalancer, Manifest

WAIT_KEYS = ("wait_after_removing_servers", "wait_after_adding_servers")
DEFAULTS = {"wait_after_removing_servers": "0", "wait_after_adding_servers": "0", "httpchk": "/"}


class AppliedValue(Protocol):
    """A value an earlier deploy applied, as the caller read it (from the state: planning
    reads nothing itself)."""

    @property
    def load_balancer(self) -> str: ...

    @property
    def key(self) -> str: ...

    @property
    def value(self) -> str: ...

    @property
    def deploy_id(self) -> int: ...


@dataclass(frozen=True)
class ValueInForce:
    """One load balancer configuration value for this deploy."""

    load_balancer: str
    key: str
    value: str
    origin: str
    """"manifest", "deploy #N" (applied earlier, no longer in the manifest) or "default"."""
    applied_by: int | None = None

    @property
    def lingering(self) -> bool:
        """Applied by an earlier deploy and no longer named in the manifest."""
        return self.origin.startswith("deploy")

    def seconds(self) -> int:
        return int(self.value) if self.key in WAIT_KEYS else 0

    def to_dict(self) -> dict[str, object]:
        return {
            "load_balancer": self.load_balancer,
            "key": self.key,
            "value": self.value,
            "origin": self.origin,
            "applied_by": self.applied_by,
            "lingering": self.lingering,
        }


def values_in_force(manifest: Manifest, applied: Iterable[AppliedValue]) -> list[ValueInForce]:
    stored = {(a.load_balancer, a.key): a for a in applied}
    return [
        _resolve(lb, key, stored.get((lb.name, key)))
        for lb in manifest.load_balancers
        for key in DEFAULTS
    ]


def _resolve(lb: LoadBalancer, key: str, earlier: AppliedValue | None) -> ValueInForce:
    named = getattr(lb.configuration, key)
    if named is not None:
        return ValueInForce(lb.name, key, str(named), "manifest")
    if earlier is not None:
        return ValueInForce(
            lb.name, key, earlier.value, f"deploy #{earlier.deploy_id}", earlier.deploy_id
        )
    return ValueInForce(lb.name, key, DEFAULTS[key], "default")


def values_to_apply(manifest: Manifest) -> list[tuple[str, str, str]]:
    """(load balancer, key, value) for every value the manifest names: a deploy records these."""
    return [
        (lb.name, key, str(getattr(lb.configuration, key)))
        for lb in manifest.load_balancers
        for key in DEFAULTS
        if getattr(lb.configuration, key) is not None
    ]


def wait_seconds(values: Iterable[ValueInForce], key: str) -> int:
    """The wait a serial deploy makes: the longest among the application's load balancers."""
    return max((v.seconds() for v in values if v.key == key), default=0)
