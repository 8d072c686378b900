"""Step environment and secret masking, with the fake fleet and the local transport."""

import secrets
from pathlib import Path

import pytest

from baton._exceptions import StateError
from baton.cli.serve import hook_secret
from baton.config import Server, parse_manifest
from baton.drivers import ShellCommand
from baton.drivers.fake import FakeFleet
from baton.drivers.local import LocalTransport
from baton.execution import Event, run_deploy
from baton.execution.environment import StepEnvironment
from baton.execution.events import StepFinished, StepOutput
from baton.planning import DeployOptions, Strategy, build_plan
from baton.settings import Settings
from baton.state import Store
from tests.manifests import manifest_text
from tests.state.test_postgres_url import closed_port

SECRETS = "  environment: {MODE: prod}\n  secrets:\n    TOKEN: {from_env: SHOP_TOKEN}\n"


def test_mask_hides_every_secret_and_each_line_of_a_multi_line_one() -> None:
    manifest = parse_manifest(manifest_text(1) + SECRETS)
    environment = StepEnvironment.build(manifest, {"TOKEN": "abc-123\nsecond-line"})
    assert environment.variables == {"MODE": "prod", "TOKEN": "abc-123\nsecond-line"}
    assert environment.mask("token abc-123 then second-line, mode prod") == (
        "token *** then ***, mode prod"
    )


async def test_a_deploy_masks_secret_values_in_events_and_history(tmp_path: Path) -> None:
    manifest = parse_manifest(manifest_text(2, migration=False) + SECRETS)
    fleet = FakeFleet(manifest)
    fleet.script.on("fetch", output="using hunter2 for v2\n")
    store = Store(tmp_path)
    plan = build_plan(manifest, Settings(), DeployOptions("v2", Strategy.PARALLEL), [])
    events: list[Event] = []
    await run_deploy(
        plan, store, drivers=fleet.drivers(), sinks=[events.append], secrets={"TOKEN": "hunter2"}
    )
    chunks = [e.text for e in events if isinstance(e, StepOutput)]
    assert chunks == ["using *** for v2\n"] * 2
    outputs = [e.output for e in events if isinstance(e, StepFinished) and e.step == "fetch"]
    assert outputs == ["using *** for v2\n"] * 2
    stored = [s.output for s in store.step_results(1) if s.step == "fetch"]
    assert stored == outputs
    assert "hunter2" not in str([e.data for e in store.events(1)])


async def test_the_local_transport_exports_the_environment() -> None:
    transport = LocalTransport(Server(name="here", address="localhost", transport="local"))
    environment = {"MODE": "prod", "TOKEN": "it's $x"}
    result = await transport.run(ShellCommand('echo "$MODE $TOKEN"', 5, environment))
    assert result.output == "prod it's $x\n"


async def test_a_command_health_check_sees_the_step_environment(tmp_path: Path) -> None:
    text = (
        "application: shop\n"
        "servers:\n  - {name: box, address: localhost, transport: local}\n"
        "deploy:\n"
        "  environment: {MODE: prod}\n"
        "  steps:\n    - {name: build, run: 'true'}\n"
        "  health_check: {command: 'test \"$MODE\" = prod', deadline: 1, interval: 0.1}\n"
    )
    manifest = parse_manifest(text)
    store = Store(tmp_path)
    plan = build_plan(manifest, Settings(), DeployOptions(version="v1"))
    report = await run_deploy(plan, store)
    assert report.result.status == "succeeded", report.result.summary()


async def test_baton_s_own_secrets_are_masked_in_every_deploy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook secret ``baton serve`` read and the password of a PostgreSQL state baton
    opened are masked like the manifest's secrets: a step that finds them elsewhere (a file,
    ~/.pgpass) still cannot show them."""
    hook = secrets.token_hex(32)
    monkeypatch.setenv("HOOKSEC", hook)
    hook_secret("HOOKSEC", None)
    password = f"pg-{secrets.token_hex(8)}"
    with pytest.raises(StateError):
        Store(f"postgresql://baton:{password}@127.0.0.1:{closed_port()}/baton")
    manifest = parse_manifest(manifest_text(1, migration=False, load_balancer=False))
    fleet = FakeFleet(manifest)
    fleet.script.on("fetch", output=f"found {hook} and {password}\n")
    plan = build_plan(manifest, Settings(), DeployOptions("v2", Strategy.SERIAL), [])
    events: list[Event] = []
    report = await run_deploy(plan, Store(tmp_path), drivers=fleet.drivers(), sinks=[events.append])
    assert report.result.status == "succeeded"
    assert [e.text for e in events if isinstance(e, StepOutput)] == ["found *** and ***\n"]
