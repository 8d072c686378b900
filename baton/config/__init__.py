"""Configuration: the manifest file parsed into frozen, validated objects."""

from typing import TYPE_CHECKING, Any

from baton.config.files import load_manifest
from baton.config.model import (
    CommandBalancer,
    Deploy,
    ELBv2Balancer,
    HAProxyBalancer,
    HealthCheck,
    LoadBalancer,
    LoadBalancerConfiguration,
    Manifest,
    NginxBalancer,
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
    from baton.config.loader import parse_manifest


def __getattr__(name: str) -> Any:
    """``parse_manifest`` from the loader, imported (with YAML) only when asked for."""
    if name == "parse_manifest":
        from baton.config.loader import parse_manifest

        return parse_manifest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
