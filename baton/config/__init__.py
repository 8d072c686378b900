"""Configuration: the manifest file parsed into frozen, validated objects."""

from baton.config.loader import load_manifest, parse_manifest
from baton.config.model import (
    Deploy,
    HealthCheck,
    LoadBalancer,
    LoadBalancerConfiguration,
    Manifest,
    Server,
    Step,
)

__all__ = [
    "Deploy",
    "HealthCheck",
    "LoadBalancer",
    "LoadBalancerConfiguration",
    "Manifest",
    "Server",
    "Step",
    "load_manifest",
    "parse_manifest",
]
