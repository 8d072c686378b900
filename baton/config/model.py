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
    "TARGET_GROUP_ARN",
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

_KIND_MODELS = {
    "HAProxyBalancer": "haproxy",
    "NginxBalancer": "nginx",
    "ELBv2Balancer": "elbv2",
    "TARGET_GROUP_ARN": "elbv2",
    "CommandBalancer": "command",
}
"""Names of the built-in kinds' models, which live with their kind in :mod:`baton.balancers`."""

if TYPE_CHECKING:
    from baton.balancers.command import CommandBalancer
    from baton.balancers.elbv2 import TARGET_GROUP_ARN, ELBv2Balancer
    from baton.balancers.haproxy import HAProxyBalancer
    from baton.balancers.nginx import NginxBalancer


def __getattr__(name: str) -> Any:
    """A built-in kind's model, from its module (imported here on first use: the kinds' modules
    import this package, so it cannot import them first)."""
    if name in _KIND_MODELS:
        import importlib

        return getattr(importlib.import_module(f"baton.balancers.{_KIND_MODELS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
