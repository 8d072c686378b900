"""Configuration: the manifest file parsed into frozen, validated objects."""

from baton.config.loader import load_manifest, parse_manifest
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
