"""Plan shapes of batches, ramps, prepare-while-serving and migrations first (pure)."""

import pytest

from baton._exceptions import InputError, SettingError
from baton.config import parse_manifest
from baton.planning import DeployOptions, Plan, Strategy, build_plan, plan_to_dict, render_plan
from baton.planning.actions import (
    AddToLoadBalancers,
    AwaitBatch,
    Phase,
    RemoveFromLoadBalancers,
    RunStep,
    Verify,
    Wave,
)
from baton.planning.restrict import restrict
from baton.settings import SPECS, Settings, parse_canary, parse_ramp
from tests.manifests import manifest, manifest_text

V2 = DeployOptions(version="v2")


def batch(text: str, strategy: Strategy | None = None) -> DeployOptions:
    return DeployOptions(version="v2", strategy=strategy, batch=parse_ramp(text))


def steps(wave: Wave, server: str) -> list[str]:
    sp = next(sp for sp in wave.servers if sp.server.name == server)
    return [a.step.name for a in sp.actions if isinstance(a, RunStep)]


def rollout(plan: Plan) -> list[list[str]]:
    return [[sp.server.name for sp in w.servers] for w in plan.waves if w.final]


@pytest.mark.parametrize(
    ("servers", "text", "sizes"),
    [
        (6, "2", (2, 2, 2)),
        (5, "2", (2, 2, 1)),
        (6, "25%", (2, 2, 2)),
        (10, "1,25%,50%", (1, 3, 5, 1)),
        (8, "1,2,4", (1, 2, 4, 1)),
        (3, "1", (1, 1, 1)),
    ],
)
def test_batches_and_ramps_cover_every_server_once(
    servers: int, text: str, sizes: tuple[int, ...]
) -> None:
    plan = build_plan(manifest(servers, migration=False), Settings(), batch(text))
    assert plan.batches == sizes
    assert [len(w) for w in rollout(plan)] == list(sizes)
    assert sorted(plan.server_order()) == sorted(s.name for s in plan.manifest.servers)


def test_setting_gives_batches_and_the_flag_overrides_it() -> None:
    settings = Settings(batch=parse_ramp("3"))
    plan = build_plan(manifest(6, migration=False), settings, V2)
    assert plan.batches == (3, 3) and plan.batch_origin == "setting deploy.batch_size = 3"
    once = build_plan(manifest(6, migration=False), settings, batch("2"))
    assert once.batches == (2, 2, 2) and "this deploy only" in once.batch_origin
    assert "--batch 2" in render_plan(once)


def test_batch_chooses_serial_over_the_parallel_setting_and_clashes_with_the_flag() -> None:
    plan = build_plan(manifest(4), Settings(parallel=True), batch("2"))
    assert plan.strategy is Strategy.SERIAL
    with pytest.raises(InputError, match="--batch and --parallel"):
        build_plan(manifest(4), Settings(), batch("2", Strategy.PARALLEL))


def test_parallel_ignores_the_batch_setting() -> None:
    plan = build_plan(manifest(4), Settings(parallel=True, batch=parse_ramp("2")), V2)
    assert plan.batches == () and len(rollout(plan)) == 1


def test_batch_leaves_together_and_rejoins_together() -> None:
    plan = build_plan(manifest(4, migration=False), Settings(), batch("2"))
    for wave in plan.waves:
        assert wave.stop_on_failure and wave.limit == 0
        for sp in wave.servers:
            kinds = [type(a) for a in sp.actions]
            assert kinds[0] is RemoveFromLoadBalancers
            assert kinds.index(AwaitBatch) == kinds.index(AddToLoadBalancers) - 1


def test_single_server_batches_are_todays_serial_plan() -> None:
    plan = build_plan(manifest(3), Settings(), V2)
    assert plan.batches == (1, 1, 1) and [len(w.servers) for w in plan.waves] == [1, 1, 1]
    assert not any(isinstance(a, AwaitBatch) for w in plan.waves for a in w.servers[0].actions)
    assert "one server at a time" in render_plan(plan)


def test_min_in_service_shrinks_a_batch_and_the_plan_says_so() -> None:
    plan = build_plan(manifest(6, migration=False), Settings(min_in_service=4), batch("50%"))
    assert plan.batches == (2, 2, 2)
    assert plan.notes == (
        "batches of 3 shrunk to 2: deploy.min_in_service = 4 keeps 4 of 6 servers in rotation",
    )
    assert "NOTE: batches of 3 shrunk to 2" in render_plan(plan)
    whole = build_plan(manifest(4, migration=False), Settings(), batch("100%"))
    assert whole.batches == (3, 1) and whole.notes


def test_waits_are_paid_once_per_batch_and_the_estimate_lists_batches() -> None:
    plan = build_plan(manifest(6, waits=(5, 2), migration=False), Settings(), batch("2"))
    assert plan.estimated_extra_seconds == (5 + 2) * 3
    assert "7s per batch x 3 batches (2, 2, 2) = 21s" in render_plan(plan)
    assert plan_to_dict(plan)["batches"] == [2, 2, 2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "not a batch size"),
        ("-1", "not a batch size"),
        ("101%", "at most 100%"),
        ("abc", "not a batch size"),
        ("", "expected a count"),
        ("1,,2", "expected a count"),
        ("2,1", "must increase"),
        ("50%,25%", "must increase"),
        ("2,2", "must increase"),
    ],
)
def test_bad_batch_sizes_are_refused_by_setting_and_flag(text: str, message: str) -> None:
    with pytest.raises(SettingError, match=message):
        SPECS["deploy.batch_size"].normalise(text)
    with pytest.raises(ValueError, match=message):
        parse_ramp(text)


def test_ramp_that_shrinks_once_resolved_is_refused() -> None:
    with pytest.raises(InputError, match="a ramp must not shrink"):
        build_plan(manifest(4), Settings(), batch("3,25%"))


def test_batches_need_a_load_balancer() -> None:
    bare = manifest(4, load_balancer=False)
    with pytest.raises(InputError, match="has none; deploy in parallel instead"):
        build_plan(bare, Settings(), batch("2"))
    assert build_plan(bare, Settings(), V2).batches == (1, 1, 1, 1)


def test_ramp_setting_is_stored_in_one_spelling() -> None:
    assert SPECS["deploy.batch_size"].normalise(" 1, 25% ,50%") == "1,25%,50%"
    stored = Settings.from_stored({"deploy.batch_size": "1,25%,50%"})
    assert stored.batch == parse_ramp("1,25%,50%")


# prepare while serving ---------------------------------------------------------------------


def test_prepare_steps_run_first_on_every_server_while_in_rotation() -> None:
    settings = Settings(max_parallel=2)
    for options in (V2, batch("2"), DeployOptions("v2", Strategy.PARALLEL)):
        plan = build_plan(manifest(4, prepare=True), settings, options)
        first = plan.waves[0]
        assert first.phase is Phase.PREPARE and not first.final and first.limit == 2
        assert len(first.servers) == 4
        for sp in first.servers:
            assert [type(a) for a in sp.actions] == [RunStep]
            assert steps(first, sp.server.name) == ["fetch"]
        later = [a for w in plan.waves[1:] for sp in w.servers for a in sp.actions]
        assert not any(isinstance(a, RunStep) and a.step.prepare for a in later)
        assert "prepare: step fetch on every server while it serves" in render_plan(plan)


def test_without_prepare_steps_there_is_no_prepare_wave() -> None:
    plan = build_plan(manifest(3), Settings(), V2)
    assert all(w.phase is Phase.ROLLOUT for w in plan.waves)


# migrations first --------------------------------------------------------------------------


def test_parallel_migrates_alone_first_then_fans_out() -> None:
    plan = build_plan(manifest(3, prepare=True), Settings(parallel=True), V2)
    phases = [w.phase for w in plan.waves]
    assert phases == [Phase.PREPARE, Phase.MIGRATE, Phase.ROLLOUT]
    migrate, fan_out = plan.waves[1], plan.waves[2]
    assert [sp.server.name for sp in migrate.servers] == ["web1"]
    assert steps(migrate, "web1") == ["migrate"]
    assert steps(fan_out, "web1") == ["restart"] and steps(fan_out, "web2") == ["restart"]
    assert not plan.warnings
    assert "migrate first: web1: step migrate [migration]" in render_plan(plan)


def test_steps_before_the_migration_run_with_it_when_not_prepare_steps() -> None:
    plan = build_plan(manifest(3), Settings(parallel=True), V2)
    migrate, fan_out = plan.waves
    assert steps(migrate, "web1") == ["fetch", "migrate"]
    assert steps(fan_out, "web1") == ["restart"]
    assert steps(fan_out, "web2") == ["fetch", "restart"]


def test_batches_migrate_first_but_a_lone_first_server_needs_no_extra_wave() -> None:
    paired = build_plan(manifest(4, migrations_on="web3"), Settings(), batch("2"))
    assert paired.waves[0].phase is Phase.MIGRATE
    assert [sp.server.name for sp in paired.waves[0].servers] == ["web3"]
    assert rollout(paired) == [["web3", "web1"], ["web2", "web4"]]
    alone = build_plan(manifest(4), Settings(), batch("1,2"))
    assert all(w.final for w in alone.waves)
    assert steps(alone.waves[0], "web1") == ["fetch", "migrate", "restart"]


def test_migrations_first_off_keeps_todays_parallel_shape_and_warning() -> None:
    plan = build_plan(manifest(3), Settings(parallel=True, migrations_first=False), V2)
    assert len(plan.waves) == 1
    assert steps(plan.waves[0], "web1") == ["fetch", "migrate", "restart"]
    assert any("serial is advised" in w for w in plan.warnings)


def test_skipped_migrations_need_no_migrate_wave() -> None:
    skip = DeployOptions("v2", Strategy.PARALLEL, run_migrations=False)
    plan = build_plan(manifest(3), Settings(), skip)
    assert [w.phase for w in plan.waves] == [Phase.ROLLOUT]


# canary and automatic rollback -------------------------------------------------------------


def test_canary_is_the_first_batch_and_only_it_is_verified() -> None:
    settings = Settings(batch=parse_ramp("2"), canary=parse_canary("1"))
    plan = build_plan(manifest(5, migration=False), settings, V2)
    assert plan.batches == (1, 2, 2) and plan.canary == 1 and plan.auto_rollback
    first, *rest = [w for w in plan.waves if w.final]
    assert isinstance(first.servers[0].actions[-1], Verify)
    assert not any(isinstance(a, Verify) for w in rest for sp in w.servers for a in sp.actions)
    text = render_plan(plan)
    assert "batch 1 (canary)" in text and "canary: web1, verified before the rest" in text
    assert "automatic rollback: on" in text


def test_a_canary_percentage_in_parallel_is_a_wave_of_its_own() -> None:
    settings = Settings(parallel=True, canary=parse_canary("25%"))
    plan = build_plan(manifest(8, migration=False), settings, V2)
    assert [len(w.servers) for w in plan.waves] == [2, 6]
    assert all(isinstance(sp.actions[-1], Verify) for sp in plan.waves[0].servers)


def test_auto_rollback_follows_the_canary_unless_set() -> None:
    bare = manifest(3, migration=False)
    assert not build_plan(bare, Settings(), V2).auto_rollback
    assert build_plan(bare, Settings(auto_rollback=True), V2).auto_rollback
    no = Settings(canary=parse_canary("1"), auto_rollback=False)
    assert not build_plan(bare, no, V2).auto_rollback
    assert SPECS["deploy.auto_rollback"].normalise("Auto") == "auto"
    assert SPECS["deploy.canary"].normalise("none") == "0"
    with pytest.raises(SettingError, match="not a batch size"):
        SPECS["deploy.canary"].normalise("-2")


def test_a_canary_needs_a_load_balancer() -> None:
    with pytest.raises(InputError, match="a canary serves real traffic through a load balancer"):
        build_plan(manifest(3, load_balancer=False), Settings(canary=parse_canary("1")), V2)


def test_verify_settings_come_from_the_manifest() -> None:
    text = manifest_text(3) + "  verify:\n    url: http://{address}/\n    duration: 5\n"
    plan = build_plan(parse_manifest(text), Settings(canary=parse_canary("1")), V2)
    verify = plan.waves[0].servers[0].actions[-1]
    assert verify == Verify(5.0, 0.01) and "(probe: http://{address}/)" in render_plan(plan)


def test_restricting_a_plan_keeps_its_shape_for_the_servers_named() -> None:
    plan = build_plan(manifest(6, prepare=True), Settings(), batch("2"))
    cut = restrict(plan, {"web1", "web2", "web4"})
    assert [[sp.server.name for sp in w.servers] for w in cut.waves] == [
        ["web1", "web2", "web4"],
        ["web1"],
        ["web1", "web2"],
        ["web4"],
    ]
    assert cut.batches == (2, 1) and cut.server_order() == ["web1", "web2", "web4"]


def test_the_plan_shows_a_probe_url_without_its_credentials() -> None:
    probe = "http://ops:s3cret-pass@{address}/health?token=abc123"
    text = manifest_text(3) + f"  verify:\n    url: {probe}\n    duration: 5\n"
    shown = render_plan(build_plan(parse_manifest(text), Settings(canary=parse_canary("1")), V2))
    assert "(probe: http://{address}/health?…)" in shown
    assert "s3cret-pass" not in shown and "abc123" not in shown
