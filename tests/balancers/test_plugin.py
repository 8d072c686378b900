"""A kind of load balancer is one module that registers itself: this test module registers a
"ledger" kind and, with no other file changed, baton validates it, lists it in its JSON Schema,
offers it in ``baton init``, plans a deploy behind it and drives it through the real driver
factory (servers on the fake transport)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from baton._exceptions import ManifestError
from baton.balancers import Flag, InitOffer, Kind, kinds, register, unregister
from baton.cli.main import main
from baton.clock import Clock
from baton.config import parse_manifest
from baton.config.balancing import LoadBalancer
from baton.config.schema import manifest_schema
from baton.config.values import Name, PathError
from baton.drivers.bundle import Drivers
from baton.drivers.factory import load_balancer_driver
from baton.drivers.fake import FakeFleet
from baton.drivers.loadbalancer import LoadBalancerDriver, Membership
from baton.execution import run_deploy
from baton.planning import DeployOptions, Strategy, build_plan, render_plan
from baton.settings import Settings
from baton.state import Store
from tests.manifests import manifest_text

BOOKS: dict[str, dict[str, Membership]] = {}
"""Each ledger's members as its driver left them, by book."""
CHANGES: list[str] = []
"""What the ledger drivers were asked to do, in order."""


@dataclass(frozen=True, kw_only=True)
class LedgerBalancer(LoadBalancer):
    """A balancer that keeps its members in a book (this test's dictionary)."""

    type: Literal["ledger"]
    """The kind of load balancer."""
    book: Name
    """The book its members are written in."""

    def describe(self) -> str:
        return f"ledger book {self.book}"

    def check_servers(self, names: list[str]) -> None:
        if "nobody" in self.servers.values():
            raise PathError(("servers",), "a ledger member needs a name, not nobody")


class LedgerDriver(LoadBalancerDriver):
    def __init__(self, lb: LedgerBalancer) -> None:
        self.name, self.lb = lb.name, lb
        self.members = BOOKS.setdefault(lb.book, {})

    async def remove(self, server: str) -> None:
        self.members[self.lb.member_name(server)] = Membership.OUT_OF_ROTATION
        CHANGES.append(f"remove {self.lb.member_name(server)}")

    async def add(self, server: str) -> None:
        self.members[self.lb.member_name(server)] = Membership.IN_ROTATION
        CHANGES.append(f"add {self.lb.member_name(server)}")

    async def membership(self) -> dict[str, Membership]:
        return {self.lb.server_for(member): state for member, state in self.members.items()}


def _driver(lb: LoadBalancer, clock: Clock) -> LoadBalancerDriver:
    assert isinstance(lb, LedgerBalancer)
    return LedgerDriver(lb)


def _starter(args: argparse.Namespace, servers: list[dict[str, Any]]) -> dict[str, Any] | None:
    return None if args.ledger is None else {"type": "ledger", "book": args.ledger}


LEDGER = Kind(
    type="ledger",
    model=LedgerBalancer,
    driver=_driver,
    init=InitOffer((Flag("--ledger", "BOOK", "a ledger book of the servers"),), _starter),
)
LEDGER_BLOCK = "  - name: main\n    type: ledger\n    book: shop\n    servers: {web1: one}\n"


@pytest.fixture(autouse=True)
def ledger() -> Iterator[Kind]:
    BOOKS.clear()
    CHANGES.clear()
    register(LEDGER)
    yield LEDGER
    unregister("ledger")


def ledger_manifest(block: str = LEDGER_BLOCK) -> str:
    text = manifest_text(2, migration=False, load_balancer=False)
    head, deploy = text.split("deploy:", 1)
    return f"{head}load_balancers:\n{block}deploy:{deploy}"


def test_the_kind_is_registered_after_the_built_in_ones() -> None:
    assert list(kinds()) == ["haproxy", "nginx", "elbv2", "command", "ledger"]


def test_a_ledger_is_validated_with_its_own_keys_and_checks() -> None:
    manifest = parse_manifest(ledger_manifest())
    (lb,) = manifest.load_balancers
    assert isinstance(lb, LedgerBalancer) and (lb.book, lb.member_name("web1")) == ("shop", "one")
    with pytest.raises(ManifestError, match=r"load_balancers\[0\].bok: unknown key 'bok'; did"):
        parse_manifest(ledger_manifest(LEDGER_BLOCK.replace("book:", "bok:")))
    with pytest.raises(ManifestError, match=r":11: load_balancers\[0\].servers: a ledger member"):
        parse_manifest(ledger_manifest(LEDGER_BLOCK.replace("one", "nobody")))
    with pytest.raises(ManifestError, match="'command', 'ledger', got 'ledgr'"):
        parse_manifest(ledger_manifest(LEDGER_BLOCK.replace("type: ledger", "type: ledgr")))


def test_a_ledger_is_in_the_schema_and_the_built_in_kinds_stay() -> None:
    schema = manifest_schema()
    book = schema["$defs"]["LedgerBalancer"]["properties"]["book"]
    assert book["description"] == "The book its members are written in."
    kinds_listed = json.dumps(schema["properties"]["load_balancers"])
    assert all(f'"{kind}"' in kinds_listed for kind in ("haproxy", "elbv2", "ledger"))
    unregister("ledger")
    assert "LedgerBalancer" not in manifest_schema()["$defs"]


def test_init_offers_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "baton.yml"
    argv = ["init", "-f", str(path), "--app", "shop", "--server", "web1=10.0.0.1"]
    assert main([*argv, "--ledger", "shop"]) == 0
    (lb,) = parse_manifest(path.read_text()).load_balancers
    assert isinstance(lb, LedgerBalancer) and lb.book == "shop"


async def test_a_deploy_behind_a_ledger_is_planned_and_driven(tmp_path: Path) -> None:
    manifest = parse_manifest(ledger_manifest())
    plan = build_plan(manifest, Settings(), DeployOptions("v2", Strategy.SERIAL), [])
    assert "remove from main -> step fetch -> step restart -> add back to main" in render_plan(plan)
    BOOKS["shop"] = {"one": Membership.IN_ROTATION, "web2": Membership.IN_ROTATION}
    fleet = FakeFleet(manifest)
    drivers = Drivers(fleet.transport, load_balancer_driver)
    report = await run_deploy(plan, Store(tmp_path), drivers=drivers)
    assert report.result.status == "succeeded"
    assert CHANGES == ["remove one", "add one", "remove web2", "add web2"]
    assert BOOKS == {"shop": {"one": Membership.IN_ROTATION, "web2": Membership.IN_ROTATION}}
    assert fleet.timeline.commands() == ["fetch v2", "restart web1", "fetch v2", "restart web2"]
