"""The nginx balancer's ``on_drain_timeout``: in the manifest's JSON Schema, validated, and
what a deploy shows when the old workers outlast the balancer's timeout (no server needed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from baton.balancers.nginx import NginxBalancer
from baton.config import Manifest
from baton.config.schema import manifest_schema
from baton.config.validation import validate
from baton.drivers.fake import FakeFleet
from baton.execution import run_deploy
from baton.execution.events import Event, Warned
from baton.planning import DeployOptions, Strategy, build_plan
from baton.settings import Settings
from baton.state import Store
from tests.manifests import manifest

SERIAL = DeployOptions(version="v2", strategy=Strategy.SERIAL)
FIELDS = {"name": "edge", "type": "nginx", "file": "/etc/nginx/up.conf", "upstream": "app"}


def test_on_drain_timeout_is_warn_or_fail_and_defaults_to_warn() -> None:
    assert validate(NginxBalancer, FIELDS, strict=False).on_drain_timeout == "warn"
    fail = validate(NginxBalancer, FIELDS | {"on_drain_timeout": "fail"}, strict=False)
    assert fail.on_drain_timeout == "fail" and fail.file == Path("/etc/nginx/up.conf")
    with pytest.raises(ValidationError, match="on_drain_timeout"):
        validate(NginxBalancer, FIELDS | {"on_drain_timeout": "ignore"}, strict=False)


def test_the_json_schema_offers_on_drain_timeout() -> None:
    text = str(manifest_schema())
    assert "on_drain_timeout" in text
    assert "'enum': ['warn', 'fail']" in text


async def test_a_deploy_shows_what_a_balancer_warned_of_after_a_removal(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    """The engine asks each balancer after a change: nginx's drain cut short becomes a
    warning of the deploy (which still succeeds: on_drain_timeout defaults to warn)."""
    m = manifest(2, migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    warnings = iter([["load balancer main: 1 still draining"]])
    fleet.load_balancers["main"].take_warnings = lambda: next(warnings, [])  # type: ignore[method-assign]
    events: list[Event] = []
    plan = build_plan(m, Settings(), SERIAL, store.applied_values(m.application))
    report = await run_deploy(plan, store, drivers=fleet.drivers(), sinks=[events.append])
    assert report.result.status == "succeeded"
    assert [e.message for e in events if isinstance(e, Warned)] == [
        "load balancer main: 1 still draining"
    ]
