from baton.config import parse_manifest
from baton.planning import DeployOptions, Strategy, build_plan, plan_to_dict, render_plan
from baton.planning.actions import AddToLoadBalancers, RemoveFromLoadBalancers, RunStep, Wait
from baton.settings import Settings
from baton.state import AppliedValue
from tests.manifests import manifest, manifest_text

V1 = DeployOptions(version="v1")


def test_strategy_defaults_to_serial() -> None:
    plan = build_plan(manifest(), Settings(), V1)
    assert plan.strategy is Strategy.SERIAL
    assert [len(w.servers) for w in plan.waves] == [1, 1, 1]


def test_setting_makes_it_parallel_and_flag_overrides_setting() -> None:
    assert build_plan(manifest(), Settings(parallel=True), V1).strategy is Strategy.PARALLEL
    once = DeployOptions(version="v1", strategy=Strategy.SERIAL)
    plan = build_plan(manifest(), Settings(parallel=True), once)
    assert plan.strategy is Strategy.SERIAL and "this deploy only" in plan.strategy_origin


def test_serial_wraps_each_server_in_leaving_and_rejoining_rotation() -> None:
    plan = build_plan(manifest(2, waits=(5, 2)), Settings(), V1)
    actions = plan.waves[0].servers[0].actions
    assert isinstance(actions[0], RemoveFromLoadBalancers)
    assert actions[1] == Wait(5, "wait_after_removing_servers")
    assert [a.step.name for a in actions if isinstance(a, RunStep)] == [
        "fetch",
        "migrate",
        "restart",
    ]
    assert isinstance(actions[-2], AddToLoadBalancers)
    assert actions[-1] == Wait(2, "wait_after_adding_servers")


def test_parallel_has_one_wave_and_never_touches_load_balancers() -> None:
    plan = build_plan(manifest(3, waits=(5, 2), migration=False), Settings(parallel=True), V1)
    assert len(plan.waves) == 1 and len(plan.waves[0].servers) == 3
    for sp in plan.waves[0].servers:
        assert all(isinstance(a, RunStep) for a in sp.actions)
    assert plan.estimated_extra_seconds == 0


def test_estimate_is_waits_times_servers_in_serial() -> None:
    plan = build_plan(manifest(4, waits=(5, 2)), Settings(), V1)
    assert plan.estimated_extra_seconds == (5 + 2) * 4
    assert "7s per server x 4 servers = 28s" in render_plan(plan)
    assert plan_to_dict(plan)["estimated_extra_seconds"] == 28


def test_migration_runs_on_exactly_one_server() -> None:
    for settings in (Settings(), Settings(parallel=True)):
        plan = build_plan(manifest(3), settings, V1)
        migrating = [
            sp.server.name
            for w in plan.waves
            for sp in w.servers
            if any(isinstance(a, RunStep) and a.step.migration for a in sp.actions)
        ]
        assert migrating == ["web1"]


def test_serial_deploys_the_marked_migration_server_first() -> None:
    plan = build_plan(manifest(3, migrations_on="web3"), Settings(), V1)
    assert plan.server_order() == ["web3", "web1", "web2"]
    assert plan.migration_server == "web3"


def test_skip_migrations_once_or_by_setting() -> None:
    skip = DeployOptions(version="v1", run_migrations=False)
    assert build_plan(manifest(), Settings(), skip).migration_server is None
    assert build_plan(manifest(), Settings(run_migrations=False), V1).migration_server is None
    run = DeployOptions(version="v1", run_migrations=True)
    assert build_plan(manifest(), Settings(run_migrations=False), run).migration_server == "web1"


def test_parallel_with_migrations_among_steps_warns_that_serial_is_advised() -> None:
    mixed = Settings(parallel=True, migrations_first=False)
    plan = build_plan(manifest(), mixed, V1)
    assert any("serial is advised" in w for w in plan.warnings)
    quiet = build_plan(manifest(), mixed, DeployOptions("v1", None, False))
    assert not any("serial is advised" in w for w in quiet.warnings)
    first = build_plan(manifest(), Settings(parallel=True), V1)
    assert not any("serial is advised" in w for w in first.warnings)
    assert not any(
        "serial is advised" in w for w in build_plan(manifest(), Settings(), V1).warnings
    )


def applied(key: str, value: str, deploy_id: int) -> AppliedValue:
    return AppliedValue("main", key, value, deploy_id, 0.0)


def test_value_deleted_from_manifest_stays_in_force_and_is_pointed_out() -> None:
    earlier = [applied("wait_after_removing_servers", "5", 7)]
    plan = build_plan(manifest(2), Settings(), V1, earlier)
    value = next(v for v in plan.values if v.key == "wait_after_removing_servers")
    assert (value.value, value.origin) == ("5", "deploy #7")
    assert plan.estimated_extra_seconds == 10
    assert any("no longer names it" in w for w in plan.warnings)
    assert "<- no longer in the manifest" in render_plan(plan)


def test_manifest_value_overrides_earlier_one() -> None:
    earlier = [applied("wait_after_removing_servers", "5", 7)]
    plan = build_plan(manifest(2, waits=(0, None)), Settings(), V1, earlier)
    value = next(v for v in plan.values if v.key == "wait_after_removing_servers")
    assert (value.value, value.origin) == ("0", "manifest")
    assert plan.estimated_extra_seconds == 0


def test_max_parallel_is_carried_into_the_plan() -> None:
    plan = build_plan(manifest(), Settings(parallel=True, max_parallel=2), V1)
    assert plan.max_parallel == 2 and "at most 2 at a time" in render_plan(plan)


def test_a_capacity_floor_a_serial_deploy_cannot_keep_is_a_warning() -> None:
    plan = build_plan(manifest(3), Settings(min_in_service=3), V1)
    assert plan.floor_out_of_reach is not None
    assert plan.floor_out_of_reach in plan.warnings
    assert "leaves at most 2 in rotation" in plan.floor_out_of_reach
    assert build_plan(manifest(3), Settings(min_in_service=2), V1).floor_out_of_reach is None
    parallel = DeployOptions(version="v1", strategy=Strategy.PARALLEL)
    assert build_plan(manifest(3), Settings(min_in_service=3), parallel).floor_out_of_reach is None


def test_a_health_check_timeout_longer_than_its_deadline_is_a_warning() -> None:
    text = manifest_text(1, health=True).replace("timeout: 0.5", "timeout: 5")
    plan = build_plan(parse_manifest(text), Settings(), V1)  # deadline 1 s
    assert (
        "deploy.health_check.timeout (5s) is longer than its deadline (1s): each attempt is cut "
        "to the time left before the deadline"
    ) in plan.warnings
    assert not [w for w in build_plan(manifest(1), Settings(), V1).warnings if "timeout" in w]


def test_the_deploy_wide_hooks_are_phases_around_the_waves_in_the_order_they_run() -> None:
    hooks = (
        "hooks:\n  on_failure:\n    - run: page\n  first_thing:\n    - run: announce\n"
        "  last_thing:\n    - run: tag\n"
    )
    hooked = parse_manifest(manifest_text(2) + hooks)
    plan = build_plan(hooked, Settings(), DeployOptions("v2", Strategy.PARALLEL), [])
    expected = ["first_thing", "migrate", "rollout", "last_thing", "on_failure"]
    assert list(plan.phases) == plan_to_dict(plan)["phases"] == expected
    assert build_plan(manifest(2), Settings(), DeployOptions("v2")).phases == ("rollout",)
