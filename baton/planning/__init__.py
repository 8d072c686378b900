"""Planning: pure functions from manifest, settings and one-off options to a printable plan."""

from baton.planning.plan import DeployOptions, Plan, Strategy, build_plan, release_version
from baton.planning.render import plan_to_dict, render_plan, render_values
from baton.planning.values import ValueInForce, values_in_force, values_to_apply

__all__ = [
    "DeployOptions",
    "Plan",
    "Strategy",
    "ValueInForce",
    "build_plan",
    "plan_to_dict",
    "release_version",
    "render_plan",
    "render_values",
    "values_in_force",
    "values_to_apply",
]
