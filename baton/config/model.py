"""The manifest as frozen, validated objects, one module per section; every name is here too.

Everything downstream of :func:`baton.config.load_manifest` works with these classes and never
with the YAML dictionaries they came from. They are plain frozen dataclasses: pydantic validates
a manifest into them (:mod:`baton.config.validation`), and checks that span several keys run in
``__post_init__``, so a model built in code is checked as one read from a file. The sections:
:mod:`~baton.config.values` (the kinds of value), :mod:`~baton.config.servers` (servers and SSH),
:mod:`~baton.config.balancing` (load balancers), :mod:`~baton.config.steps` (steps, health,
verify), :mod:`~baton.config.deploying` (deploy, hooks, notifications) and
:mod:`~baton.config.manifest` (the whole).
"""

from typing import TYPE_CHECKING, Any

from baton.config.balancing import (
    AnyLoadBalancer,
    HostedBalancer,
    LoadBalancer,
    LoadBalancerConfiguration,
    Member,
)
from baton.config.deploying import Deploy, Hook, Hooks, Notifications, RunOn, SecretSource, Webhook
from baton.config.manifest import Manifest
from baton.config.servers import Server, SSHEndpoint
from baton.config.steps import HealthCheck, Step, Verify
from baton.config.values import (
    VERSION_PATTERN,
    EnvName,
    FilePath,
    Host,
    HttpURL,
    KeyPath,
    Name,
    PathError,
    Port,
    PositiveSeconds,
    Seconds,
    Text,
    WebURL,
)

__all__ = [
    "VERSION_PATTERN",
    "AnyLoadBalancer",
    "CommandBalancer",
    "Deploy",
    "ELBv2Balancer",
    "EnvName",
    "FilePath",
    "HAProxyBalancer",
    "HealthCheck",
    "Hook",
    "Hooks",
    "Host",
    "HostedBalancer",
    "HttpURL",
    "KeyPath",
    "LoadBalancer",
    "LoadBalancerConfiguration",
    "Manifest",
    "Member",
    "Name",
    "NginxBalancer",
    "Notifications",
    "PathError",
    "Port",
    "PositiveSeconds",
    "RunOn",
    "SSHEndpoint",
    "Seconds",
    "SecretSource",
    "Server",
    "Step",
    "Text",
    "Verify",
    "WebURL",
    "Webhook",
]

if TYPE_CHECKING:
    from baton.balancers.command import CommandBalancer
    from baton.balancers.elbv2 import ELBv2Balancer
    from baton.balancers.haproxy import HAProxyBalancer
    from baton.balancers.nginx import NginxBalancer


def __getattr__(name: str) -> Any:
    """A registered kind's model by its class name (``HAProxyBalancer``), from its module in
    :mod:`baton.balancers`: imported on first use, as the kinds' modules import this package."""
    from baton.balancers import models

    for model in models().values():
        if model.__name__ == name:
            return model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
