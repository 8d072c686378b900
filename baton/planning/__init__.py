"""Planning: pure functions from manifest, settings and one-off options to a printable plan."""

from baton.planning.actions import (
    Action,
    AddToLoadBalancers,
    AwaitBatch,
    CheckHealth,
    Phase,
    RemoveFromLoadBalancers,
    RunStep,
    ServerPlan,
    Verify,
    Wait,
    Wave,
)
from baton.planning.plan import DeployOptions, Plan, Strategy, build_plan, release_version
from baton.planning.render import plan_to_dict, render_plan, render_values
from baton.planning.values import ValueInForce, values_in_force, values_to_apply

__all__ = [
    "Action",
    "AddToLoadBalancers",
    "AwaitBatch",
    "CheckHealth",
    "DeployOptions",
    "Phase",
    "Plan",
    "RemoveFromLoadBalancers",
    "RunStep",
    "ServerPlan",
    "Strategy",
    "ValueInForce",
    "Verify",
    "Wait",
    "Wave",
    "build_plan",
    "plan_to_dict",
    "release_version",
    "render_plan",
    "render_values",
    "values_in_force",
    "values_to_apply",
]
