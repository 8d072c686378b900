"""Configuration: the manifest file parsed into frozen, validated objects."""

from typing import TYPE_CHECKING, Any

from baton.config.files import load_manifest
from baton.config.model import (
    Deploy,
    HealthCheck,
    LoadBalancer,
    LoadBalancerConfiguration,
    Manifest,
    Server,
    Step,
    Verify,
)

__all__ = [
    "CommandBalancer",
    "Deploy",
    "ELBv2Balancer",
    "HAProxyBalancer",
    "HealthCheck",
    "LoadBalancer",
    "LoadBalancerConfiguration",
    "Manifest",
    "NginxBalancer",
    "Server",
    "Step",
    "Verify",
    "load_manifest",
    "parse_manifest",
]

if TYPE_CHECKING:
    from baton.balancers.command import CommandBalancer
    from baton.balancers.elbv2 import ELBv2Balancer
    from baton.balancers.haproxy import HAProxyBalancer
    from baton.balancers.nginx import NginxBalancer
    from baton.config.loader import parse_manifest


def __getattr__(name: str) -> Any:
    """``parse_manifest`` from the loader, imported (with YAML) only when asked for; a built-in
    load balancer kind's model from its module in :mod:`baton.balancers`."""
    if name == "parse_manifest":
        from baton.config.loader import parse_manifest

        return parse_manifest
    if name.endswith("Balancer"):
        from baton.config import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
