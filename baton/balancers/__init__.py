"""Kinds of load balancer as plugins: one module per kind registers a :class:`Kind`.

A kind's module holds its manifest model, how to build its driver (importing the driver's
module, and anything heavy such as boto3, only when a deploy needs it), what ``baton init``
offers for it, how ``baton sandbox`` runs it and the hints its error messages give. Everything
that lists the kinds reads this registry: the manifest's union of balancer models (so
validation, ``baton schema`` and ``baton init`` see a new kind), the driver factory, ``init``'s
flags and the sandbox's ``--balancer`` choices. A new kind is one module that
calls :func:`register`; the built-in ones are imported, in this order, the first time the kinds
are asked for.
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

    from baton.clock import Clock
    from baton.config.balancing import LoadBalancer
    from baton.drivers.loadbalancer import LoadBalancerDriver
    from baton.sandbox.fleet import Sandbox

BUILT_IN = ("haproxy", "nginx", "elbv2", "command")
"""The kinds baton ships, by module name under :mod:`baton.balancers`, in the order messages
and ``baton schema`` list them."""

Starter = Callable[[argparse.Namespace, list[dict[str, Any]]], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Flag:
    """One of ``baton init``'s flags: ``--name VALUE``, read back as ``args.name``."""

    name: str
    metavar: str
    help: str

    @property
    def dest(self) -> str:
        return self.name.removeprefix("--").replace("-", "_")


@dataclass(frozen=True)
class InitOffer:
    """What ``baton init`` offers for a kind: its flags, and the balancer they describe."""

    flags: tuple[Flag, ...]
    """Its flags, in the order ``baton init --help`` lists them."""
    starter: Starter
    """The balancer's keys for the manifest ``init`` writes, from the flags and the servers;
    None when its flags were not given."""
    together: str | None = None
    """The first two flags go together: what they are, for the message that refuses one
    without the other ("the runtime API and the backend")."""


class SandboxWiring(Protocol):
    """How ``baton sandbox up --balancer KIND`` runs a kind on this machine, in front of the
    sandbox's servers (:mod:`baton.sandbox.balancers` calls these; they import what they run)."""

    def check(self, lag: float) -> None:
        """Raise ValueError when this machine cannot run it (with this lag)."""

    def start(self, sandbox: Sandbox) -> None:
        """Start its processes (not yet with lag), recording their pids in ``sandbox``."""

    def set_lag(self, sandbox: Sandbox, lag: float) -> None:
        """Start what makes changes land ``lag`` seconds late (earlier ones are stopped)."""

    def lag_in_place(self, sandbox: Sandbox, lag: float) -> bool:
        """Whether what applies the sandbox's lag (``lag``) is alive."""

    def processes(self, sandbox: Sandbox) -> list[tuple[int | None, str]]:
        """(pid, marker in its command line) of each process it needs."""

    def manifest_keys(self, sandbox: Sandbox) -> dict[str, Any]:
        """Its own keys in the sandbox's manifest (``servers`` included)."""

    async def membership(self, sandbox: Sandbox) -> dict[str, str]:
        """Each server's membership as the part that carries the traffic has it."""

    def exports(self) -> dict[str, str]:
        """Environment variables a deploy to the sandbox needs (credentials, say)."""


@dataclass(frozen=True)
class Kind:
    """One kind of load balancer, as its module registers it."""

    type: str
    """The word ``type:`` takes in the manifest."""
    model: builtins.type[LoadBalancer]
    """Its manifest model: a frozen dataclass deriving from LoadBalancer."""
    driver: Callable[[LoadBalancer, Clock], LoadBalancerDriver]
    """Builds its driver, waiting on the clock given; imports the driver's module itself, so
    loading a manifest never does."""
    hints: Mapping[str, str] = field(default_factory=dict)
    """Its keys with a pattern -> what the error message says a value should look like."""
    init: InitOffer | None = None
    """What ``baton init`` offers for it (None: nothing)."""
    sandbox: SandboxWiring | None = None
    """How ``baton sandbox`` runs it (None: the sandbox cannot)."""


_KINDS: dict[str, Kind] = {}
_built_in_loaded = False


def register(kind: Kind) -> Kind:
    """Add (or replace) a kind; what was built from the kinds before is built again."""
    _load_built_in()
    _KINDS[kind.type] = kind
    _changed()
    return kind


def unregister(type_: str) -> None:
    """Remove a kind (a test's, say)."""
    _KINDS.pop(type_, None)
    _changed()


def kinds() -> Mapping[str, Kind]:
    """Every kind, by its ``type:`` word: the built-in ones first, in BUILT_IN's order."""
    _load_built_in()
    built_in = {name: _KINDS[name] for name in BUILT_IN if name in _KINDS}
    return MappingProxyType(built_in | _KINDS)


def driver_in(module: str, name: str) -> Callable[[LoadBalancer, Clock], LoadBalancerDriver]:
    """A kind's driver factory: builds class ``name`` of ``module`` with the balancer and the
    clock, importing the module on first use, so that loading a manifest never does (nor boto3)."""

    def build(lb: LoadBalancer, clock: Clock) -> LoadBalancerDriver:
        driver: Callable[[LoadBalancer, Clock], LoadBalancerDriver]
        driver = getattr(importlib.import_module(module), name)
        return driver(lb, clock)

    return build


def models() -> Mapping[str, type[LoadBalancer]]:
    """``type:`` -> the model of that kind."""
    return {name: kind.model for name, kind in kinds().items()}


class AnyKind:
    """Annotation metadata: a load balancer of any registered kind, told apart by ``type``.

    ``Annotated[LoadBalancer, AnyKind()]`` is, to pydantic, the union of the kinds' models as
    registered when a validator is built; :meth:`union` gives it to code that walks the
    models (``baton init``, the error messages)."""

    def union(self) -> Any:
        return typing.Union[tuple(models().values())]  # noqa: UP007 - built at run time

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic import Field

        return handler(typing.Annotated[self.union(), Field(discriminator="type")])

    def __repr__(self) -> str:
        return "AnyKind()"


def _load_built_in() -> None:
    """Import the built-in kinds' modules once, in order (each registers itself)."""
    global _built_in_loaded
    if not _built_in_loaded:
        _built_in_loaded = True
        for name in BUILT_IN:
            importlib.import_module(f"{__name__}.{name}")


def _changed() -> None:
    """Validators, keys and schemas built from the kinds before are built again."""
    from baton.config import validation

    validation.forget()
